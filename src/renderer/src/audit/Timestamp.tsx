// A point in time as the audit screen shows it: UTC first (what the record holds and what an
// inspector compares), the reader's local time beside it, or below it in a table cell.
import { formatLocal, formatUtc } from '../formatTime';

export function Timestamp({ iso, stacked = false }: { iso: string; stacked?: boolean }) {
  return (
    <span className={stacked ? 'timestamp timestamp-stacked' : 'timestamp'}>
      <time dateTime={iso}>{formatUtc(iso)}</time>
      <span className="timestamp-local muted">
        {stacked ? '' : ' · '}local {formatLocal(iso)}
      </span>
    </span>
  );
}

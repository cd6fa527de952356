// A point in time as a regulated record shows it: UTC first (what the server stores and what an
// inspector compares), the reader's local time beside it (or below it, `stacked`, in a table cell),
// in a <time> element carrying the exact instant. An optional label names which time it is; a time
// not set yet (null) says so.
import { formatLocal, formatUtc } from './formatTime';

interface TimestampProps {
  iso: string | null;
  label?: string;
  stacked?: boolean;
}

export function Timestamp({ iso, label, stacked = false }: TimestampProps) {
  const labelText = label ? <span className="timestamp-label">{label}: </span> : null;
  if (iso === null || iso === '') {
    return <span className="timestamp muted">{labelText}not yet</span>;
  }
  return (
    <span className={stacked ? 'timestamp timestamp-stacked' : 'timestamp'}>
      {labelText}
      <time dateTime={iso}>{formatUtc(iso)}</time>
      <span className="timestamp-local muted">
        {stacked ? '' : ' · '}local {formatLocal(iso)}
      </span>
    </span>
  );
}

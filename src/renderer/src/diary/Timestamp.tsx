// A time as a regulated record shows it: UTC first (what the server stores), the reader's local
// time beside it, in a <time> element carrying the exact instant.
import { formatLocal, formatUtc } from '../formatTime';

export function Timestamp({ iso, label }: { iso: string | null; label?: string }) {
  if (iso === null || iso === '') return <span className="muted">{label ? `${label}: ` : ''}not yet</span>;
  return (
    <span className="diary-time">
      {label && <span className="diary-time-label">{label}: </span>}
      <time dateTime={iso}>{formatUtc(iso)}</time> <span className="muted">({formatLocal(iso)} local)</span>
    </span>
  );
}

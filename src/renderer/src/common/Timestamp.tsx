// A point in time, written the one way every screen writes it (formatTime.ts): UTC, in a <time>
// element carrying the exact instant, the reader's local time on hover. Where an inspector reads
// both side by side (the audit tables), `stacked` writes the local time below as well. An optional
// label names which time it is; a time not set yet (null) says so.
import { formatLocal, formatUtc, localTitle } from './formatTime';

interface TimestampProps {
  iso: string | null;
  label?: string;
  /** Writes the local time out below the UTC time (table cells of regulated records). */
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
      <time dateTime={iso} title={localTitle(iso)}>
        {formatUtc(iso)}
      </time>
      {stacked && <span className="timestamp-local muted">local {formatLocal(iso)}</span>}
    </span>
  );
}

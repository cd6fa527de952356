// The audit log's own filters: the kind of entry, and a range of sequence numbers (to read around
// a break, or the entries of an inspection period). The range applies on Enter.
import { useEffect, useState } from 'react';
import { auditEventKinds } from './eventKinds';

export interface AuditLogFilter {
  eventKind: string | null;
  fromSeq: number | null;
  toSeq: number | null;
}

export const noAuditLogFilter: AuditLogFilter = { eventKind: null, fromSeq: null, toSeq: null };

function seqOf(text: string): number | null {
  const value = Number(text);
  return text.trim() !== '' && Number.isInteger(value) && value > 0 ? value : null;
}

export function AuditLogFilters({
  filter,
  onFilter,
}: {
  filter: AuditLogFilter;
  onFilter: (filter: AuditLogFilter) => void;
}) {
  const [from, setFrom] = useState(filter.fromSeq?.toString() ?? '');
  const [to, setTo] = useState(filter.toSeq?.toString() ?? '');
  useEffect(() => {
    setFrom(filter.fromSeq?.toString() ?? '');
    setTo(filter.toSeq?.toString() ?? '');
  }, [filter.fromSeq, filter.toSeq]);
  const fromSeq = seqOf(from);
  const toSeq = seqOf(to);
  const backwards = fromSeq !== null && toSeq !== null && fromSeq > toSeq;

  return (
    <form
      className="audit-filters"
      aria-label="Audit log filters"
      onSubmit={(event) => {
        event.preventDefault();
        if (!backwards) onFilter({ ...filter, fromSeq, toSeq });
      }}
    >
      <label className="inline-field">
        Kind
        <select
          value={filter.eventKind ?? ''}
          onChange={(event) => onFilter({ ...filter, eventKind: event.target.value || null })}
        >
          <option value="">All entries</option>
          {auditEventKinds.map((kind) => (
            <option key={kind.kind} value={kind.kind}>
              {kind.label}
            </option>
          ))}
        </select>
      </label>
      <label className="inline-field">
        From entry
        <input
          className="seq-input"
          type="number"
          min={1}
          step={1}
          inputMode="numeric"
          value={from}
          onChange={(event) => setFrom(event.target.value)}
        />
      </label>
      <label className="inline-field">
        to entry
        <input
          className="seq-input"
          type="number"
          min={1}
          step={1}
          inputMode="numeric"
          value={to}
          aria-invalid={backwards}
          aria-describedby={backwards ? 'seq-range-problem' : undefined}
          onChange={(event) => setTo(event.target.value)}
        />
      </label>
      <button type="submit" className="button" disabled={backwards}>
        Apply range
      </button>
      {(filter.fromSeq !== null || filter.toSeq !== null || filter.eventKind !== null) && (
        <button type="button" className="button button-quiet" onClick={() => onFilter(noAuditLogFilter)}>
          All entries
        </button>
      )}
      {backwards && (
        <span id="seq-range-problem" className="field-problem">
          The range ends before it starts.
        </span>
      )}
    </form>
  );
}

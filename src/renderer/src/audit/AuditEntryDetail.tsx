// One audit entry in full, beside the log: every field the hashes cover, the three hashes whole
// (to compare with an inspection packet or the server), its place in the chain, and its payload.
import type { AuditEntryRow } from '../../../shared/contract';
import { PersonName } from '../common/PersonName';
import { Timestamp } from '../common/Timestamp';
import { visibleText } from '../common/visibleText';
import { chainStanding } from './AuditLogTable';
import { payloadBlock } from './payloadText';

interface AuditEntryDetailProps {
  entry: AuditEntryRow;
  firstBadSeq: number | null;
  onClose: () => void;
  onOpenTrail: (stagingId: string) => void;
}

export function AuditEntryDetail({ entry, firstBadSeq, onClose, onOpenTrail }: AuditEntryDetailProps) {
  const standing = chainStanding(entry, firstBadSeq);
  return (
    <aside className="panel audit-side" aria-labelledby="entry-heading">
      <div className="detail-header">
        <h3 id="entry-heading">Audit entry {entry.seq.toLocaleString()}</h3>
        <button
          type="button"
          className="button button-quiet"
          onClick={onClose}
          aria-label="Close the audit entry"
        >
          Close
        </button>
      </div>
      <p className={standing.bad ? 'notice notice-error' : 'notice'}>{standing.text}</p>
      <dl className="entry-fields">
        <dt>Occurred</dt>
        <dd>
          <Timestamp iso={entry.occurredAt} />
        </dd>
        <dt>Event</dt>
        <dd>
          <code>{visibleText(entry.eventType)}</code>
        </dd>
        <dt>Actor</dt>
        <dd>
          <PersonName id={entry.actor} showId />
        </dd>
        <dt>Payload hash</dt>
        <dd>
          <code className="hash">{entry.payloadHash}</code>
        </dd>
        <dt>Previous entry's hash</dt>
        <dd>
          <code className="hash">{entry.prevHash}</code>
        </dd>
        <dt>Entry hash</dt>
        <dd>
          <code className="hash">{entry.entryHash}</code>
        </dd>
      </dl>
      {entry.stagingId !== null && (
        <button type="button" className="button" onClick={() => onOpenTrail(entry.stagingId as string)}>
          Open the record's trail
        </button>
      )}
      <h4>Payload</h4>
      <pre className="trail-json">{payloadBlock(entry.payload)}</pre>
    </aside>
  );
}

// The patient-entered history of one diary record (record_audit, insert-only): each entry with its
// operation, who wrote it, the reason given, the patient's device time and the server's time, and
// the values it changed, old beside new, marked by symbol and word (not by colour alone). Unchanged
// values are folded away. Each entry names the protocol build it was captured under, and says so
// when a later build has superseded it. Nothing here can be edited: investigators annotate, on the right.
import { useState } from 'react';
import type { DiaryHistoryEntry } from '../../../shared/contract';
import { BuildChip } from '../common/BuildChip';
import { PersonName } from '../common/PersonName';
import { Timestamp } from '../common/Timestamp';
import { visibleText } from '../common/visibleText';
import { displayValue, entryAuthor } from './diaryValues';
import { FieldChangeRow } from './FieldChangeRow';

/** Entries shown at first, newest first; older ones on request (a record rarely has more). */
const pageSize = 30;

export function RecordHistory({
  entries,
  lastAuditId,
}: {
  entries: readonly DiaryHistoryEntry[];
  lastAuditId: number;
}) {
  const [shown, setShown] = useState(pageSize);
  // Newest first: the current entry, the one an annotation is made on, is read first.
  const newestFirst = entries.map((entry, index) => ({ entry, number: index + 1 })).reverse();
  const hidden = Math.max(0, newestFirst.length - shown);
  return (
    <section className="diary-history" aria-labelledby="diary-history-title">
      <h3 id="diary-history-title" className="diary-pane-title">
        Patient-entered history <span className="muted">({entries.length} entries, newest first)</span>
      </h3>
      <ol className="diary-entries" reversed>
        {newestFirst.slice(0, shown).map(({ entry, number }) => (
          <HistoryEntry
            key={entry.auditId}
            entry={entry}
            number={number}
            current={entry.auditId === lastAuditId}
          />
        ))}
      </ol>
      {hidden > 0 && (
        <button type="button" className="link-button" onClick={() => setShown((n) => n + pageSize)}>
          Show {Math.min(pageSize, hidden)} earlier entries ({hidden} not shown)
        </button>
      )}
    </section>
  );
}

function HistoryEntry({
  entry,
  number,
  current,
}: {
  entry: DiaryHistoryEntry;
  number: number;
  current: boolean;
}) {
  const changedFields = new Set(entry.changes.map((change) => change.field));
  const unchanged = Object.entries(entry.data).filter(([field]) => !changedFields.has(field));
  const first = entry.parentAuditId === null;
  return (
    <li className={current ? 'diary-entry is-current' : 'diary-entry'} aria-label={`Entry ${number}`}>
      <div className="diary-entry-head">
        <strong>Entry {number}</strong> <span className="diary-tag">{visibleText(entry.operation)}</span>{' '}
        <span className="muted">
          audit {entry.auditId} · by <PersonName id={entry.createdBy} fallback={entryAuthor(entry.role)} />
        </span>
        {current && <span className="diary-tag diary-tag-current">current</span>}
        <BuildChip build={entry.build} missing="build not recorded" />
      </div>
      {entry.sourceReference !== null && (
        <p className="diary-paper-source">
          <span className="timestamp-label">Transcribed from paper: </span>
          page {visibleText(entry.sourceReference.pageId)}, dated{' '}
          {visibleText(entry.sourceReference.entryDate)}
        </p>
      )}
      {entry.conflictResolution !== null && (
        <p className="diary-conflict-resolution">
          <span className="timestamp-label">Resolves conflict {entry.conflictResolution.conflictId}: </span>
          {entry.conflictResolution.strategy.replace('_', ' ')}
        </p>
      )}
      <p className="diary-reason">
        <span className="timestamp-label">Reason: </span>
        {visibleText(entry.changeReason)}
      </p>
      <div className="diary-times">
        <Timestamp label="Entered on the device" iso={entry.clientTimestamp} />
        <Timestamp label="Received by the server" iso={entry.serverTimestamp} />
      </div>
      {entry.changes.length === 0 ? (
        <p className="muted">No value changed.</p>
      ) : (
        <table className="table diary-changes">
          <caption className="visually-hidden">
            {first ? 'Values entered' : `Values changed by entry ${number}`}
          </caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Change</th>
              <th scope="col">Old value</th>
              <th scope="col">New value</th>
            </tr>
          </thead>
          <tbody>
            {entry.changes.map((change) => (
              <FieldChangeRow
                key={change.field}
                change={change}
                label={change.field}
                word={first && change.change === 'added' ? 'entered' : undefined}
              />
            ))}
          </tbody>
        </table>
      )}
      {unchanged.length > 0 && (
        <details className="diary-unchanged">
          <summary>
            {unchanged.length} unchanged {unchanged.length === 1 ? 'value' : 'values'}
          </summary>
          <dl>
            {unchanged.map(([field, value]) => (
              <div key={field} className="diary-unchanged-row">
                <dt>{visibleText(field)}</dt>
                <dd className="diary-value">{displayValue(value)}</dd>
              </div>
            ))}
          </dl>
        </details>
      )}
    </li>
  );
}

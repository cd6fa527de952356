// The diary events of the outbox (paper transcriptions: waiting, sent, refused with the field they
// name) and the open conflicts of the person's own diary writes, each opening its resolution panel.
// Read from the cache, so it works offline; sent and discarded items stay on record.
import { useEffect, useState } from 'react';
import type { DiaryConflictView, DiaryEventItem } from '../../../shared/contract';
import { api } from '../common/api';
import type { Runner } from '../common/useAction';
import { visibleText } from '../common/visibleText';
import { ConflictPanel } from './ConflictPanel';
import { recordTitle, shortId } from './diaryValues';

const stateWords: Record<DiaryEventItem['state'], string> = {
  pending: 'waiting to be sent',
  sent: 'sent',
  conflict: 'conflict: the record moved on',
  failed: 'refused by the server',
  discarded: 'discarded',
};

export function DiaryEventOutbox({
  online,
  showAll,
  revision,
  run,
  onChanged,
  onShowRecord,
}: {
  online: boolean;
  showAll: boolean;
  revision: number;
  run: Runner;
  onChanged: () => void;
  onShowRecord: (eventUuid: string) => void;
}) {
  const [items, setItems] = useState<DiaryEventItem[]>([]);
  const [conflicts, setConflicts] = useState<DiaryConflictView[]>([]);
  const [openConflict, setOpenConflict] = useState<number | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is the signal to read again
  useEffect(() => {
    let live = true;
    void run(() => api['diary.events']({ includeSent: showAll })).then(
      (next) => live && next && setItems(next.items),
    );
    void run(() => api['diary.conflicts']({})).then((next) => live && next && setConflicts(next.conflicts));
    return () => {
      live = false;
    };
  }, [run, showAll, revision]);

  if (items.length === 0 && conflicts.length === 0) return null;
  return (
    <section className="diary-event-outbox" aria-label="Paper transcriptions and conflicts">
      {conflicts.length > 0 && (
        <>
          <h3 className="diary-pane-title">
            Conflicts to resolve <span className="muted">({conflicts.length})</span>
          </h3>
          <ul className="diary-event-list">
            {conflicts.map((conflict) => (
              <li key={conflict.conflictId} className="diary-event-item diary-event-conflict">
                <span className="diary-tag">Conflict {conflict.conflictId}</span>{' '}
                {recordTitle(conflict.theirs)}
                {conflict.pageId !== null && <> · from paper page {visibleText(conflict.pageId)}</>} ·{' '}
                <button
                  type="button"
                  className="link-button"
                  onClick={() => onShowRecord(conflict.eventUuid)}
                >
                  record {shortId(conflict.eventUuid)}
                </button>{' '}
                <button
                  type="button"
                  className="button button-small"
                  aria-expanded={openConflict === conflict.conflictId}
                  onClick={() =>
                    setOpenConflict(openConflict === conflict.conflictId ? null : conflict.conflictId)
                  }
                >
                  {openConflict === conflict.conflictId ? 'Hide conflict' : 'Resolve conflict…'}
                </button>
                {openConflict === conflict.conflictId && (
                  <ConflictPanel
                    view={conflict}
                    online={online}
                    onResolved={() => {
                      setOpenConflict(null);
                      onChanged();
                    }}
                  />
                )}
              </li>
            ))}
          </ul>
        </>
      )}
      {items.length > 0 && (
        <>
          <h3 className="diary-pane-title">
            Paper transcriptions <span className="muted">({items.length})</span>
          </h3>
          <ul className="diary-event-list">
            {items.map((item) => (
              <li
                key={item.id}
                className={`diary-event-item diary-event-${item.state}`}
                data-diary-event-id={item.id}
              >
                <span className="diary-tag">From paper</span> page {visibleText(item.pageId)} (
                {item.entryDate}) · {recordTitle(item.data)} · <strong>{stateWords[item.state]}</strong>
                {item.resolution !== null && <> · resolved: {item.resolution.replace('_', ' ')}</>}
                {item.state === 'sent' && (
                  <>
                    {' '}
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => onShowRecord(item.eventUuid)}
                    >
                      record {shortId(item.eventUuid)}
                    </button>
                  </>
                )}
                {item.state === 'failed' && item.problem !== null && (
                  <p className="notice notice-error">
                    {item.problemField !== null && <strong>{visibleText(item.problemField)}: </strong>}
                    {visibleText(item.problem)}{' '}
                    <button
                      type="button"
                      className="button button-small"
                      onClick={() =>
                        void run(() => api['diary.discardEvent']({ id: item.id })).then(
                          (done) => done && onChanged(),
                        )
                      }
                    >
                      Discard
                    </button>
                  </p>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

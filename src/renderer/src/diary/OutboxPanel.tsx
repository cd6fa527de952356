// The whole outbox: what this workstation made and has not sent yet, conflicts and refusals with
// their decisions, and on request what was sent or discarded (kept on record, never dropped).
import { useState } from 'react';
import { VirtualList } from '../common/VirtualList';
import { visibleText } from '../common/visibleText';
import { shortId } from './diaryValues';
import { type OutboxItem, OutboxStatus, type ResolveOutbox } from './OutboxStatus';

const rowHeight = 58;

const kindWords: Record<OutboxItem['kind'], string> = {
  note: 'Note',
  query: 'Query',
  correction: 'Correction',
  close: 'Close query',
  reopen: 'Reopen query',
};

export function OutboxPanel({
  items,
  online,
  showAll,
  onShowAll,
  onResolve,
  onShowRecord,
}: {
  items: readonly OutboxItem[];
  online: boolean;
  showAll: boolean;
  onShowAll: (all: boolean) => void;
  onResolve: ResolveOutbox;
  onShowRecord: (eventUuid: string) => void;
}) {
  const [open, setOpen] = useState(true);
  const waiting = items.filter(
    (item) => item.state === 'pending' || item.state === 'conflict' || item.state === 'failed',
  );
  return (
    <section className="diary-outbox-panel" aria-labelledby="diary-outbox-title">
      <div className="diary-outbox-head">
        <h2 id="diary-outbox-title" className="diary-column-title">
          Outbox{' '}
          <span className="muted">
            ({waiting.length} waiting{!online && ', offline: sent when back online'})
          </span>
        </h2>
        <label className="diary-check">
          <input type="checkbox" checked={showAll} onChange={(event) => onShowAll(event.target.checked)} />{' '}
          Show sent and discarded
        </label>
        <button
          type="button"
          className="button button-small"
          aria-expanded={open}
          onClick={() => setOpen(!open)}
        >
          {open ? 'Hide' : 'Show'}
        </button>
      </div>
      {open &&
        (items.length === 0 ? (
          <p className="muted">
            {showAll ? 'Nothing made on this workstation yet.' : 'Nothing waits to be sent.'}
          </p>
        ) : (
          <VirtualList
            className="diary-outbox-list"
            items={items}
            label="Outbox items"
            itemKey={(item) => String(item.id)}
            rowHeight={() => rowHeight}
            selectable={() => false}
            selectedKey={null}
            onSelect={() => undefined}
            renderRow={(item) => (
              <div className="diary-outbox-row" data-outbox-id={item.id}>
                <div className="diary-outbox-what">
                  <span className="diary-tag">{kindWords[item.kind]}</span>{' '}
                  <span className="diary-outbox-text" title={visibleText(item.text)}>
                    {item.text !== ''
                      ? visibleText(item.text)
                      : `annotation ${shortId(item.annotationId ?? '')}`}
                  </span>{' '}
                  <button type="button" className="link-button" onClick={() => onShowRecord(item.eventUuid)}>
                    record {shortId(item.eventUuid)}
                  </button>
                </div>
                <OutboxStatus item={item} online={online} onResolve={onResolve} />
              </div>
            )}
          />
        ))}
    </section>
  );
}

// Diary (investigator): patient diary records from the cache with their annotations; annotations
// made here go to the outbox (so they work offline) and the outbox shows what waits or conflicts.
import { useCallback, useEffect, useState } from 'react';
import type { ResponseOf } from '../../../shared/contract';
import { api } from '../api';
import { type Runner, useAction } from '../useAction';

export function DiaryScreen() {
  const { error, run } = useAction();
  return (
    <section className="panel diary-screen" aria-label="Diary">
      <h2>Patient diaries</h2>
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      <DiaryView run={run} />
      <h3>Outbox</h3>
      <OutboxView run={run} />
    </section>
  );
}

function DiaryView({ run }: { run: Runner }) {
  const [rows, setRows] = useState<ResponseOf<'diary.records'>['rows']>([]);
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const load = useCallback(
    () => run(() => api['diary.records']({ limit: 100 })).then((next) => next && setRows(next.rows)),
    [run],
  );
  useEffect(() => {
    void load();
  }, [load]);
  const annotate = async (eventUuid: string, lastAuditId: number) => {
    const text = drafts[eventUuid]?.trim() ?? '';
    if (text === '') return;
    const item = await run(() =>
      api['diary.annotate']({ eventUuid, parentAuditId: lastAuditId, kind: 'note', text }),
    );
    if (item) {
      setDrafts((current) => ({ ...current, [eventUuid]: '' }));
      await load();
    }
  };
  if (rows.length === 0) return <p className="muted">No diary records in your cache.</p>;
  return (
    <ul className="sync-list">
      {rows.map((record) => (
        <li key={record.eventUuid}>
          <div>
            <strong>{record.siteId}</strong> <span className="muted">{record.eventUuid}</span> · version{' '}
            {record.version}
          </div>
          <pre className="sync-json">{JSON.stringify(record.currentData, null, 2)}</pre>
          {record.annotations.map((annotation) => (
            <p key={annotation.annotationId} className="muted">
              {annotation.kind}: {annotation.text}
            </p>
          ))}
          <label className="field">
            <span>Annotation</span>
            <input
              value={drafts[record.eventUuid] ?? ''}
              onChange={(event) =>
                setDrafts((current) => ({ ...current, [record.eventUuid]: event.target.value }))
              }
            />
          </label>
          <button
            type="button"
            className="button button-quiet"
            onClick={() => void annotate(record.eventUuid, record.lastAuditId)}
          >
            Annotate
          </button>
        </li>
      ))}
    </ul>
  );
}

function OutboxView({ run }: { run: Runner }) {
  const [items, setItems] = useState<ResponseOf<'outbox.list'>['items']>([]);
  const load = useCallback(
    () => run(() => api['outbox.list']({ includeSent: true })).then((next) => next && setItems(next.items)),
    [run],
  );
  useEffect(() => {
    void load();
  }, [load]);
  const resolve = async (id: number, action: 'rebase' | 'discard') => {
    if (await run(() => api['outbox.resolve']({ id, action }))) await load();
  };
  if (items.length === 0) return <p className="muted">Nothing made offline yet.</p>;
  return (
    <ul className="sync-list">
      {items.map((item) => (
        <li key={item.id}>
          <strong>{item.state}</strong> · {item.kind} on {item.eventUuid} (entry {item.parentAuditId}):{' '}
          {item.text}
          {item.problem !== null && <p className="notice">{item.problem}</p>}
          {(item.state === 'conflict' || item.state === 'failed') && (
            <>
              <button
                type="button"
                className="button button-quiet"
                onClick={() => void resolve(item.id, 'rebase')}
              >
                Send against the current entry
              </button>
              <button
                type="button"
                className="button button-quiet"
                onClick={() => void resolve(item.id, 'discard')}
              >
                Discard
              </button>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

// The offline workspace, a minimal surface for issue 4: online/offline and since when, last synced,
// sync progress, "work offline", chain verification, and from the cache the provenance, signatures,
// diary records (with annotations made offline into the outbox) and the outbox with its conflicts.
// Everything shown is text (React escapes it); nothing is rendered as HTML.
import { useCallback, useEffect, useState } from 'react';
import type { ResponseOf, SyncStatus } from '../../shared/contract';
import { api, subscribe } from './api';
import { ExportPanel } from './ExportPanel';
import { messageOf } from './messageOf';

type Tab = 'provenance' | 'signatures' | 'diary' | 'outbox';

function when(iso: string | null): string {
  return iso === null ? 'never' : new Date(iso).toLocaleString();
}

export function SyncPanel() {
  const [status, setStatus] = useState<SyncStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>('diary');
  const [chain, setChain] = useState<ResponseOf<'chain.verify'> | null>(null);

  const run = useCallback(async <T,>(action: () => Promise<T>): Promise<T | null> => {
    try {
      const result = await action();
      setError(null);
      return result;
    } catch (caught) {
      setError(messageOf(caught));
      return null;
    }
  }, []);

  useEffect(() => {
    void run(() => api['sync.status']({})).then((next) => next && setStatus(next));
    return subscribe('sync.progress', setStatus);
  }, [run]);

  if (status === null || !status.cacheOpen) return null;
  const progress = status.progress;
  return (
    <section className="panel sync-panel" aria-label="Offline cache">
      <div className="sync-status" aria-live="polite">
        <strong>{status.online ? 'Online' : `Offline since ${when(status.offlineSince)}`}</strong>
        <span className="muted"> · last synced {when(status.lastSyncedAt)}</span>
        {progress && (
          <span className="muted">
            {' '}
            · syncing {progress.stream}: {progress.rowsDone}
            {progress.rowsTotal !== null ? ` of ${progress.rowsTotal}` : ''} rows ({progress.rowsPerSecond}{' '}
            rows/s)
          </span>
        )}
        {status.quarantined > 0 && <span> · {status.quarantined} rows quarantined</span>}
        <span className="status-spacer" />
        <button
          type="button"
          className="button button-quiet"
          disabled={!status.online || status.syncing}
          onClick={() => void run(() => api['sync.now']({})).then((next) => next && setStatus(next))}
        >
          Sync now
        </button>
        <label className="sync-toggle">
          <input
            type="checkbox"
            checked={status.workOffline}
            onChange={(event) =>
              void run(() => api['sync.setOffline']({ offline: event.target.checked })).then(
                (next) => next && setStatus(next),
              )
            }
          />{' '}
          Work offline
        </label>
        <button
          type="button"
          className="button button-quiet"
          onClick={() => void run(() => api['chain.verify']({ full: true })).then(setChain)}
        >
          Verify audit chain
        </button>
      </div>
      {status.lastError !== null && <p className="notice">{status.lastError}</p>}
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {chain !== null && (
        <p className={chain.ok ? 'notice' : 'notice notice-error'} role="status">
          {chain.ok
            ? `Audit chain verified through entry ${chain.verifiedThroughSeq}.`
            : `Audit chain broken at entry ${chain.firstBadSeq}: ${chain.problem}`}
        </p>
      )}
      <nav className="sync-tabs" aria-label="Cached views">
        {(['diary', 'provenance', 'signatures', 'outbox'] as const).map((name) => (
          <button
            key={name}
            type="button"
            className={tab === name ? 'button button-primary' : 'button button-quiet'}
            aria-pressed={tab === name}
            onClick={() => setTab(name)}
          >
            {name === 'outbox'
              ? `Outbox (${status.outbox.pending} pending, ${status.outbox.conflict} conflicts)`
              : name}
          </button>
        ))}
      </nav>
      {tab === 'diary' && <DiaryView run={run} />}
      {tab === 'provenance' && <ProvenanceView run={run} />}
      {tab === 'signatures' && <SignaturesView run={run} />}
      {tab === 'outbox' && <OutboxView run={run} />}
      <ExportPanel />
    </section>
  );
}

type Runner = <T>(action: () => Promise<T>) => Promise<T | null>;

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

function ProvenanceView({ run }: { run: Runner }) {
  const [rows, setRows] = useState<ResponseOf<'provenance.list'>['rows']>([]);
  useEffect(() => {
    void run(() => api['provenance.list']({ limit: 100 })).then((next) => next && setRows(next.rows));
  }, [run]);
  return (
    <ul className="sync-list">
      {rows.map((row) => (
        <li key={row.id}>
          {row.occurredAt} · {row.actorKind} {row.actorId} · {row.action} {row.subjectKind} {row.subjectId}
        </li>
      ))}
    </ul>
  );
}

function SignaturesView({ run }: { run: Runner }) {
  const [rows, setRows] = useState<ResponseOf<'signatures.list'>['rows']>([]);
  useEffect(() => {
    void run(() => api['signatures.list']({ limit: 100 })).then((next) => next && setRows(next.rows));
  }, [run]);
  return (
    <ul className="sync-list">
      {rows.map((row) => (
        <li key={row.id}>
          {row.signerName} · {row.intent} · “{row.meaning}” · {row.signedAt} (UTC) ·{' '}
          {new Date(row.signedAt).toLocaleString()} (local)
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

// The signer's queue: filter by state, select records, open them for review, sign or reject them in
// one ceremony, promote signed ones. A record opens beside the queue with its diff and signatures.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { StagingQueueRow } from '../../shared/contract';
import { type StagingState, stagingStates } from '../../shared/domain';
import { api, subscribe } from './api';
import { messageOf } from './messageOf';
import { RecordDetail } from './RecordDetail';
import { SignDialog } from './SignDialog';
import { visibleText } from './visibleText';

const pageSize = 200;

type Cursor = { createdAt: string; id: string };

export function StagingQueue() {
  const [rows, setRows] = useState<StagingQueueRow[]>([]);
  const [counts, setCounts] = useState<Partial<Record<StagingState, number>>>({});
  const [nextCursor, setNextCursor] = useState<Cursor | null>(null);
  const [stateFilter, setStateFilter] = useState<StagingState | ''>('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [openRecord, setOpenRecord] = useState<string | null>(null);
  const [signing, setSigning] = useState<{ intent: 'approve' | 'reject'; ids: string[] } | null>(null);
  const [loading, setLoading] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string[]>([]);
  /** Bumped on every reload, so an open record is read again after it was signed or promoted. */
  const [generation, setGeneration] = useState(0);

  const load = useCallback(
    async (after: Cursor | null, options: { keepSelection?: boolean } = {}) => {
      setLoading(true);
      setError(null);
      try {
        const page = await api['staging.queue']({
          limit: pageSize,
          after,
          states: stateFilter === '' ? [] : [stateFilter],
        });
        setRows((previous) => (after === null ? page.rows : [...previous, ...page.rows]));
        setCounts(page.countsByState);
        setNextCursor(page.nextCursor);
        setLoaded(true);
        if (after === null) {
          // A background refresh keeps the selection (of the rows still listed); a new view clears it.
          const listed = new Set(page.rows.map((row) => row.id));
          setSelected((current) =>
            options.keepSelection ? new Set([...current].filter((id) => listed.has(id))) : new Set(),
          );
          setGeneration((current) => current + 1);
        }
      } catch (caught) {
        setError(messageOf(caught));
      } finally {
        setLoading(false);
      }
    },
    [stateFilter],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

  // When a sync lands (at sign-in, every few minutes, after a change), show what it brought.
  const lastSynced = useRef<string | null>(null);
  useEffect(
    () =>
      subscribe('sync.progress', (status) => {
        if (status.syncing || status.lastSyncedAt === null || status.lastSyncedAt === lastSynced.current)
          return;
        lastSynced.current = status.lastSyncedAt;
        void load(null, { keepSelection: true });
      }),
    [load],
  );

  const selectedRows = rows.filter((row) => selected.has(row.id));
  const inState = (state: StagingState) =>
    selectedRows.filter((row) => row.state === state).map((row) => row.id);
  const toggle = (id: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const allSelected = rows.length > 0 && rows.every((row) => selected.has(row.id));

  const openForReview = async () => {
    const ids = inState('proposed');
    setError(null);
    try {
      const { opened } = await api['staging.openForReview']({ stagingIds: ids });
      setNotice([`${opened} record${opened === 1 ? '' : 's'} opened for review.`]);
      await load(null);
    } catch (caught) {
      setError(messageOf(caught));
    }
  };
  const promote = async () => {
    const ids = inState('signed');
    setError(null);
    try {
      const { outcomes } = await api['staging.promote']({ stagingIds: ids });
      const promoted = outcomes.filter((outcome) => outcome.outcome === 'promoted').length;
      setNotice([
        `${promoted} of ${outcomes.length} record${outcomes.length === 1 ? '' : 's'} promoted.`,
        ...outcomes.filter((outcome) => outcome.outcome !== 'promoted').map((outcome) => outcome.message),
      ]);
      await load(null);
    } catch (caught) {
      setError(messageOf(caught));
    }
  };

  return (
    <div className={openRecord ? 'queue-layout with-detail' : 'queue-layout'}>
      <section className="queue" aria-labelledby="queue-heading">
        <div className="queue-header">
          <h1 id="queue-heading">Staging queue</h1>
          <ul className="state-counts" aria-label="Records per state">
            {stagingStates.map((state) => (
              <li key={state} className={`state-count state-${state}`}>
                <span className="state-name">{state}</span>{' '}
                <span className="state-number">{counts[state] ?? 0}</span>
              </li>
            ))}
          </ul>
          <label className="inline-field">
            Show{' '}
            <select
              value={stateFilter}
              onChange={(event) => setStateFilter(event.target.value as StagingState | '')}
              aria-label="Filter by state"
            >
              <option value="">all states</option>
              {stagingStates.map((state) => (
                <option key={state} value={state}>
                  {state}
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="button" onClick={() => void load(null)} disabled={loading}>
            Refresh
          </button>
        </div>

        <div className="queue-actions" role="toolbar" aria-label="Actions on the selected records">
          <span className="muted">{selected.size} selected</span>
          <button
            type="button"
            className="button"
            disabled={inState('proposed').length === 0}
            onClick={() => void openForReview()}
          >
            Open for review ({inState('proposed').length})
          </button>
          <button
            type="button"
            className="button button-primary"
            disabled={inState('reviewing').length === 0}
            onClick={() => setSigning({ intent: 'approve', ids: inState('reviewing') })}
          >
            Sign… ({inState('reviewing').length})
          </button>
          <button
            type="button"
            className="button"
            disabled={inState('reviewing').length === 0}
            onClick={() => setSigning({ intent: 'reject', ids: inState('reviewing') })}
          >
            Reject… ({inState('reviewing').length})
          </button>
          <button
            type="button"
            className="button"
            disabled={inState('signed').length === 0}
            onClick={() => void promote()}
          >
            Promote ({inState('signed').length})
          </button>
        </div>

        {error !== null && (
          <p className="notice notice-error" role="alert">
            {error}
          </p>
        )}
        {notice.length > 0 && (
          <div className="notice" role="status">
            {notice.map((line) => (
              <p key={line}>{line}</p>
            ))}
          </div>
        )}

        <div className="table-scroll">
          <table className="table queue-table">
            <caption className="visually-hidden">Staged proposals, oldest first</caption>
            <thead>
              <tr>
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select every record shown"
                    checked={allSelected}
                    onChange={() => setSelected(allSelected ? new Set() : new Set(rows.map((row) => row.id)))}
                  />
                </th>
                <th scope="col">State</th>
                <th scope="col">Entity kind</th>
                <th scope="col">Study</th>
                <th scope="col">Agent</th>
                <th scope="col">Model version</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Open</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id} className={openRecord === row.id ? 'row-open' : undefined}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select record ${row.id.slice(0, 8)}`}
                      checked={selected.has(row.id)}
                      onChange={() => toggle(row.id)}
                    />
                  </td>
                  <td>
                    <span className={`badge state-${row.state}`}>{row.state}</span>
                  </td>
                  <td>{row.entityKind}</td>
                  <td>{row.studyCode}</td>
                  <td>{visibleText(row.agentId)}</td>
                  <td>{row.modelVersion === null ? '—' : visibleText(row.modelVersion)}</td>
                  <td>
                    <time dateTime={row.createdAt} title={row.createdAt}>
                      {formatTimestamp(row.createdAt)}
                    </time>
                  </td>
                  <td>
                    <button
                      type="button"
                      className="link-button"
                      aria-label={`View record ${row.id.slice(0, 8)}`}
                      onClick={() => setOpenRecord(row.id)}
                    >
                      View
                    </button>
                  </td>
                </tr>
              ))}
              {loaded && rows.length === 0 && (
                <tr>
                  <td colSpan={8} className="muted">
                    No staged proposals are visible to you.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>

        <div className="queue-footer">
          <span className="muted" aria-live="polite">
            {loading ? 'Loading…' : `${rows.length} shown`}
          </span>
          {nextCursor !== null && (
            <button type="button" className="button" onClick={() => void load(nextCursor)} disabled={loading}>
              Load more
            </button>
          )}
        </div>
      </section>

      {openRecord !== null && (
        <RecordDetail id={openRecord} generation={generation} onClose={() => setOpenRecord(null)} />
      )}

      {signing !== null && (
        <SignDialog
          stagingIds={signing.ids}
          intent={signing.intent}
          onClose={(changed) => {
            setSigning(null);
            if (changed) void load(null);
          }}
        />
      )}
    </div>
  );
}

function formatTimestamp(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

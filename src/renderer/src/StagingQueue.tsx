import { useCallback, useEffect, useState } from 'react';
import type { StagingQueueRow } from '../../shared/contract';
import { type StagingState, stagingStates } from '../../shared/domain';
import { api } from './api';
import { messageOf } from './messageOf';

const pageSize = 200;

type Cursor = { createdAt: string; id: string };

export function StagingQueue() {
  const [rows, setRows] = useState<StagingQueueRow[]>([]);
  const [counts, setCounts] = useState<Partial<Record<StagingState, number>>>({});
  const [nextCursor, setNextCursor] = useState<Cursor | null>(null);
  const [loading, setLoading] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async (after: Cursor | null) => {
    setLoading(true);
    setError(null);
    try {
      const page = await api['staging.queue']({ limit: pageSize, after });
      setRows((previous) => (after === null ? page.rows : [...previous, ...page.rows]));
      setCounts(page.countsByState);
      setNextCursor(page.nextCursor);
      setLoaded(true);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load(null);
  }, [load]);

  return (
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
        <button type="button" className="button" onClick={() => void load(null)} disabled={loading}>
          Refresh
        </button>
      </div>

      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}

      <div className="table-scroll">
        <table className="table queue-table">
          <caption className="visually-hidden">Staged proposals, newest first</caption>
          <thead>
            <tr>
              <th scope="col">State</th>
              <th scope="col">Entity kind</th>
              <th scope="col">Study</th>
              <th scope="col">Agent</th>
              <th scope="col">Model version</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id}>
                <td>
                  <span className={`badge state-${row.state}`}>{row.state}</span>
                </td>
                <td>{row.entityKind}</td>
                <td>{row.studyCode}</td>
                <td>{row.agentId}</td>
                <td>{row.modelVersion ?? '—'}</td>
                <td>
                  <time dateTime={row.createdAt} title={row.createdAt}>
                    {formatTimestamp(row.createdAt)}
                  </time>
                </td>
              </tr>
            ))}
            {loaded && rows.length === 0 && (
              <tr>
                <td colSpan={6} className="muted">
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
  );
}

function formatTimestamp(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

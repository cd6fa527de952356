// The status bar on every screen: backend mode and state, the signed-in person and their roles, and
// once a cache is open: online or offline (and since when), last synced, sync progress, outbox and
// quarantine counts, with "Sync now" and "Work offline" at hand.
import type { BackendStatus, SyncStatus } from '../../../shared/contract';
import { api, transport } from '../common/api';
import type { SyncStatusHandle } from '../common/useSyncStatus';

interface StatusBarProps {
  status: BackendStatus | null;
  sync: SyncStatusHandle;
  onSignOut: () => void;
  /** Offered where Countersign keeps the password (not in hosted mode). */
  onChangePassword?: () => void;
}

function when(iso: string | null): string {
  return iso === null ? 'never' : new Date(iso).toLocaleString();
}

export function StatusBar({ status, sync, onSignOut, onChangePassword }: StatusBarProps) {
  const session = status?.session ?? null;
  return (
    <header className="status-bar">
      <span className="brand">Countersign</span>
      {status === null ? (
        <span className="status-item muted">backend: unknown</span>
      ) : (
        <>
          <span className="status-item" title={`transport: ${transport}`}>
            <span className="status-label">Backend</span> {status.mode}
          </span>
          <span className={`status-item state state-${status.state}`} aria-live="polite">
            <span className="status-label">State</span> {status.state}
          </span>
          {session === null && (
            <span className="status-item status-message" title={status.message}>
              {status.message}
            </span>
          )}
        </>
      )}
      {session !== null && sync.status?.cacheOpen && <SyncItems sync={sync} status={sync.status} />}
      <span className="status-spacer" />
      {session !== null && (
        <span className="status-item session">
          <span className="session-name">{session.printedName}</span>{' '}
          <span className="muted">
            {session.email} · {session.roles.length > 0 ? session.roles.join(', ') : 'no roles'}
          </span>
          {onChangePassword && status?.mode !== 'supabase' && (
            <button type="button" className="button button-quiet" onClick={onChangePassword}>
              Change password
            </button>
          )}
          <button type="button" className="button button-quiet" onClick={onSignOut}>
            Sign out
          </button>
        </span>
      )}
    </header>
  );
}

function SyncItems({ sync, status }: { sync: SyncStatusHandle; status: SyncStatus }) {
  const progress = status.progress;
  const outboxWaiting = status.outbox.pending + status.outbox.conflict + status.outbox.failed;
  return (
    <>
      <span
        className={`status-item connectivity ${status.online ? 'is-online' : 'is-offline'}`}
        role="status"
        aria-label="Connection"
      >
        {status.online ? '● Online' : `○ Offline since ${when(status.offlineSince)}`}
      </span>
      <span className="status-item" title={status.lastError ?? undefined}>
        <span className="status-label">Synced</span> {when(status.lastSyncedAt)}
        {status.lastError !== null && <span className="status-warning"> (last run failed)</span>}
      </span>
      {progress !== null && (
        <span className="status-item" aria-live="polite">
          <span className="status-label">Syncing</span> {progress.stream} {progress.rowsDone.toLocaleString()}
          {progress.rowsTotal !== null ? ` of ${progress.rowsTotal.toLocaleString()}` : ''} (
          {Math.round(progress.rowsPerSecond).toLocaleString()} rows/s)
        </span>
      )}
      <span
        className="status-item"
        title={`${status.outbox.pending} pending, ${status.outbox.conflict} conflicts, ${status.outbox.failed} failed`}
      >
        <span className="status-label">Outbox</span> {outboxWaiting}
        {status.outbox.conflict > 0 && (
          <span className="status-warning"> ({status.outbox.conflict} conflicts)</span>
        )}
      </span>
      {status.quarantined > 0 && (
        <span className="status-item status-warning">{status.quarantined} rows quarantined</span>
      )}
      {/* Offline without having chosen it: Sync now tries to reconnect first. */}
      <button
        type="button"
        className="button button-quiet"
        disabled={status.workOffline || status.syncing}
        title={status.online ? undefined : 'Reconnect to the backend, then sync'}
        onClick={() => void sync.act(() => api['sync.now']({}))}
      >
        Sync now
      </button>
      <label className="status-item sync-toggle">
        <input
          type="checkbox"
          checked={status.workOffline}
          onChange={(event) => {
            const offline = event.target.checked;
            void sync.act(() => api['sync.setOffline']({ offline }));
          }}
        />{' '}
        Work offline
      </label>
    </>
  );
}

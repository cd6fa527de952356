// The status bar on every screen, on one line: online or offline (and since when), last synced,
// sync progress, what waits in the outbox, quarantined rows, "Sync now" and "Work offline", and the
// signed-in person. The rest (backend mode and state, transport, e-mail address and roles, the
// outbox by state) is behind its Details button, so the bar holds at 1024 pixels.
import { useId, useState } from 'react';
import type { BackendStatus, SyncStatus } from '../../../shared/contract';
import { api, transport } from '../common/api';
import { Timestamp } from '../common/Timestamp';
import type { SyncStatusHandle } from '../common/useSyncStatus';
import { useLinkFailure } from '../common/workstationLink';
import { RecoveryCodes } from '../signing/RecoveryCodes';

interface StatusBarProps {
  status: BackendStatus | null;
  sync: SyncStatusHandle;
  onSignOut: () => void;
  /** Offered where Countersign keeps the password (not in hosted mode). */
  onChangePassword?: () => void;
}

/** A time written as every screen writes it (UTC, local on hover), or "never". */
function When({ iso }: { iso: string | null }) {
  return iso === null ? 'never' : <Timestamp iso={iso} />;
}

export function StatusBar({ status, sync, onSignOut, onChangePassword }: StatusBarProps) {
  const session = status?.session ?? null;
  const linkFailure = useLinkFailure();
  const [showDetails, setShowDetails] = useState(false);
  const [showingRecoveryCodes, setShowingRecoveryCodes] = useState(false);
  const detailsId = useId();
  return (
    <header className="status-bar">
      <span className="brand">Countersign</span>
      {linkFailure !== null && (
        <span
          className="status-item connectivity is-offline link-failure"
          role="alert"
          title={linkFailure.message}
        >
          ✕ Disconnected: {linkFailure.message}
        </span>
      )}
      {status === null ? (
        <span className="status-item muted">backend: unknown</span>
      ) : (
        session === null && (
          <>
            <span className="status-item" title={`transport: ${transport}`}>
              <span className="status-label">Backend</span> {status.mode}
            </span>
            <span className={`status-item state state-${status.state}`} aria-live="polite">
              <span className="status-label">State</span> {status.state}
            </span>
            <span className="status-item status-message" title={status.message}>
              {status.message}
            </span>
          </>
        )
      )}
      {session !== null && sync.status?.cacheOpen && linkFailure === null && (
        <SyncItems sync={sync} status={sync.status} />
      )}
      <span className="status-spacer" />
      {session !== null && status !== null && (
        <span className="status-item session">
          <span className="session-name" title={`${session.printedName} (${session.email})`}>
            {session.printedName}
          </span>
          <button
            type="button"
            className="button button-quiet status-details-toggle"
            aria-expanded={showDetails}
            aria-controls={detailsId}
            onClick={() => setShowDetails((shown) => !shown)}
          >
            Details <span aria-hidden="true">{showDetails ? '▴' : '▾'}</span>
          </button>
          {onChangePassword && status.mode !== 'supabase' && (
            // Under 1200 pixels the Details panel offers it instead.
            <button type="button" className="button button-quiet wide-only" onClick={onChangePassword}>
              Change password
            </button>
          )}
          <button type="button" className="button button-quiet" onClick={onSignOut}>
            Sign out
          </button>
        </span>
      )}
      {session !== null && status !== null && showDetails && (
        <StatusDetails
          id={detailsId}
          status={status}
          sync={sync.status}
          onChangePassword={
            onChangePassword && status.mode !== 'supabase'
              ? () => {
                  setShowDetails(false);
                  onChangePassword();
                }
              : undefined
          }
          onRecoveryCodes={
            session.roles.includes('signer') && status.mode !== 'supabase'
              ? () => {
                  setShowDetails(false);
                  setShowingRecoveryCodes(true);
                }
              : undefined
          }
          onClose={() => setShowDetails(false)}
        />
      )}
      {showingRecoveryCodes && session !== null && (
        <RecoveryCodes onClose={() => setShowingRecoveryCodes(false)} />
      )}
    </header>
  );
}

/** What the bar has no room for, below it; Esc or the button closes it. */
function StatusDetails({
  id,
  status,
  sync,
  onChangePassword,
  onRecoveryCodes,
  onClose,
}: {
  id: string;
  status: BackendStatus;
  sync: SyncStatus | null;
  onChangePassword: (() => void) | undefined;
  /** The signer's own recovery codes (direct modes). */
  onRecoveryCodes?: (() => void) | undefined;
  onClose: () => void;
}) {
  const session = status.session;
  return (
    <section
      id={id}
      className="status-details"
      aria-label="Status details"
      onKeyDown={(event) => {
        if (event.key === 'Escape') onClose();
      }}
    >
      <dl>
        <dt>Backend</dt>
        <dd>
          {status.mode}
          {status.endpoint ? ` (${status.endpoint})` : ''} · {transport}
        </dd>
        <dt>State</dt>
        <dd className={`state state-${status.state}`}>{status.state}</dd>
        {session !== null && (
          <>
            <dt>Signed in as</dt>
            <dd>
              {session.printedName} · {session.email}
            </dd>
            <dt>Roles</dt>
            <dd>{session.roles.length > 0 ? session.roles.join(', ') : 'no roles'}</dd>
          </>
        )}
        {sync?.cacheOpen && (
          <>
            <dt>Outbox</dt>
            <dd>
              {sync.outbox.pending} pending, {sync.outbox.conflict} conflicts, {sync.outbox.failed} failed
            </dd>
            {sync.lastError !== null && (
              <>
                <dt>Last sync</dt>
                <dd>failed: {sync.lastError}</dd>
              </>
            )}
          </>
        )}
      </dl>
      {onChangePassword && (
        <button type="button" className="button button-quiet narrow-only" onClick={onChangePassword}>
          Change password
        </button>
      )}
      {onRecoveryCodes && (
        <button type="button" className="button button-quiet" onClick={onRecoveryCodes}>
          Recovery codes
        </button>
      )}
    </section>
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
        {status.online ? (
          '● Online'
        ) : (
          <>
            ○ Offline since <When iso={status.offlineSince} />
          </>
        )}
      </span>
      <span className="status-item" title={status.lastError ?? undefined}>
        <span className="status-label">Synced</span> <When iso={status.lastSyncedAt} />
        {status.lastError !== null && <span className="status-warning"> (last run failed)</span>}
      </span>
      {progress !== null && (
        <span
          className="status-item status-progress"
          aria-live="polite"
          title={`${progress.stream}: ${progress.rowsDone.toLocaleString()}${progress.rowsTotal !== null ? ` of ${progress.rowsTotal.toLocaleString()}` : ''} rows (${Math.round(progress.rowsPerSecond).toLocaleString()} rows/s)`}
        >
          <span className="status-label">Syncing</span> {progress.stream}
          {progress.rowsTotal !== null && progress.rowsTotal > 0
            ? ` ${Math.min(100, Math.floor((progress.rowsDone / progress.rowsTotal) * 100))}%`
            : ` ${progress.rowsDone.toLocaleString()} rows`}
        </span>
      )}
      <span
        // An empty outbox gives way under 1200 pixels (the Details panel still counts it).
        className={outboxWaiting === 0 ? 'status-item wide-only' : 'status-item'}
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

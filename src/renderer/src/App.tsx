// The shell: status bar, then either the sign-in screen or the staging queue. A later issue builds
// the full review UI on top of this.
import { useCallback, useEffect, useState } from 'react';
import type { BackendStatus } from '../../shared/contract';
import { api } from './api';
import { messageOf } from './messageOf';
import { SignIn } from './SignIn';
import { StagingQueue } from './StagingQueue';
import { StatusBar } from './StatusBar';
import { SyncPanel } from './SyncPanel';

const startingPollMs = 2000;

export function App() {
  const [status, setStatus] = useState<BackendStatus | null>(null);
  const [statusError, setStatusError] = useState<string | null>(null);

  const refreshStatus = useCallback(async () => {
    try {
      setStatus(await api['backend.status']({}));
      setStatusError(null);
    } catch (error) {
      setStatusError(messageOf(error));
    }
  }, []);

  useEffect(() => {
    void refreshStatus();
  }, [refreshStatus]);

  // While the embedded database boots, ask again every two seconds; stop once it is ready or failed.
  const state = status?.state;
  useEffect(() => {
    if (state !== 'starting') return;
    const timer = window.setInterval(() => void refreshStatus(), startingPollMs);
    return () => window.clearInterval(timer);
  }, [state, refreshStatus]);

  const signOut = useCallback(async () => {
    try {
      setStatus(await api['session.signOut']({}));
    } catch (error) {
      setStatusError(messageOf(error));
    }
  }, []);

  return (
    <div className="app">
      <StatusBar status={status} onSignOut={signOut} />
      <main className="app-main" id="main">
        {status?.session && <SyncPanel key={`sync-${status.session.userId}`} />}
        {statusError !== null && (
          <p className="notice notice-error" role="alert">
            {statusError}{' '}
            <button type="button" className="link-button" onClick={() => void refreshStatus()}>
              Retry
            </button>
          </p>
        )}
        {status === null ? (
          statusError === null && <p className="muted">Connecting to the Countersign services…</p>
        ) : status.session === null ? (
          <SignIn status={status} onSignedIn={setStatus} />
        ) : (
          <StagingQueue key={status.session.userId} />
        )}
      </main>
    </div>
  );
}

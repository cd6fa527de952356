// The shell: the status bar, then the sign-in screen or, once signed in, the screens a person
// works in: the signer's queue, provenance and audit (QA, inspector), patient diaries
// (investigator). Each person starts on the screen of their role; Alt+1..3 switch screens.
import { useCallback, useEffect, useState } from 'react';
import type { BackendStatus } from '../../../shared/contract';
import { AuditScreen } from '../audit/AuditScreen';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';
import { useSyncStatus } from '../common/useSyncStatus';
import { DiaryScreen } from '../diary/DiaryScreen';
import { StagingQueue } from '../queue/StagingQueue';
import { ChangePassword } from './ChangePassword';
import { SignIn } from './SignIn';
import { StatusBar } from './StatusBar';

const screens = [
  { id: 'queue', label: 'Queue' },
  { id: 'audit', label: 'Provenance and audit' },
  { id: 'diary', label: 'Diaries' },
] as const;
type ScreenId = (typeof screens)[number]['id'];

/** The screen a person starts on: the one their role works in. */
export function homeScreen(roles: readonly string[]): ScreenId {
  if (roles.includes('signer')) return 'queue';
  if (roles.includes('investigator')) return 'diary';
  if (roles.some((role) => ['inspector', 'monitor', 'admin', 'sponsor', 'analyst'].includes(role))) {
    return 'audit';
  }
  return 'queue';
}

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

  const session = status?.session ?? null;
  const sync = useSyncStatus(session !== null);
  const [changingPassword, setChangingPassword] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback(async () => {
    setChangingPassword(false);
    try {
      setStatus(await api['session.signOut']({}));
    } catch (error) {
      setStatusError(messageOf(error));
    }
  }, []);

  return (
    <div className="app">
      <StatusBar
        status={status}
        sync={sync}
        onSignOut={signOut}
        onChangePassword={() => setChangingPassword(true)}
      />
      <main className="app-main" id="main">
        {sync.error !== null && (
          <p className="notice notice-error" role="alert">
            {sync.error}
          </p>
        )}
        {session !== null &&
          (status?.warnings ?? []).map((warning) => (
            <p key={warning} className="notice notice-warning" role="status">
              {warning}
            </p>
          ))}
        {statusError !== null && (
          <p className="notice notice-error" role="alert">
            {statusError}{' '}
            <button type="button" className="link-button" onClick={() => void refreshStatus()}>
              Retry
            </button>
          </p>
        )}
        {notice !== null && (
          <p className="notice notice-success" role="status">
            {notice}
          </p>
        )}
        {status === null ? (
          statusError === null && <p className="muted">Connecting to the Countersign services…</p>
        ) : status.session === null ? (
          <SignIn
            status={status}
            onSignedIn={(next) => {
              setNotice(null);
              setStatus(next);
            }}
          />
        ) : changingPassword ? (
          <ChangePassword
            onCancel={() => setChangingPassword(false)}
            onChanged={(next) => {
              setChangingPassword(false);
              setNotice('Your password was changed. Sign in with the new one.');
              setStatus(next);
            }}
          />
        ) : (
          <Workspace key={status.session.userId} roles={status.session.roles} />
        )}
      </main>
    </div>
  );
}

function Workspace({ roles }: { roles: readonly string[] }) {
  const [screen, setScreen] = useState<ScreenId>(() => homeScreen(roles));

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      const index = Number(event.key) - 1;
      const target = screens[index];
      if (target) {
        event.preventDefault();
        setScreen(target.id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <>
      <nav className="screen-tabs" aria-label="Screens">
        {screens.map((item, index) => (
          <button
            key={item.id}
            type="button"
            className={screen === item.id ? 'screen-tab is-current' : 'screen-tab'}
            aria-current={screen === item.id ? 'page' : undefined}
            title={`Alt+${index + 1}`}
            onClick={() => setScreen(item.id)}
          >
            {item.label}
          </button>
        ))}
      </nav>
      {screen === 'queue' && <StagingQueue />}
      {screen === 'audit' && <AuditScreen />}
      {screen === 'diary' && <DiaryScreen />}
    </>
  );
}

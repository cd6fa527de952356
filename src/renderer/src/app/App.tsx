// The shell: the status bar, then the sign-in screen or, once signed in, the screens a person
// works in: the signer's queue, provenance and audit (QA, inspector), patient diaries
// (investigator), protocol builds. Each person starts on the screen of their role; Alt+1..4 switch screens, ? shows
// every key; the theme is chosen beside the screens' tabs.
import { type ReactNode, useCallback, useEffect, useMemo, useState } from 'react';
import type { BackendStatus } from '../../../shared/contract';
import { AdminScreen } from '../admin/AdminScreen';
import { AnalysisScreen } from '../analysis/AnalysisScreen';
import { AuditScreen } from '../audit/AuditScreen';
import { BuildsScreen } from '../builds/BuildsScreen';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';
import { usePeopleOwner } from '../common/usePeople';
import { useSyncStatus } from '../common/useSyncStatus';
import { DiaryScreen } from '../diary/DiaryScreen';
import { StagingQueue } from '../queue/StagingQueue';
import { ChangePassword } from './ChangePassword';
import { IdleLockGate } from './IdleLockGate';
import { ShellTools } from './ShellTools';
import { KeyCombination, ShortcutsSheet, useShortcutsKey } from './ShortcutsSheet';
import { SignIn } from './SignIn';
import { StatusBar } from './StatusBar';
import { screenHints } from './shortcuts';
import { useThemeChoice } from './theme';

// Each screen is offered to the roles that can read what it shows (docs/access-matrix.md): staging
// records for the queue; provenance, signatures or the audit log for provenance and audit; diary
// records for the diaries; a study's protocol builds for the build panel, to the roles that review
// or capture values under them (sponsors, agents and patients read builds too, but do no data
// management here). Nobody is shown a screen that could only ever be empty for them.
const screens = [
  { id: 'queue', label: 'Queue', roles: ['signer', 'monitor', 'coordinator', 'inspector', 'admin', 'agent'] },
  {
    id: 'audit',
    label: 'Provenance and audit',
    roles: ['inspector', 'admin', 'monitor', 'coordinator', 'signer', 'agent'],
  },
  { id: 'diary', label: 'Diaries', roles: ['investigator', 'inspector', 'admin', 'patient'] },
  // Analysts read no raw diary row (0059): their de-identified projection only.
  { id: 'analysis', label: 'De-identified data', roles: ['analyst'] },
  {
    id: 'builds',
    label: 'Builds',
    roles: ['admin', 'signer', 'monitor', 'coordinator', 'inspector', 'investigator', 'analyst'],
  },
  { id: 'admin', label: 'Administration', roles: ['admin'] },
] as const;
type ScreenId = (typeof screens)[number]['id'];

/** The screens a person with these roles can use, in the tab order. */
export function screensFor(roles: readonly string[]): (typeof screens)[number][] {
  return screens.filter((screen) => screen.roles.some((role) => roles.includes(role)));
}

/** The screen a person starts on: the one their role works in. */
export function homeScreen(roles: readonly string[]): ScreenId | null {
  const usable = screensFor(roles).map((screen) => screen.id);
  if (roles.includes('signer') && usable.includes('queue')) return 'queue';
  if (roles.includes('investigator') && usable.includes('diary')) return 'diary';
  if (roles.some((role) => ['inspector', 'monitor', 'admin'].includes(role)) && usable.includes('audit')) {
    return 'audit';
  }
  return usable[0] ?? null;
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
  usePeopleOwner(session?.userId ?? null);
  const [changingPassword, setChangingPassword] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [theme, setTheme] = useThemeChoice();
  const [showingShortcuts, setShowingShortcuts] = useState(false);
  const openShortcuts = useCallback(() => setShowingShortcuts(true), []);
  useShortcutsKey(openShortcuts);
  const tools = <ShellTools theme={theme} onTheme={setTheme} onShortcuts={openShortcuts} />;

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
        {session === null || changingPassword ? <div className="shell-row">{tools}</div> : null}
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
        ) : (
          // Signed in: the idle lock (issue 21) replaces whatever is shown once the main process locks.
          <IdleLockGate onSignedOut={() => void refreshStatus()}>
            {changingPassword ? (
              <ChangePassword
                onCancel={() => setChangingPassword(false)}
                onChanged={(next) => {
                  setChangingPassword(false);
                  setNotice('Your password was changed. Sign in with the new one.');
                  setStatus(next);
                }}
              />
            ) : (
              <Workspace key={status.session.userId} roles={status.session.roles} tools={tools} />
            )}
          </IdleLockGate>
        )}
      </main>
      {showingShortcuts && (
        <ShortcutsSheet
          screenLabels={session === null ? [] : screensFor(session.roles).map((screen) => screen.label)}
          onClose={() => setShowingShortcuts(false)}
        />
      )}
    </div>
  );
}

function Workspace({ roles, tools }: { roles: readonly string[]; tools: ReactNode }) {
  const usable = useMemo(() => screensFor(roles), [roles]);
  const [screen, setScreen] = useState<ScreenId | null>(() => homeScreen(roles));

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      const index = Number(event.key) - 1;
      const target = usable[index];
      if (target) {
        event.preventDefault();
        setScreen(target.id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [usable]);

  if (screen === null) {
    return (
      <>
        <div className="shell-row">{tools}</div>
        <section className="panel" aria-labelledby="no-screen-heading">
          <h2 id="no-screen-heading">Nothing to work on here yet</h2>
          <p>
            Your role{roles.length === 1 ? '' : 's'} ({roles.join(', ') || 'none'}) read
            {roles.length === 1 ? 's' : ''} none of what this workstation's screens show: staging records,
            provenance, signatures, the audit log or patient diaries. If you expected to, ask an administrator
            to check your role assignments.
          </p>
        </section>
      </>
    );
  }

  return (
    <>
      <div className="shell-row">
        <nav className="screen-tabs" aria-label="Screens">
          {usable.map((item, index) => (
            <button
              key={item.id}
              type="button"
              className={screen === item.id ? 'screen-tab is-current' : 'screen-tab'}
              aria-current={screen === item.id ? 'page' : undefined}
              aria-keyshortcuts={`Alt+${index + 1}`}
              onClick={() => setScreen(item.id)}
            >
              {item.label}{' '}
              <span aria-hidden="true">
                <kbd>Alt+{index + 1}</kbd>
              </span>
            </button>
          ))}
        </nav>
        {tools}
      </div>
      {screen === 'queue' && <StagingQueue />}
      {screen === 'audit' && <AuditScreen />}
      {screen === 'diary' && <DiaryScreen />}
      {screen === 'analysis' && <AnalysisScreen />}
      {screen === 'builds' && <BuildsScreen />}
      {screen === 'admin' && <AdminScreen />}
      <p className="key-hints">
        <span className="visually-hidden">Keys on this screen: </span>
        {screenHints[screen].map((hint) => (
          <span key={hint.does} className="key-hint">
            <KeyCombination keys={hint.keys} /> {hint.does}
          </span>
        ))}
        <span className="key-hint">
          <kbd>?</kbd> all shortcuts
        </span>
      </p>
    </>
  );
}

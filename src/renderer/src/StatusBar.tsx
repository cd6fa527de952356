import type { BackendStatus } from '../../shared/contract';
import { transport } from './api';

interface StatusBarProps {
  status: BackendStatus | null;
  onSignOut: () => void;
}

export function StatusBar({ status, onSignOut }: StatusBarProps) {
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
          <span className="status-item status-message" title={status.message}>
            {status.message}
          </span>
        </>
      )}
      <span className="status-spacer" />
      {session !== null && (
        <span className="status-item session">
          <span className="session-name">{session.printedName}</span>{' '}
          <span className="muted">
            {session.email} · {session.roles.length > 0 ? session.roles.join(', ') : 'no roles'}
          </span>
          <button type="button" className="button button-quiet" onClick={onSignOut}>
            Sign out
          </button>
        </span>
      )}
    </header>
  );
}

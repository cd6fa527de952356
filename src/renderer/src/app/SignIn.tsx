import { type FormEvent, useId, useState } from 'react';
import type { BackendStatus } from '../../../shared/contract';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';
import { BackendProfileChooser } from './BackendProfileChooser';
import { ChangePassword } from './ChangePassword';

interface SignInProps {
  status: BackendStatus;
  onSignedIn: (status: BackendStatus) => void;
}

export function SignIn({ status, onSignedIn }: SignInProps) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [totpCode, setTotpCode] = useState('');
  const totpId = useId();
  const hosted = status.mode === 'supabase';
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // An administrator requires a new password first (0058): only the change-password step is shown.
  const [passwordChangeRequired, setPasswordChangeRequired] = useState(false);
  const [changedNotice, setChangedNotice] = useState<string | null>(null);
  const emailId = useId();
  const passwordId = useId();
  const errorId = useId();
  const ready = status.state === 'ready';

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await api['session.signIn']({
        email,
        password,
        ...(hosted && totpCode ? { totpCode } : {}),
      });
      setTotpCode('');
      if (result.ok) {
        setPassword('');
        onSignedIn(result.status);
      } else if (result.passwordChangeRequired) {
        setPassword('');
        setPasswordChangeRequired(true);
      } else {
        setError(result.error);
      }
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  }

  if (passwordChangeRequired) {
    return (
      <ChangePassword
        requiredFor={email}
        onCancel={() => setPasswordChangeRequired(false)}
        onChanged={() => {
          setPasswordChangeRequired(false);
          setChangedNotice('Your password was changed. Sign in with the new one.');
        }}
      />
    );
  }

  return (
    <div className="sign-in-layout">
      <section className="panel sign-in" aria-labelledby={`${emailId}-heading`}>
        <h1 id={`${emailId}-heading`}>Sign in</h1>
        {!ready && (
          <p className="notice" role="status">
            {status.state === 'starting'
              ? 'The database is starting; you can sign in as soon as it is ready.'
              : status.message}
          </p>
        )}
        {changedNotice !== null && (
          <p className="notice notice-success" role="status">
            {changedNotice}
          </p>
        )}
        <form onSubmit={submit} noValidate aria-describedby={error === null ? undefined : errorId}>
          <div className="field">
            <label htmlFor={emailId}>Email</label>
            <input
              id={emailId}
              type="email"
              autoComplete="username"
              value={email}
              onChange={(event) => setEmail(event.target.value)}
              required
            />
          </div>
          <div className="field">
            <label htmlFor={passwordId}>Password</label>
            <input
              id={passwordId}
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              required
            />
          </div>
          {hosted && (
            <div className="field">
              <label htmlFor={totpId}>Authenticator code (if you have one)</label>
              <input
                id={totpId}
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="[0-9]{6}"
                maxLength={6}
                value={totpCode}
                onChange={(event) => setTotpCode(event.target.value.replace(/\D/g, ''))}
              />
            </div>
          )}
          {error !== null && (
            <p id={errorId} className="notice notice-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="button button-primary" disabled={busy || !ready}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        {/* The status it returns has no session, so App keeps showing this screen for the new backend. */}
        <BackendProfileChooser status={status} onChanged={onSignedIn} />
      </section>

      {status.demoUsers.length > 0 && (
        <section className="panel demo-users" aria-labelledby={`${emailId}-demo`}>
          <h2 id={`${emailId}-demo`}>Demo users</h2>
          <p className="muted">Embedded demo only. Choose a user to fill in the form.</p>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Roles</th>
                <th scope="col">Password</th>
                <th scope="col">TOTP</th>
              </tr>
            </thead>
            <tbody>
              {status.demoUsers.map((user) => (
                <tr key={user.email}>
                  <td>
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => {
                        setEmail(user.email);
                        setPassword(user.password);
                        setError(null);
                      }}
                      aria-label={`Fill in ${user.email} (${user.printedName})`}
                    >
                      {user.email}
                    </button>
                  </td>
                  <td>{user.roles.join(', ')}</td>
                  <td>
                    <code>{user.password}</code>
                  </td>
                  <td>{user.hasTotp ? 'yes' : 'no'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}

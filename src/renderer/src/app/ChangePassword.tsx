// Changing one's own password (direct modes): the current password proves who is asking, the server
// applies the policy (docs/security.md) and audits the change, and the person is then signed out to
// sign in again with the new one. Nothing typed here is kept once the form closes.
import { type FormEvent, useId, useState } from 'react';
import type { BackendStatus } from '../../../shared/contract';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';

interface ChangePasswordProps {
  onChanged: (status: BackendStatus) => void;
  onCancel: () => void;
  /** At sign-in, when an administrator requires a new password first: whose it is (not signed in yet). */
  requiredFor?: string;
}

export function ChangePassword({ onChanged, onCancel, requiredFor }: ChangePasswordProps) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (next !== repeat) {
      setError('The new password and its repetition differ.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const request = { currentPassword: current, newPassword: next };
      const result =
        requiredFor === undefined
          ? await api['session.changePassword'](request)
          : await api['session.changeRequiredPassword']({ ...request, email: requiredFor });
      if (result.ok) {
        onChanged(result.status);
      } else {
        setError(result.error);
      }
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel change-password" aria-labelledby={`${id}-heading`}>
      <h1 id={`${id}-heading`}>
        {requiredFor === undefined ? 'Change your password' : 'Choose a new password to continue'}
      </h1>
      {requiredFor !== undefined && (
        <p className="notice notice-warning" role="status">
          An administrator requires you to change your password before anything else.
        </p>
      )}
      <p className="muted">
        At least 12 characters, with letters and other characters; not your name or user name. You will be
        signed out and sign in again with the new password.
      </p>
      <form onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={`${id}-current`}>Current password</label>
          <input
            id={`${id}-current`}
            type="password"
            autoComplete="current-password"
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
            required
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-new`}>New password</label>
          <input
            id={`${id}-new`}
            type="password"
            autoComplete="new-password"
            value={next}
            onChange={(e) => setNext(e.target.value)}
            required
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-repeat`}>New password again</label>
          <input
            id={`${id}-repeat`}
            type="password"
            autoComplete="new-password"
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
            required
          />
        </div>
        {error !== null && (
          <p className="notice notice-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button" disabled={busy || !current || !next || !repeat}>
          {busy ? 'Changing…' : 'Change password'}
        </button>{' '}
        <button type="button" className="button button-quiet" onClick={onCancel}>
          Cancel
        </button>
      </form>
    </section>
  );
}

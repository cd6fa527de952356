// The lock screen (21 CFR 11.300, continuous-session control): nothing of the workspace behind it,
// the password to continue. Offline the password is checked against this computer's verifier.
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import type { IdleLockStatus } from '../../../shared/contract';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';

interface LockScreenProps {
  attemptsLeft: number;
  onUnlocked: (lock: IdleLockStatus) => void;
  onSignedOut: () => void;
}

export function LockScreen({ attemptsLeft, onUnlocked, onSignedOut }: LockScreenProps) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const id = useId();

  useEffect(() => {
    input.current?.focus();
  }, []);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (password === '') {
      setError('Enter your password to continue.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const result = await api['session.unlock']({ password });
      setPassword('');
      if (result.ok) {
        onUnlocked(result.lock);
      } else if (result.signedOut) {
        onSignedOut();
      } else {
        setError(result.error);
        input.current?.focus();
      }
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel lock-screen" aria-labelledby={`${id}-heading`}>
      <h1 id={`${id}-heading`}>Workstation locked</h1>
      <p className="muted">
        Countersign locked this window after a time without use. Enter your password to continue; the sync
        keeps running meanwhile.
      </p>
      <form onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={`${id}-password`}>Password</label>
          <input
            id={`${id}-password`}
            ref={input}
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-describedby={error !== null ? `${id}-error` : undefined}
            aria-invalid={error !== null}
            required
          />
        </div>
        {error !== null && (
          <p id={`${id}-error`} className="notice notice-error" role="alert">
            {error}
          </p>
        )}
        {attemptsLeft < 5 && error === null && (
          <p className="muted">{attemptsLeft} more wrong passwords sign you out.</p>
        )}
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Checking…' : 'Unlock'}
        </button>
      </form>
    </section>
  );
}

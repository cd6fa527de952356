// Unlock a person's signing or sign-in (21 CFR 11.300(d)): the reason, then the administrator's own
// password and authenticator code, which the server checks as it checks a signer's before it lifts
// the lock. Refused for one's own account (by the server; the button is not offered either).
import { type FormEvent, useEffect, useRef, useState } from 'react';
import type { SecurityAlert } from '../../../shared/contract';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';
import { visibleText } from '../common/visibleText';
import { ReauthDialogActions } from '../signing/ReauthDialogActions';
import { ReauthFields } from '../signing/ReauthFields';

export interface UnlockDialogProps {
  alert: SecurityAlert & { userId: string; lockKind: 'signing' | 'sign_in' };
  onClose: (unlocked: boolean) => void;
}

export function UnlockDialog({ alert, onClose }: UnlockDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const passwordField = useRef<HTMLInputElement>(null);
  const codeField = useRef<HTMLInputElement>(null);
  const [reason, setReason] = useState('');
  const [password, setPassword] = useState('');
  const [totpCode, setTotpCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [ownLock, setOwnLock] = useState(false);
  const what = alert.lockKind === 'signing' ? 'signing' : 'sign-in';

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const finish = (unlocked: boolean) => {
    dialog.current?.close();
    onClose(unlocked);
  };

  const missing = !reason.trim()
    ? 'Say why the account is unlocked.'
    : !password
      ? 'Enter your password.'
      : !totpCode.trim()
        ? 'Enter the code from your authenticator.'
        : null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (missing !== null) {
      setError(missing);
      return;
    }
    setBusy(true);
    setError(null);
    let clear: 'password' | 'code' | 'both' = 'both';
    try {
      const outcome = await api['admin.unlock']({
        userId: alert.userId,
        lockKind: alert.lockKind,
        reason,
        password,
        totpCode: totpCode.trim(),
      });
      if (outcome.ok) {
        finish(true);
        return;
      }
      setError(outcome.error);
      setOwnLock(outcome.locked);
      clear = outcome.field ?? 'code';
    } catch (caught) {
      setError(messageOf(caught));
      clear = 'code';
    }
    // A code is never kept after an attempt, nor a password after a wrong one.
    if (clear !== 'password') setTotpCode('');
    if (clear !== 'code') setPassword('');
    (clear === 'password' ? passwordField : codeField).current?.focus();
    setBusy(false);
  };

  return (
    <dialog
      ref={dialog}
      className="sign-dialog admin-dialog"
      aria-labelledby="unlock-heading"
      onCancel={(event) => {
        event.preventDefault();
        finish(false);
      }}
    >
      <h2 id="unlock-heading">Unlock {what}</h2>
      <p>
        Unlock the {what} of <strong>{visibleText(alert.printedName ?? 'unknown person')}</strong>
        {alert.failedAttempts !== null && `, locked after ${alert.failedAttempts} failed attempts`}. Confirm
        who made the attempts before you unlock. Your reason and your re-authentication are recorded in the
        audit trail.
      </p>
      <form onSubmit={(event) => void submit(event)}>
        <div className="field">
          <label htmlFor="unlock-reason">Reason</label>
          <textarea
            id="unlock-reason"
            value={reason}
            rows={3}
            maxLength={2000}
            onChange={(event) => setReason(event.target.value)}
            required
            autoFocus
          />
        </div>
        <ReauthFields
          idPrefix="unlock"
          password={password}
          onPassword={setPassword}
          totpCode={totpCode}
          onTotpCode={setTotpCode}
          passwordRef={passwordField}
          codeRef={codeField}
          onError={setError}
        />
        <ReauthDialogActions
          idPrefix="unlock"
          error={error}
          missing={missing}
          busy={busy}
          blocked={ownLock}
          actionLabel={`Unlock ${what}`}
          busyLabel="Unlocking…"
          onCancel={() => finish(false)}
        />
      </form>
    </dialog>
  );
}

// The signer's own recovery codes (migration 0055): how many are left, a new set shown once (copy,
// print) with the warning that goes with it, and, after a code was used, the way to a new
// authenticator. The codes live only in this dialog's state and are dropped when it closes.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { RecoveryCodesStatus } from '../../../shared/contract';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';
import { Timestamp } from '../common/Timestamp';
import { TotpEnrolment } from './TotpEnrolment';

export function RecoveryCodes({ onClose }: { onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [status, setStatus] = useState<RecoveryCodesStatus | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [confirmingReplace, setConfirmingReplace] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    setError(null);
    try {
      setStatus(await api['recovery.status']({}));
    } catch (caught) {
      setError(messageOf(caught));
    }
  }, []);

  useEffect(() => {
    dialog.current?.showModal();
    void load();
  }, [load]);

  const close = () => {
    setCodes(null);
    dialog.current?.close();
    onClose();
  };

  const generate = async () => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      setCodes((await api['recovery.generate']({})).codes);
      setConfirmingReplace(false);
      await load();
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  const copy = async () => {
    if (!codes) return;
    try {
      await navigator.clipboard.writeText(codes.join('\n'));
      setNotice('Copied. Paste them somewhere safe, then clear your clipboard.');
    } catch {
      setError('The codes could not be copied; write them down or print them.');
    }
  };

  return (
    <dialog
      ref={dialog}
      className="recovery-codes-dialog"
      aria-labelledby="recovery-codes-heading"
      onCancel={(event) => {
        event.preventDefault();
        close();
      }}
    >
      <h2 id="recovery-codes-heading">Recovery codes</h2>
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {notice !== null && (
        <p className="notice notice-success" role="status">
          {notice}
        </p>
      )}
      {status === null ? (
        error === null && <p className="muted">Loading…</p>
      ) : !status.available ? (
        <p>
          Your account is hosted: Supabase Auth keeps your second factor, and Countersign issues no recovery
          codes. If you lose your authenticator, ask an administrator to reset it.
        </p>
      ) : status.totp !== 'confirmed' ? (
        <>
          <p className={status.replacementDue ? 'notice notice-warning' : undefined} role="status">
            {status.replacementDue
              ? 'You signed with a recovery code, so your authenticator was retired. Enrol a new authenticator before you sign again.'
              : 'Recovery codes need an authenticator. Set one up first.'}
          </p>
          <TotpEnrolment onConfirmed={() => void load()} />
        </>
      ) : codes !== null ? (
        <section aria-label="Your new recovery codes">
          <p className="notice notice-warning" role="note">
            <strong>Shown once.</strong> Store them somewhere safe, away from your authenticator. Each code
            works once, in place of an authenticator code; using one retires your authenticator and alerts the
            administrators. Your earlier codes no longer work.
          </p>
          <ol className="recovery-code-list">
            {codes.map((code) => (
              <li key={code}>
                <code>{code}</code>
              </li>
            ))}
          </ol>
          <div className="dialog-actions">
            <button type="button" className="button" onClick={() => void copy()}>
              Copy
            </button>
            <button type="button" className="button" onClick={() => window.print()}>
              Print
            </button>
          </div>
        </section>
      ) : (
        <section aria-label="Your recovery codes">
          <p>
            {status.remaining === 0 ? (
              'You have no recovery codes.'
            ) : (
              <>
                {status.remaining} unused recovery code{status.remaining === 1 ? '' : 's'}
                {status.generatedAt !== null && (
                  <>
                    , generated <Timestamp iso={status.generatedAt} />
                  </>
                )}
                .
              </>
            )}{' '}
            If you lose your authenticator, a recovery code lets you sign once; then you enrol a new
            authenticator.
          </p>
          {confirmingReplace ? (
            <p className="notice notice-warning" role="alert">
              New codes void your {status.remaining} unused code{status.remaining === 1 ? '' : 's'}.{' '}
              <button type="button" className="button" disabled={busy} onClick={() => void generate()}>
                Void them and generate new codes
              </button>
            </p>
          ) : (
            <button
              type="button"
              className="button button-primary"
              disabled={busy}
              onClick={() => (status.remaining > 0 ? setConfirmingReplace(true) : void generate())}
            >
              Generate recovery codes
            </button>
          )}
        </section>
      )}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={close}>
          Close
        </button>
      </div>
    </dialog>
  );
}

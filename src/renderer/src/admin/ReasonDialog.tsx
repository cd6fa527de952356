// An administrator's decision that needs only a reason, which the server requires and records in the
// audit trail (acknowledging or closing an alert, approving or refusing a role change). A modal
// <dialog>: Escape cancels, nothing changes.
import { type FormEvent, type ReactNode, useEffect, useRef, useState } from 'react';
import { messageOf } from '../common/messageOf';

export interface ReasonDialogProps {
  /** The id prefix of the heading and the reason field. */
  id: string;
  /** The button's word, e.g. "Approve"; the heading is "<verb> the <subject>". */
  verb: string;
  /** What is decided on, e.g. "alert", "role change". */
  subject: string;
  /** Asked for a missing reason: "Say why you <verb> this <what>." */
  what: string;
  /** What the decision is about, shown under the heading. */
  children: ReactNode;
  autoFocusReason?: boolean;
  /** Sends the decision with its reason; throws what the server refused. */
  send: (reason: string) => Promise<unknown>;
  onClose: (changed: boolean) => void;
}

export function ReasonDialog({
  id,
  verb,
  subject,
  what,
  children,
  autoFocusReason,
  send,
  onClose,
}: ReasonDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const finish = (changed: boolean) => {
    dialog.current?.close();
    onClose(changed);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!reason.trim()) {
      setError(`Say why you ${verb.toLowerCase()} this ${what}.`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await send(reason);
      finish(true);
    } catch (caught) {
      setError(messageOf(caught));
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      className="sign-dialog admin-dialog"
      aria-labelledby={`${id}-heading`}
      onCancel={(event) => {
        event.preventDefault();
        finish(false);
      }}
    >
      <h2 id={`${id}-heading`}>
        {verb} the {subject}
      </h2>
      {children}
      <form onSubmit={(event) => void submit(event)}>
        <div className="field">
          <label htmlFor={`${id}-reason`}>Reason (recorded in the audit trail)</label>
          <textarea
            id={`${id}-reason`}
            value={reason}
            rows={3}
            maxLength={2000}
            onChange={(event) => setReason(event.target.value)}
            required
            autoFocus={autoFocusReason}
          />
        </div>
        {error !== null && (
          <p className="notice notice-error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button button-quiet" onClick={() => finish(false)}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={busy || !reason.trim()}>
            {busy ? 'Saving…' : verb}
          </button>
        </div>
      </form>
    </dialog>
  );
}

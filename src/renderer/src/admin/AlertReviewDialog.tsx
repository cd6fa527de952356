// Acknowledge (seen, being looked into) or close (dealt with) a security alert, with the reason the
// server requires and records in the audit trail. A modal <dialog>: Escape cancels, nothing changes.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import type { SecurityAlert } from '../../../shared/contract';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';
import { visibleText } from '../common/visibleText';
import { alertKindLabel } from './alertValues';

export interface AlertReviewDialogProps {
  alert: SecurityAlert;
  decision: 'acknowledged' | 'closed';
  onClose: (changed: boolean) => void;
}

export function AlertReviewDialog({ alert, decision, onClose }: AlertReviewDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const verb = decision === 'acknowledged' ? 'Acknowledge' : 'Close';

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
      setError(`Say why you ${verb.toLowerCase()} this alert.`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api['admin.reviewAlert']({ alertId: alert.id, decision, reason });
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
      aria-labelledby="alert-review-heading"
      onCancel={(event) => {
        event.preventDefault();
        finish(false);
      }}
    >
      <h2 id="alert-review-heading">{verb} the alert</h2>
      <p>
        {alertKindLabel(alert.kind)}: <strong>{visibleText(alert.printedName ?? 'unknown person')}</strong>
        {alert.failedAttempts !== null && `, after ${alert.failedAttempts} failed attempts`}.
      </p>
      <form onSubmit={(event) => void submit(event)}>
        <div className="field">
          <label htmlFor="alert-review-reason">Reason (recorded in the audit trail)</label>
          <textarea
            id="alert-review-reason"
            value={reason}
            rows={3}
            maxLength={2000}
            onChange={(event) => setReason(event.target.value)}
            required
            autoFocus
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

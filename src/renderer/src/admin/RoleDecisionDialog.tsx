// Approve or refuse another administrator's role-change request, with the reason the server
// requires and records in the audit trail. A modal <dialog>: Escape cancels, nothing changes.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import type { RoleChangeRequestRow } from '../../../shared/contract';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';

export interface RoleDecisionDialogProps {
  request: RoleChangeRequestRow;
  /** What the request asks, in words (who, which change). */
  summary: string;
  approve: boolean;
  onClose: (changed: boolean) => void;
}

export function RoleDecisionDialog({ request, summary, approve, onClose }: RoleDecisionDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const verb = approve ? 'Approve' : 'Refuse';

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
      setError(`Say why you ${verb.toLowerCase()} this request.`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api['admin.decideRoleChange']({ requestId: request.id, approve, reason });
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
      aria-labelledby="role-decision-heading"
      onCancel={(event) => {
        event.preventDefault();
        finish(false);
      }}
    >
      <h2 id="role-decision-heading">{verb} the role change</h2>
      <p>{summary}</p>
      <form onSubmit={(event) => void submit(event)}>
        <div className="field">
          <label htmlFor="role-decision-reason">Reason (recorded in the audit trail)</label>
          <textarea
            id="role-decision-reason"
            value={reason}
            rows={3}
            maxLength={2000}
            onChange={(event) => setReason(event.target.value)}
            required
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

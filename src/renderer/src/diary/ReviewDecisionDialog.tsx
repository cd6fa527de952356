// An investigator's decision on an administrator's correction at their site: acknowledge it (a
// comment is optional) or dispute it (a comment is required). The server takes the first decision
// for every investigator of the site; a later one is refused with who decided. A modal <dialog>:
// Escape cancels, nothing changes.
import { type FormEvent, type ReactNode, useEffect, useRef, useState } from 'react';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';

export interface ReviewDecisionDialogProps {
  reviewId: string;
  decision: 'acknowledged' | 'disputed';
  /** The correction decided on, shown under the heading. */
  children: ReactNode;
  onClose: (decided: boolean) => void;
}

export function ReviewDecisionDialog({ reviewId, decision, children, onClose }: ReviewDecisionDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const disputing = decision === 'disputed';
  const verb = disputing ? 'Dispute' : 'Acknowledge';

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const finish = (decided: boolean) => {
    dialog.current?.close();
    onClose(decided);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (disputing && !comment.trim()) {
      setError('Say why you dispute the correction.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api['diary.reviewCorrection']({ reviewId, decision, comment: comment.trim() || null });
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
      aria-labelledby="review-decision-heading"
      onCancel={(event) => {
        event.preventDefault();
        finish(false);
      }}
    >
      <h2 id="review-decision-heading">{verb} the correction</h2>
      {children}
      <form onSubmit={(event) => void submit(event)}>
        <div className="field">
          <label htmlFor="review-decision-comment">
            {disputing ? 'Comment (required, recorded in the audit trail)' : 'Comment (optional)'}
          </label>
          <textarea
            id="review-decision-comment"
            value={comment}
            rows={3}
            maxLength={2000}
            onChange={(event) => setComment(event.target.value)}
            required={disputing}
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
          <button
            type="submit"
            className="button button-primary"
            disabled={busy || (disputing && !comment.trim())}
          >
            {busy ? 'Saving…' : verb}
          </button>
        </div>
      </form>
    </dialog>
  );
}

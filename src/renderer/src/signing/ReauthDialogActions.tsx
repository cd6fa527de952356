// The foot of a dialog that re-authenticates before it acts (an unlock, a diary correction): the
// error the last attempt got, what is still missing, Cancel, and the action, which waits until
// nothing is missing.
interface ReauthDialogActionsProps {
  /** Prefix of the ids, unique on the page. */
  idPrefix: string;
  error: string | null;
  /** What must still be filled in, or null when the form is complete. */
  missing: string | null;
  busy: boolean;
  /** The action is refused for another reason too (e.g. the person's own account is locked). */
  blocked: boolean;
  actionLabel: string;
  busyLabel: string;
  onCancel: () => void;
}

export function ReauthDialogActions({
  idPrefix,
  error,
  missing,
  busy,
  blocked,
  actionLabel,
  busyLabel,
  onCancel,
}: ReauthDialogActionsProps) {
  const missingId = `${idPrefix}-missing`;
  return (
    <>
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      <div className="dialog-actions">
        {missing !== null && !busy && (
          <p className="sign-missing muted" id={missingId}>
            {missing}
          </p>
        )}
        <button type="button" className="button button-quiet" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="submit"
          className="button button-primary"
          disabled={busy || missing !== null || blocked}
          aria-describedby={missing !== null ? missingId : undefined}
        >
          {busy ? busyLabel : actionLabel}
        </button>
      </div>
    </>
  );
}

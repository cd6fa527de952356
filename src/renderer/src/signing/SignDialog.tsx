// The Part 11 signing ceremony as the signer sees it: the manifest (how many records, each with its
// content hash), the meaning of signature, the attestation, then password and authenticator code.
// One ceremony signs the whole batch; the server verifies everything and the result shows the
// signature's manifestation. A modal <dialog>: Escape cancels, focus stays inside.
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import type { Manifest, SignatureManifestation, SigningStatus } from '../../../shared/contract';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';
import { SignatureManifestation as Manifestation } from './SignatureManifestation';
import { TotpEnrolment } from './TotpEnrolment';

export interface SignDialogProps {
  stagingIds: string[];
  intent: 'approve' | 'reject';
  onClose: (changed: boolean) => void;
}

export function SignDialog({ stagingIds, intent, onClose }: SignDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [status, setStatus] = useState<SigningStatus | null>(null);
  const [manifest, setManifest] = useState<Manifest | null>(null);
  const [meaning, setMeaning] = useState('');
  const [comment, setComment] = useState('');
  const [password, setPassword] = useState('');
  const [totpCode, setTotpCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<SignatureManifestation | null>(null);

  const load = useCallback(async () => {
    setError(null);
    try {
      const [nextStatus, nextManifest] = await Promise.all([
        api['signing.status']({}),
        api['signing.manifest']({ stagingIds }),
      ]);
      setStatus(nextStatus);
      setManifest(nextManifest);
      setMeaning(
        (current) => current || (nextStatus.meanings.find((m) => m.intent === intent)?.meaning ?? ''),
      );
    } catch (caught) {
      setError(messageOf(caught));
    }
  }, [stagingIds, intent]);

  useEffect(() => {
    dialog.current?.showModal();
    void load();
  }, [load]);

  const close = () => {
    dialog.current?.close();
    onClose(result !== null);
  };

  const sign = async (event: FormEvent) => {
    event.preventDefault();
    if (!manifest) return;
    setBusy(true);
    setError(null);
    try {
      const outcome = await api['signing.sign']({
        ceremonyId: manifest.ceremonyId,
        intent,
        meaning,
        comment: comment.trim() === '' ? null : comment,
        entries: manifest.entries.map((entry) => ({
          stagingRecordId: entry.stagingRecordId,
          contentHash: entry.contentHash,
        })),
        password,
        totpCode: totpCode.trim(),
      });
      if (outcome.ok) {
        setResult(outcome.result);
      } else {
        setError(outcome.error);
        if (outcome.locked) setStatus((current) => (current ? { ...current, locked: true } : current));
      }
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      // The password and the code never outlive the attempt.
      setPassword('');
      setTotpCode('');
      setBusy(false);
    }
  };

  const showDemoCode = async () => {
    try {
      const { code } = await api['demo.totpCode']({});
      if (code) setTotpCode(code);
    } catch (caught) {
      setError(messageOf(caught));
    }
  };

  const verb = intent === 'approve' ? 'Sign' : 'Reject';
  const meanings = status?.meanings.filter((m) => m.intent === intent) ?? [];
  const count = manifest?.entries.length ?? 0;

  return (
    <dialog
      ref={dialog}
      className="sign-dialog"
      aria-labelledby="sign-heading"
      onCancel={(event) => {
        event.preventDefault();
        close();
      }}
    >
      <h2 id="sign-heading">
        {verb} {count} record{count === 1 ? '' : 's'} — electronic signature
      </h2>

      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}

      {result !== null ? (
        <section aria-label="Signature recorded">
          <p className="notice notice-success" role="status">
            {result.records.length} record{result.records.length === 1 ? '' : 's'}{' '}
            {intent === 'approve' ? 'signed' : 'rejected'}.
            {result.replayed ? ' (The server had already recorded this ceremony.)' : ''}
          </p>
          <Manifestation
            printedName={result.signer.printedName}
            meaning={result.meaning}
            intent={result.intent}
            signedAt={result.signedAt}
            comment={result.comment}
          />
          <ul className="signed-records">
            {result.records.map((record) => (
              <li key={record.stagingRecordId}>
                <code>{record.stagingRecordId}</code> → {record.state}
              </li>
            ))}
          </ul>
        </section>
      ) : status === null || manifest === null ? (
        error === null && <p className="muted">Preparing the manifest…</p>
      ) : !status.isSigner ? (
        <p className="notice notice-error">You do not hold the signer role.</p>
      ) : status.locked ? (
        <p className="notice notice-error" role="alert">
          Your account is locked for signing after repeated failed re-authentications. An administrator must
          unlock it.
        </p>
      ) : status.totp !== 'confirmed' ? (
        <TotpEnrolment onConfirmed={() => void load()} />
      ) : (
        <form onSubmit={(event) => void sign(event)}>
          {manifest.problems.length > 0 && (
            <div className="notice notice-error">
              <p>Not included:</p>
              <ul>
                {manifest.problems.map((problem) => (
                  <li key={problem}>{problem}</li>
                ))}
              </ul>
            </div>
          )}
          <div className="table-scroll manifest-scroll">
            <table className="table manifest-table">
              <caption>Manifest: what you are signing</caption>
              <thead>
                <tr>
                  <th scope="col">Study</th>
                  <th scope="col">Change to</th>
                  <th scope="col">Record</th>
                  <th scope="col">Content hash (SHA-256)</th>
                </tr>
              </thead>
              <tbody>
                {manifest.entries.map((entry) => (
                  <tr key={entry.stagingRecordId}>
                    <td>{entry.studyCode}</td>
                    <td>
                      {entry.entityKind} {entry.entityId === null ? '(new)' : ''}
                    </td>
                    <td>
                      <code>{entry.stagingRecordId.slice(0, 8)}</code>
                    </td>
                    <td>
                      <code className="hash">{entry.contentHash}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>

          <div className="field">
            <label htmlFor="sign-meaning">Meaning of signature</label>
            <select
              id="sign-meaning"
              value={meaning}
              onChange={(event) => setMeaning(event.target.value)}
              required
            >
              {meanings.map((m) => (
                <option key={m.meaning} value={m.meaning}>
                  {m.meaning}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="sign-comment">Comment (optional)</label>
            <textarea
              id="sign-comment"
              value={comment}
              maxLength={2000}
              rows={2}
              onChange={(event) => setComment(event.target.value)}
            />
          </div>
          <p className="attestation">{status.attestation}</p>
          <div className="field">
            <label htmlFor="sign-password">Password</label>
            <input
              id="sign-password"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              required
              autoFocus
            />
          </div>
          <div className="field">
            <label htmlFor="sign-totp">Authenticator code</label>
            <input
              id="sign-totp"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={6}
              value={totpCode}
              onChange={(event) => setTotpCode(event.target.value)}
              required
            />
            {status.demoCodeAvailable && (
              <button type="button" className="link-button" onClick={() => void showDemoCode()}>
                Demo: fill in the current code
              </button>
            )}
          </div>
          <div className="dialog-actions">
            <button type="button" className="button button-quiet" onClick={close}>
              Cancel
            </button>
            <button
              type="submit"
              className="button button-primary"
              disabled={busy || count === 0 || !meaning}
            >
              {busy ? 'Signing…' : `${verb} ${count} record${count === 1 ? '' : 's'}`}
            </button>
          </div>
        </form>
      )}
      {result !== null || status === null || status.locked || !status.isSigner ? (
        <div className="dialog-actions">
          <button type="button" className="button" onClick={close}>
            Close
          </button>
        </div>
      ) : null}
    </dialog>
  );
}

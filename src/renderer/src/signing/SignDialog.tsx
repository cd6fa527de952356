// The Part 11 signing ceremony as the signer sees it: the manifest (how many records, each with its
// content hash), who is signing, the meaning of signature (chosen, never preset), for a rejection its
// reason and explanation, the attestation, then password and authenticator code. One ceremony signs
// the whole batch; the server verifies everything and the result shows the signature's
// manifestation. Each record's protocol build is in the manifest; records written under a build a
// later one has superseded are counted in a warning (signing stays allowed: what was reviewed is
// what is signed, and its hash binds its build). A modal <dialog>: Escape cancels, focus stays inside.
import { type FormEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Manifest, SignatureManifestation, SigningStatus } from '../../../shared/contract';
import { api } from '../common/api';
import { supersededCountText } from '../common/buildText';
import { messageOf } from '../common/messageOf';
import { ManifestTable } from './ManifestTable';
import { SignatureManifestation as Manifestation } from './SignatureManifestation';
import { TotpEnrolment } from './TotpEnrolment';

export interface SignDialogProps {
  stagingIds: string[];
  intent: 'approve' | 'reject';
  onClose: (changed: boolean) => void;
}

const plural = (count: number, noun: string) =>
  `${count.toLocaleString('en')} ${noun}${count === 1 ? '' : 's'}`;

export function SignDialog({ stagingIds, intent, onClose }: SignDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const passwordField = useRef<HTMLInputElement>(null);
  const codeField = useRef<HTMLInputElement>(null);
  const [status, setStatus] = useState<SigningStatus | null>(null);
  const [manifest, setManifest] = useState<Manifest | null>(null);
  const [meaning, setMeaning] = useState('');
  const [reason, setReason] = useState('');
  const [explanation, setExplanation] = useState('');
  const [comment, setComment] = useState('');
  const [password, setPassword] = useState('');
  const [totpCode, setTotpCode] = useState('');
  /** The second factor typed into the code field is a recovery code (issue 21), not a TOTP code. */
  const [usingRecoveryCode, setUsingRecoveryCode] = useState(false);
  const [recoveryCodesAvailable, setRecoveryCodesAvailable] = useState(false);
  /** A recovery code signed this: the authenticator was retired, a new one is due. */
  const [enrolNewAuthenticator, setEnrolNewAuthenticator] = useState(false);
  const [enrolling, setEnrolling] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<SignatureManifestation | null>(null);
  /** The field to focus once a refusal has cleared it. */
  const [refocus, setRefocus] = useState<'password' | 'code' | null>(null);
  const rejecting = intent === 'reject';

  const load = useCallback(async () => {
    setError(null);
    try {
      const [nextStatus, nextManifest] = await Promise.all([
        api['signing.status']({}),
        api['signing.manifest']({ stagingIds }),
      ]);
      setStatus(nextStatus);
      setManifest(nextManifest);
      // Offered only where Countersign keeps the second factor (not in hosted mode).
      api['recovery.status']({}).then(
        (recovery) => setRecoveryCodesAvailable(recovery.available && recovery.remaining > 0),
        () => setRecoveryCodesAvailable(false),
      );
    } catch (caught) {
      setError(messageOf(caught));
    }
  }, [stagingIds]);

  useEffect(() => {
    dialog.current?.showModal();
    void load();
  }, [load]);

  useEffect(() => {
    if (refocus === null) return;
    (refocus === 'password' ? passwordField : codeField).current?.focus();
    setRefocus(null);
  }, [refocus]);

  const close = () => {
    dialog.current?.close();
    onClose(result !== null);
  };

  const count = manifest?.entries.length ?? 0;
  const superseded = useMemo(
    () => manifest?.entries.filter((entry) => entry.build?.superseded === true).length ?? 0,
    [manifest],
  );
  const supersededWarning = supersededCountText(superseded, 'record');
  // What still stops the ceremony, in the order the form asks for it: the Sign button says so.
  const missing = !meaning
    ? 'Choose the meaning of your signature.'
    : rejecting && !reason
      ? 'Choose the reason for the rejection.'
      : rejecting && !explanation.trim()
        ? 'Explain the reason for the rejection.'
        : !password
          ? 'Enter your password.'
          : !totpCode.trim()
            ? usingRecoveryCode
              ? 'Enter one of your recovery codes.'
              : 'Enter the code from your authenticator.'
            : null;

  const sign = async (event: FormEvent) => {
    event.preventDefault();
    if (!manifest) return;
    if (missing !== null) {
      setError(missing);
      return;
    }
    setBusy(true);
    setError(null);
    let clear: 'password' | 'code' | 'both' = 'both';
    try {
      const outcome = await api['signing.sign']({
        ceremonyId: manifest.ceremonyId,
        intent,
        meaning,
        comment: comment.trim() === '' ? null : comment,
        rejection: rejecting ? { reason, explanation } : null,
        entries: manifest.entries.map((entry) => ({
          stagingRecordId: entry.stagingRecordId,
          contentHash: entry.contentHash,
        })),
        password,
        ...(usingRecoveryCode
          ? { totpCode: '', recoveryCode: totpCode.trim() }
          : { totpCode: totpCode.trim() }),
      });
      if (outcome.ok) {
        setResult(outcome.result);
        setEnrolNewAuthenticator(outcome.enrolNewAuthenticator === true);
      } else {
        setError(outcome.error);
        if (outcome.locked) setStatus((current) => (current ? { ...current, locked: true } : current));
        // A wrong code keeps the password typed, a wrong password keeps the code; anything else
        // (the code may have been spent) asks for a new code.
        else clear = outcome.field ?? 'code';
      }
    } catch (caught) {
      setError(messageOf(caught));
      clear = 'code';
    } finally {
      // A code is never kept after an attempt, nor a password after a wrong one or a signature.
      if (clear !== 'password') setTotpCode('');
      if (clear !== 'code') setPassword('');
      setRefocus(clear === 'both' ? null : clear);
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

  const verb = rejecting ? 'Reject' : 'Sign';
  const meanings = status?.meanings.filter((m) => m.intent === intent) ?? [];
  const outcome = useMemo(
    () => (result ? new Map(result.records.map((record) => [record.stagingRecordId, record.state])) : null),
    [result],
  );

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
        {verb} {plural(count, 'record')} — electronic signature
      </h2>

      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}

      {result !== null ? (
        <section aria-label="Signature recorded">
          <p className="notice notice-success" role="status">
            {plural(result.records.length, 'record')} {rejecting ? 'rejected' : 'signed'}.
            {result.replayed ? ' (The server had already recorded this ceremony.)' : ''}
          </p>
          <Manifestation
            printedName={result.signer.printedName}
            meaning={result.meaning}
            intent={result.intent}
            signedAt={result.signedAt}
            comment={result.comment}
            rejection={result.rejection}
          />
          {manifest && outcome && (
            <ManifestTable entries={manifest.entries} caption="What was signed" outcome={outcome} />
          )}
          {enrolNewAuthenticator &&
            (enrolling ? (
              <TotpEnrolment
                onConfirmed={() => {
                  setEnrolling(false);
                  setEnrolNewAuthenticator(false);
                }}
              />
            ) : (
              <p className="notice notice-warning recovery-enrol-prompt" role="alert">
                You signed with a recovery code, so your authenticator was retired and the administrators were
                alerted. Enrol a new authenticator before you sign again.{' '}
                <button type="button" className="button button-primary" onClick={() => setEnrolling(true)}>
                  Enrol a new authenticator
                </button>
              </p>
            ))}
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
        <form onSubmit={(event) => void sign(event)} noValidate>
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
          <ManifestTable
            entries={manifest.entries}
            caption={`Manifest: what you are signing (${plural(count, 'record')})`}
          />
          {supersededWarning !== null && (
            <p className="notice notice-warning build-superseded-warning" role="note">
              <strong>{supersededWarning}</strong> (marked in the manifest): a later build of the study has
              completed since. You may still {rejecting ? 'reject' : 'sign'} what you reviewed; your signature
              binds the build each record was written under.
            </p>
          )}

          <div className="field">
            <label htmlFor="sign-meaning">Meaning of signature</label>
            <select
              id="sign-meaning"
              value={meaning}
              onChange={(event) => setMeaning(event.target.value)}
              required
            >
              <option value="" disabled>
                Choose the meaning of your signature…
              </option>
              {meanings.map((m) => (
                <option key={m.meaning} value={m.meaning}>
                  {m.meaning}
                </option>
              ))}
            </select>
          </div>
          {rejecting && (
            <>
              <div className="field">
                <label htmlFor="sign-reason">Reason for rejection</label>
                <select
                  id="sign-reason"
                  value={reason}
                  onChange={(event) => setReason(event.target.value)}
                  required
                >
                  <option value="" disabled>
                    Choose the reason for the rejection…
                  </option>
                  {status.rejectionReasons.map((choice) => (
                    <option key={choice} value={choice}>
                      {choice}
                    </option>
                  ))}
                </select>
              </div>
              <div className="field">
                <label htmlFor="sign-explanation">Explanation (required)</label>
                <textarea
                  id="sign-explanation"
                  value={explanation}
                  maxLength={2000}
                  rows={2}
                  required
                  onChange={(event) => setExplanation(event.target.value)}
                />
              </div>
            </>
          )}
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
          <section className="signing-as" aria-label="Who is signing">
            <p>
              Signing as <strong>{status.signer.printedName}</strong>{' '}
              <span className="signing-as-email">({status.signer.email})</span>
            </p>
            <p className="attestation">{status.attestation}</p>
          </section>
          <div className="field">
            <label htmlFor="sign-password">Password</label>
            <input
              ref={passwordField}
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
            <label htmlFor="sign-totp">{usingRecoveryCode ? 'Recovery code' : 'Authenticator code'}</label>
            <input
              ref={codeField}
              id="sign-totp"
              inputMode={usingRecoveryCode ? 'text' : 'numeric'}
              autoComplete={usingRecoveryCode ? 'off' : 'one-time-code'}
              spellCheck={false}
              maxLength={usingRecoveryCode ? 11 : 6}
              value={totpCode}
              onChange={(event) => setTotpCode(event.target.value)}
              required
            />
            {(recoveryCodesAvailable || usingRecoveryCode) && (
              <button
                type="button"
                className="link-button"
                onClick={() => {
                  setUsingRecoveryCode((using) => !using);
                  setTotpCode('');
                  setRefocus('code');
                }}
              >
                {usingRecoveryCode ? 'Use the authenticator code instead' : 'Use a recovery code instead'}
              </button>
            )}
            {usingRecoveryCode && (
              <p className="muted">
                A recovery code works once. After this signature your authenticator is retired and you enrol a
                new one.
              </p>
            )}
            {status.demoCodeAvailable && !usingRecoveryCode && (
              <button type="button" className="link-button" onClick={() => void showDemoCode()}>
                Demo: fill in the current code
              </button>
            )}
          </div>
          <div className="dialog-actions">
            {missing !== null && !busy && (
              <p className="sign-missing muted" id="sign-missing">
                {missing}
              </p>
            )}
            <button type="button" className="button button-quiet" onClick={close}>
              Cancel
            </button>
            <button
              type="submit"
              className="button button-primary"
              disabled={busy || count === 0 || missing !== null}
              aria-describedby={missing !== null ? 'sign-missing' : undefined}
            >
              {busy ? 'Signing…' : `${verb} ${plural(count, 'record')}`}
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

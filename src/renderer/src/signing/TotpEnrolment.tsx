// Setting up an authenticator before a first signature: the QR code (drawn here from the module
// matrix the main process sends), the secret for manual entry, then the first code to confirm it.
import { type FormEvent, useState } from 'react';
import type { TotpEnrolmentOffer } from '../../../shared/contract';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';

function QrCode({ size, modules }: TotpEnrolmentOffer['qr']) {
  const quiet = 4;
  let path = '';
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      if (modules[row * size + column] === '1') path += `M${column + quiet} ${row + quiet}h1v1h-1z`;
    }
  }
  const extent = size + quiet * 2;
  return (
    <svg
      className="qr-code"
      viewBox={`0 0 ${extent} ${extent}`}
      role="img"
      aria-label="QR code of the authenticator set-up link"
    >
      <rect className="qr-light" width={extent} height={extent} />
      <path className="qr-dark" d={path} />
    </svg>
  );
}

export function TotpEnrolment({ onConfirmed }: { onConfirmed: () => void }) {
  const [offer, setOffer] = useState<TotpEnrolmentOffer | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      setOffer(await api['totp.beginEnrolment']({}));
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };
  const confirm = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await api['totp.confirmEnrolment']({ code: code.trim() });
      if (result.ok) onConfirmed();
      else setError(result.error);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="totp-enrolment" aria-labelledby="totp-heading">
      <h2 id="totp-heading">Set up your authenticator</h2>
      <p>
        Signing needs your password and a code from an authenticator app (TOTP, 6 digits, every 30 seconds).
      </p>
      {offer === null ? (
        <button type="button" className="button button-primary" onClick={() => void start()} disabled={busy}>
          Set up authenticator
        </button>
      ) : (
        <form onSubmit={(event) => void confirm(event)}>
          <QrCode size={offer.qr.size} modules={offer.qr.modules} />
          <p>
            Scan the code, or enter this key by hand: <code className="secret">{offer.secretBase32}</code>
          </p>
          <div className="field">
            <label htmlFor="totp-confirm">First code from the app</label>
            <input
              id="totp-confirm"
              inputMode="numeric"
              autoComplete="one-time-code"
              value={code}
              onChange={(event) => setCode(event.target.value)}
              maxLength={6}
              required
            />
          </div>
          <button type="submit" className="button button-primary" disabled={busy}>
            Confirm
          </button>
        </form>
      )}
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

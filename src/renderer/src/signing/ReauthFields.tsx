// The two re-authentication fields (password and authenticator code) of a Part 11 action that needs
// the person's own fresh proof: the administrator's unlock, like a signature. In the embedded demo
// the current code of a demo person can be filled in (their TOTP secrets are public there).
import { type RefObject, useEffect, useState } from 'react';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';

export interface ReauthFieldsProps {
  idPrefix: string;
  password: string;
  onPassword: (password: string) => void;
  totpCode: string;
  onTotpCode: (code: string) => void;
  passwordRef?: RefObject<HTMLInputElement | null>;
  codeRef?: RefObject<HTMLInputElement | null>;
  onError: (message: string) => void;
}

export function ReauthFields({
  idPrefix,
  password,
  onPassword,
  totpCode,
  onTotpCode,
  passwordRef,
  codeRef,
  onError,
}: ReauthFieldsProps) {
  const [demoCodeAvailable, setDemoCodeAvailable] = useState(false);

  useEffect(() => {
    let live = true;
    api['demo.totpCode']({})
      .then(({ code }) => {
        if (live) setDemoCodeAvailable(code !== null);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);

  const fillDemoCode = async () => {
    try {
      const { code } = await api['demo.totpCode']({});
      if (code) onTotpCode(code);
    } catch (caught) {
      onError(messageOf(caught));
    }
  };

  return (
    <>
      <div className="field">
        <label htmlFor={`${idPrefix}-password`}>Your password</label>
        <input
          ref={passwordRef}
          id={`${idPrefix}-password`}
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(event) => onPassword(event.target.value)}
          required
        />
      </div>
      <div className="field">
        <label htmlFor={`${idPrefix}-totp`}>Your authenticator code</label>
        <input
          ref={codeRef}
          id={`${idPrefix}-totp`}
          inputMode="numeric"
          autoComplete="one-time-code"
          maxLength={6}
          value={totpCode}
          onChange={(event) => onTotpCode(event.target.value)}
          required
        />
        {demoCodeAvailable && (
          <button type="button" className="link-button" onClick={() => void fillDemoCode()}>
            Demo: fill in the current code
          </button>
        )}
      </div>
    </>
  );
}

// The backend profile on the sign-in screen: the embedded demo, an on-premises PostgreSQL, or a
// hosted Supabase project (URL + anon key). The main process checks the settings again and starts
// or points at that backend; the anon key is sent once and not kept here.
import { type FormEvent, useId, useState } from 'react';
import type { BackendProfile, BackendStatus } from '../../../shared/contract';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';

type ProfileName = BackendProfile['profile'];

const profileLabels: Record<ProfileName, string> = {
  embedded: 'Embedded demo',
  postgres: 'PostgreSQL server',
  supabase: 'Supabase project',
};

interface BackendProfileChooserProps {
  status: BackendStatus;
  onChanged: (status: BackendStatus) => void;
}

export function BackendProfileChooser({ status, onChanged }: BackendProfileChooserProps) {
  const [profile, setProfile] = useState<ProfileName>(status.mode);
  const [host, setHost] = useState('');
  const [port, setPort] = useState('5432');
  const [database, setDatabase] = useState('countersign');
  const [encrypted, setEncrypted] = useState(true);
  const [url, setUrl] = useState('');
  const [anonKey, setAnonKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  async function apply(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const request: BackendProfile =
        profile === 'embedded'
          ? { profile }
          : profile === 'postgres'
            ? {
                profile,
                host,
                port: Number(port),
                database,
                ...(encrypted ? {} : { tls: 'disable' as const }),
              }
            : { profile, url, anonKey };
      const next = await api['backend.configure'](request);
      setAnonKey('');
      onChanged(next);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <details className="backend-profile">
      <summary>
        Backend: {profileLabels[status.mode]}
        {status.endpoint ? ` (${status.endpoint}${status.transport ? `, ${status.transport}` : ''})` : ''}
      </summary>
      <form onSubmit={apply} noValidate>
        <fieldset>
          <legend>Connect to</legend>
          {(Object.keys(profileLabels) as ProfileName[]).map((name) => (
            <label key={name} className="radio">
              <input
                type="radio"
                name={`${id}-profile`}
                value={name}
                checked={profile === name}
                onChange={() => setProfile(name)}
              />{' '}
              {profileLabels[name]}
            </label>
          ))}
        </fieldset>
        {profile === 'postgres' && (
          <>
            <div className="field">
              <label htmlFor={`${id}-host`}>Host</label>
              <input id={`${id}-host`} value={host} onChange={(e) => setHost(e.target.value)} required />
            </div>
            <div className="field">
              <label htmlFor={`${id}-port`}>Port</label>
              <input
                id={`${id}-port`}
                inputMode="numeric"
                value={port}
                onChange={(e) => setPort(e.target.value)}
              />
            </div>
            <div className="field">
              <label htmlFor={`${id}-database`}>Database</label>
              <input id={`${id}-database`} value={database} onChange={(e) => setDatabase(e.target.value)} />
            </div>
            <label className="checkbox">
              <input type="checkbox" checked={encrypted} onChange={(e) => setEncrypted(e.target.checked)} />{' '}
              Encrypt with TLS and verify the server (a server on this computer is reached without it)
            </label>
            {!encrypted && (
              <p className="notice notice-warning" role="status">
                Your password and the data will cross the network unencrypted. Choose this only on a network
                you trust.
              </p>
            )}
          </>
        )}
        {profile === 'supabase' && (
          <>
            <div className="field">
              <label htmlFor={`${id}-url`}>Project URL</label>
              <input
                id={`${id}-url`}
                type="url"
                placeholder="https://your-project.supabase.co"
                value={url}
                onChange={(e) => setUrl(e.target.value)}
                required
              />
            </div>
            <div className="field">
              <label htmlFor={`${id}-key`}>Anon (publishable) key</label>
              <input
                id={`${id}-key`}
                type="password"
                autoComplete="off"
                value={anonKey}
                onChange={(e) => setAnonKey(e.target.value)}
                required
              />
            </div>
          </>
        )}
        {error !== null && (
          <p className="notice notice-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Connecting…' : 'Use this backend'}
        </button>
      </form>
    </details>
  );
}

// Pointing the workstation at a Supabase project: from the environment or from the sign-in screen's
// profile, checked the same way, with messages that never repeat the key.
import { describe, expect, it } from 'vitest';
import { backendConfigFrom } from '../../../../src/main/backend/backendConfig';
import { backendConfigFromProfile } from '../../../../src/main/backend/backendProfile';
import { describeProject } from '../../../../src/main/backend/supabase/supabaseConfig';
import { fakeAnonKey } from './fakeSupabase';

const serviceRoleKey = [
  Buffer.from('{"alg":"HS256"}').toString('base64url'),
  Buffer.from('{"role":"service_role"}').toString('base64url'),
  'c2ln',
].join('.');

describe('hosted mode configuration', () => {
  it('reads COUNTERSIGN_BACKEND=supabase with the project URL and anon key', () => {
    const config = backendConfigFrom({
      COUNTERSIGN_BACKEND: 'supabase',
      COUNTERSIGN_SUPABASE_URL: ' https://abcdefgh.supabase.co/ ',
      COUNTERSIGN_SUPABASE_ANON_KEY: fakeAnonKey,
    });
    expect(config).toEqual({
      mode: 'supabase',
      project: { url: 'https://abcdefgh.supabase.co', anonKey: fakeAnonKey },
    });
    if (config.mode === 'supabase') expect(describeProject(config.project)).toBe('abcdefgh.supabase.co');
  });

  it('accepts a publishable key and a local project on 127.0.0.1 over http', () => {
    expect(
      backendConfigFromProfile({
        profile: 'supabase',
        url: 'http://127.0.0.1:54321',
        anonKey: 'sb_publishable_abc123',
      }),
    ).toEqual({
      mode: 'supabase',
      project: { url: 'http://127.0.0.1:54321', anonKey: 'sb_publishable_abc123' },
    });
  });

  it('says which setting is missing or wrong, without repeating the key', () => {
    expect(() => backendConfigFrom({ COUNTERSIGN_BACKEND: 'supabase' })).toThrow(
      /COUNTERSIGN_SUPABASE_URL and/,
    );
    expect(() =>
      backendConfigFrom({
        COUNTERSIGN_BACKEND: 'supabase',
        COUNTERSIGN_SUPABASE_URL: 'http://abcdefgh.supabase.co',
        COUNTERSIGN_SUPABASE_ANON_KEY: fakeAnonKey,
      }),
    ).toThrow(/COUNTERSIGN_SUPABASE_URL: .*https/);
    const badKey = 'not a key at all';
    let message = '';
    try {
      backendConfigFrom({
        COUNTERSIGN_BACKEND: 'supabase',
        COUNTERSIGN_SUPABASE_URL: 'https://abcdefgh.supabase.co',
        COUNTERSIGN_SUPABASE_ANON_KEY: badKey,
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/COUNTERSIGN_SUPABASE_ANON_KEY/);
    expect(message).not.toContain(badKey);
  });

  it('refuses a service-role or secret key, which would bypass every access rule', () => {
    expect(() =>
      backendConfigFromProfile({
        profile: 'supabase',
        url: 'https://abcdefgh.supabase.co',
        anonKey: serviceRoleKey,
      }),
    ).toThrow(/service_role key/);
    expect(() =>
      backendConfigFromProfile({
        profile: 'supabase',
        url: 'https://abcdefgh.supabase.co',
        anonKey: 'sb_secret_abc',
      }),
    ).toThrow(/anon/);
  });

  it('turns the other profiles into the same configurations as the environment', () => {
    expect(backendConfigFromProfile({ profile: 'embedded' })).toEqual({ mode: 'embedded', port: 54329 });
    expect(
      backendConfigFromProfile({
        profile: 'postgres',
        host: 'db.example.org',
        port: 5432,
        database: 'cs',
      }),
    ).toEqual({
      mode: 'postgres',
      host: 'db.example.org',
      port: 5432,
      database: 'cs',
      tls: { mode: 'verify-full', rootCertPath: null },
    });
    expect(() =>
      backendConfigFromProfile({
        profile: 'postgres',
        host: 'db example',
        port: 5432,
        database: 'cs',
      }),
    ).toThrow(/host name or an IP address/);
  });
});

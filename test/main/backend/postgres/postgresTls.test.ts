// postgres mode never sends a password in plaintext to another machine unless asked to by name, and
// never encrypts without verifying the server (issue 17, item 5).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendConfigFrom } from '../../../../src/main/backend/backendConfig';
import { backendConfigFromProfile } from '../../../../src/main/backend/backendProfile';
import {
  describeTransport,
  isLoopbackHost,
  pgSslOptions,
  tlsFailureMessage,
} from '../../../../src/main/backend/postgres/postgresTls';

const postgresEnv = (env: Record<string, string>) =>
  backendConfigFrom({ COUNTERSIGN_BACKEND: 'postgres', ...env }) as Extract<
    ReturnType<typeof backendConfigFrom>,
    { mode: 'postgres' }
  >;

describe('TLS for postgres mode [SEC-TLS]', () => {
  it('uses TLS with the server verified for any host that is not this machine, by default', () => {
    expect(postgresEnv({ COUNTERSIGN_PG_HOST: 'db.example.org' }).tls).toEqual({
      mode: 'verify-full',
      rootCertPath: null,
    });
    expect(postgresEnv({ COUNTERSIGN_PG_HOST: '10.0.0.7' }).tls.mode).toBe('verify-full');
    // `require` never means "encrypted but unverified" here.
    expect(
      postgresEnv({ COUNTERSIGN_PG_HOST: 'db.example.org', COUNTERSIGN_PG_SSL: 'require' }).tls.mode,
    ).toBe('verify-full');
  });

  it('talks plaintext only when asked by name, or to this machine', () => {
    expect(postgresEnv({ COUNTERSIGN_PG_HOST: 'db.example.org', COUNTERSIGN_PG_SSL: 'disable' }).tls).toEqual(
      {
        mode: 'disable',
      },
    );
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.0.1.1']) {
      expect(isLoopbackHost(host), host).toBe(true);
      expect(postgresEnv({ COUNTERSIGN_PG_HOST: host }).tls.mode, host).toBe('disable');
    }
    expect(isLoopbackHost('127.example.org')).toBe(false);
    expect(
      postgresEnv({ COUNTERSIGN_PG_HOST: 'localhost', COUNTERSIGN_PG_SSL: 'verify-full' }).tls.mode,
    ).toBe('verify-full');
    expect(() => postgresEnv({ COUNTERSIGN_PG_SSL: 'prefer' })).toThrow(/COUNTERSIGN_PG_SSL/);
  });

  it('applies the same rule to a profile chosen on the sign-in screen', () => {
    const profile = { profile: 'postgres' as const, host: 'db.example.org', port: 5432, database: 'cs' };
    expect(backendConfigFromProfile(profile)).toMatchObject({ tls: { mode: 'verify-full' } });
    expect(backendConfigFromProfile({ ...profile, tls: 'disable' })).toMatchObject({
      tls: { mode: 'disable' },
    });
  });

  it('gives node-postgres verification against trusted roots, or against the CA file named', () => {
    const options = pgSslOptions({ mode: 'verify-full', rootCertPath: null }, 'db.example.org');
    expect(options).toMatchObject({ rejectUnauthorized: true, servername: 'db.example.org' });
    const dir = mkdtempSync(join(tmpdir(), 'countersign-ca-'));
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(pgSslOptions({ mode: 'verify-full', rootCertPath: ca }, 'db.example.org')).toEqual({
      rejectUnauthorized: true,
      servername: 'db.example.org',
      ca: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'],
    });
    expect(() => pgSslOptions({ mode: 'verify-full', rootCertPath: join(dir, 'missing.pem') }, 'h')).toThrow(
      /cannot be read/,
    );
    expect(pgSslOptions({ mode: 'disable' }, 'db.example.org')).toBe(false);
    expect(pgSslOptions(undefined, '127.0.0.1')).toBe(false);
  });

  it('says which is used, and what to do when verification fails', () => {
    expect(describeTransport({ mode: 'verify-full', rootCertPath: null })).toBe('TLS, server verified');
    expect(describeTransport({ mode: 'disable' })).toBe('not encrypted');
    expect(tlsFailureMessage({ code: 'SELF_SIGNED_CERT_IN_CHAIN', message: 'self-signed' })).toMatch(
      /COUNTERSIGN_PG_SSL_ROOT_CERT/,
    );
    expect(tlsFailureMessage(new Error('The server does not support SSL connections'))).toMatch(/ssl = on/);
    expect(tlsFailureMessage({ code: '28P01', message: 'password authentication failed' })).toBe(null);
  });
});

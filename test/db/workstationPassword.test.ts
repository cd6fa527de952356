// The workstation on a PostgreSQL server of the customer's own (postgres mode): it warns about the
// sign-in protections it cannot see on that server, and a person changes their own password through
// Countersign, which signs them out to sign in again with the new one (issue 17).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendIdFor } from '../../src/main/cache/cacheLocation';
import { checkOfflineVerifier } from '../../src/main/cache/offlineSignIn';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('postgres mode: sign-in protection warnings and password changes [SEC-SIGN-IN-LOCK]', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-password-'));
  let db: TestDatabase;
  let workstation: Workstation;
  const email = () => db.email('pat');
  const password = 'Heron-Lantern-2026';

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.provision({ email: email(), printedName: 'Pat Changer', password, roles: [] });
    workstation = await createWorkstation({
      dataDir,
      env: {
        COUNTERSIGN_BACKEND: 'postgres',
        COUNTERSIGN_PG_HOST: db.server.host,
        COUNTERSIGN_PG_PORT: String(db.server.port),
        COUNTERSIGN_PG_DATABASE: db.name,
      },
    });
    await workstation.backendSettled;
  });
  afterAll(async () => {
    await workstation?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('says how the connection is protected, and warns about what this server lacks', async () => {
    const signedIn = await workstation.handlers['session.signIn']({ email: email(), password });
    expect(signedIn.ok).toBe(true);
    const status = await workstation.handlers['backend.status']({});
    // A server on this machine: reached without TLS unless asked.
    expect(status.transport).toBe('not encrypted');
    // The test cluster runs no sign-in guard and has other databases open to everyone.
    expect(status.warnings?.some((warning) => /No Countersign sign-in guard/.test(warning))).toBe(true);
    expect(status.warnings?.some((warning) => /other databases on this server/.test(warning))).toBe(true);
    expect(status.warnings?.every((warning) => warning.includes('docs/security.md'))).toBe(true);
  });

  it('changes the password only with the current one and under the policy, then signs out', async () => {
    const change = workstation.handlers['session.changePassword'];
    expect(await change({ currentPassword: 'Wrong-Password-1', newPassword: 'Orchard-Beacon-7741' })).toEqual(
      {
        ok: false,
        error: 'Your current password is wrong.',
      },
    );
    expect(await change({ currentPassword: password, newPassword: 'short-1' })).toEqual({
      ok: false,
      error: 'The new password must be at least 12 characters long.',
    });
    const changed = await change({ currentPassword: password, newPassword: 'Orchard-Beacon-7741' });
    expect(changed).toMatchObject({ ok: true, status: { session: null, warnings: [] } });

    // Offline, too, the cache now opens with the new password only.
    const backendId = backendIdFor({ host: db.server.host, port: db.server.port, database: db.name });
    expect(await checkOfflineVerifier(dataDir, backendId, email(), 'Orchard-Beacon-7741')).not.toBeNull();
    expect(await checkOfflineVerifier(dataDir, backendId, email(), password)).toBeNull();

    const old = await workstation.handlers['session.signIn']({ email: email(), password });
    expect(old.ok).toBe(false);
    const renewed = await workstation.handlers['session.signIn']({
      email: email(),
      password: 'Orchard-Beacon-7741',
    });
    expect(renewed.ok).toBe(true);
    const { rows } = await db.operator.query(
      `select count(*)::int as n from audit.audit_log where event_type = 'password.changed'`,
    );
    expect(rows[0].n).toBe(1);
  });
});

// The workstation over a real PostgreSQL (postgres mode) for issue 21's password rules: a person an
// administrator requires to change their password sees only that step at sign-in, and the idle lock
// checks the password with a fresh login as the person.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import { startTcpProxy, type TcpProxy } from './support/tcpProxy';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const password = 'Heron-Lantern-2026';
const idleSeconds = 5;

describe('postgres mode: forced password change and the idle lock', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-password-rules-'));
  let db: TestDatabase;
  let workstation: Workstation;
  let personId: string;
  const email = () => db.email('pat');
  const adminEmail = () => db.email('ada');

  beforeAll(async () => {
    db = await createTestDatabase();
    personId = await db.provision({
      email: email(),
      printedName: 'Pat Changer',
      password,
      roles: [{ role: 'signer', studyId: null }],
    });
    await db.provision({
      email: adminEmail(),
      printedName: 'Ada Admin',
      password,
      roles: [{ role: 'admin', studyId: null }],
    });
    workstation = await createWorkstation({
      dataDir,
      env: {
        COUNTERSIGN_BACKEND: 'postgres',
        COUNTERSIGN_PG_HOST: db.server.host,
        COUNTERSIGN_PG_PORT: String(db.server.port),
        COUNTERSIGN_PG_DATABASE: db.name,
        COUNTERSIGN_IDLE_LOCK_SECONDS: String(idleSeconds),
      },
    });
    await workstation.backendSettled;
  });
  afterAll(async () => {
    await workstation?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows only the password change at sign-in until the required change is made [ACCOUNT-FORCED-CHANGE]', async () => {
    const admin = await db.connectAs(adminEmail(), password);
    await admin.query('select public.require_password_change($1, $2)', [
      personId,
      'Password seen by a visitor',
    ]);

    const refused = await workstation.handlers['session.signIn']({ email: email(), password });
    expect(refused).toMatchObject({ ok: false, passwordChangeRequired: true });
    expect((await workstation.handlers['backend.status']({})).session).toBeNull();

    const change = workstation.handlers['session.changeRequiredPassword'];
    expect(
      await change({
        email: email(),
        currentPassword: 'Wrong-Password-1',
        newPassword: 'Orchard-Beacon-7741',
      }),
    ).toEqual({ ok: false, error: 'Your current password is wrong.' });
    expect(
      await change({ email: email(), currentPassword: password, newPassword: 'Orchard-Beacon-7741' }),
    ).toMatchObject({ ok: true, status: { session: null } });
    const signedIn = await workstation.handlers['session.signIn']({
      email: email(),
      password: 'Orchard-Beacon-7741',
    });
    expect(signedIn).toMatchObject({ ok: true, status: { session: { userId: personId } } });
    await workstation.handlers['session.signOut']({});
  });

  it('locks after the quiet time and unlocks with the password, proved by a fresh login [SESSION-IDLE-LOCK]', async () => {
    const signedIn = await workstation.handlers['session.signIn']({ email: adminEmail(), password });
    expect(signedIn.ok).toBe(true);
    expect((await workstation.handlers['session.lockState']({})).locked).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000 + 300));
    expect(await workstation.handlers['session.lockState']({})).toMatchObject({
      locked: true,
      idleLockSeconds: 5,
    });
    await expect(workstation.handlers['signing.status']({})).rejects.toThrow(/locked/);
    expect(await workstation.handlers['session.unlock']({ password: 'Not-The-Password-1' })).toMatchObject({
      ok: false,
      signedOut: false,
      lock: { locked: true, attemptsLeft: 4 },
    });
    expect(await workstation.handlers['session.unlock']({ password })).toMatchObject({
      ok: true,
      lock: { locked: false },
    });
    await expect(workstation.handlers['signing.status']({})).resolves.toBeDefined();
  }, 20_000);
});

describe('the idle lock offline: the password is checked against the local verifier', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-idle-offline-'));
  let db: TestDatabase;
  let proxy: TcpProxy;
  let workstation: Workstation;
  const email = () => db.email('olga');

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.provision({ email: email(), printedName: 'Olga Offline', password, roles: [] });
    proxy = await startTcpProxy(db.server.host, db.server.port);
    workstation = await createWorkstation({
      dataDir,
      env: {
        COUNTERSIGN_BACKEND: 'postgres',
        COUNTERSIGN_PG_HOST: '127.0.0.1',
        COUNTERSIGN_PG_PORT: String(proxy.port),
        COUNTERSIGN_PG_DATABASE: db.name,
        COUNTERSIGN_IDLE_LOCK_SECONDS: String(idleSeconds),
      },
    });
    await workstation.backendSettled;
  });
  afterAll(async () => {
    await workstation?.close();
    await proxy?.cut().catch(() => undefined);
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('unlocks with the password the cache opens with when the server cannot be reached [SESSION-IDLE-LOCK]', async () => {
    expect((await workstation.handlers['session.signIn']({ email: email(), password })).ok).toBe(true);
    await proxy.cut();
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000 + 300));
    expect((await workstation.handlers['session.lockState']({})).locked).toBe(true);
    expect(await workstation.handlers['session.unlock']({ password: 'Not-The-Password-1' })).toMatchObject({
      ok: false,
      lock: { locked: true },
    });
    expect(await workstation.handlers['session.unlock']({ password })).toMatchObject({
      ok: true,
      lock: { locked: false },
    });
  }, 30_000);
});

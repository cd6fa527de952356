// An administrator requires a password change through the workstation's admin channel (issue 21,
// V4) over a real PostgreSQL: the People list shows the open demand, oneself and a second demand are
// refused by the server, and the person's next sign-in asks for the change before anything else.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const password = 'Heron-Lantern-2026';

describe('postgres mode: the admin channel requires a password change [ACCOUNT-FORCED-CHANGE]', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-admin-password-'));
  let db: TestDatabase;
  let workstation: Workstation;
  let personId: string;
  let adminId: string;
  const email = () => db.email('pia');
  const adminEmail = () => db.email('ada');

  beforeAll(async () => {
    db = await createTestDatabase();
    personId = await db.provision({
      email: email(),
      printedName: 'Pia Person',
      password,
      roles: [{ role: 'monitor', studyId: null }],
    });
    adminId = await db.provision({
      email: adminEmail(),
      printedName: 'Ada Admin',
      password,
      roles: [{ role: 'admin', studyId: null }],
    });
    workstation = await createWorkstation({
      dataDir,
      log: () => undefined,
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

  const demandOf = async (userId: string) =>
    (await workstation.handlers['admin.people']({})).people.find((person) => person.userId === userId)
      ?.passwordChangeRequired;

  it('is required with a reason, listed as open, and asked for at the next sign-in', async () => {
    const { handlers } = workstation;
    expect((await handlers['session.signIn']({ email: adminEmail(), password })).ok).toBe(true);
    expect(await demandOf(personId)).toBe(false);

    await expect(
      handlers['admin.requirePasswordChange']({ userId: adminId, reason: 'Myself' }),
    ).rejects.toThrow(/cannot require a password change for their own account/);
    await expect(
      handlers['admin.requirePasswordChange']({ userId: personId, reason: 'Password seen by a visitor' }),
    ).resolves.toEqual({ ok: true });
    expect(await demandOf(personId)).toBe(true);
    expect(await demandOf(adminId)).toBe(false);
    await expect(
      handlers['admin.requirePasswordChange']({ userId: personId, reason: 'Again' }),
    ).rejects.toThrow(/already required/);
    await handlers['session.signOut']({});

    expect(await handlers['session.signIn']({ email: email(), password })).toMatchObject({
      ok: false,
      passwordChangeRequired: true,
    });
    expect((await handlers['backend.status']({})).session).toBeNull();
  });

  it('records the demand and its reason in the audit trail as the administrator', async () => {
    const { rows } = await db.operator.query(
      `select actor, payload ->> 'reason' as reason from audit.audit_log
        where event_type = 'password.change_required' and payload ->> 'user_id' = $1`,
      [personId],
    );
    expect(rows).toEqual([{ actor: adminId, reason: 'Password seen by a visitor' }]);
  });
});

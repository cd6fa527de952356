// Password change rules (migration 0058) against the real PostgreSQL: the current password is proved
// by the server against its stored verifier, and an administrator's "change at next sign-in" refuses
// every other piece of work until the person has changed it. Both are audited.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const password = 'Harbour-Lantern-3390';

describe('password change rules', () => {
  let db: TestDatabase;
  let adminId: string;
  let adminEmail: string;

  const newPerson = async (shortName: string) => {
    const email = db.email(`${shortName}${Math.floor(Math.random() * 1e6)}`);
    const id = await db.provision({
      email,
      printedName: 'Robin Example',
      password,
      roles: [{ role: 'signer', studyId: null }],
    });
    return { id, email };
  };
  const auditCount = async (eventType: string, userId: string) =>
    (
      await db.operator.query(
        'select count(*)::int as n from audit.audit_log where event_type = $1 and payload ->> $2 = $3',
        [eventType, 'user_id', userId],
      )
    ).rows[0].n as number;
  const canConnect = async (email: string, secret: string) => {
    try {
      await db.connectAs(email, secret);
      return true;
    } catch {
      return false;
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    adminEmail = db.email('admin');
    adminId = await db.provision({
      email: adminEmail,
      printedName: 'Ada Admin',
      password,
      roles: [{ role: 'admin', studyId: null }],
    });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('changes a password only with the right current password, proved by the server [ACCOUNT-PASSWORD-CHANGE, CFR-11.300b]', async () => {
    const person = await newPerson('changer');
    const session = await db.connectAs(person.email, password);
    await expect(
      session.query('select public.change_my_password($1, $2)', ['Wrong-Guess-12345', 'Orchard-Beacon-7741']),
    ).rejects.toThrow(/current password is wrong/);
    await expect(
      session.query('select public.change_my_password($1, $2)', [null, 'Orchard-Beacon-7741']),
    ).rejects.toThrow();
    // The new-password-only function of 0048 (a fresh login as its only proof) is gone.
    await expect(
      session.query('select public.change_my_password($1)', ['Orchard-Beacon-7741']),
    ).rejects.toThrow(/does not exist/);
    await expect(
      session.query('select public.change_my_password($1, $2)', [password, 'short-1']),
    ).rejects.toThrow(/at least 12/);
    await expect(
      session.query('select public.change_my_password($1, $2)', [password, password]),
    ).rejects.toThrow(/differ/);
    expect(await canConnect(person.email, 'Orchard-Beacon-7741')).toBe(false);
    expect(await auditCount('password.changed', person.id)).toBe(0);

    await session.query('select public.change_my_password($1, $2)', [password, 'Orchard-Beacon-7741']);
    expect(await canConnect(person.email, 'Orchard-Beacon-7741')).toBe(true);
    expect(await canConnect(person.email, password)).toBe(false);
    // The old password no longer proves anything, on the same session too.
    await expect(
      session.query('select public.change_my_password($1, $2)', [password, 'Another-Lantern-5521']),
    ).rejects.toThrow(/current password is wrong/);
    const { rows } = await db.operator.query(
      `select actor, payload::text as p from audit.audit_log where event_type = 'password.changed' and payload ->> 'user_id' = $1`,
      [person.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].actor).toBe(person.id);
    expect(rows[0].p).not.toContain('Orchard');
    expect(rows[0].p).not.toContain('Harbour');
  });

  it('a forced change refuses all other work until the password is changed [ACCOUNT-FORCED-CHANGE, CFR-11.10d]', async () => {
    const person = await newPerson('forced');
    const admin = await db.connectAs(adminEmail, password);
    const before = await db.connectAs(person.email, password);
    expect((await before.query('select public.password_change_required() as r')).rows[0].r).toBe(false);

    // Only an administrator, never for themselves, always with a reason.
    const other = await newPerson('bystander');
    const bystander = await db.connectAs(other.email, password);
    await expect(
      bystander.query('select public.require_password_change($1, $2)', [person.id, 'I say so']),
    ).rejects.toThrow(/only an administrator/);
    await expect(
      admin.query('select public.require_password_change($1, $2)', [adminId, 'Myself']),
    ).rejects.toThrow(/own account/);
    await expect(
      admin.query('select public.require_password_change($1, $2)', [person.id, ' ']),
    ).rejects.toThrow(/reason/);
    await admin.query('select public.require_password_change($1, $2)', [
      person.id,
      'Password shared by e-mail',
    ]);
    await expect(
      admin.query('select public.require_password_change($1, $2)', [person.id, 'Again']),
    ).rejects.toThrow(/already required/);
    const { rows: required } = await db.operator.query(
      `select actor, payload ->> 'reason' as reason from audit.audit_log
        where event_type = 'password.change_required' and payload ->> 'user_id' = $1`,
      [person.id],
    );
    expect(required).toEqual([{ actor: adminId, reason: 'Password shared by e-mail' }]);

    // At the next sign-in (and on the session already open) nothing but the change works.
    for (const session of [before, await db.connectAs(person.email, password)]) {
      expect((await session.query('select public.password_change_required() as r')).rows[0].r).toBe(true);
      expect((await session.query('select auth.uid() as uid')).rows[0].uid).toBe(null);
      await expect(
        session.query('select public.begin_totp_enrolment($1)', ['ABCDEFGHIJKLMNOPQRSTUVWXYZ234567']),
      ).rejects.toThrow(/change your password first/);
      expect((await session.query('select public.my_signing_status() as s')).rows[0].s.is_signer).toBe(false);
      expect(
        (await session.query('select count(*)::int as n from public.people_directory()')).rows[0].n,
      ).toBe(0);
      expect((await session.query('select count(*)::int as n from cro.user_profile')).rows[0].n).toBe(0);
      await expect(
        session.query('select public.change_my_password($1, $2)', [
          'Wrong-Guess-12345',
          'Orchard-Beacon-7741',
        ]),
      ).rejects.toThrow(/current password is wrong/);
    }

    const after: pg.Client = await db.connectAs(person.email, password);
    await after.query('select public.change_my_password($1, $2)', [password, 'Orchard-Beacon-7741']);
    expect((await after.query('select public.password_change_required() as r')).rows[0].r).toBe(false);
    expect((await after.query('select auth.uid() as uid')).rows[0].uid).toBe(person.id);
    expect(
      (await after.query('select count(*)::int as n from public.people_directory()')).rows[0].n,
    ).toBeGreaterThan(0);
    const { rows: changed } = await db.operator.query(
      `select actor, payload ->> 'demand_id' is not null as met from audit.audit_log
        where event_type = 'password.changed' and payload ->> 'user_id' = $1`,
      [person.id],
    );
    expect(changed).toEqual([{ actor: person.id, met: true }]);
    expect(
      (
        await db.operator.query(
          'select count(*)::int as n from cs_private.password_change_demand where user_id = $1 and met_at is null',
          [person.id],
        )
      ).rows[0].n,
    ).toBe(0);
  });

  it('no person reads the demands or calls the verifier check [ACCOUNT-FORCED-CHANGE]', async () => {
    const person = await newPerson('reader');
    const session = await db.connectAs(person.email, password);
    await expect(session.query('select * from cs_private.password_change_demand')).rejects.toThrow(
      /permission denied/,
    );
    await expect(
      session.query('select cs_private.password_matches($1, $2)', [person.email, password]),
    ).rejects.toThrow(/permission denied/);
  });
});

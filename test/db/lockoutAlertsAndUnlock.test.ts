// The security alerts the lockouts raise, read and reviewed by administrators, and the one unlock
// rule for signing and sign-in locks (migration 0056, 21 CFR 11.300(d)): each person acts over their
// own PostgreSQL login, as the threat model has them, against the real database.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newReauthenticatingAdmin, type ReauthenticatingAdmin } from './support/reauthenticatingAdmin';
import { buildSigningWorld, password, type Signer, type SigningWorld } from './support/signingWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('lockout alerts and unlocking', () => {
  let db: TestDatabase;
  let world: SigningWorld;
  const admins: ReauthenticatingAdmin[] = [];
  const clients: pg.Client[] = [];
  let admins_made = 0;

  const newAdmin = async () => {
    const admin = await newReauthenticatingAdmin(
      (spec) => db.provision(spec),
      { host: db.server.host, port: db.server.port, database: db.name },
      (email, secret) => db.connectAs(email, secret),
      db.email(`unlock-admin${++admins_made}`),
      password,
    );
    admins.push(admin);
    return admin;
  };
  const connect = async (email: string) => {
    const client = await db.connectAs(email, password);
    clients.push(client);
    return client;
  };
  /** Five failed re-authentications in a row: signing is locked and an alert raised. */
  const lockedSigner = async (): Promise<Signer> => {
    const signer = await world.newSigner();
    for (let i = 0; i < 5; i++) await signer.backend.reauthenticate(randomUUID(), 'wrong password', '000000');
    expect(await signer.backend.status()).toMatchObject({ locked: true });
    return signer;
  };
  const alertOf = async (admin: pg.Client, userId: string, kind = 'signing_locked') => {
    const { rows } = await admin.query(
      'select * from public.security_alerts() where user_id = $1 and kind = $2',
      [userId, kind],
    );
    expect(rows).toHaveLength(1);
    return rows[0];
  };
  const auditCount = async (eventType: string, key: string, value: string) =>
    world.count('select 1 from audit.audit_log where event_type = $1 and payload ->> $2 = $3', [
      eventType,
      key,
      value,
    ]);

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildSigningWorld(db);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
    await Promise.all(admins.map((admin) => admin.close()));
    await world?.close();
    await db?.drop();
  });

  describe('security alerts [ADMIN-ALERTS, CFR-11.300d]', () => {
    it('shows an administrator who was locked, when, after how many failures, from which workstation', async () => {
      const signer = await lockedSigner();
      const admin = await newAdmin();
      const alert = await alertOf(admin.client, signer.id);
      expect(alert).toMatchObject({
        kind: 'signing_locked',
        user_id: signer.id,
        printed_name: expect.stringMatching(/^Sam Signer/),
        failed_attempts: 5,
        lock_kind: 'signing',
        still_locked: true,
        state: 'open',
        decided_by: null,
      });
      expect(alert.raised_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(alert.client_addr).toMatch(/^(127\.0\.0\.1|::1)$/);
      expect(alert.application_name).toEqual(expect.any(String));
    });

    it('is readable by administrators only: others are refused, whatever they call', async () => {
      const signer = await lockedSigner();
      const self = await connect(signer.email);
      await expect(self.query('select * from public.security_alerts()')).rejects.toThrow(
        /only an administrator may read the security alerts/,
      );
      await expect(self.query('select * from cs_private.security_alerts()')).rejects.toThrow(
        /only an administrator may read the security alerts/,
      );
      expect((await self.query('select * from audit.security_alert')).rows).toEqual([]);
      await expect(self.query('select cs_private.security_alert_review($1)', [randomUUID()])).rejects.toThrow(
        /permission denied/,
      );
    });

    it('is acknowledged, then closed, each with a reason and an audit entry; closed stays closed', async () => {
      const signer = await lockedSigner();
      const admin = await newAdmin();
      const { id } = await alertOf(admin.client, signer.id);
      const other = await connect(signer.email);
      await expect(
        other.query('select public.review_security_alert($1, $2, $3)', [id, 'closed', 'not me']),
      ).rejects.toThrow(/only an administrator/);
      await expect(
        admin.client.query('select public.review_security_alert($1, $2, $3)', [id, 'acknowledged', '  ']),
      ).rejects.toThrow(/say why/);
      await expect(
        admin.client.query('select public.review_security_alert($1, $2, $3)', [id, 'deleted', 'gone']),
      ).rejects.toThrow(/acknowledged or closed/);

      await admin.client.query('select public.review_security_alert($1, $2, $3)', [
        id,
        'acknowledged',
        'Calling the signer to confirm it was them',
      ]);
      expect(await alertOf(admin.client, signer.id)).toMatchObject({
        state: 'acknowledged',
        decided_by: admin.id,
        decision_reason: 'Calling the signer to confirm it was them',
      });
      await expect(
        admin.client.query('select public.review_security_alert($1, $2, $3)', [id, 'acknowledged', 'again']),
      ).rejects.toThrow(/already acknowledged/);
      await admin.client.query('select public.review_security_alert($1, $2, $3)', [
        id,
        'closed',
        'The signer mistyped; unlocked after a call',
      ]);
      expect(await alertOf(admin.client, signer.id)).toMatchObject({ state: 'closed' });
      await expect(
        admin.client.query('select public.review_security_alert($1, $2, $3)', [id, 'acknowledged', 'late']),
      ).rejects.toThrow(/already closed/);
      expect(await auditCount('security_alert.acknowledged', 'alert_id', id)).toBe(1);
      expect(await auditCount('security_alert.closed', 'alert_id', id)).toBe(1);
    });
  });

  describe('unlocking [ADMIN-UNLOCK, CFR-11.300d]', () => {
    it("needs a reason and the administrator's own fresh re-authentication; then the signer signs again", async () => {
      const signer = await lockedSigner();
      const admin = await newAdmin();
      const unlock = (ceremonyId: string, reason: string, kind = 'signing') =>
        admin.client.query('select public.unlock_account($1, $2, $3, $4)', [
          signer.id,
          kind,
          reason,
          ceremonyId,
        ]);

      await expect(unlock(randomUUID(), 'Identity confirmed by phone')).rejects.toThrow(
        /no re-authentication/,
      );
      const ceremonyId = await admin.reauthenticate();
      await expect(unlock(ceremonyId, ' ')).rejects.toThrow(/say why/);
      await expect(unlock(ceremonyId, 'x', 'everything')).rejects.toThrow(/signing or sign_in/);
      expect(await signer.backend.status()).toMatchObject({ locked: true });

      await unlock(ceremonyId, 'Identity confirmed by phone');
      expect(await signer.backend.status()).toMatchObject({ locked: false, consecutiveFailures: 0 });
      expect(await alertOf(admin.client, signer.id)).toMatchObject({ still_locked: false });
      const { rows } = await db.operator.query(
        `select actor, payload ->> 'reason' as reason, payload ->> 'lock_kind' as lock_kind,
                payload ->> 'reauth_attempt_id' as attempt from audit.audit_log
          where event_type = 'account.unlocked' and payload ->> 'user_id' = $1`,
        [signer.id],
      );
      expect(rows).toEqual([
        {
          actor: admin.id,
          reason: 'Identity confirmed by phone',
          lock_kind: 'signing',
          attempt: expect.any(String),
        },
      ]);
      // The re-authentication is spent: it unlocks once.
      await db.operator.query(
        'insert into cs_private.signing_lock (user_id, failed_attempts) values ($1, 5)',
        [signer.id],
      );
      await expect(unlock(ceremonyId, 'again')).rejects.toThrow(/no re-authentication/);
      await admin.unlock(signer.id, 'signing', 'Second lock, checked again');
      expect((await signer.backend.reauthenticate(randomUUID(), password, signer.code())).ok).toBe(true);
    });

    it("is refused for one's own account and to anyone who is not an administrator", async () => {
      const admin = await newAdmin();
      await db.operator.query(
        'insert into cs_private.signing_lock (user_id, failed_attempts) values ($1, 5)',
        [admin.id],
      );
      const self = await connect(admin.email);
      await expect(
        self.query('select public.unlock_account($1, $2, $3, $4)', [admin.id, 'signing', 'me', randomUUID()]),
      ).rejects.toThrow(/cannot unlock an account for their own account/);

      const signer = await lockedSigner();
      const colleague = await world.newSigner();
      const ceremonyId = randomUUID();
      expect((await colleague.backend.reauthenticate(ceremonyId, password, colleague.code())).ok).toBe(true);
      const asColleague = await connect(colleague.email);
      await expect(
        asColleague.query('select public.unlock_account($1, $2, $3, $4)', [
          signer.id,
          'signing',
          'x',
          ceremonyId,
        ]),
      ).rejects.toThrow(/only an administrator/);
      await expect(
        asColleague.query('select cs_private.unlock_account($1, $2, $3, $4)', [
          signer.id,
          'signing',
          'x',
          ceremonyId,
        ]),
      ).rejects.toThrow(/only an administrator/);
    });

    it('supersedes the unlocks that took a reason only: nobody may call them', async () => {
      const signer = await lockedSigner();
      const admin = await newAdmin();
      for (const fn of [
        'public.unlock_signing',
        'cs_private.unlock_signing',
        'public.unlock_sign_in',
        'cs_private.unlock_sign_in',
      ]) {
        await expect(
          admin.client.query(`select ${fn}($1, $2)`, [signer.id, 'reason only']),
          fn,
        ).rejects.toThrow(/permission denied/);
      }
      expect(await signer.backend.status()).toMatchObject({ locked: true });
    });

    it('lifts a sign-in lock by the same rule, and its alert shows it lifted', async () => {
      const admin = await newAdmin();
      const person = await world.newSigner();
      await db.operator.query(`select cs_private.lock_sign_in($1, 'failed_sign_ins', 5, '192.0.2.7')`, [
        person.id,
      ]);
      const alert = await alertOf(admin.client, person.id, 'sign_in_locked');
      expect(alert).toMatchObject({
        lock_kind: 'sign_in',
        still_locked: true,
        failed_attempts: 5,
        client_addr: '192.0.2.7',
      });
      await expect(
        admin.client.query('select public.unlock_account($1, $2, $3, $4)', [
          person.id,
          'sign_in',
          'Identity confirmed',
          randomUUID(),
        ]),
      ).rejects.toThrow(/no re-authentication/);
      await admin.unlock(person.id, 'sign_in', 'Identity confirmed at the front desk');
      expect(
        (await db.operator.query('select cs_private.sign_in_locked($1) as l', [person.id])).rows[0].l,
      ).toBe(false);
      expect(await alertOf(admin.client, person.id, 'sign_in_locked')).toMatchObject({ still_locked: false });
      expect(await auditCount('sign_in.unlocked', 'user_id', person.id)).toBe(1);
      await expect(connect(person.email)).resolves.toBeDefined();
    });
  });
});

// Assignments, role changes and deactivation (migration 0057) against the real PostgreSQL, each
// person on their own login: a role change needs a second administrator, an administrator cannot
// approve their own request, a signer needs TOTP, assignments change only through audited
// functions, and a deactivated person is refused at once (new logins, open sessions, re-auths).
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresSession } from '../../src/main/backend/postgres/postgresSession';
import { actingAs } from './support/operatorActions';
import { buildSigningWorld, password, type SigningWorld } from './support/signingWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('role changes, assignments and deactivation', () => {
  let db: TestDatabase;
  let world: SigningWorld;
  let adminA: pg.Client;
  let adminB: pg.Client;
  let adminBId: string;
  let people = 0;

  const newPerson = async (
    roles: { role: 'monitor' | 'investigator' | 'analyst'; studyId: string | null }[],
  ) => {
    const email = db.email(`person${++people}`);
    const id = await db.provision({ email, printedName: `Pat Person ${people}`, password, roles });
    return { id, email };
  };
  const roles = async (userId: string) =>
    (
      await db.operator.query<{ role: string; study_id: string | null }>(
        'select role::text, study_id from cro.role_assignment where user_id = $1 order by role',
        [userId],
      )
    ).rows;
  const audited = (eventType: string, userId: string) =>
    world.count(`select 1 from audit.audit_log where event_type = $1 and payload->>'user_id' = $2`, [
      eventType,
      userId,
    ]);
  const failure = async (promise: Promise<unknown>) => {
    try {
      await promise;
      return 'succeeded';
    } catch (error) {
      return (error as Error).message;
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildSigningWorld(db);
    adminBId = await db.provision({
      email: db.email('admin-b'),
      printedName: 'Bea Admin',
      password,
      roles: [{ role: 'admin', studyId: null }],
    });
    adminA = await db.connectAs(db.email('admin'), password);
    adminB = await db.connectAs(db.email('admin-b'), password);
  });
  afterAll(async () => {
    await world?.close();
    await db?.drop();
  });

  describe('a role change needs a second administrator [ADMIN-ROLE-CHANGE, CFR-11.10g]', () => {
    it('is a request by one administrator, applied only when another approves it', async () => {
      const person = await newPerson([{ role: 'monitor', studyId: world.studyA }]);
      const { rows } = await adminA.query<{ id: string }>(
        `select public.request_role_change($1, 'grant', 'coordinator', $2, 'covers site monitoring from May') as id`,
        [person.id, world.studyA],
      );
      const requestId = rows[0]?.id as string;
      expect(await roles(person.id)).toEqual([{ role: 'monitor', study_id: world.studyA }]);

      await adminB.query(`select public.decide_role_change($1, true, 'confirmed with the study lead')`, [
        requestId,
      ]);
      expect((await roles(person.id)).map((row) => row.role).sort()).toEqual(['coordinator', 'monitor']);
      const granted = await db.operator.query(
        `select granted_by from cro.role_assignment where user_id = $1 and role = 'coordinator'`,
        [person.id],
      );
      expect(granted.rows[0]?.granted_by).toBe(adminBId);
      expect(await audited('role_change.requested', person.id)).toBe(1);
      expect(await audited('role_change.approved', person.id)).toBe(1);
    });

    it('refuses the requester approving their own request', async () => {
      const person = await newPerson([{ role: 'monitor', studyId: world.studyA }]);
      const { rows } = await adminA.query<{ id: string }>(
        `select public.request_role_change($1, 'revoke', 'monitor', $2, 'left the study') as id`,
        [person.id, world.studyA],
      );
      expect(
        await failure(adminA.query(`select public.decide_role_change($1, true, 'fine')`, [rows[0]?.id])),
      ).toMatch(/another administrator decides your own request/);
      expect(await roles(person.id)).toHaveLength(1);
      // Refused by the other administrator, with a reason: nothing changes, and it is decided.
      await adminB.query(`select public.decide_role_change($1, false, 'still monitoring site 2')`, [
        rows[0]?.id,
      ]);
      expect(await roles(person.id)).toHaveLength(1);
      expect(await audited('role_change.refused', person.id)).toBe(1);
      expect(
        await failure(adminB.query(`select public.decide_role_change($1, true, 'x')`, [rows[0]?.id])),
      ).toMatch(/already decided/);
    });

    it('refuses a decision without a reason, and non-administrators entirely', async () => {
      const person = await newPerson([{ role: 'monitor', studyId: world.studyA }]);
      const { rows } = await adminA.query<{ id: string }>(
        `select public.request_role_change($1, 'grant', 'inspector', null, 'audit support') as id`,
        [person.id],
      );
      expect(
        await failure(adminB.query(`select public.decide_role_change($1, true, '  ')`, [rows[0]?.id])),
      ).toMatch(/needs a reason/);
      const signer = await world.newSigner();
      const signerLogin = await db.connectAs(signer.email, password);
      expect(
        await failure(signerLogin.query(`select public.decide_role_change($1, true, 'me')`, [rows[0]?.id])),
      ).toMatch(/only an administrator/);
      expect(
        await failure(
          signerLogin.query(`select public.request_role_change($1, 'grant', 'admin', null, 'me')`, [
            signer.id,
          ]),
        ),
      ).toMatch(/only an administrator/);
      expect(await failure(signerLogin.query('select * from public.admin_people()'))).toMatch(
        /only an administrator/,
      );
      expect(await failure(signerLogin.query('select * from cs_private.role_change_request'))).toMatch(
        /permission denied/,
      );
      expect(await roles(person.id)).toHaveLength(1);
    });
  });

  describe('granting signer needs an enrolled authenticator [ADMIN-ROLE-CHANGE, CFR-11.300b]', () => {
    it('is refused at the request without TOTP, and at the approval if TOTP went away', async () => {
      const person = await newPerson([{ role: 'monitor', studyId: world.studyA }]);
      expect(
        await failure(
          adminA.query(`select public.request_role_change($1, 'grant', 'signer', $2, 'new signer')`, [
            person.id,
            world.studyA,
          ]),
        ),
      ).toMatch(/needs an enrolled authenticator/);

      await db.operator.query(
        `insert into cs_private.totp_factor (user_id, secret_base32, confirmed_at) values ($1, 'JBSWY3DPEHPK3PXP', now())`,
        [person.id],
      );
      const { rows } = await adminA.query<{ id: string }>(
        `select public.request_role_change($1, 'grant', 'signer', $2, 'new signer') as id`,
        [person.id, world.studyA],
      );
      await adminB.query(`select public.reset_totp($1, 'lost phone')`, [person.id]);
      expect(
        await failure(adminB.query(`select public.decide_role_change($1, true, 'ok')`, [rows[0]?.id])),
      ).toMatch(/needs an enrolled authenticator/);
      expect((await roles(person.id)).map((row) => row.role)).toEqual(['monitor']);
    });
  });

  describe('assignments change only through audited functions [ADMIN-ASSIGNMENTS, CFR-11.10d]', () => {
    beforeAll(async () => {
      await db.operator.query(
        `insert into diary.sites (site_id, site_name, site_number, study_id) values ('AS1', 'Site AS1', '1', $1)`,
        [world.studyA],
      );
    });

    it('refuses direct writes to the assignment tables, even by an administrator', async () => {
      const investigator = await newPerson([{ role: 'investigator', studyId: world.studyA }]);
      expect(
        await failure(
          adminA.query(
            `insert into diary.investigator_site_assignments (investigator_id, site_id) values ($1, 'AS1')`,
            [investigator.id],
          ),
        ),
      ).toMatch(/permission denied/);
      expect(
        await failure(adminA.query(`delete from diary.analyst_site_assignments where site_id = 'AS1'`)),
      ).toMatch(/permission denied/);
    });

    it('assigns and unassigns investigators, analysts and patients with a reason and an audit entry', async () => {
      const investigator = await newPerson([{ role: 'investigator', studyId: world.studyA }]);
      const analyst = await newPerson([{ role: 'analyst', studyId: world.studyA }]);
      const patient = await newPerson([]);
      await adminA.query(`select public.assign_site($1, 'investigator', 'AS1', 'PI of site AS1')`, [
        investigator.id,
      ]);
      await adminA.query(`select public.assign_site($1, 'analyst', 'AS1', 'data review')`, [analyst.id]);
      await adminA.query(`select public.assign_site($1, 'patient', 'AS1', 'consented', 'AS1-001')`, [
        patient.id,
      ]);
      expect(
        await world.count('select 1 from diary.investigator_site_assignments where investigator_id = $1', [
          investigator.id,
        ]),
      ).toBe(1);
      expect(
        await world.count('select 1 from diary.user_site_assignments where patient_id = $1', [patient.id]),
      ).toBe(1);
      expect(await audited('site.assigned', investigator.id)).toBe(1);
      expect(await audited('site.assigned', patient.id)).toBe(1);
      const entry = await db.operator.query(
        `select payload from audit.audit_log where event_type = 'site.assigned' and payload->>'user_id' = $1`,
        [analyst.id],
      );
      expect(entry.rows[0]?.payload).toMatchObject({
        reason: 'data review',
        site_id: 'AS1',
        kind: 'analyst',
      });

      expect(
        await failure(adminA.query(`select public.unassign_site($1, 'analyst', 'AS1', '')`, [analyst.id])),
      ).toMatch(/needs a reason/);
      await adminA.query(`select public.unassign_site($1, 'analyst', 'AS1', 'left the CRO')`, [analyst.id]);
      expect(
        await world.count('select 1 from diary.analyst_site_assignments where analyst_id = $1', [analyst.id]),
      ).toBe(0);
      expect(await audited('site.unassigned', analyst.id)).toBe(1);
    });

    it('refuses assignments by non-administrators', async () => {
      const signer = await world.newSigner();
      const signerLogin = await db.connectAs(signer.email, password);
      expect(
        await failure(
          signerLogin.query(`select public.assign_site($1, 'investigator', 'AS1', 'me')`, [signer.id]),
        ),
      ).toMatch(/only an administrator/);
    });
  });

  describe('deactivation refuses the person at once [ADMIN-DEACTIVATE, CFR-11.300b, CFR-11.10d]', () => {
    it('refuses a new login, ends open sessions, voids pending re-auths, and keeps the history', async () => {
      const signer = await world.newSigner();
      const ceremonyId = randomUUID();
      expect((await signer.backend.reauthenticate(ceremonyId, password, signer.code())).ok).toBe(true);
      const open = await db.connectAs(signer.email, password);
      open.on('error', () => undefined);
      const history = (id: string) =>
        world.count(
          `select 1 from cs_private.reauth_attempt where user_id = $1
           union all select 1 from cro.user_profile where user_id = $1`,
          [id],
        );
      const historyBefore = await history(signer.id);

      await adminA.query(`select public.deactivate_person($1, 'left the company')`, [signer.id]);

      expect(await failure(db.connectAs(signer.email, password))).toMatch(/not permitted to log in/);
      expect(await failure(open.query('select 1'))).not.toBe('succeeded');
      expect(await failure(signer.backend.reauthenticate(randomUUID(), password, signer.code(1)))).not.toBe(
        'succeeded',
      );
      expect(
        await world.count(
          `select 1 from cs_private.reauth_attempt where user_id = $1 and outcome = 'cancelled'`,
          [signer.id],
        ),
      ).toBe(1);
      expect(await history(signer.id)).toBe(historyBefore);
      expect((await roles(signer.id)).map((row) => row.role)).toEqual(['signer']);
      expect(await audited('person.deactivated', signer.id)).toBe(1);
      const listed = await adminB.query('select active from public.admin_people() where user_id = $1', [
        signer.id,
      ]);
      expect(listed.rows[0]?.active).toBe(false);
    });

    it('refuses every function on a session that stays open (hosted gateway, no superuser)', async () => {
      const signer = await world.newSigner();
      await adminA.query(`select public.deactivate_person($1, 'contract ended')`, [signer.id]);
      // As the hosted gateway runs a person: role authenticated, identity from the JWT claims.
      const refused = await failure(
        actingAs(db.operator, signer.id, () =>
          db.operator.query('select public.begin_reauth($1)', [randomUUID()]),
        ),
      );
      expect(refused).toMatch(/this account is deactivated/);
    });

    it('is reactivated only by an approved role change, and then signs in again', async () => {
      const person = await newPerson([{ role: 'monitor', studyId: world.studyA }]);
      await adminA.query(`select public.deactivate_person($1, 'extended leave')`, [person.id]);
      expect(await failure(db.connectAs(person.email, password))).toMatch(/not permitted to log in/);
      const { rows } = await adminA.query<{ id: string }>(
        `select public.request_role_change($1, 'reactivate', null, null, 'back from leave') as id`,
        [person.id],
      );
      expect(await failure(db.connectAs(person.email, password))).toMatch(/not permitted to log in/);
      await adminB.query(`select public.decide_role_change($1, true, 'confirmed by HR')`, [rows[0]?.id]);
      const back = await PostgresSession.signIn(
        { host: db.server.host, port: db.server.port, database: db.name },
        person.email,
        password,
      );
      await back.close();
      expect(await audited('role_change.approved', person.id)).toBe(1);
    });

    it('refuses deactivating oneself, without a reason, or by a non-administrator', async () => {
      expect(
        await failure(adminA.query(`select public.deactivate_person($1, 'tired')`, [world.adminId])),
      ).toMatch(/their own account/);
      const person = await newPerson([{ role: 'monitor', studyId: world.studyA }]);
      expect(await failure(adminA.query(`select public.deactivate_person($1, ' ')`, [person.id]))).toMatch(
        /needs a reason/,
      );
      const monitor = await db.connectAs(person.email, password);
      expect(await failure(monitor.query(`select public.deactivate_person($1, 'x')`, [adminBId]))).toMatch(
        /only an administrator/,
      );
    });
  });
});

// Isolation scenarios behind docs/access-matrix.md, each written out as the attack it prevents:
// another study's proposals, another site's diary, another patient at the same site, another
// sponsor's requests, an agent writing live data or forging a signature, a person reaching the
// private schema. Every write is rolled back.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld, type World } from './support/accessWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

/** Runs `work` in a transaction on `client` and always rolls it back. */
async function rolledBack<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    return await work();
  } finally {
    await client.query('rollback');
  }
}

/** The statement must be refused with a permission error or an RLS violation (SQLSTATE 42501). */
async function expectRefused(client: pg.ClientBase, text: string, values: unknown[] = []) {
  await expect(rolledBack(client, () => client.query(text, values))).rejects.toMatchObject({ code: '42501' });
}

async function count(client: pg.ClientBase, text: string, values: unknown[] = []): Promise<number> {
  return (await client.query(text, values)).rowCount ?? 0;
}

describe('access isolation', () => {
  let db: TestDatabase;
  let world: World;

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildWorld(db);
  });
  afterAll(async () => {
    await world?.teardown();
    await db?.drop();
  });

  describe('cross-study [SEC-IDOR]', () => {
    it("a signer of study A sees none of study B's staging, even by id", async () => {
      const signer = world.clients.signer;
      const byId = 'select id from cro.staging_record where id = $1';
      expect(await count(signer, byId, [world.rows.staging.in])).toBe(1);
      expect(await count(signer, byId, [world.rows.staging.out])).toBe(0);
      const { rows } = await signer.query<{ study_id: string }>(
        'select distinct study_id::text from cro.staging_record',
      );
      expect(rows.map((row) => row.study_id)).toEqual([world.studyA]);
      expect(
        await count(signer, 'select 1 from cro.provenance_event where study_id = $1', [world.studyB]),
      ).toBe(0);
      expect(
        await count(signer, 'select 1 from cro.signature_event where study_id = $1', [world.studyB]),
      ).toBe(0);
    });
  });

  describe('cross-site [SEC-IDOR]', () => {
    it("an investigator of site A1 cannot read site B1's diary records", async () => {
      const investigator = world.clients.investigator;
      const state = 'select 1 from diary.record_state where event_uuid = $1';
      const history = 'select 1 from diary.record_audit where event_uuid = $1';
      expect(await count(investigator, state, [world.records.in.eventUuid])).toBe(1);
      expect(await count(investigator, state, [world.records.out.eventUuid])).toBe(0);
      expect(await count(investigator, history, [world.records.in.eventUuid])).toBe(1);
      expect(await count(investigator, history, [world.records.out.eventUuid])).toBe(0);
      expect(await count(investigator, "select 1 from diary.record_state where site_id = 'B1'")).toBe(0);
    });

    it("an investigator of site A1 cannot annotate site B1's records, nor resolve B1's annotations", async () => {
      const investigator = world.clients.investigator;
      const annotate = `insert into diary.investigator_annotations
          (event_uuid, parent_audit_id, patient_id, investigator_id, site_id, annotation_text)
        values ($1, $2, $3, $4, $5, 'Please check')`;
      const at = (record: World['records']['in'], patientId: string, site: string) => [
        record.eventUuid,
        record.auditId,
        patientId,
        world.people.investigator.id,
        site,
      ];
      // At A1 it works (so the refusal below is about the site, not the statement).
      await rolledBack(investigator, async () => {
        const result = await investigator.query(
          annotate,
          at(world.records.in, world.people.patient.id, 'A1'),
        );
        expect(result.rowCount).toBe(1);
      });
      // Claiming site A1 does not help: the server takes patient and site from the record itself.
      await expectRefused(investigator, annotate, at(world.records.out, world.counterparts.patient.id, 'A1'));
      await expectRefused(investigator, annotate, at(world.records.out, world.counterparts.patient.id, 'B1'));
      await expectRefused(
        investigator,
        'update diary.investigator_annotations set resolved = true where annotation_id = $1',
        [world.rows.annotation.out],
      );
    });

    it('an investigator resolves an annotation at their site only by a request with a reason, and never edits its text', async () => {
      const investigator = world.clients.investigator;
      await rolledBack(investigator, async () => {
        const result = await investigator.query(
          `insert into diary.annotation_resolutions (request_id, annotation_id, event_uuid, site_id, resolved,
             requested_by, reason_code)
           select gen_random_uuid(), annotation_id, event_uuid, site_id, not resolved, auth.uid(), 'answered'
             from diary.investigator_annotations where annotation_id = $1`,
          [world.rows.annotation.in],
        );
        expect(result.rowCount).toBe(1);
      });
      // A plain UPDATE would close a query without a reason (0051 took that path away).
      await expectRefused(
        investigator,
        'update diary.investigator_annotations set resolved = true where annotation_id = $1',
        [world.rows.annotation.in],
      );
      await expectRefused(
        investigator,
        "update diary.investigator_annotations set annotation_text = 'edited' where annotation_id = $1",
        [world.rows.annotation.in],
      );
    });
  });

  describe('same site, another patient [SEC-IDOR]', () => {
    it("a second patient at site A1 cannot read patient P1's records or write to them", async () => {
      const patient2 = await world.connect(world.patient2);
      const p1 = world.people.patient.id;
      expect(await count(patient2, 'select 1 from diary.record_state where patient_id = $1', [p1])).toBe(0);
      expect(await count(patient2, 'select 1 from diary.record_audit where patient_id = $1', [p1])).toBe(0);
      expect(
        await count(patient2, 'select 1 from diary.investigator_annotations where patient_id = $1', [p1]),
      ).toBe(0);
      expect(await count(patient2, 'select 1 from diary.audit_conflicts where patient_id = $1', [p1])).toBe(
        0,
      );
      expect(
        await count(patient2, 'select 1 from diary.user_site_assignments where patient_id = $1', [p1]),
      ).toBe(0);
      // Their own record, at the same site, they do see.
      expect(
        await count(patient2, 'select 1 from diary.record_state where event_uuid = $1', [
          world.records.patient2.eventUuid,
        ]),
      ).toBe(1);
      await expectRefused(
        patient2,
        `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, created_by, role,
           client_timestamp, parent_audit_id, change_reason)
         values ($1, $2, 'A1', 'USER_UPDATE', '{"event_type": "headache", "date": "2026-03-02", "intensity": "severe"}', $3, 'USER', now(), $4, 'edit')`,
        [world.records.in.eventUuid, p1, world.patient2.id, world.records.in.auditId],
      );
      await expectRefused(
        patient2,
        `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, created_by, role,
           client_timestamp, change_reason)
         values ($1, $2, 'A1', 'USER_CREATE', '{"event_type": "nausea", "date": "2026-03-04"}', $3, 'USER', now(), 'new')`,
        [randomUUID(), p1, world.patient2.id],
      );
    });
  });

  describe('sponsor organisations [SEC-IDOR]', () => {
    it("a sponsor who guesses another sponsor's request id gets nothing, and cannot file for them", async () => {
      const sponsor = world.clients.sponsor;
      const byId = 'select * from cro.sponsor_request where id = $1';
      expect(await count(sponsor, byId, [world.rows.sponsorRequest.in])).toBe(1);
      expect(await count(sponsor, byId, [world.rows.sponsorRequest.out])).toBe(0);
      const file = `insert into cro.sponsor_request (sponsor_id, study_id, subject, body, priority, status, created_by)
        values ($1, $2, 'Forecast', 'Please send it', 'normal', 'open', $3)`;
      await rolledBack(sponsor, async () => {
        const result = await sponsor.query(file, ['S1', world.studyA, world.people.sponsor.id]);
        expect(result.rowCount).toBe(1);
      });
      await expectRefused(sponsor, file, ['S2', world.studyA, world.people.sponsor.id]);
      await expectRefused(sponsor, file, ['S2', null, world.people.sponsor.id]);
      await expectRefused(sponsor, file, ['S2', world.studyB, world.people.sponsor.id]);
    });
  });

  describe('the agent [SEC-AGENT-STAGING]', () => {
    it('cannot write a live table', async () => {
      const agent = world.clients.agent;
      await expectRefused(
        agent,
        "insert into cro.study_kpi (study_id, label, position, created_by) values ($1, 'Injected', 1, $2)",
        [world.studyA, world.people.agent.id],
      );
      await expectRefused(agent, "update cro.study set health = 'red' where id = $1", [world.studyA]);
      await expectRefused(agent, "update cro.study_kpi set value = '0' where id = $1", [world.rows.kpi.in]);
      const { rows } = await db.operator.query('select health from cro.study where id = $1', [world.studyA]);
      expect(rows[0]?.health).toBe('green');
    });

    it('cannot update or delete a staging record, not even its own', async () => {
      const agent = world.clients.agent;
      const own = world.rows.staging.in;
      await expectRefused(agent, "update cro.staging_record set state = 'reviewing' where id = $1", [own]);
      await expectRefused(
        agent,
        `update cro.staging_record set proposed_state = '{"label": "x", "position": 1}' where id = $1`,
        [own],
      );
      await expectRefused(agent, 'delete from cro.staging_record where id = $1', [own]);
      const { rows } = await db.operator.query('select state from cro.staging_record where id = $1', [own]);
      expect(rows[0]?.state).toBe('proposed');
    });

    it('cannot forge a signature', async () => {
      const agent = world.clients.agent;
      const forge = `insert into cro.signature_event (user_id, user_display_name, intent, subject_kind, subject_id,
          re_auth_at, meaning_of_signature, signed_at, created_by, study_id, content_hash)
        values ($1, 'signer', 'approve', 'staging_record', $2, now(), 'I approve', now(), $1, $3, $4)`;
      for (const userId of [world.people.signer.id, world.people.agent.id]) {
        await expectRefused(agent, forge, [userId, world.rows.staging.in, world.studyA, 'f'.repeat(64)]);
      }
      const { rows } = await db.operator.query(
        "select count(*)::int as n from cro.signature_event where subject_id = $1 and intent = 'approve'",
        [world.rows.staging.in],
      );
      expect(rows[0]?.n).toBe(1);
    });
  });

  describe('the private schema [CFR-11.10d]', () => {
    it('a person cannot call cs_private.audit_append', async () => {
      for (const role of ['admin', 'inspector', 'agent', 'patient'] as const) {
        await expectRefused(
          world.clients[role],
          "select cs_private.audit_append('forged.event', '{}'::jsonb)",
        );
      }
    });

    it('a person cannot read cs_private.totp_factor, not even their own secret', async () => {
      for (const role of ['signer', 'admin', 'inspector'] as const) {
        await expectRefused(
          world.clients[role],
          'select secret_base32 from cs_private.totp_factor where user_id = $1',
          [world.people[role].id],
        );
      }
    });

    it('a person cannot become someone else by setting request.jwt.claims', async () => {
      const signer = world.clients.signer;
      await rolledBack(signer, async () => {
        await signer.query("select set_config('request.jwt.claims', $1, true)", [
          JSON.stringify({ sub: world.people.admin.id }),
        ]);
        expect(await count(signer, 'select 1 from cro.app_log')).toBe(0);
        expect(
          await count(signer, 'select 1 from cro.staging_record where study_id = $1', [world.studyB]),
        ).toBe(0);
      });
    });
  });
});

// Regulated history is append-only for every role, the table owner included: refused by triggers,
// not only by missing grants. These run on the owner's connection, which no grant restrains.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actingAs, createStudy, propose, recordSignature } from './support/operatorActions';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('append-only regulated history [CFR-11.10c, CFR-11.10e]', () => {
  let db: TestDatabase;
  let signerId: string;
  let patientId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const ownerId = await db.provision({
      email: db.email('owner'),
      printedName: 'Owner',
      password: 'owner-pass-1234',
      roles: [],
    });
    const studyId = await createStudy(db.operator, ownerId, `AO-${db.tag}`);
    const agentId = await db.provision({
      email: db.email('agent'),
      printedName: 'Agent',
      password: 'agent-pass-1234',
      roles: [{ role: 'agent', studyId }],
    });
    signerId = await db.provision({
      email: db.email('signer'),
      printedName: 'Signer',
      password: 'signer-pass-1234',
      roles: [{ role: 'signer', studyId }],
    });
    patientId = await db.provision({
      email: db.email('patient'),
      printedName: 'Patient',
      password: 'patient-pass-1234',
      roles: [],
    });
    const stagingId = await propose(db.operator, agentId, {
      entityKind: 'study_kpi',
      entityId: null,
      studyId,
      proposedState: { label: 'x', position: 1 },
    });
    await recordSignature(db.operator, signerId, stagingId, 'approve');
    await actingAs(db.operator, agentId, () =>
      db.operator.query(
        `insert into cro.provenance_event (study_id, actor_kind, actor_id, action, subject_kind, subject_id,
           retrieved_context, payload) values ($1, 'agent', 'agent:test', 'propose', 'staging_record', $2, '[]', '{}')`,
        [studyId, stagingId],
      ),
    );
    await db.operator.query(
      `insert into diary.sites (site_id, site_name, site_number, study_id) values ('AO1', 'Site', '001', $1)`,
      [studyId],
    );
    await db.operator.query(
      `insert into diary.user_site_assignments (patient_id, site_id, subject_code) values ($1, 'AO1', 'AO-001')`,
      [patientId],
    );
    await actingAs(db.operator, patientId, () =>
      db.operator.query(
        `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp, change_reason)
         values (gen_random_uuid(), $1, 'AO1', 'USER_CREATE', '{"event_type":"epistaxis","date":"2026-02-10"}', now(), 'initial entry')`,
        [patientId],
      ),
    );
  });
  afterAll(async () => {
    await db.drop();
  });

  const tables: Array<[string, string]> = [
    ['cro.provenance_event', `payload = '{"tampered":true}'`],
    ['cro.signature_event', `meaning_of_signature = 'I did not sign this'`],
    ['audit.audit_log', `payload = '{"tampered":true}'`],
    ['diary.record_audit', `change_reason = 'rewritten'`],
  ];

  it.each(tables)('%s refuses UPDATE by the owner', async (table, assignment) => {
    const before = await db.operator.query(`select count(*) from ${table}`);
    expect(Number(before.rows[0].count)).toBeGreaterThan(0);
    await expect(db.operator.query(`update ${table} set ${assignment}`)).rejects.toMatchObject({
      code: 'CS403',
      message: expect.stringMatching(/append-only/),
    });
  });

  it.each(tables)('%s refuses DELETE and TRUNCATE by the owner', async (table) => {
    const before = Number((await db.operator.query(`select count(*) from ${table}`)).rows[0].count);
    await expect(db.operator.query(`delete from ${table}`)).rejects.toMatchObject({ code: 'CS403' });
    await expect(db.operator.query(`truncate ${table} cascade`)).rejects.toMatchObject({ code: 'CS403' });
    expect(Number((await db.operator.query(`select count(*) from ${table}`)).rows[0].count)).toBe(before);
  });

  it('a signer cannot update or delete their own signature either', async () => {
    const signer = await db.connectAs(db.email('signer'), 'signer-pass-1234');
    const update = await signer
      .query(`update cro.signature_event set meaning_of_signature = 'changed'`)
      .catch((error) => error);
    expect(update).toMatchObject({ code: '42501' }); // no UPDATE privilege at all
    const remove = await signer.query('delete from cro.signature_event').catch((error) => error);
    expect(remove).toMatchObject({ code: '42501' });
    const { rows } = await db.operator.query(
      `select count(*) from cro.signature_event where meaning_of_signature = 'changed'`,
    );
    expect(Number(rows[0].count)).toBe(0);
  });

  it('diary.record_state is written only by the record_audit trigger', async () => {
    await expect(
      db.operator.query(`update diary.record_state set current_data = '{"forged":true}'`),
    ).rejects.toThrow(/derived from diary.record_audit only/);
    await expect(db.operator.query('delete from diary.record_state')).rejects.toMatchObject({
      code: 'CS403',
    });
    await expect(
      db.operator.query(
        `insert into diary.record_state (event_uuid, patient_id, site_id, current_data, version, last_audit_id)
         select gen_random_uuid(), patient_id, site_id, '{}', 1, audit_id from diary.record_audit limit 1`,
      ),
    ).rejects.toMatchObject({ code: 'CS403' });
  });
});

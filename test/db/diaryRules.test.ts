// The diary of seed 003: record_audit is the event store, record_state follows it by trigger, a
// stale parent_audit_id is a conflict that changes nothing, and annotations never touch patient data.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStudy } from './support/operatorActions';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('diary rules [DIARY-EVENTS]', () => {
  let db: TestDatabase;
  let patientId: string;
  let patient: pg.Client;
  let investigator: pg.Client;
  const eventUuid = '7f1d2a9e-4c0b-4b8e-9a51-2f3c4d5e6f70';

  const insertEvent = (
    client: pg.ClientBase,
    operation: string,
    parent: number | null,
    data: object,
    reason: string,
  ) =>
    client.query<{ audit_id: string }>(
      `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp, parent_audit_id, change_reason)
       values ($1, $2, 'DR1', $3, $4, now() - interval '1 minute', $5, $6) returning audit_id`,
      [eventUuid, patientId, operation, JSON.stringify(data), parent, reason],
    );
  /** An entry valid under the study's build (the standard diary form: event type and date required). */
  const entry = (fields: object = {}) => ({ event_type: 'epistaxis', date: '2026-02-10', ...fields });
  const state = async () =>
    (await db.operator.query('select * from diary.record_state where event_uuid = $1', [eventUuid])).rows[0];

  beforeAll(async () => {
    db = await createTestDatabase();
    const ownerId = await db.provision({
      email: db.email('owner'),
      printedName: 'Owner',
      password: 'owner-pass-1234',
      roles: [],
    });
    const studyId = await createStudy(db.operator, ownerId, `DR-${db.tag}`);
    await db.operator.query(
      `insert into diary.sites (site_id, site_name, site_number, study_id) values ('DR1', 'Site', 'DR-001', $1)`,
      [studyId],
    );
    patientId = await db.provision({
      email: db.email('patient'),
      printedName: 'P',
      password: 'patient-pass-1234',
      roles: [{ role: 'patient', studyId }],
    });
    const investigatorId = await db.provision({
      email: db.email('investigator'),
      printedName: 'Dr I',
      password: 'investigator-pass-1',
      roles: [{ role: 'investigator', studyId }],
    });
    await db.operator.query(
      `insert into diary.user_site_assignments (patient_id, site_id, subject_code) values ($1, 'DR1', 'DR-0001')`,
      [patientId],
    );
    await db.operator.query(
      `insert into diary.investigator_site_assignments (investigator_id, site_id) values ($1, 'DR1')`,
      [investigatorId],
    );
    patient = await db.connectAs(db.email('patient'), 'patient-pass-1234');
    investigator = await db.connectAs(db.email('investigator'), 'investigator-pass-1');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('derives record_state from each event and stamps who and when on the server', async () => {
    const created = await insertEvent(
      patient,
      'USER_CREATE',
      null,
      entry({ duration_minutes: 15 }),
      'new entry',
    );
    const first = Number(created.rows[0]?.audit_id);
    expect(await state()).toMatchObject({
      version: 1,
      last_audit_id: String(first),
      current_data: { duration_minutes: 15 },
    });
    const updated = await insertEvent(
      patient,
      'USER_UPDATE',
      first,
      entry({ duration_minutes: 20 }),
      'corrected duration',
    );
    const second = Number(updated.rows[0]?.audit_id);
    expect(await state()).toMatchObject({
      version: 2,
      last_audit_id: String(second),
      current_data: { duration_minutes: 20 },
    });
    const { rows } = await db.operator.query(
      'select created_by, role, server_timestamp > client_timestamp as later from diary.record_audit where audit_id = $1',
      [second],
    );
    expect(rows[0]).toEqual({ created_by: patientId, role: 'USER', later: true });
  });

  it('refuses an update whose parent_audit_id is not the current entry (a sync conflict) and changes nothing', async () => {
    const before = await state();
    const stale = Number(before.last_audit_id) - 1;
    const error = await insertEvent(
      patient,
      'USER_UPDATE',
      stale,
      entry({ duration_minutes: 99 }),
      'from a stale device',
    ).catch((e) => e);
    expect(error).toMatchObject({ code: 'CS409' });
    // Refused with the current state (0059): the entry, its version and its values.
    expect(JSON.parse(error.detail)).toEqual({
      current_audit_id: Number(before.last_audit_id),
      current_version: before.version,
      current_data: before.current_data,
    });
    expect(await state()).toEqual(before);
  });

  it('refuses a second USER_CREATE of the same record, and an update of a record that does not exist', async () => {
    await expect(insertEvent(patient, 'USER_CREATE', null, entry(), 'again')).rejects.toMatchObject({
      code: 'CS409',
    });
    await expect(
      patient.query(
        `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp, parent_audit_id, change_reason)
         values (gen_random_uuid(), $1, 'DR1', 'USER_UPDATE', $2, now(), 1, 'x')`,
        [patientId, JSON.stringify(entry())],
      ),
    ).rejects.toMatchObject({ code: 'CS409' });
  });

  it('requires a change reason', async () => {
    const head = await state();
    await expect(
      insertEvent(patient, 'USER_UPDATE', Number(head.last_audit_id), entry(), '  '),
    ).rejects.toThrow(/change_reason/);
  });

  it('annotations never modify patient data; the server fills whose record and which site', async () => {
    const before = await state();
    const { rows } = await investigator.query(
      `insert into diary.investigator_annotations (event_uuid, patient_id, parent_audit_id, investigator_id, site_id,
         annotation_kind, annotation_text, requires_response)
       values ($1, gen_random_uuid(), $2, gen_random_uuid(), 'DR1', 'query', 'Please confirm the duration.', true)
       returning annotation_id, patient_id, investigator_id`,
      [eventUuid, before.last_audit_id],
    );
    expect(rows[0].patient_id).toBe(patientId);
    expect(await state()).toEqual(before);
    const count = await db.operator.query('select count(*) from diary.record_audit where event_uuid = $1', [
      eventUuid,
    ]);
    expect(Number(count.rows[0].count)).toBe(2);

    // Only the resolution may change (by a request with its reason, 0041/0051), and that is audited;
    // the text itself is never edited.
    await investigator.query(
      `insert into diary.annotation_resolutions (request_id, annotation_id, event_uuid, site_id, resolved,
         requested_by, reason_code)
       values (gen_random_uuid(), $1, $2, '', true, auth.uid(), 'answered')`,
      [rows[0].annotation_id, eventUuid],
    );
    const resolved = await db.operator.query(
      'select resolved, resolved_by from diary.investigator_annotations where annotation_id = $1',
      [rows[0].annotation_id],
    );
    expect(resolved.rows[0]).toMatchObject({ resolved: true });
    await expect(
      investigator.query(
        `update diary.investigator_annotations set annotation_text = 'rewritten' where annotation_id = $1`,
        [rows[0].annotation_id],
      ),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(
      db.operator.query(
        `update diary.investigator_annotations set annotation_text = 'rewritten' where annotation_id = $1`,
        [rows[0].annotation_id],
      ),
    ).rejects.toThrow(/never edited/);
    const audit = await db.operator.query(
      `select event_type from audit.audit_log where payload->>'annotation_id' = $1 order by seq`,
      [rows[0].annotation_id],
    );
    // The close, then its reason (0051), each in the chain.
    expect(audit.rows.map((row) => row.event_type)).toEqual([
      'diary.annotation',
      'diary.annotation_resolved',
      'diary.annotation_resolution_reason',
    ]);
  });

  it("a patient cannot annotate, and cannot write into another patient's record", async () => {
    const head = await state();
    await expect(
      patient.query(
        `insert into diary.investigator_annotations (event_uuid, patient_id, parent_audit_id, investigator_id, site_id, annotation_text)
         values ($1, $2, $3, $2, 'DR1', 'self-annotation')`,
        [eventUuid, patientId, head.last_audit_id],
      ),
    ).rejects.toMatchObject({ code: '42501' });
  });

  it("appends each diary event to the audit chain with hashes, not the patient's words", async () => {
    const { rows } = await db.operator.query(
      `select payload from audit.audit_log where event_type = 'diary.event' and payload->>'event_uuid' = $1 order by seq`,
      [eventUuid],
    );
    expect(rows).toHaveLength(2);
    expect(rows[0].payload).toHaveProperty('data_sha256');
    expect(JSON.stringify(rows)).not.toMatch(/corrected duration|duration_minutes/);
  });
});

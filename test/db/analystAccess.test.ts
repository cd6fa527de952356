// The analyst of seed 003 (issue 22, migration 0059): "read-only access to de-identified data at
// assigned site(s)", "cannot see PII beyond patient study ID". Every rule is tried as the person's own
// login: the analyst reads no raw diary row (nor the tables around it) and reads
// diary.deidentified_entry only at their sites, with free text gone and dates as study days.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStudy } from './support/operatorActions';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const note = 'ZEBRA-NOTE-7731 patient wrote this at home';
const enrolledOn = '2026-02-01';
const entryDay1 = '6b0f3a1e-0c55-4c2e-8a11-5a1c0d9e0001';
const entryDayBefore = '6b0f3a1e-0c55-4c2e-8a11-5a1c0d9e0002';
const paperEntry = '6b0f3a1e-0c55-4c2e-8a11-5a1c0d9e0003';
const otherSiteEntry = '6b0f3a1e-0c55-4c2e-8a11-5a1c0d9e0004';

describe('the analyst reads de-identified diary data only', () => {
  let db: TestDatabase;
  let patientId: string;
  let otherPatientId: string;
  let adminId: string;
  let investigatorId: string;
  const logins: Record<string, pg.Client> = {};
  const password = (who: string) => `${who}-pass-analyst-1234`;

  const rows = async (client: pg.ClientBase, sql: string, values: unknown[] = []) =>
    (await client.query(sql, values)).rows;
  const count = async (client: pg.ClientBase, sql: string) => (await rows(client, sql)).length;

  /** A patient's own diary write, as their login. */
  const patientWrites = async (
    client: pg.ClientBase,
    patient: string,
    eventUuid: string,
    data: object,
    operation = 'USER_CREATE',
    parent: number | null = null,
  ) =>
    (
      await client.query<{ audit_id: string }>(
        `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp,
                                         parent_audit_id, change_reason)
         select $1, $2, u.site_id, $3, $4, now() - interval '1 minute', $5, 'entry'
           from diary.user_site_assignments u where u.patient_id = $2
         returning audit_id`,
        [eventUuid, patient, operation, JSON.stringify(data), parent],
      )
    ).rows[0]?.audit_id;

  const head = async (eventUuid: string) =>
    Number(
      (
        await rows(db.operator, 'select last_audit_id from diary.record_state where event_uuid = $1', [
          eventUuid,
        ])
      )[0]?.last_audit_id,
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    const ownerId = await db.provision({
      email: db.email('owner'),
      printedName: 'Owner',
      password: password('owner'),
      roles: [],
    });
    const studyId = await createStudy(db.operator, ownerId, `AN-${db.tag}`);
    await db.operator.query(
      `insert into diary.sites (site_id, site_name, site_number, study_id)
       values ('AN1', 'Analysed site', 'AN-001', $1), ('AN2', 'Other site', 'AN-002', $1)`,
      [studyId],
    );
    const person = async (who: string, role: string, printedName: string) => {
      const id = await db.provision({
        email: db.email(who),
        printedName,
        password: password(who),
        roles: role === 'anon' ? [] : [{ role: role as 'analyst', studyId }],
      });
      return id;
    };
    patientId = await person('patient', 'patient', 'Penelope Quartermaine');
    otherPatientId = await person('patient2', 'patient', 'Oswin Farthingale');
    const analystId = await person('analyst', 'analyst', 'Ana Lyst');
    const otherAnalystId = await person('analyst2', 'analyst', 'Ana Other');
    investigatorId = await person('investigator', 'investigator', 'Dr Ivo');
    // An inspector reads every site of their study (0010): AN1 included.
    await person('inspector', 'inspector', 'Ines Pector');
    await person('nobody', 'anon', 'No Role');
    adminId = await db.provision({
      email: db.email('admin'),
      printedName: 'Admin',
      password: password('admin'),
      roles: [{ role: 'admin', studyId: null }],
    });
    await db.operator.query(
      `insert into diary.user_site_assignments (patient_id, site_id, subject_code, enrolled_at)
       values ($1, 'AN1', 'AN1-0001', $3::date + time '09:30'), ($2, 'AN2', 'AN2-0001', now())`,
      [patientId, otherPatientId, enrolledOn],
    );
    await db.operator.query(
      `insert into diary.analyst_site_assignments (analyst_id, site_id) values ($1, 'AN1'), ($2, 'AN2')`,
      [analystId, otherAnalystId],
    );
    await db.operator.query(
      `insert into diary.investigator_site_assignments (investigator_id, site_id) values ($1, 'AN1')`,
      [investigatorId],
    );
    for (const who of [
      'patient',
      'patient2',
      'analyst',
      'analyst2',
      'investigator',
      'inspector',
      'nobody',
      'admin',
    ]) {
      logins[who] = await db.connectAs(db.email(who), password(who));
    }
    const patient = logins.patient as pg.Client;

    // The patient's own entries: on the enrolment date (study day 1) and the day before (day -1).
    await patientWrites(patient, patientId, entryDay1, {
      event_type: 'epistaxis',
      date: enrolledOn,
      time: '08:15',
      duration_minutes: 12,
      intensity: 'moderate',
      side: 'left',
      notes: note,
    });
    await patientWrites(patient, patientId, entryDayBefore, {
      event_type: 'epistaxis',
      date: '2026-01-31',
      notes: note,
    });
    // The other site's patient writes through the batch function (an event request is kept).
    const submitted = await (logins.patient2 as pg.Client).query<{ result: { status: string } }>(
      'select public.submit_diary_events($1) as result',
      [
        JSON.stringify([
          {
            client_request_id: '0d1c2b3a-4f5e-4a6b-8c7d-000000000003',
            event_uuid: otherSiteEntry,
            patient_id: otherPatientId,
            operation: 'USER_CREATE',
            data: { event_type: 'fatigue', date: '2026-03-01', notes: note },
            parent_audit_id: null,
            change_reason: 'New diary entry',
            client_timestamp: new Date().toISOString(),
          },
        ]),
      ],
    );
    expect(submitted.rows[0]?.result.status).toBe('applied');
    // Around them, a row in every table the analyst must not read: an annotation, a conflict
    // (a stale write, kept although refused), a correction review.
    await db.operator.query(
      `insert into diary.investigator_annotations (event_uuid, patient_id, parent_audit_id, investigator_id, site_id,
                                                   annotation_text)
       select s.event_uuid, s.patient_id, s.last_audit_id, $2, s.site_id, $3
         from diary.record_state s where s.event_uuid = $1`,
      [entryDay1, investigatorId, `annotation ${note}`],
    );
    const stale = await patient.query<{ result: { status: string } }>(
      'select public.submit_diary_events($1) as result',
      [
        JSON.stringify([
          {
            client_request_id: '0d1c2b3a-4f5e-4a6b-8c7d-000000000001',
            event_uuid: entryDay1,
            patient_id: patientId,
            operation: 'USER_UPDATE',
            data: { event_type: 'epistaxis', date: enrolledOn, notes: note },
            parent_audit_id: 999999,
            change_reason: 'from an old phone',
            client_timestamp: new Date().toISOString(),
          },
        ]),
      ],
    );
    expect(stale.rows[0]?.result.status).toBe('conflict');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('reads no raw diary row, nor enrolments, annotations, conflicts, reviews, requests or the audit log [ANALYST-NO-RAW]', async () => {
    // A correction review and an event request exist too (written as the server's functions would).
    await db.operator.query(`select set_config('countersign.server_write', 'correction_review', false)`);
    await db.operator.query(
      `insert into diary.correction_review (audit_id, event_uuid, patient_id, site_id, corrected_by, corrected_at,
                                            justification, changed_fields)
       select s.last_audit_id, s.event_uuid, s.patient_id, s.site_id, $2, now(), $3, '{notes}'
         from diary.record_state s where s.event_uuid = $1`,
      [entryDayBefore, adminId, `justified ${note}`],
    );
    await db.operator.query(`select set_config('countersign.server_write', '', false)`);
    const raw = [
      'diary.record_state',
      'diary.record_audit',
      'diary.investigator_annotations',
      'diary.user_site_assignments',
      'diary.audit_conflicts',
      'diary.correction_review',
      'diary.event_request',
      'audit.audit_log',
    ];
    const analyst = logins.analyst as pg.Client;
    for (const table of raw) {
      expect(await count(db.operator, `select 1 from ${table}`), `${table} has rows`).toBeGreaterThan(0);
      const seen = await analyst
        .query(`select 1 from ${table}`)
        .then((result) => result.rows.length)
        .catch((error: { code?: string }) => error.code);
      // Either no privilege at all or no row through RLS: never a row.
      expect([0, '42501'], `${table} as the analyst`).toContain(seen);
    }
  });

  it('reads the de-identified entries of their own sites only, and nobody else reads them [ANALYST-DEIDENTIFIED]', async () => {
    const mine = await rows(
      logins.analyst as pg.Client,
      'select subject_code, site_id from diary.deidentified_entry',
    );
    expect(mine).toHaveLength(2);
    expect(new Set(mine.map((row) => `${row.site_id}/${row.subject_code}`))).toEqual(
      new Set(['AN1/AN1-0001']),
    );
    const theirs = await rows(
      logins.analyst2 as pg.Client,
      'select subject_code, site_id from diary.deidentified_entry',
    );
    expect(theirs).toEqual([{ subject_code: 'AN2-0001', site_id: 'AN2' }]);
    // Patients, investigators, inspectors, admins (they read the raw rows their policies allow) and
    // a person with no role read nothing through it: it is the analyst's projection.
    for (const who of ['patient', 'patient2', 'investigator', 'inspector', 'admin', 'nobody']) {
      expect(await count(logins[who] as pg.Client, 'select 1 from diary.deidentified_entry'), who).toBe(0);
    }
    // anon (the gateway's unauthenticated role) has no privilege on it.
    const anon = await db.operator
      .query(`select has_table_privilege('anon', 'diary.deidentified_entry', 'select') as can`)
      .catch(() => ({ rows: [{ can: false }] }));
    expect(anon.rows[0]?.can).toBe(false);
  });

  it('holds no free text, names, emails, patient ids or calendar dates; dates are study days [ANALYST-DEIDENTIFIED]', async () => {
    const analyst = logins.analyst as pg.Client;
    const all = await rows(analyst, 'select to_jsonb(d)::text as row from diary.deidentified_entry d');
    const text = all.map((row) => row.row as string).join('\n');
    for (const forbidden of [
      'ZEBRA-NOTE-7731',
      'Penelope',
      'Quartermaine',
      db.email('patient'),
      patientId,
      '2026-02-01',
      '2026-01-31',
    ]) {
      expect(text, forbidden).not.toContain(forbidden);
    }
    const columns = await rows(
      analyst,
      `select column_name from information_schema.columns where table_schema = 'diary' and table_name = 'deidentified_entry' order by ordinal_position`,
    );
    expect(columns.map((c) => c.column_name)).toEqual([
      'entry_id',
      'subject_code',
      'site_id',
      'build_id',
      'version',
      'is_deleted',
      'data',
      'origin',
      'corrected',
      'sync_xid',
    ]);
    const byEntry = new Map(
      (await rows(analyst, 'select entry_id, data, origin, corrected from diary.deidentified_entry')).map(
        (row) => [row.entry_id as string, row],
      ),
    );
    expect(byEntry.get(entryDay1)?.data).toEqual({
      event_type: 'epistaxis',
      date_study_day: 1,
      time: '08:15',
      duration_minutes: 12,
      intensity: 'moderate',
      side: 'left',
    });
    // The day before enrolment is -1: there is no day 0 (CDISC --DY).
    expect(byEntry.get(entryDayBefore)?.data).toEqual({ event_type: 'epistaxis', date_study_day: -1 });
    expect(byEntry.get(entryDay1)).toMatchObject({ origin: 'patient', corrected: false });
  });

  it('shows a later transcription as paper and a later correction as corrected [ANALYST-DEIDENTIFIED]', async () => {
    const analyst = logins.analyst as pg.Client;
    const transcribed = await (logins.investigator as pg.Client).query<{ result: { status: string } }>(
      'select public.submit_diary_events($1) as result',
      [
        JSON.stringify([
          {
            client_request_id: '0d1c2b3a-4f5e-4a6b-8c7d-000000000002',
            event_uuid: paperEntry,
            patient_id: patientId,
            operation: 'INVESTIGATOR_TRANSCRIPTION',
            data: { event_type: 'epistaxis', date: '2026-02-10', duration_minutes: 5, notes: note },
            parent_audit_id: null,
            change_reason: 'Transcribed from the paper diary',
            client_timestamp: new Date().toISOString(),
            source_reference: { page_id: 'PAPER-7', entry_date: '2026-02-10' },
          },
        ]),
      ],
    );
    expect(transcribed.rows[0]?.result.status).toBe('applied');
    // An administrator's correction (the event the correction function writes; its
    // re-authentication is H3's to test).
    await db.operator.query(
      `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, created_by, role,
                                       client_timestamp, parent_audit_id, change_reason)
       values ($1, $2, 'AN1', 'ADMIN_CORRECTION', $3, $4, 'ADMIN', now(), $5, 'Wrong duration on the device')`,
      [
        entryDay1,
        patientId,
        JSON.stringify({ event_type: 'epistaxis', date: enrolledOn, duration_minutes: 21, notes: note }),
        adminId,
        await head(entryDay1),
      ],
    );
    const byEntry = new Map(
      (
        await rows(analyst, 'select entry_id, data, origin, corrected, version from diary.deidentified_entry')
      ).map((row) => [row.entry_id as string, row]),
    );
    expect(byEntry.get(paperEntry)).toMatchObject({
      origin: 'paper',
      corrected: false,
      data: { event_type: 'epistaxis', date_study_day: 10, duration_minutes: 5 },
    });
    expect(byEntry.get(entryDay1)).toMatchObject({
      origin: 'patient',
      corrected: true,
      version: 2,
      data: { event_type: 'epistaxis', date_study_day: 1, duration_minutes: 21 },
    });
    expect(byEntry.get(entryDayBefore)).toMatchObject({ corrected: false });
  });

  it('learns nothing more by calling the view helpers directly [ANALYST-DEIDENTIFIED]', async () => {
    // The view's caller must be able to execute its functions (PostgreSQL checks them as the invoker),
    // so the three it calls are granted, and each is harmless called alone: the projection reshapes
    // only the values it is handed; origin and correction answer only at the caller's analyst sites.
    const analyst = logins.analyst as pg.Client;
    const buildId = (
      await rows(db.operator, 'select build_id from diary.record_state where event_uuid = $1', [entryDay1])
    )[0]?.build_id;
    const reshaped = await rows(
      analyst,
      `select cs_private.deidentified_diary_data($1::uuid, $2::jsonb, date '2026-02-01') as data`,
      [buildId, JSON.stringify({ event_type: 'nausea', date: '2026-02-03', notes: note })],
    );
    expect(reshaped[0]?.data).toEqual({ event_type: 'nausea', date_study_day: 3 });
    const provenance = (client: pg.ClientBase, entry: string) =>
      rows(
        client,
        'select cs_private.diary_entry_origin($1) as origin, cs_private.diary_entry_corrected($1) as corrected',
        [entry],
      ).then((found) => found[0]);
    expect(await provenance(analyst, entryDay1)).toEqual({ origin: 'patient', corrected: true });
    // Another site's entry, or any entry for someone who is not its analyst: nothing.
    expect(await provenance(analyst, otherSiteEntry)).toEqual({ origin: null, corrected: false });
    expect(await provenance(logins.investigator as pg.Client, entryDay1)).toEqual({
      origin: null,
      corrected: false,
    });
    // study_day is the projection's own, and anon executes none of them.
    const error = await analyst
      .query('select cs_private.study_day(current_date, current_date)')
      .catch((caught) => caught);
    expect(error).toMatchObject({ code: '42501' });
    for (const helper of [
      'cs_private.deidentified_diary_data(uuid, jsonb, date)',
      'cs_private.diary_entry_origin(uuid)',
      'cs_private.diary_entry_corrected(uuid)',
    ]) {
      const anon = await db.operator
        .query(`select has_function_privilege('anon', $1, 'execute') as can`, [helper])
        .catch(() => ({ rows: [{ can: false }] }));
      expect(anon.rows[0]?.can, helper).toBe(false);
    }
  });
});

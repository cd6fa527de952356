// Every value carries the protocol build it was written under, set by the server (migration 0054):
// no data without a completed build, the build stamped on diary events, their state, annotations,
// proposals and provenance whatever the client sends, and a diary entry or a proposal checked against
// its build's form, field by field. Each write is made through the person's own login.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld, operatorTransaction, type Person, type World } from './support/accessWorld';
import {
  type BuildConfiguration,
  type BuildForm,
  buildIn,
  outcomeOf,
  runStudyBuild,
  setBuildStatus,
  standardConfiguration,
  withDiaryForm,
} from './support/buildActions';
import { createTestDatabase, type TestDatabase } from './support/testServer';

interface DiaryEvent {
  eventUuid?: string;
  patient: Person;
  site: string;
  operation?: 'USER_CREATE' | 'USER_UPDATE' | 'USER_DELETE';
  data: unknown;
  parent?: string | null;
  buildId?: string;
}

describe('protocol build of every value', () => {
  let db: TestDatabase;
  let world: World;
  let standard: BuildConfiguration;
  /** Study B's amendment: a decimal, a boolean and a datetime field, a tighter duration, no KPI value. */
  let amendment: BuildConfiguration;
  const patientB = () => world.counterparts.patient;
  let clientB: Record<'patient' | 'investigator' | 'agent', pg.Client>;

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildWorld(db);
    standard = await standardConfiguration(db.operator);
    amendment = {
      forms: withDiaryForm(standard, (form) => ({
        ...form,
        fields: [
          ...form.fields.map((field) => (field.code === 'duration_minutes' ? { ...field, max: 240 } : field)),
          { code: 'temperature_c', label: 'Temperature (°C)', type: 'decimal', min: 35, max: 42.5 },
          { code: 'rescue_medication', label: 'Rescue medication taken', type: 'boolean' },
          { code: 'onset_at', label: 'Onset', type: 'datetime' },
        ],
      })).forms.map((form: BuildForm) =>
        form.code === 'study_kpi' ? { ...form, fields: form.fields.filter((f) => f.code !== 'value') } : form,
      ),
    };
    clientB = {
      patient: await world.connect(world.counterparts.patient),
      investigator: await world.connect(world.counterparts.investigator),
      agent: await world.connect(world.counterparts.agent),
    };
  });
  afterAll(async () => {
    await Promise.all(Object.values(clientB ?? {}).map((client) => client.end().catch(() => undefined)));
    await world?.teardown();
    await db?.drop();
  });

  const clientOf = (person: Person) =>
    person === world.people.patient ? world.clients.patient : clientB.patient;

  /** A diary event through the patient's own login (optionally with a build_id of the client's choosing). */
  async function diaryEvent(event: DiaryEvent) {
    const client = clientOf(event.patient);
    const { rows } = await client.query<{ audit_id: string; event_uuid: string; build_id: string }>(
      `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp,
         parent_audit_id, change_reason${event.buildId ? ', build_id' : ''})
       values ($1, $2, $3, $4, $5, now(), $6, 'diary entry'${event.buildId ? ', $7' : ''})
       returning audit_id::text, event_uuid::text, build_id::text`,
      [
        event.eventUuid ?? randomUUID(),
        event.patient.id,
        event.site,
        event.operation ?? 'USER_CREATE',
        JSON.stringify(event.data),
        event.parent ?? null,
        ...(event.buildId ? [event.buildId] : []),
      ],
    );
    return rows[0] as { audit_id: string; event_uuid: string; build_id: string };
  }

  const currentBuild = async (study: string) =>
    (await db.operator.query<{ id: string }>('select cs_private.current_build($1)::text as id', [study]))
      .rows[0]?.id as string;

  const entryA = (fields: Record<string, unknown> = {}) => ({
    event_type: 'nausea',
    date: '2026-04-01',
    ...fields,
  });

  describe('a study with no completed build accepts no data [BUILD-REQUIRED]', () => {
    it('refuses a diary event, an annotation and a proposal, and accepts them once its INITIAL build completes', async () => {
      const op = db.operator;
      // A site of study A with a record, which then moves to a study that has no build yet (data
      // captured before builds existed, as the migration found it).
      const studyC = await operatorTransaction(
        op,
        { sub: world.people.admin.id, bootstrap: true },
        async () => {
          const { rows } = await op.query<{ id: string }>(
            `insert into cro.study (code, sponsor, phase, therapeutic_area, indication, status, health, executive_summary,
             goals, start_date, planned_end_date, current_forecast_end_date, contracted_budget, ebv_spent, eac_budget,
             currency, created_by)
           values ('STUDY-C', 'S1', 'II', 'Haematology', 'HHT', 'planned', 'green', 'No build yet', '[]', '2026-01-01',
                   '2027-01-01', '2027-01-01', 1, 0, 1, 'EUR', $1) returning id`,
            [world.people.admin.id],
          );
          return rows[0]?.id as string;
        },
      );
      await op.query(
        `insert into diary.sites (site_id, site_name, site_number, study_id) values ('C1', 'Site C1', '301', $1)`,
        [world.studyA],
      );
      const password = 'correct horse battery staple';
      const patientC: Person = {
        id: await db.provision({
          email: db.email('patient-c'),
          printedName: 'Patient C',
          password,
          roles: [{ role: 'patient', studyId: studyC }],
        }),
        email: db.email('patient-c'),
        role: 'patient',
        assignmentId: '',
      };
      await db.provision({
        email: db.email('agent-c'),
        printedName: 'Agent C',
        password,
        roles: [{ role: 'agent', studyId: studyC }],
        agentId: 'agent-C',
      });
      await op.query(
        `insert into diary.user_site_assignments (patient_id, site_id, subject_code) values ($1, 'C1', 'C1-001')`,
        [patientC.id],
      );
      await op.query(
        `insert into diary.investigator_site_assignments (investigator_id, site_id, access_level) values ($1, 'C1', 'full')`,
        [world.people.investigator.id],
      );
      const patient = await db.connectAs(patientC.email, password);
      const agent = await db.connectAs(db.email('agent-c'), password);
      const insertEntry = (operation: string, eventUuid: string, parent: string | null) =>
        outcomeOf(
          patient,
          `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp,
             parent_audit_id, change_reason)
           values ($1, $2, 'C1', $3, $4, now(), $5, 'entry')`,
          [eventUuid, patientC.id, operation, JSON.stringify(entryA()), parent],
        );
      const record = randomUUID();
      expect(await insertEntry('USER_CREATE', record, null)).toEqual({ rows: 1 });
      const { rows: heads } = await op.query<{ last: string }>(
        'select last_audit_id::text as last from diary.record_state where event_uuid = $1',
        [record],
      );
      const head = heads[0]?.last as string;
      await op.query(`update diary.sites set study_id = $1 where site_id = 'C1'`, [studyC]);

      const annotate = () =>
        outcomeOf(
          world.clients.investigator,
          `insert into diary.investigator_annotations (event_uuid, patient_id, parent_audit_id, investigator_id, site_id,
             annotation_kind, annotation_text)
           values ($1, $2, $3, $4, 'C1', 'note', 'Reviewed.')`,
          [record, patientC.id, head, world.people.investigator.id],
        );
      const proposeKpi = () =>
        outcomeOf(
          agent,
          `insert into cro.staging_record (entity_kind, study_id, agent_id, proposed_state, created_by)
           values ('study_kpi', $1, 'agent-C', '{"label": "Enrolment", "position": 1}', auth.uid())`,
          [studyC],
        );
      const noBuild = {
        code: 'CS422',
        message: `study ${studyC} has no completed protocol build: no data can be entered yet`,
      };
      expect(await insertEntry('USER_CREATE', randomUUID(), null)).toMatchObject(noBuild);
      expect(await insertEntry('USER_UPDATE', record, head)).toMatchObject(noBuild);
      expect(await annotate()).toMatchObject(noBuild);
      expect(await proposeKpi()).toMatchObject(noBuild);
      // A DRAFT, an IN_PROGRESS or a FAILED build is not enough.
      const draft = await buildIn(world.clients.admin, 'FAILED', {
        study: studyC,
        number: 'B1',
        type: 'INITIAL',
        configuration: standard,
      });
      expect(await proposeKpi()).toMatchObject(noBuild);
      const written = async () =>
        (
          await op.query<{ n: number }>(
            `select (select count(*) from diary.record_audit where site_id = 'C1')
                  + (select count(*) from diary.investigator_annotations where site_id = 'C1')
                  + (select count(*) from cro.staging_record where study_id = $1) as n`,
            [studyC],
          )
        ).rows[0]?.n;
      expect(Number(await written())).toBe(1);

      await setBuildStatus(world.clients.admin, draft.id, 'IN_PROGRESS');
      await runStudyBuild(world.clients.admin, draft.id);
      expect(await insertEntry('USER_UPDATE', record, head)).toEqual({ rows: 1 });
      const { rows: newHead } = await op.query<{ last: string }>(
        'select last_audit_id::text as last from diary.record_state where event_uuid = $1',
        [record],
      );
      expect(
        await outcomeOf(
          world.clients.investigator,
          `insert into diary.investigator_annotations (event_uuid, patient_id, parent_audit_id, investigator_id, site_id,
             annotation_kind, annotation_text)
           values ($1, $2, $3, $4, 'C1', 'note', 'Reviewed.')`,
          [record, patientC.id, newHead[0]?.last, world.people.investigator.id],
        ),
      ).toEqual({ rows: 1 });
      expect(await proposeKpi()).toEqual({ rows: 1 });
      const { rows: builds } = await op.query<{ build_id: string }>(
        `select build_id::text from diary.record_audit where event_uuid = $1 and parent_audit_id is not null
         union all select build_id::text from diary.investigator_annotations where event_uuid = $1
         union all select build_id::text from cro.staging_record where study_id = $2`,
        [record, studyC],
      );
      expect(builds.map((row) => row.build_id)).toEqual([draft.id, draft.id, draft.id]);
      await patient.end();
      await agent.end();
    });
  });

  describe('the server stamps the build; a client cannot forge it [BUILD-STAMPED]', () => {
    it("stamps a diary event, its state and its audit entry with the study's current build, whatever the client sends", async () => {
      const buildA = await currentBuild(world.studyA);
      const event = await diaryEvent({
        patient: world.people.patient,
        site: 'A1',
        data: entryA(),
        buildId: world.initialBuild.out, // another study's build
      });
      expect(event.build_id).toBe(buildA);
      const { rows } = await db.operator.query(
        `select s.build_id::text as state_build,
                (select a.payload ->> 'build_id' from audit.audit_log a
                  where a.event_type = 'diary.event' and a.payload ->> 'audit_id' = $2) as audit_build
           from diary.record_state s where s.event_uuid = $1`,
        [event.event_uuid, event.audit_id],
      );
      expect(rows[0]).toEqual({ state_build: buildA, audit_build: buildA });
    });

    it('stamps an annotation and a proposal, and their audit entries, whatever the client sends', async () => {
      const buildA = await currentBuild(world.studyA);
      const event = await diaryEvent({ patient: world.people.patient, site: 'A1', data: entryA() });
      const { rows: annotation } = await world.clients.investigator.query<{ build_id: string }>(
        `insert into diary.investigator_annotations (event_uuid, patient_id, parent_audit_id, investigator_id, site_id,
           annotation_kind, annotation_text, build_id)
         values ($1, $2, $3, auth.uid(), 'A1', 'note', 'Checked against the source.', $4) returning build_id::text`,
        [event.event_uuid, world.people.patient.id, event.audit_id, world.initialBuild.out],
      );
      expect(annotation[0]?.build_id).toBe(buildA);
      const { rows: proposal } = await world.clients.agent.query<{ id: string; build_id: string }>(
        `insert into cro.staging_record (entity_kind, study_id, agent_id, proposed_state, created_by, build_id)
         values ('study_kpi', $1, 'agent-A', '{"label": "Screened", "value": "12", "position": 4}', auth.uid(), $2)
         returning id::text, build_id::text`,
        [world.studyA, world.initialBuild.out],
      );
      expect(proposal[0]?.build_id).toBe(buildA);
      const { rows: audit } = await db.operator.query(
        `select event_type, payload ->> 'build_id' as build_id from audit.audit_log
          where (event_type = 'staging.proposed' and payload ->> 'staging_id' = $1)
          order by seq`,
        [proposal[0]?.id],
      );
      expect(audit).toEqual([{ event_type: 'staging.proposed', build_id: buildA }]);
    });

    it('refuses a change of build_id on a proposal, an annotation, a diary event or its state, by anyone', async () => {
      const op = db.operator;
      const other = world.initialBuild.out;
      const staging = world.rows.staging.in;
      const annotation = world.rows.annotation.in;
      for (const [sql, ownerCode] of [
        [`update cro.staging_record set build_id = '${other}' where id = '${staging}'`, 'CS422'],
        [
          `update diary.investigator_annotations set build_id = '${other}' where annotation_id = '${annotation}'`,
          'CS403',
        ],
        [
          `update diary.record_audit set build_id = '${other}' where audit_id = ${world.records.in.auditId}`,
          'CS403',
        ],
        [
          `update diary.record_state set build_id = '${other}' where event_uuid = '${world.records.in.eventUuid}'`,
          'CS403',
        ],
      ] as const) {
        expect(await outcomeOf(op, sql), `owner: ${sql}`).toMatchObject({ code: ownerCode });
        for (const role of ['admin', 'agent', 'signer', 'investigator', 'patient'] as const) {
          const outcome = await outcomeOf(world.clients[role], sql);
          expect(outcome, `${role}: ${sql}`).toMatchObject({ code: '42501' });
        }
      }
      const { rows } = await op.query(
        `select (select build_id::text from cro.staging_record where id = $1) as staging,
                (select build_id::text from diary.investigator_annotations where annotation_id = $2) as annotation`,
        [staging, annotation],
      );
      expect(rows[0]).toEqual({ staging: world.initialBuild.in, annotation: world.initialBuild.in });
    });
  });

  describe('a diary entry is checked against its build, field by field [BUILD-VALIDATION]', () => {
    /** The refusal of `data` as a new entry of P1 (study A, the standard diary form of build B1). */
    async function refusalOf(data: unknown, patient = world.people.patient, site = 'A1') {
      const error = await diaryEvent({ patient, site, data }).then(
        () => null,
        (e: { code: string; message: string; detail?: string }) => e,
      );
      return (
        error && {
          code: error.code,
          message: error.message,
          detail: error.detail && JSON.parse(error.detail),
        }
      );
    }
    const refusedAs = (field: string | null, rule: string, message: RegExp, build: () => string) => ({
      code: 'CS422',
      message: expect.stringMatching(message),
      detail: { field, rule, build_id: build() },
    });
    const b1 = () => world.initialBuild.in;

    const standardCases: [string, Record<string, unknown>, string, string, RegExp][] = [
      [
        'text longer than max_length',
        { notes: 'x'.repeat(20001) },
        'notes',
        'max_length',
        /"notes" must be at most 20000 characters/,
      ],
      ['text given as a number', { notes: 42 }, 'notes', 'type', /"notes" must be text/],
      [
        'integer with a fraction',
        { duration_minutes: 1.5 },
        'duration_minutes',
        'type',
        /must be a whole number/,
      ],
      ['integer above max', { duration_minutes: 1441 }, 'duration_minutes', 'max', /must be at most 1440/],
      ['integer below min', { duration_minutes: -1 }, 'duration_minutes', 'min', /must be at least 0/],
      ['integer given as text', { duration_minutes: '15' }, 'duration_minutes', 'type', /must be a number/],
      [
        'a date that does not exist',
        { date: '2025-02-30' },
        'date',
        'type',
        /"date" must be a date \(YYYY-MM-DD\)/,
      ],
      ['a date in another format', { date: '01/04/2026' }, 'date', 'type', /must be a date/],
      ['a time past midnight', { time: '24:00' }, 'time', 'type', /"time" must be a time of day/],
      ['a time without two digits', { time: '7:5' }, 'time', 'type', /must be a time of day/],
      [
        'a choice outside its values',
        { event_type: 'migraine' },
        'event_type',
        'values',
        /must be one of epistaxis, nausea/,
      ],
      [
        'a choice in another case',
        { intensity: 'Severe' },
        'intensity',
        'values',
        /"intensity" must be one of mild, moderate, severe/,
      ],
      ['a required field missing', { date: undefined }, 'date', 'required', /"date" is required/],
      ['a required field null', { event_type: null }, 'event_type', 'required', /"event_type" is required/],
      [
        'a field the form does not have',
        { severity: 9 },
        'severity',
        'unknown',
        /"severity" is not in form diary_entry of build B1 \(1\.0\)/,
      ],
    ];
    for (const [what, fields, field, rule, message] of standardCases) {
      it(`refuses ${what} (${field}: ${rule})`, async () => {
        expect(await refusalOf(entryA(fields))).toEqual(refusedAs(field, rule, message, b1));
      });
    }

    it('accepts the edges of every rule, and refuses data that is not an object', async () => {
      const accepted = await diaryEvent({
        patient: world.people.patient,
        site: 'A1',
        data: {
          event_type: 'other',
          date: '2024-02-29',
          time: '23:59:59',
          duration_minutes: 1440,
          intensity: 'severe',
          side: 'both',
          notes: 'x'.repeat(20000),
        },
      });
      expect(accepted.build_id).toBe(b1());
      expect(await refusalOf(['nausea'])).toMatchObject({
        code: 'CS422',
        message: expect.stringMatching(/must be a JSON object/),
      });
    });

    describe("after study B's AMENDMENT (new fields, a tighter range) [BUILD-VALIDATION]", () => {
      let amended: string; // study B's AMENDMENT build (number B3)
      let record: { event_uuid: string; audit_id: string };
      let proposalUnderB1: string;
      beforeAll(async () => {
        // Under B1: a record with a duration the amendment will no longer allow, and a proposal with a KPI value.
        record = await diaryEvent({
          patient: patientB(),
          site: 'B1',
          data: { event_type: 'fatigue', date: '2026-04-02', duration_minutes: 600 },
        });
        const { rows } = await clientB.agent.query<{ id: string }>(
          `insert into cro.staging_record (entity_kind, study_id, agent_id, proposed_state, created_by)
           values ('study_kpi', $1, 'agent-B', '{"label": "Retention", "value": "97%", "position": 2}', auth.uid())
           returning id::text`,
          [world.studyB],
        );
        proposalUnderB1 = rows[0]?.id as string;
        expect(await refusalOf({ ...entryA(), rescue_medication: true }, patientB(), 'B1')).toMatchObject({
          detail: { field: 'rescue_medication', rule: 'unknown', build_id: world.initialBuild.out },
        });
        amended = (
          await buildIn(world.clients.admin, 'COMPLETED', {
            study: world.studyB,
            number: 'B3', // (B2 is the world's draft amendment, never completed)
            version: '3.0',
            type: 'AMENDMENT',
            reference: 'Protocol amendment 2: rescue medication and temperature',
            configuration: amendment,
          })
        ).id;
      });

      const amendmentCases: [string, Record<string, unknown>, string, string, RegExp][] = [
        [
          'a duration the amendment no longer allows',
          { duration_minutes: 600 },
          'duration_minutes',
          'max',
          /must be at most 240 \(form diary_entry, build B3/,
        ],
        ['a decimal above max', { temperature_c: 42.6 }, 'temperature_c', 'max', /must be at most 42\.5/],
        ['a decimal below min', { temperature_c: 34.9 }, 'temperature_c', 'min', /must be at least 35/],
        ['a decimal given as text', { temperature_c: '37.2' }, 'temperature_c', 'type', /must be a number/],
        [
          'a boolean given as text',
          { rescue_medication: 'yes' },
          'rescue_medication',
          'type',
          /must be true or false/,
        ],
        [
          'a boolean given as a number',
          { rescue_medication: 1 },
          'rescue_medication',
          'type',
          /must be true or false/,
        ],
        [
          'a datetime without a zone',
          { onset_at: '2026-04-02 08:30' },
          'onset_at',
          'type',
          /must be a date and time/,
        ],
      ];
      for (const [what, fields, field, rule, message] of amendmentCases) {
        it(`refuses ${what} (${field}: ${rule})`, async () => {
          expect(await refusalOf(entryA(fields), patientB(), 'B1')).toEqual(
            refusedAs(field, rule, message, () => amended),
          );
        });
      }

      it('accepts the new fields under the new build, and stamps it', async () => {
        const event = await diaryEvent({
          patient: patientB(),
          site: 'B1',
          data: entryA({
            temperature_c: 37.5,
            rescue_medication: true,
            onset_at: '2026-04-02T08:30:00+02:00',
            duration_minutes: 240,
          }),
        });
        expect(event.build_id).toBe(amended);
      });

      it("checks an update of a B1 record against the amendment; the record's state moves to it while its first entry stays B1", async () => {
        const updateWith = (durationMinutes: number) =>
          diaryEvent({
            eventUuid: record.event_uuid,
            patient: patientB(),
            site: 'B1',
            operation: 'USER_UPDATE',
            parent: record.audit_id,
            data: {
              event_type: 'fatigue',
              date: '2026-04-02',
              duration_minutes: durationMinutes,
              rescue_medication: false,
            },
          });
        expect(await updateWith(600).catch((e) => e)).toMatchObject({
          code: 'CS422',
          message: expect.stringMatching(/"duration_minutes" must be at most 240/),
        });
        const update = await updateWith(240);
        expect(update.build_id).toBe(amended);
        const { rows } = await db.operator.query(
          `select (select array_agg(build_id::text order by audit_id) from diary.record_audit where event_uuid = $1) as events,
                  (select build_id::text from diary.record_state where event_uuid = $1) as state`,
          [record.event_uuid],
        );
        expect(rows[0]).toEqual({ events: [world.initialBuild.out, amended], state: amended });
      });

      it('does not check the data of a deletion (USER_DELETE), and stamps it', async () => {
        const event = await diaryEvent({
          patient: patientB(),
          site: 'B1',
          data: entryA({ duration_minutes: 30 }),
        });
        const deletion = await diaryEvent({
          eventUuid: event.event_uuid,
          patient: patientB(),
          site: 'B1',
          operation: 'USER_DELETE',
          parent: event.audit_id,
          data: { severity: 'not a field', duration_minutes: 99999 },
        });
        expect(deletion.build_id).toBe(amended);
        const { rows } = await db.operator.query(
          'select is_deleted, build_id::text from diary.record_state where event_uuid = $1',
          [event.event_uuid],
        );
        expect(rows[0]).toEqual({ is_deleted: true, build_id: amended });
      });

      it("checks a proposal's fields against its build's entity form", async () => {
        const propose = (state: Record<string, unknown>) =>
          outcomeOf(
            clientB.agent,
            `insert into cro.staging_record (entity_kind, study_id, agent_id, proposed_state, created_by)
             values ('study_kpi', $1, 'agent-B', $2, auth.uid())`,
            [world.studyB, JSON.stringify(state)],
          );
        expect(await propose({ label: 'Retention', value: '98%', position: 2 })).toMatchObject({
          code: 'CS422',
          message: 'proposed field "value" is not in the study_kpi form of build B3 (3.0)',
        });
        expect(await propose({ label: 'Retention', position: 2, forged_column: 1 })).toMatchObject({
          code: 'CS422',
          message: expect.stringMatching(/forged_column/),
        });
        expect(await propose({ label: 'Retention', position: 2 })).toEqual({ rows: 1 });
        // Under study A's B1 the same KPI value is a field of the form.
        expect(
          await outcomeOf(
            world.clients.agent,
            `insert into cro.staging_record (entity_kind, study_id, agent_id, proposed_state, created_by)
             values ('study_kpi', $1, 'agent-A', '{"label": "Retention", "value": "98%", "position": 2}', auth.uid())`,
            [world.studyA],
          ),
        ).toEqual({ rows: 1 });
      });

      it('stamps provenance with the build of the proposal it is about, or else the current build [BUILD-STAMPED]', async () => {
        const record = async (subjectKind: string, subjectId: string) => {
          const { rows } = await clientB.agent.query<{ id: string }>(
            `select public.record_agent_provenance($1, 'retrieve', $2, $3, null, '[]', '{}')::text as id`,
            [world.studyB, subjectKind, subjectId],
          );
          return (
            await db.operator.query<{ build_id: string }>(
              'select build_id::text from cro.provenance_event where id = $1',
              [rows[0]?.id],
            )
          ).rows[0]?.build_id;
        };
        expect(await record('staging_record', proposalUnderB1)).toBe(world.initialBuild.out);
        expect(await record('sop', 'monitoring-plan')).toBe(amended);
      });

      it('moves a revised proposal to the current build, checked against it [BUILD-STAMPED]', async () => {
        const op = db.operator;
        const revise = (state: Record<string, unknown>) =>
          operatorTransaction(op, { sub: world.counterparts.agent.id }, () =>
            op.query('update cro.staging_record set proposed_state = $2 where id = $1', [
              proposalUnderB1,
              JSON.stringify(state),
            ]),
          );
        // Still under B1 until revised: the amendment's form no longer has the KPI value.
        await expect(revise({ label: 'Retention', value: '96%', position: 2 })).rejects.toMatchObject({
          code: 'CS422',
          message: expect.stringMatching(/"value" is not in the study_kpi form of build B3/),
        });
        await revise({ label: 'Retention (revised)', position: 2 });
        const { rows } = await op.query(
          `select s.build_id::text as build,
                  (select array_agg(a.event_type || ':' || (a.payload ->> 'build_id') order by a.seq) from audit.audit_log a
                    where a.payload ->> 'staging_id' = $1::text and a.event_type in ('staging.proposed', 'staging.revised')) as audit
             from cro.staging_record s where s.id = $1::uuid`,
          [proposalUnderB1],
        );
        expect(rows[0]).toEqual({
          build: amended,
          audit: [`staging.proposed:${world.initialBuild.out}`, `staging.revised:${amended}`],
        });
      });
    });
  });
});

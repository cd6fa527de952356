// Protocol builds (migration 0054, seed 004 "Study Database Builds"): the lifecycle, the freeze of a
// completed build, the configuration a completion validates, who may create, advance and read builds.
// Everything is done through people's own logins (the threat model: a person with psql), and the
// owner's connection where the owner must be held too.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildWorld,
  type MatrixRole,
  matrixRoles,
  operatorTransaction,
  type World,
} from './support/accessWorld';
import {
  type BuildConfiguration,
  type BuildRow,
  type BuildStatus,
  buildIn,
  buildStatuses,
  completionOutcome,
  createBuild,
  legalTransitions,
  outcomeOf,
  readBuild,
  runStudyBuild,
  setBuildStatus,
  standardConfiguration,
  stepsTo,
  withDiaryForm,
} from './support/buildActions';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('protocol builds', () => {
  let db: TestDatabase;
  let world: World;
  let admin: pg.Client;
  let standard: BuildConfiguration;
  let numbers = 0;
  /** A build number not used before in this database. */
  const nextNumber = (prefix = 'T') => `${prefix}${++numbers}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildWorld(db);
    admin = world.clients.admin;
    standard = await standardConfiguration(db.operator);
  });
  afterAll(async () => {
    await world?.teardown();
    await db?.drop();
  });

  /** A study with no build yet, made by the deployment's own session (as createStudy, without a build). */
  async function studyWithoutBuild(code: string): Promise<string> {
    return operatorTransaction(db.operator, { sub: world.people.admin.id, bootstrap: true }, async () => {
      const { rows } = await db.operator.query<{ id: string }>(
        `insert into cro.study (code, sponsor, phase, therapeutic_area, indication, status, health, executive_summary,
           goals, start_date, planned_end_date, current_forecast_end_date, contracted_budget, ebv_spent, eac_budget,
           currency, created_by)
         values ($1, 'S1', 'II', 'Haematology', 'HHT', 'planned', 'green', 'No build yet', '[]', '2026-01-01',
                 '2027-01-01', '2027-01-01', 1, 0, 1, 'EUR', $2) returning id`,
        [code, world.people.admin.id],
      );
      return rows[0]?.id as string;
    });
  }

  async function auditOf(buildId: string) {
    const { rows } = await db.operator.query<{
      event_type: string;
      actor: string;
      payload: Record<string, unknown>;
    }>(
      `select event_type, actor, payload from audit.audit_log
        where event_type like 'study_build.%' and payload ->> 'build_id' = $1 order by seq`,
      [buildId],
    );
    return rows;
  }

  describe('the state machine [BUILD-LIFECYCLE]', () => {
    for (const from of buildStatuses) {
      for (const to of buildStatuses) {
        const legal = legalTransitions.has(`${from}>${to}`);
        const frozen = from === 'COMPLETED' || from === 'CANCELLED';
        const expected =
          from === to ? (frozen ? 'refused: frozen' : 'no change') : legal ? 'allowed' : 'refused (CS409)';
        it(`${from} -> ${to}: ${expected}`, async () => {
          const before = await buildIn(admin, from, {
            study: world.studyA,
            number: nextNumber(),
            configuration: standard,
          });
          const outcome = await outcomeOf(
            admin,
            'update cro.study_database_build set build_status = $2 where id = $1',
            [before.id, to],
          );
          const after = (await readBuild(db.operator, before.id)) as BuildRow;
          if (legal || (from === to && !frozen)) {
            expect(outcome).toEqual({ rows: 1 });
            expect(after.build_status).toBe(to);
          } else {
            expect(outcome).toMatchObject({ code: 'CS409' });
            expect((outcome as { message: string }).message).toMatch(
              frozen
                ? /is (COMPLETED|CANCELLED) and frozen/
                : new RegExp(`illegal build transition ${from} -> ${to}`),
            );
            expect(after).toEqual(before);
          }
          // A transition is audited; a statement that changes nothing, or is refused, is not.
          const transitions = (await auditOf(before.id)).filter(
            (e) => e.event_type === 'study_build.transition',
          );
          expect(transitions).toHaveLength(stepsTo[from].length + 1 + Number(legal));
          expect(transitions.at(-1)?.payload).toMatchObject(
            legal ? { from_status: from, to_status: to } : { to_status: from },
          );
        });
      }
    }

    it('sets the timeline, counts and sequence itself, from DRAFT to COMPLETED', async () => {
      const draft = await createBuild(admin, {
        study: world.studyA,
        number: nextNumber('LIFE'),
        configuration: standard,
      });
      expect(draft).toMatchObject({
        build_status: 'DRAFT',
        built_by: world.people.admin.id,
        build_start_time: null,
        build_end_time: null,
        build_duration_seconds: null,
        completed_sequence: null,
        total_forms: 0,
        total_fields: 0,
        validation_rules_count: 0,
        error_count: 0,
        error_log: [],
      });
      const started = await setBuildStatus(admin, draft.id, 'IN_PROGRESS');
      expect(started.build_start_time).toBeInstanceOf(Date);
      expect(started.build_end_time).toBeNull();
      const completed = await setBuildStatus(admin, draft.id, 'COMPLETED');
      const fields = standard.forms.flatMap((form) => form.fields);
      const rules = fields.reduce(
        (n, f) =>
          n +
          Number(f.required === true) +
          Number('values' in f) +
          Number('min' in f) +
          Number('max' in f) +
          Number('max_length' in f),
        0,
      );
      expect(completed).toMatchObject({
        build_status: 'COMPLETED',
        total_visits: 0,
        total_forms: standard.forms.length,
        forms_built: standard.forms.length,
        total_fields: fields.length,
        validation_rules_count: rules,
        error_count: 0,
      });
      // Study A's INITIAL build is 1; every build completed before this one in this file came after it.
      const { rows } = await db.operator.query<{ n: number }>(
        `select count(*)::int as n from cro.study_database_build where study_id = $1 and build_status = 'COMPLETED'`,
        [world.studyA],
      );
      expect(completed.completed_sequence).toBe(rows[0]?.n);
      expect((completed.build_end_time as Date).getTime()).toBeGreaterThanOrEqual(
        (started.build_start_time as Date).getTime(),
      );
      expect(completed.build_duration_seconds).toBe(
        Math.round(
          ((completed.build_end_time as Date).getTime() - (started.build_start_time as Date).getTime()) /
            1000,
        ),
      );
      // The definitions were written once, at completion, from the snapshot.
      const { rows: forms } = await db.operator.query<{ form_code: string; field_codes: string[] }>(
        'select form_code, field_codes from cro.build_form where build_id = $1 order by ordinal',
        [draft.id],
      );
      expect(forms).toEqual(
        standard.forms.map((form) => ({ form_code: form.code, field_codes: form.fields.map((f) => f.code) })),
      );
    });

    it('numbers builds completed at the same moment by two administrators one after the other', async () => {
      const [first, second] = [
        await buildIn(admin, 'IN_PROGRESS', {
          study: world.studyA,
          number: nextNumber('RACE'),
          configuration: standard,
        }),
        await buildIn(admin, 'IN_PROGRESS', {
          study: world.studyA,
          number: nextNumber('RACE'),
          configuration: standard,
        }),
      ] as [BuildRow, BuildRow];
      const [one, two] = [await world.connect(world.people.admin), await world.connect(world.people.admin)];
      try {
        await one.query('begin');
        await two.query('begin');
        await one.query(`update cro.study_database_build set build_status = 'COMPLETED' where id = $1`, [
          first.id,
        ]);
        // The second completion waits for the first to commit, then takes the next number.
        const waiting = two.query(
          `update cro.study_database_build set build_status = 'COMPLETED' where id = $1`,
          [second.id],
        );
        await new Promise((resolve) => setTimeout(resolve, 200));
        await one.query('commit');
        await waiting;
        await two.query('commit');
      } finally {
        await one.end();
        await two.end();
      }
      const sequences = [
        (await readBuild(db.operator, first.id))?.completed_sequence as number,
        (await readBuild(db.operator, second.id))?.completed_sequence as number,
      ];
      expect(sequences[1]).toBe(sequences[0] + 1);
    });

    it('ignores what the owner sends for the columns the server keeps, and refuses them from a person', async () => {
      const build = await operatorTransaction(db.operator, { sub: world.people.admin.id }, async () => {
        const { rows } = await db.operator.query<BuildRow>(
          `insert into cro.study_database_build (study_id, build_number, build_version, build_type, amendment_reference,
             configuration_snapshot, built_by, build_start_time, build_end_time, build_duration_seconds,
             completed_sequence, error_count, error_log, total_forms, total_fields, validation_rules_count,
             forms_built, configuration_sha256)
           values ($1, $2, '2.0', 'AMENDMENT', 'Amendment X', $3, $4, '2000-01-01', '2000-01-02', 86400, 99, 7,
                   '[{"attempt": 1, "errors": []}]', 50, 500, 5000, 50, 'forged')
           returning *`,
          [world.studyA, nextNumber('OWN'), JSON.stringify(standard), world.counterparts.signer.id],
        );
        return rows[0] as BuildRow;
      });
      expect(build).toMatchObject({
        built_by: world.people.admin.id,
        build_start_time: null,
        build_end_time: null,
        build_duration_seconds: null,
        completed_sequence: null,
        error_count: 0,
        error_log: [],
        total_forms: 0,
        total_fields: 0,
        validation_rules_count: 0,
        forms_built: 0,
      });
      expect(build.configuration_sha256).toMatch(/^[0-9a-f]{64}$/);
      // A build starts as DRAFT, whoever writes it.
      await expect(
        operatorTransaction(db.operator, { sub: world.people.admin.id }, () =>
          db.operator.query(
            `insert into cro.study_database_build (study_id, build_number, build_version, build_status)
             values ($1, $2, '1', 'COMPLETED')`,
            [world.studyA, nextNumber('OWN')],
          ),
        ),
      ).rejects.toMatchObject({ code: 'CS422', message: expect.stringMatching(/starts as DRAFT/) });
      // The owner's update of the server's columns is ignored; the id, study, number, type, author
      // and creation time are refused.
      await operatorTransaction(db.operator, { sub: world.people.admin.id }, () =>
        db.operator.query(
          `update cro.study_database_build
              set completed_sequence = 42, error_log = '[]', error_count = 3, total_forms = 9,
                  build_start_time = '2001-01-01', configuration_sha256 = 'forged'
            where id = $1`,
          [build.id],
        ),
      );
      expect(await readBuild(db.operator, build.id)).toMatchObject({
        completed_sequence: null,
        error_count: 0,
        total_forms: 0,
        build_start_time: null,
        configuration_sha256: build.configuration_sha256,
      });
      for (const change of [
        `build_number = 'RENAMED'`,
        `build_type = 'CORRECTION'`,
        `study_id = '${world.studyB}'`,
        `built_by = '${world.people.signer.id}'`,
        `created_at = '2000-01-01'`,
      ]) {
        await expect(
          db.operator.query(`update cro.study_database_build set ${change} where id = $1`, [build.id]),
          change,
        ).rejects.toMatchObject({ code: 'CS422' });
      }
      // A person cannot even name those columns: they are not granted.
      for (const sql of [
        `insert into cro.study_database_build (study_id, build_number, build_version, build_status)
         values ('${world.studyA}', 'PERSON-1', '1', 'COMPLETED')`,
        `insert into cro.study_database_build (study_id, build_number, build_version, completed_sequence)
         values ('${world.studyA}', 'PERSON-2', '1', 1)`,
        `insert into cro.study_database_build (study_id, build_number, build_version, built_by)
         values ('${world.studyA}', 'PERSON-3', '1', '${world.people.signer.id}')`,
        `update cro.study_database_build set completed_sequence = 1 where id = '${build.id}'`,
        `update cro.study_database_build set error_log = '[]' where id = '${build.id}'`,
        `update cro.study_database_build set build_start_time = now() where id = '${build.id}'`,
      ]) {
        expect(await outcomeOf(admin, sql), sql).toMatchObject({ code: '42501' });
      }
    });

    it('retries a FAILED build: FAILED -> IN_PROGRESS, then its configuration can be fixed and completed', async () => {
      const broken = withDiaryForm(standard, (form) => ({
        ...form,
        fields: [...form.fields, { code: 'pain_score', type: 'integer', min: 10, max: 0 }],
      }));
      const build = await buildIn(admin, 'IN_PROGRESS', {
        study: world.studyA,
        number: nextNumber('RETRY'),
        configuration: broken,
      });
      expect(await runStudyBuild(admin, build.id)).toMatchObject({
        status: 'FAILED',
        errors: [{ path: 'forms[diary_entry].fields[pain_score].max', field: 'pain_score' }],
      });
      const failed = (await readBuild(admin, build.id)) as BuildRow;
      expect(failed).toMatchObject({ build_status: 'FAILED', error_count: 1, completed_sequence: null });
      expect(failed.error_log).toEqual([
        {
          attempt: 1,
          at: expect.any(String),
          by: world.people.admin.id,
          errors: [
            {
              path: 'forms[diary_entry].fields[pain_score].max',
              field: 'pain_score',
              message: 'max (0) is below min (10)',
            },
          ],
        },
      ]);
      // A FAILED build's configuration is not changed in place: it is retried first.
      expect(
        await outcomeOf(
          admin,
          'update cro.study_database_build set configuration_snapshot = $2 where id = $1',
          [build.id, JSON.stringify(standard)],
        ),
      ).toMatchObject({ code: 'CS409', message: expect.stringMatching(/retry it/) });
      await setBuildStatus(admin, build.id, 'IN_PROGRESS');
      const fixed = withDiaryForm(standard, (form) => ({
        ...form,
        fields: [...form.fields, { code: 'pain_score', type: 'integer', min: 0, max: 10 }],
      }));
      await admin.query('update cro.study_database_build set configuration_snapshot = $2 where id = $1', [
        build.id,
        JSON.stringify(fixed),
      ]);
      const second = await runStudyBuild(admin, build.id);
      expect(second).toMatchObject({ status: 'COMPLETED', errors: [] });
      const completed = (await readBuild(admin, build.id)) as BuildRow;
      expect(completed).toMatchObject({ build_status: 'COMPLETED', error_count: 0 });
      expect(completed.completed_sequence).toBe(second.completed_sequence);
      // The failed attempt stays on record.
      expect(completed.error_log).toHaveLength(1);
      // run_study_build runs only an IN_PROGRESS build.
      expect(await outcomeOf(admin, 'select public.run_study_build($1)', [build.id])).toMatchObject({
        code: 'CS409',
      });
    });
  });

  describe('every change is in the audit chain [BUILD-AUDIT]', () => {
    it('records each transition and each change of configuration, by the administrator who made it', async () => {
      const draft = await createBuild(admin, {
        study: world.studyA,
        number: nextNumber('AUD'),
        configuration: standard,
      });
      await admin.query(
        `update cro.study_database_build set build_description = 'Adds a pain score' where id = $1`,
        [draft.id],
      );
      await setBuildStatus(admin, draft.id, 'IN_PROGRESS');
      await setBuildStatus(admin, draft.id, 'FAILED');
      await setBuildStatus(admin, draft.id, 'IN_PROGRESS');
      const completed = await setBuildStatus(admin, draft.id, 'COMPLETED');
      const entries = await auditOf(draft.id);
      expect(
        entries.map((e) =>
          e.event_type === 'study_build.transition'
            ? [e.event_type, e.payload.from_status, e.payload.to_status]
            : [e.event_type, e.payload.status],
        ),
      ).toEqual([
        ['study_build.transition', null, 'DRAFT'],
        ['study_build.configured', 'DRAFT'],
        ['study_build.transition', 'DRAFT', 'IN_PROGRESS'],
        ['study_build.transition', 'IN_PROGRESS', 'FAILED'],
        ['study_build.transition', 'FAILED', 'IN_PROGRESS'],
        ['study_build.transition', 'IN_PROGRESS', 'COMPLETED'],
      ]);
      expect(new Set(entries.map((e) => e.actor))).toEqual(new Set([world.people.admin.id]));
      expect(entries.at(-1)?.payload).toMatchObject({
        study_id: world.studyA,
        build_number: draft.build_number,
        build_type: 'AMENDMENT',
        completed_sequence: completed.completed_sequence,
        configuration_sha256: completed.configuration_sha256,
      });
      // A description is in the chain as its hash only.
      expect(JSON.stringify(entries)).not.toMatch(/pain score/);
    });
  });

  describe('a completed or cancelled build is frozen [BUILD-FROZEN]', () => {
    let cancelled: BuildRow;
    beforeAll(async () => {
      cancelled = await buildIn(admin, 'CANCELLED', {
        study: world.studyA,
        number: nextNumber('CAN'),
        configuration: standard,
      });
    });

    const edits = (id: string) => [
      `update cro.study_database_build set configuration_snapshot = '{"forms": []}' where id = '${id}'`,
      `update cro.study_database_build set build_description = 'rewritten' where id = '${id}'`,
      `update cro.study_database_build set build_version = '9.9' where id = '${id}'`,
      `update cro.study_database_build set amendment_reference = 'another' where id = '${id}'`,
      `update cro.study_database_build set build_status = 'IN_PROGRESS' where id = '${id}'`,
      `update cro.study_database_build set build_status = 'CANCELLED' where id = '${id}'`,
      `delete from cro.study_database_build where id = '${id}'`,
      'truncate cro.study_database_build cascade',
    ];

    for (const which of ['COMPLETED', 'CANCELLED'] as const) {
      it(`a ${which} build refuses every edit by every role, the administrator included`, async () => {
        const id = which === 'COMPLETED' ? world.initialBuild.in : cancelled.id;
        const before = await readBuild(db.operator, id);
        for (const role of matrixRoles) {
          for (const sql of edits(id)) {
            const outcome = await outcomeOf(world.clients[role], sql);
            // Refused (no privilege, or the freeze), or the row is not the person's to touch (RLS).
            if ('rows' in outcome) expect(outcome.rows, `${role}: ${sql}`).toBe(0);
            else expect(['42501', 'CS409'], `${role}: ${sql}: ${outcome.message}`).toContain(outcome.code);
            if (role === 'admin' && sql.startsWith('update')) {
              expect(outcome, `admin: ${sql}`).toMatchObject({ code: 'CS409' });
            }
          }
        }
        expect(await readBuild(db.operator, id)).toEqual(before);
      });

      it(`a ${which} build refuses every edit by the table's owner`, async () => {
        const id = which === 'COMPLETED' ? world.initialBuild.in : cancelled.id;
        const before = await readBuild(db.operator, id);
        for (const sql of edits(id)) {
          const outcome = await outcomeOf(db.operator, sql);
          const refusal = sql.startsWith('update') ? 'CS409' : 'CS403';
          expect(outcome, sql).toMatchObject({ code: refusal });
        }
        expect(await readBuild(db.operator, id)).toEqual(before);
      });
    }

    it('the forms and fields of a build are written by its completion only: nobody inserts, changes or deletes them', async () => {
      const id = world.initialBuild.in;
      const statements = [
        `insert into cro.build_form (build_id, form_code, form_kind, title, ordinal, field_codes)
         values ('${id}', 'extra_form', 'diary', 'Extra', 99, '{x}')`,
        `insert into cro.build_form_field (build_id, form_code, field_code, ordinal, label, data_type, required)
         values ('${id}', 'diary_entry', 'extra_field', 99, 'Extra', 'text', false)`,
        `update cro.build_form set title = 'rewritten' where build_id = '${id}'`,
        `update cro.build_form set field_codes = field_codes || '{forged}'::text[] where build_id = '${id}'`,
        `update cro.build_form_field set max_value = 99999 where build_id = '${id}'`,
        `update cro.build_form_field set required = false where build_id = '${id}'`,
        `delete from cro.build_form_field where build_id = '${id}'`,
        `delete from cro.build_form where build_id = '${id}'`,
        'truncate cro.build_form_field',
        'truncate cro.build_form cascade',
      ];
      const snapshot = async () =>
        (
          await db.operator.query(
            `select to_jsonb(f) as f, (select jsonb_agg(to_jsonb(x) order by x.ordinal) from cro.build_form_field x
                                       where x.build_id = f.build_id and x.form_code = f.form_code) as fields
               from cro.build_form f where f.build_id = $1 order by f.ordinal`,
            [id],
          )
        ).rows;
      const before = await snapshot();
      for (const role of matrixRoles) {
        for (const sql of statements) {
          expect(await outcomeOf(world.clients[role], sql), `${role}: ${sql}`).toMatchObject({
            code: '42501',
          });
        }
      }
      for (const sql of statements) {
        expect(await outcomeOf(db.operator, sql), `owner: ${sql}`).toMatchObject({ code: 'CS403' });
      }
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('completion validates the configuration, naming the field [BUILD-CONFIG-VALID]', () => {
    const diary = (
      change: (form: BuildConfiguration['forms'][number]) => BuildConfiguration['forms'][number],
    ) => withDiaryForm(standard, change);
    const addDiaryField = (field: Record<string, unknown>) =>
      diary((form) => ({ ...form, fields: [...form.fields, field as never] }));
    const cases: { rule: string; configuration: () => unknown; path: string; message: RegExp }[] = [
      {
        rule: 'an unknown key of the configuration',
        configuration: () => ({ ...standard, visits: [] }),
        path: 'visits',
        message: /unknown key "visits"/,
      },
      {
        rule: 'an unknown key of a field',
        configuration: () => addDiaryField({ code: 'mood', type: 'text', colour: 'blue' }),
        path: 'forms[diary_entry].fields[mood].colour',
        message: /unknown key "colour"/,
      },
      {
        rule: 'a form code that is not a code',
        configuration: () => diary((form) => ({ ...form, code: 'Diary Entry' })),
        path: 'forms[Diary Entry].code',
        message: /form code is 1-63 lower-case letters/,
      },
      {
        rule: 'a field code that is not a code',
        configuration: () => addDiaryField({ code: '1st_dose', type: 'date' }),
        path: 'forms[diary_entry].fields[1st_dose].code',
        message: /field code is 1-63 lower-case letters/,
      },
      {
        rule: 'a form twice',
        configuration: () => ({
          forms: [...standard.forms, ...standard.forms.filter((form) => form.code === 'study_kpi')],
        }),
        path: 'forms[study_kpi].code',
        message: /form "study_kpi" appears twice/,
      },
      {
        rule: 'a field twice',
        configuration: () => addDiaryField({ code: 'date', type: 'date' }),
        path: 'forms[diary_entry].fields[date].code',
        message: /field "date" appears twice/,
      },
      {
        rule: 'an unknown type',
        configuration: () => addDiaryField({ code: 'mood', type: 'emoji' }),
        path: 'forms[diary_entry].fields[mood].type',
        message: /type must be one of/,
      },
      {
        rule: 'a choice without values',
        configuration: () => addDiaryField({ code: 'mood', type: 'choice' }),
        path: 'forms[diary_entry].fields[mood].values',
        message: /choice field needs a list of distinct, non-empty text values/,
      },
      {
        rule: 'a choice with a value twice',
        configuration: () => addDiaryField({ code: 'mood', type: 'choice', values: ['low', 'low'] }),
        path: 'forms[diary_entry].fields[mood].values',
        message: /distinct/,
      },
      {
        rule: 'min above max',
        configuration: () => addDiaryField({ code: 'pain', type: 'decimal', min: 10, max: 1.5 }),
        path: 'forms[diary_entry].fields[pain].max',
        message: /max \(1\.5\) is below min \(10\)/,
      },
      {
        rule: 'min on a text field',
        configuration: () => addDiaryField({ code: 'mood', type: 'text', min: 1 }),
        path: 'forms[diary_entry].fields[mood].min',
        message: /min applies to an integer or decimal field only/,
      },
      {
        rule: 'a fractional min on an integer field',
        configuration: () => addDiaryField({ code: 'pain', type: 'integer', min: 0.5 }),
        path: 'forms[diary_entry].fields[pain].min',
        message: /min must be a whole number/,
      },
      {
        rule: 'max_length on a number field',
        configuration: () => addDiaryField({ code: 'pain', type: 'integer', max_length: 3 }),
        path: 'forms[diary_entry].fields[pain].max_length',
        message: /max_length applies to a text field only/,
      },
      {
        rule: 'an entity field that is not a column a proposal may set',
        configuration: () => ({
          forms: standard.forms.map((form) =>
            form.code === 'study_kpi'
              ? { ...form, fields: [...form.fields, { code: 'created_by', type: 'uuid' }] }
              : form,
          ),
        }),
        path: 'forms[study_kpi].fields[created_by].code',
        message: /not a column of cro\.study_kpi that a proposal may set/,
      },
      {
        rule: 'an entity form for a table no proposal is made for',
        configuration: () => ({
          forms: [
            ...standard.forms,
            { code: 'signature_event', kind: 'entity', fields: [{ code: 'id', type: 'uuid' }] },
          ],
        }),
        path: 'forms[signature_event].code',
        message: /not an entity kind a proposal can be made for/,
      },
      {
        rule: 'two diary forms',
        configuration: () => ({
          forms: [
            ...standard.forms,
            { code: 'evening_diary', kind: 'diary', fields: [{ code: 'note', type: 'text' }] },
          ],
        }),
        path: 'forms[evening_diary].kind',
        message: /at most one diary form/,
      },
      {
        rule: 'a form without fields',
        configuration: () => diary((form) => ({ ...form, fields: [] })),
        path: 'forms[diary_entry].fields',
        message: /at least one field/,
      },
      {
        rule: 'no forms at all',
        configuration: () => ({ forms: [] }),
        path: 'forms',
        message: /at least one form/,
      },
    ];

    for (const { rule, configuration, path, message } of cases) {
      it(`refuses ${rule} (${path})`, async () => {
        const build = await buildIn(admin, 'IN_PROGRESS', {
          study: world.studyA,
          number: nextNumber('CFG'),
          configuration: configuration(),
        });
        // The direct completion is refused with the first error's path in the message...
        const outcome = await completionOutcome(admin, build.id);
        expect(outcome).toMatchObject({ code: 'CS422' });
        const errors = (
          await admin.query<{ e: { path: string; message: string }[] }>(
            'select cs_private.build_configuration_errors($1::jsonb) as e',
            [JSON.stringify(configuration())],
          )
        ).rows[0]?.e;
        // ...and the person checking a draft gets every error, this one among them.
        expect(errors).toContainEqual(
          expect.objectContaining({ path, message: expect.stringMatching(message) }),
        );
        expect((outcome as { message: string }).message).toContain(
          `cannot be completed: ${errors?.[0]?.path}: ${errors?.[0]?.message}`,
        );
        expect(await readBuild(db.operator, build.id)).toMatchObject({ build_status: 'IN_PROGRESS' });
        // The administrator's run records it as FAILED with the errors instead.
        const run = await runStudyBuild(admin, build.id);
        expect(run.status).toBe('FAILED');
        expect(run.errors).toContainEqual(expect.objectContaining({ path }));
        const failed = (await readBuild(db.operator, build.id)) as BuildRow;
        expect(failed.error_log.at(-1)?.errors).toContainEqual(expect.objectContaining({ path }));
      });
    }

    it('refuses an AMENDMENT without the amendment it implements (amendment_reference)', async () => {
      const build = await buildIn(admin, 'IN_PROGRESS', {
        study: world.studyA,
        number: nextNumber('AMD'),
        reference: null,
        configuration: standard,
      });
      expect(await completionOutcome(admin, build.id)).toMatchObject({
        code: 'CS422',
        message: expect.stringMatching(/amendment_reference: an AMENDMENT build names/),
      });
      await admin.query(
        `update cro.study_database_build set amendment_reference = 'Amendment 4' where id = $1`,
        [build.id],
      );
      expect((await setBuildStatus(admin, build.id, 'COMPLETED')).build_status).toBe('COMPLETED');
    });

    it("refuses a study's first completed build unless it is INITIAL, and a second INITIAL", async () => {
      const study = await studyWithoutBuild(`NOBUILD-${db.tag}`);
      const amendment = await buildIn(admin, 'IN_PROGRESS', { study, number: 'B1', configuration: standard });
      expect(await completionOutcome(admin, amendment.id)).toMatchObject({
        code: 'CS422',
        message: expect.stringMatching(
          /build_type: the first completed build of a study is its INITIAL build, not AMENDMENT/,
        ),
      });
      expect(await runStudyBuild(admin, amendment.id)).toMatchObject({
        status: 'FAILED',
        errors: [{ path: 'build_type', field: 'build_type' }],
      });
      const initial = await buildIn(admin, 'COMPLETED', {
        study,
        number: 'B2',
        type: 'INITIAL',
        configuration: standard,
      });
      expect(initial).toMatchObject({ build_status: 'COMPLETED', completed_sequence: 1 });
      const second = await buildIn(admin, 'IN_PROGRESS', {
        study,
        number: 'B3',
        type: 'INITIAL',
        configuration: standard,
      });
      expect(await completionOutcome(admin, second.id)).toMatchObject({
        code: 'CS422',
        message: expect.stringMatching(/build_type: the study already has a completed build/),
      });
    });
  });

  describe('who may create, advance, run and read builds [BUILD-RLS]', () => {
    const others: MatrixRole[] = [
      'signer',
      'monitor',
      'coordinator',
      'inspector',
      'sponsor',
      'agent',
      'patient',
      'investigator',
      'analyst',
    ];

    it('an administrator creates and advances builds of any study', async () => {
      for (const study of [world.studyA, world.studyB]) {
        const build = await buildIn(admin, 'COMPLETED', {
          study,
          number: nextNumber('ADM'),
          configuration: standard,
        });
        expect(build).toMatchObject({ build_status: 'COMPLETED', built_by: world.people.admin.id });
      }
    });

    for (const role of others) {
      it(`a ${role} cannot create, change, advance or run a build, in their own study or another`, async () => {
        const client = world.clients[role];
        const draft = await createBuild(admin, {
          study: world.studyA,
          number: nextNumber('RLS'),
          configuration: standard,
        });
        const inProgress = await buildIn(admin, 'IN_PROGRESS', {
          study: world.studyA,
          number: nextNumber('RLS'),
          configuration: standard,
        });
        for (const study of [world.studyA, world.studyB]) {
          expect(
            await outcomeOf(
              client,
              `insert into cro.study_database_build (study_id, build_number, build_version, build_type, amendment_reference)
               values ($1, 'X1', '1', 'AMENDMENT', 'x')`,
              [study],
            ),
          ).toMatchObject({ code: '42501' });
        }
        for (const sql of [
          `update cro.study_database_build set build_status = 'IN_PROGRESS' where id = '${draft.id}'`,
          `update cro.study_database_build set build_status = 'COMPLETED' where id = '${inProgress.id}'`,
          `update cro.study_database_build set configuration_snapshot = '{"forms": []}' where id = '${draft.id}'`,
          `update cro.study_database_build set build_description = 'mine now' where id = '${draft.id}'`,
        ]) {
          expect(await outcomeOf(client, sql), `${role}: ${sql}`).toEqual({ rows: 0 });
        }
        expect(await outcomeOf(client, 'select public.run_study_build($1)', [inProgress.id])).toMatchObject({
          code: 'CS403',
          message: expect.stringMatching(/only an administrator runs a build/),
        });
        expect(await readBuild(db.operator, draft.id)).toEqual(draft);
        expect(await readBuild(db.operator, inProgress.id)).toMatchObject({ build_status: 'IN_PROGRESS' });
      });
    }

    it("run_study_build does not tell another study's people that a build exists", async () => {
      const inProgress = await buildIn(admin, 'IN_PROGRESS', {
        study: world.studyA,
        number: nextNumber('RLS'),
        configuration: standard,
      });
      const signerB = await world.connect(world.counterparts.signer);
      try {
        expect(await outcomeOf(signerB, 'select public.run_study_build($1)', [inProgress.id])).toMatchObject({
          code: 'CS404',
        });
      } finally {
        await signerB.end();
      }
    });

    it("everyone with access to a study reads its builds, forms and fields, and no other study's", async () => {
      const readable = async (client: pg.ClientBase) => {
        const { rows } = await client.query<{ study_id: string; forms: number; fields: number }>(
          `select b.study_id::text,
                  (select count(*)::int from cro.build_form f where f.build_id = b.id) as forms,
                  (select count(*)::int from cro.build_form_field f where f.build_id = b.id) as fields
             from cro.study_database_build b where b.id = any ($1::uuid[])`,
          [[world.initialBuild.in, world.initialBuild.out]],
        );
        return rows;
      };
      const full = await readable(db.operator);
      const of = (study: string) => full.filter((row) => row.study_id === study);
      expect(await readable(admin)).toEqual(full);
      expect(await readable(world.clients.anon).catch((e) => e)).toMatchObject({ code: '42501' });
      for (const role of others) {
        expect(await readable(world.clients[role]), role).toEqual(of(world.studyA));
        const counterpart = await world.connect(
          world.counterparts[role as Exclude<MatrixRole, 'anon' | 'admin'>],
        );
        try {
          expect(await readable(counterpart), `${role} of study B`).toEqual(of(world.studyB));
        } finally {
          await counterpart.end();
        }
      }
      // The draft is read by the same people as the completed builds (the build panel shows both).
      const { rows } = await world.clients.patient.query(
        'select build_status::text from cro.study_database_build where id = $1',
        [world.rows.build.in],
      );
      expect(rows).toEqual([{ build_status: 'DRAFT' }]);
    });
  });

  it('the current build of a study is its latest completed one; the earlier ones are superseded [BUILD-LIFECYCLE]', async () => {
    const current = async () =>
      (
        await db.operator.query<{ id: string }>('select cs_private.current_build($1)::text as id', [
          world.studyB,
        ])
      ).rows[0]?.id;
    const before = await readBuild(db.operator, (await current()) as string);
    const amendment = await buildIn(admin, 'COMPLETED', {
      study: world.studyB,
      number: nextNumber('CUR'),
      configuration: standard,
    });
    expect(amendment.completed_sequence).toBe((before?.completed_sequence ?? 0) + 1);
    expect(await current()).toBe(amendment.id);
    // A build completed later is current; a newer DRAFT, FAILED or CANCELLED one changes nothing.
    await buildIn(admin, 'FAILED', {
      study: world.studyB,
      number: nextNumber('CUR'),
      configuration: standard,
    });
    await buildIn(admin, 'CANCELLED', {
      study: world.studyB,
      number: nextNumber('CUR'),
      configuration: standard,
    });
    expect(await current()).toBe(amendment.id);
  });

  // Keep the helper list honest: every status the enum has is exercised above.
  it('knows every status of cro.build_status', async () => {
    const { rows } = await db.operator.query<{ s: BuildStatus }>(
      'select unnest(enum_range(null::cro.build_status))::text as s',
    );
    expect(rows.map((row) => row.s)).toEqual([...buildStatuses]);
  });
});

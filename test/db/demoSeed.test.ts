import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demonstrateAgentRefusals, proposeAsAgent } from '../../src/main/backend/demo/demoAgent';
import { rescueTreatmentChangeReason } from '../../src/main/backend/demo/demoContent';
import {
  demoCorrectedDuration,
  demoCorrectionJustification,
} from '../../src/main/backend/demo/demoCorrection';
import { demoPeople, demoPerson, demoSignInList } from '../../src/main/backend/demo/demoPeople';
import { demoTranscription } from '../../src/main/backend/demo/demoTranscription';
import { createRng } from '../../src/main/backend/demo/prng';
import { type DemoSummary, isDemoSeeded, seedDemo } from '../../src/main/backend/demo/seedDemo';
import { entityKinds, stagingStates } from '../../src/shared/domain';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const seededNow = new Date('2025-06-30T12:00:00Z');
const dayMs = 86_400_000;

describe('demo seed', () => {
  let db: TestDatabase;
  let summary: DemoSummary;
  const lines: string[] = [];
  const clients = new Map<string, pg.Client>();

  /** A demo person's own connection (their login role), cached for the file. */
  const as = async (key: string): Promise<pg.Client> => {
    const cached = clients.get(key);
    if (cached) return cached;
    const person = demoPerson(key);
    const client = await db.connectAs(person.email, person.password);
    clients.set(key, client);
    return client;
  };
  const count = async (client: pg.ClientBase, sql: string, params: unknown[] = []) =>
    Number((await client.query<{ n: string }>(`select count(*) as n from (${sql}) as q`, params)).rows[0]?.n);

  beforeAll(async () => {
    db = await createTestDatabase();
    expect(await isDemoSeeded(db.operator)).toBe(false);
    summary = await seedDemo(db.operator, {
      now: seededNow,
      log: (line) => lines.push(line),
    });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('seeds within the time budget and reports what it created', () => {
    expect(summary.created).toBe(true);
    expect(summary.durationMs).toBeLessThan(15_000);
    expect(lines.some((line) => line.includes('proposals'))).toBe(true);
    const { counts } = summary;
    expect(counts.people).toBe(demoPeople.length);
    expect(counts.studies).toBe(2);
    expect(counts.sites).toBe(3);
    expect(counts.modelVersions).toBe(3);
    expect(counts.sponsorRequests).toBeGreaterThanOrEqual(8);
    expect(counts.staging.total).toBeGreaterThanOrEqual(190);
    expect(counts.staging.total).toBeLessThanOrEqual(210);
    for (const state of stagingStates) expect(counts.staging.byState[state]).toBeGreaterThan(0);
    expect(counts.staging.byState).toEqual({
      proposed: 110,
      reviewing: 35,
      signed: 25,
      promoted: 20,
      rejected: 10,
    });
    for (const kind of entityKinds) expect(counts.staging.byKind[kind]).toBeGreaterThan(0);
    expect(counts.signatureEvents).toBe(55);
    expect(counts.diary.records).toBeGreaterThanOrEqual(18);
    expect(counts.diary.records).toBeLessThanOrEqual(36);
    expect(counts.diary.annotations).toBeGreaterThan(0);
    // B1 of each study and the HHT study's amendment B2, whose first run failed.
    expect(counts.builds).toEqual({ total: 3, completed: 3, failedAttempts: 1 });
    expect(lines.some((line) => line.includes('3 protocol builds (1 failed run)'))).toBe(true);
    console.log(`demo seed took ${summary.durationMs} ms`, JSON.stringify(counts));
  });

  it('is marked as seeded, and a second call is a no-op', async () => {
    expect(await isDemoSeeded(db.operator)).toBe(true);
    const before = await count(db.operator, 'select 1 from audit.audit_log');
    const again = await seedDemo(db.operator);
    expect(again.created).toBe(false);
    expect(again.counts.staging).toEqual(summary.counts.staging);
    expect(await count(db.operator, 'select 1 from audit.audit_log')).toBe(before);
    expect(await count(db.operator, 'select 1 from countersign_meta.demo_seed')).toBe(1);
  });

  it('is the same every time: a second database seeded at the same moment gets the same demo', async () => {
    const other = await createTestDatabase();
    try {
      await seedDemo(other.operator, { now: seededNow });
      const snapshot = async (client: pg.ClientBase) =>
        (
          await client.query(
            // A promoted create's live id is made by the database at promotion: left out.
            `select id, entity_kind, state, proposed_state, created_at, build_id,
                    case when state = 'promoted' then null else entity_id end as entity_id
               from cro.staging_record order by id`,
          )
        ).rows;
      expect(await snapshot(other.operator)).toEqual(await snapshot(db.operator));
      // The same builds, at the same times, and the same diary events under the same builds.
      const builds = async (client: pg.ClientBase) =>
        (
          await client.query(
            `select id, build_number, build_status, completed_sequence, configuration_sha256, created_at,
                    build_start_time, build_end_time, jsonb_path_query_array(error_log, '$[*].errors') as errors
               from cro.study_database_build order by id`,
          )
        ).rows;
      expect(await builds(other.operator)).toEqual(await builds(db.operator));
      const diary = async (client: pg.ClientBase) =>
        (
          await client.query(
            'select event_uuid, operation, data, client_timestamp, build_id from diary.record_audit order by audit_id',
          )
        ).rows;
      expect(await diary(other.operator)).toEqual(await diary(db.operator));
    } finally {
      await other.drop();
    }
  });

  it('leaves nothing behind when seeding fails midway, and seeds fully on the next start', async () => {
    const other = await createTestDatabase();
    try {
      const crash = (line: string) => {
        if (line.includes('people provisioned')) throw new Error('simulated crash mid-seed');
      };
      await expect(seedDemo(other.operator, { log: crash })).rejects.toThrow(/simulated crash/);
      expect(await isDemoSeeded(other.operator)).toBe(false);
      for (const table of [
        'cro.study',
        'cro.study_database_build',
        'cro.user_profile',
        'cs_private.login_role',
        'cro.role_assignment',
      ]) {
        expect(await count(other.operator, `select 1 from ${table}`)).toBe(0);
      }
      expect(await count(other.operator, 'select 1 from audit.audit_log')).toBe(1);
      const retry = await seedDemo(other.operator);
      expect(retry.created).toBe(true);
      expect(retry.counts.staging.total).toBe(summary.counts.staging.total);
    } finally {
      await other.drop();
    }
  });

  it('has both creates and updates, study field updates, provenance with citations and sponsor requests', async () => {
    const { rows } = await db.operator.query<{
      entity_kind: string;
      creates: string;
      updates: string;
    }>(`select entity_kind, count(*) filter (where entity_id is null) as creates,
               count(*) filter (where entity_id is not null) as updates
          from cro.staging_record where state <> 'promoted' group by 1`);
    for (const row of rows) {
      if (row.entity_kind === 'study') expect(Number(row.creates)).toBe(0);
      else expect(Number(row.creates)).toBeGreaterThan(0);
      expect(Number(row.updates)).toBeGreaterThan(0);
    }
    expect(
      await count(
        db.operator,
        `select 1 from cro.staging_record s left join cro.provenance_event p on p.id = s.provenance_id
          where p.id is null or p.actor_kind <> 'agent' or p.action <> 'propose' or p.subject_id <> s.id::text
             or p.subject_kind <> 'staging_record' or p.model_version_id is distinct from s.model_version_id
             or jsonb_typeof(p.retrieved_context) <> 'array' or jsonb_array_length(p.retrieved_context) = 0
             or not (p.retrieved_context -> 0 ?& array['source_uri', 'chunk_index', 'quote', 'retrieved_at'])`,
      ),
    ).toBe(0);
    expect(
      await count(
        db.operator,
        `select 1 from cro.provenance_event p join cro.sponsor_request r on r.id::text = p.payload ->> 'sponsor_request_id'`,
      ),
    ).toBeGreaterThan(0);
    expect(
      await count(db.operator, 'select 1 from cro.model_registry_version where retired_at is not null'),
    ).toBe(1);
    // Deliberately awkward texts are present for the UI to render safely.
    expect(
      await count(
        db.operator,
        `select 1 from cro.staging_record where proposed_state::text like '%<script>%'`,
      ),
    ).toBeGreaterThan(0);
    expect(
      await count(db.operator, `select 1 from cro.staging_record where length(proposed_state::text) > 5000`),
    ).toBeGreaterThan(0);
    expect(
      await count(
        db.operator,
        `select 1 from cro.staging_record where proposed_state::text ~ '[\\u0590-\\u06FF]'`,
      ),
    ).toBeGreaterThan(0);
  });

  it('promoted every promoted record into its live row, with provenance and an approving signature', async () => {
    const { rows } = await db.operator.query<{ id: string; entity_kind: string; entity_id: string | null }>(
      "select id, entity_kind, entity_id from cro.staging_record where state = 'promoted'",
    );
    expect(rows.length).toBe(20);
    for (const row of rows) {
      expect(row.entity_id).not.toBeNull();
      const live = await db.operator.query<{ provenance_id: string | null }>(
        `select provenance_id from cro.${row.entity_kind} where id = $1`,
        [row.entity_id],
      );
      expect(live.rows.length).toBe(1);
      const promote = await db.operator.query<{ id: string; signature_id: string; actor_kind: string }>(
        `select id, signature_id, actor_kind from cro.provenance_event
          where action = 'promote' and payload ->> 'staging_id' = $1 and subject_id = $2`,
        [row.id, row.entity_id],
      );
      expect(promote.rows.length).toBe(1);
      expect(promote.rows[0]?.actor_kind).toBe('human');
      const livePromotions = await db.operator.query<{ id: string }>(
        "select id from cro.provenance_event where action = 'promote' and subject_id = $1",
        [row.entity_id],
      );
      expect(livePromotions.rows.map((p) => p.id)).toContain(live.rows[0]?.provenance_id);
      const signature = await db.operator.query<{
        intent: string;
        id: string;
        content_hash: string;
        ok: boolean;
      }>(
        `select g.id, g.intent, g.content_hash,
                g.content_hash = (select p.payload ->> 'signed_content_hash' from cro.provenance_event p
                                   where p.action = 'promote' and p.payload ->> 'staging_id' = s.id::text) as ok
           from cro.signature_event g join cro.staging_record s on s.id::text = g.subject_id
          where g.subject_kind = 'staging_record' and g.subject_id = $1`,
        [row.id],
      );
      expect(signature.rows.length).toBe(1);
      expect(signature.rows[0]?.intent).toBe('approve');
      expect(signature.rows[0]?.ok).toBe(true);
      expect(promote.rows[0]?.signature_id).toBe(signature.rows[0]?.id);
    }
    // Rejected records carry a rejecting signature, signed ones an approving one, nothing else does.
    expect(
      await count(
        db.operator,
        `select 1 from cro.staging_record s join cro.signature_event g on g.subject_id = s.id::text
          where (s.state = 'rejected' and g.intent = 'reject' and g.meaning_of_signature = 'I reject this change')
             or (s.state in ('signed', 'promoted') and g.intent = 'approve')`,
      ),
    ).toBe(55);
    // Signatures were made by the study's signer, under their printed name.
    expect(
      await count(
        db.operator,
        `select 1 from cro.signature_event g join cro.user_profile p on p.user_id = g.user_id
          join cro.role_assignment ra on ra.user_id = g.user_id and ra.role = 'signer' and ra.study_id = g.study_id
         where g.user_display_name = p.printed_name`,
      ),
    ).toBe(55);
  });

  it('proposes no value a record already has: each update field changes the live row it was proposed against', async () => {
    // Promoted: against the row the promotion replaced (live_row_before, 0053), as the record detail diffs it.
    const promoted = await db.operator.query<{ id: string; proposed: object; unchanged: string[] }>(
      `select s.id, s.proposed_state as proposed,
              array(select e.key from jsonb_each(s.proposed_state) as e
                     where p.payload -> 'live_row_before' -> e.key = e.value) as unchanged
         from cro.staging_record s
         join cro.provenance_event p on p.action = 'promote' and p.payload ->> 'staging_id' = s.id::text
        where s.state = 'promoted' and jsonb_typeof(p.payload -> 'live_row_before') = 'object'`,
    );
    expect(promoted.rows.length).toBeGreaterThanOrEqual(5);
    expect(promoted.rows.filter((row) => row.unchanged.length > 0)).toEqual([]);
    // The others: against the row as it was when proposed (the one a later promotion replaced, else
    // the row now) and against the row now, which the queue diffs them against.
    const others = await db.operator.query<{
      id: string;
      state: string;
      proposed: object;
      unchanged: string[];
    }>(
      `with updates as (
         select s.*, cs_private.live_row_json(s.entity_kind::text, s.entity_id) as live_now,
                (select p.payload -> 'live_row_before'
                   from cro.provenance_event p join cro.staging_record ps on ps.id::text = p.payload ->> 'staging_id'
                  where p.action = 'promote' and p.subject_id = s.entity_id::text and ps.updated_at > s.created_at
                  order by ps.updated_at limit 1) as live_later_replaced
           from cro.staging_record s
          where s.state <> 'promoted' and s.entity_id is not null)
       select u.id, u.state, u.proposed_state as proposed,
              array(select e.key from jsonb_each(u.proposed_state) as e
                     where coalesce(u.live_later_replaced, u.live_now) -> e.key = e.value
                        or u.live_now -> e.key = e.value) as unchanged
         from updates u`,
    );
    expect(others.rows.length).toBeGreaterThan(50);
    expect(others.rows.filter((row) => row.unchanged.length > 0)).toEqual([]);
  });

  it('records every transition in the hash-chained audit log', async () => {
    const expected: Record<string, string[]> = {
      proposed: ['staging.proposed'],
      reviewing: ['staging.proposed', 'staging.reviewing'],
      signed: ['staging.proposed', 'staging.reviewing', 'staging.signed'],
      promoted: ['staging.proposed', 'staging.reviewing', 'staging.signed', 'staging.promoted'],
      rejected: ['staging.proposed', 'staging.reviewing', 'staging.rejected'],
    };
    const { rows } = await db.operator.query<{ state: string; events: string[] }>(
      `select s.state, array_agg(a.event_type order by a.seq) as events
         from cro.staging_record s join audit.audit_log a on a.payload ->> 'staging_id' = s.id::text
        group by s.id, s.state`,
    );
    expect(rows.length).toBe(summary.counts.staging.total);
    for (const row of rows) expect(row.events).toEqual(expected[row.state]);
    expect(
      await count(db.operator, "select 1 from audit.audit_log where event_type = 'signature.recorded'"),
    ).toBe(55);
    // The chain links and every entry hash verifies.
    expect(
      await count(
        db.operator,
        `select 1 from (select *, lag(entry_hash) over (order by seq) as prior from audit.audit_log) a
          where prev_hash <> coalesce(prior, repeat('0', 64))
             or entry_hash <> audit.entry_hash(seq, occurred_at, actor, event_type, payload_hash, prev_hash)
             or payload_hash <> cs_private.json_sha256(payload)`,
      ),
    ).toBe(0);
  });

  it('gives each patient 3 to 6 diary records of 1 to 3 events, and annotations some of which are resolved', async () => {
    const { rows } = await db.operator.query<{ records: string; max_version: number; min_version: number }>(
      'select count(*) as records, max(version) as max_version, min(version) as min_version from diary.record_state group by patient_id',
    );
    expect(rows.length).toBe(6);
    for (const row of rows) {
      expect(Number(row.records)).toBeGreaterThanOrEqual(3);
      expect(Number(row.records)).toBeLessThanOrEqual(6);
      expect(row.min_version).toBeGreaterThanOrEqual(1);
      expect(row.max_version).toBeLessThanOrEqual(3);
    }
    // The patient's own operations are the patient's (other roles write corrections, transcriptions).
    expect(
      await count(
        db.operator,
        "select 1 from diary.record_audit where operation like 'USER_%' and role <> 'USER'",
      ),
    ).toBe(0);
    expect(
      await count(db.operator, "select 1 from diary.investigator_annotations where annotation_kind = 'note'"),
    ).toBeGreaterThan(0);
    expect(
      await count(
        db.operator,
        "select 1 from diary.investigator_annotations where annotation_kind = 'query'",
      ),
    ).toBeGreaterThan(0);
    expect(
      await count(db.operator, 'select 1 from diary.investigator_annotations where resolved'),
    ).toBeGreaterThan(0);
    // Annotations were written by the investigator of the record's site.
    expect(
      await count(
        db.operator,
        `select 1 from diary.investigator_annotations a
          where not exists (select 1 from diary.investigator_site_assignments i
                             where i.investigator_id = a.investigator_id and i.site_id = a.site_id)`,
      ),
    ).toBe(0);
  });

  describe('protocol builds', () => {
    interface BuildRow {
      id: string;
      code: string;
      build_number: string;
      build_version: string;
      build_type: string;
      build_status: string;
      amendment_reference: string | null;
      build_description: string;
      completed_sequence: number;
      built_by: string;
      created_at: Date;
      build_end_time: Date;
      error_log: { attempt: number; at: string; by: string; errors: { path: string; field: string }[] }[];
      transitions: string[];
      configured: number;
    }
    const builds = async (): Promise<BuildRow[]> =>
      (
        await db.operator.query<BuildRow>(
          `select b.id, s.code, b.build_number, b.build_version, b.build_type, b.build_status, b.amendment_reference,
                  b.build_description, b.completed_sequence, b.built_by, b.created_at, b.build_end_time, b.error_log,
                  array(select a.payload ->> 'to_status' from audit.audit_log a
                         where a.event_type = 'study_build.transition' and a.payload ->> 'build_id' = b.id::text
                         order by a.seq) as transitions,
                  (select count(*)::int from audit.audit_log a
                    where a.event_type = 'study_build.configured' and a.payload ->> 'build_id' = b.id::text) as configured
             from cro.study_database_build b join cro.study s on s.id = b.study_id
            order by s.code, b.completed_sequence`,
        )
      ).rows;
    const adminId = async () =>
      (
        await db.operator.query<{ id: string }>(
          'select user_id as id from cs_private.login_role where role_name = $1',
          [demoPerson('admin').email],
        )
      ).rows[0]?.id;
    const buildOf = async (code: string, number: string) =>
      (await builds()).find((build) => build.code === code && build.build_number === number) as BuildRow;

    it('gives every study a COMPLETED INITIAL build B1, made by the administrator before any of its data', async () => {
      const admin = await adminId();
      const rows = await builds();
      for (const code of ['AUR-HHT-201', 'NWO-ONC-301']) {
        const initial = rows.find((build) => build.code === code && build.build_type === 'INITIAL');
        expect(initial).toMatchObject({
          build_number: 'B1',
          build_version: '1.0',
          build_status: 'COMPLETED',
          completed_sequence: 1,
          built_by: admin,
          error_log: [],
          transitions: ['DRAFT', 'IN_PROGRESS', 'COMPLETED'],
          configured: 0,
        });
        expect(initial?.build_description).toContain(code);
      }
      // The standard configuration (diary form and every entity form), completed before the study's
      // first enrolment, live row, sponsor request, proposal, provenance or diary event.
      const late = await db.operator.query<{ code: string; earliest: Date; completed: Date }>(
        `select s.code, b.build_end_time as completed, least(
                  (select min(u.enrolled_at) from diary.user_site_assignments u join diary.sites t using (site_id)
                    where t.study_id = s.id),
                  (select min(a.client_timestamp) from diary.record_audit a join diary.sites t using (site_id)
                    where t.study_id = s.id),
                  (select min(created_at) from cro.study_kpi where study_id = s.id),
                  (select min(created_at) from cro.study_milestone where study_id = s.id),
                  (select min(created_at) from cro.study_risk where study_id = s.id),
                  (select min(created_at) from cro.study_resource where study_id = s.id),
                  (select min(created_at) from cro.live_essential_document where study_id = s.id),
                  (select min(created_at) from cro.sponsor_request where study_id = s.id),
                  (select min(created_at) from cro.staging_record where study_id = s.id),
                  (select min(occurred_at) from cro.provenance_event where study_id = s.id)) as earliest
           from cro.study s join cro.study_database_build b on b.study_id = s.id and b.build_type = 'INITIAL'
          where b.configuration_snapshot = cs_private.standard_build_configuration()`,
      );
      expect(late.rows.length).toBe(2);
      for (const row of late.rows)
        expect(row.completed.getTime(), row.code).toBeLessThan(row.earliest.getTime());
    });

    it('amends the HHT diary study with B2, whose first run FAILED naming the field, then was retried and COMPLETED', async () => {
      const admin = await adminId();
      const hht = (await builds()).filter((build) => build.code === 'AUR-HHT-201');
      expect(hht.map((build) => [build.build_number, build.build_type, build.completed_sequence])).toEqual([
        ['B1', 'INITIAL', 1],
        ['B2', 'AMENDMENT', 2],
      ]);
      const amendment = hht[1] as BuildRow;
      expect(amendment).toMatchObject({
        build_version: '2.0',
        build_status: 'COMPLETED',
        amendment_reference: 'Protocol amendment 3',
        built_by: admin,
        transitions: ['DRAFT', 'IN_PROGRESS', 'FAILED', 'IN_PROGRESS', 'COMPLETED'],
        configured: 1,
      });
      expect(amendment.build_description).toMatch(/rescue_treatment/);
      // Completed about 11 days before the seed's now; the failed run is in the log, naming the field.
      const daysAgo = (seededNow.getTime() - amendment.build_end_time.getTime()) / dayMs;
      expect(daysAgo).toBeGreaterThan(10);
      expect(daysAgo).toBeLessThan(12);
      expect(amendment.error_log).toHaveLength(1);
      const failed = amendment.error_log[0];
      expect(failed?.attempt).toBe(1);
      expect(failed?.by).toBe(admin);
      expect(new Date(failed?.at ?? '').getTime()).toBeGreaterThan(amendment.created_at.getTime());
      expect(new Date(failed?.at ?? '').getTime()).toBeLessThan(amendment.build_end_time.getTime());
      expect(failed?.errors).toEqual([
        expect.objectContaining({
          field: 'rescue_treatment',
          path: 'forms[diary_entry].fields[rescue_treatment].values',
        }),
      ]);
      // The oncology study was not amended.
      expect(
        (await builds()).filter((build) => build.code === 'NWO-ONC-301').map((build) => build.build_number),
      ).toEqual(['B1']);
    });

    it('B2 adds rescue_treatment to the diary form and tightens the duration range; entity forms unchanged', async () => {
      const b1 = await buildOf('AUR-HHT-201', 'B1');
      const b2 = await buildOf('AUR-HHT-201', 'B2');
      const fields = async (buildId: string, form: string) =>
        (
          await db.operator.query<{
            field_code: string;
            data_type: string;
            required: boolean;
            allowed_values: string[] | null;
            min_value: string | null;
            max_value: string | null;
          }>(
            `select field_code, data_type, required, allowed_values, min_value, max_value
               from cro.build_form_field where build_id = $1 and form_code = $2 order by ordinal`,
            [buildId, form],
          )
        ).rows;
      const before = await fields(b1.id, 'diary_entry');
      const after = await fields(b2.id, 'diary_entry');
      expect(after.map((field) => field.field_code)).toEqual([
        ...before.map((field) => field.field_code).filter((code) => code !== 'notes'),
        'rescue_treatment',
        'notes',
      ]);
      expect(before.find((field) => field.field_code === 'duration_minutes')).toMatchObject({
        min_value: '0',
        max_value: '1440',
      });
      expect(after.find((field) => field.field_code === 'duration_minutes')).toMatchObject({
        min_value: '1',
        max_value: '240',
      });
      expect(after.find((field) => field.field_code === 'rescue_treatment')).toEqual({
        field_code: 'rescue_treatment',
        data_type: 'choice',
        required: false,
        allowed_values: ['none', 'pressure', 'ice', 'packing', 'cautery'],
        min_value: null,
        max_value: null,
      });
      for (const kind of entityKinds) expect(await fields(b2.id, kind)).toEqual(await fields(b1.id, kind));
    });

    it('records diary events, annotations and proposals under the build current when they were written', async () => {
      const b2 = await buildOf('AUR-HHT-201', 'B2');
      const hhtStudyId = (
        await db.operator.query<{ id: string }>("select id from cro.study where code = 'AUR-HHT-201'")
      ).rows[0]?.id;
      // Each value's build is B2 exactly when it was written after B2 completed (the study's others: B1).
      const misplaced = await count(
        db.operator,
        `with value as (
           select t.study_id, a.client_timestamp as at, a.build_id from diary.record_audit a join diary.sites t using (site_id)
           union all
           select t.study_id, n.created_at, n.build_id from diary.investigator_annotations n join diary.sites t using (site_id)
           union all
           select study_id, created_at, build_id from cro.staging_record
           union all
           select study_id, occurred_at, build_id from cro.provenance_event where action <> 'promote')
         select 1 from value v
           join cro.study_database_build b on b.id = v.build_id
          where b.study_id <> v.study_id
             or b.build_number <> case when v.study_id = $1 and v.at >= $2 then 'B2' else 'B1' end`,
        [hhtStudyId, b2.build_end_time],
      );
      expect(misplaced).toBe(0);
      // A promotion's provenance carries its proposal's build, whenever it happened.
      expect(
        await count(
          db.operator,
          `select 1 from cro.provenance_event p join cro.staging_record s on s.id::text = p.payload ->> 'staging_id'
            where p.action = 'promote' and p.build_id is distinct from s.build_id`,
        ),
      ).toBe(0);
      const byBuild = async (sql: string) => {
        const { rows } = await db.operator.query<{ build_number: string; n: string }>(
          `select b.build_number, count(*) as n from (${sql}) v join cro.study_database_build b on b.id = v.build_id
            join cro.study s on s.id = b.study_id where s.code = 'AUR-HHT-201' group by 1 order by 1`,
        );
        return Object.fromEntries(rows.map((row) => [row.build_number, Number(row.n)]));
      };
      for (const sql of [
        'select build_id from diary.record_audit',
        'select build_id from diary.investigator_annotations',
        'select build_id from cro.staging_record',
      ]) {
        const counts = await byBuild(sql);
        expect(counts.B1, sql).toBeGreaterThan(0);
        expect(counts.B2, sql).toBeGreaterThan(0);
      }
      // The new field is used under B2 only; a record carries its latest event's build.
      expect(
        await count(
          db.operator,
          `select 1 from diary.record_audit where data ? 'rescue_treatment' and build_id = $1`,
          [b2.id],
        ),
      ).toBeGreaterThan(1);
      expect(
        await count(
          db.operator,
          `select 1 from diary.record_audit where data ? 'rescue_treatment' and build_id <> $1`,
          [b2.id],
        ),
      ).toBe(0);
      expect(
        await count(
          db.operator,
          `select 1 from diary.record_state s join diary.record_audit a on a.audit_id = s.last_audit_id
            where s.build_id is distinct from a.build_id`,
        ),
      ).toBe(0);
      // Every signature binds its record's build (content-hash version 2), the superseded B1's too (a
      // signature whose live row a later promotion changed no longer recomputes: left out).
      expect(
        await count(
          db.operator,
          `select 1 from cro.signature_event g join cro.staging_record s on s.id::text = g.subject_id
            where g.content_hash_version <> 2 or g.content_hash = cs_private.signing_content_hash_at(s, 1::smallint)`,
        ),
      ).toBe(0);
      const signedUnder = await byBuild(
        `select s.build_id from cro.staging_record s join cro.signature_event g on g.subject_id = s.id::text
          where g.content_hash = cs_private.signing_content_hash_at(s, 2::smallint)`,
      );
      expect(signedUnder.B1).toBeGreaterThan(0);
      // The HHT signer's queue holds proposals under the superseded B1 and under the current B2.
      const awaiting = await byBuild(
        "select build_id from cro.staging_record where state in ('proposed', 'reviewing')",
      );
      expect(awaiting.B1).toBeGreaterThan(0);
      expect(awaiting.B2).toBeGreaterThan(0);
    });

    it('has diary records whose history spans B1 and B2, at every HHT site, read by its investigator and the inspector', async () => {
      const spanning = `select event_uuid, min(site_id) as site_id from diary.record_audit
                         group by event_uuid having count(distinct build_id) = 2`;
      const all = await db.operator.query<{ site_id: string }>(spanning);
      expect(new Set(all.rows.map((row) => row.site_id))).toEqual(new Set(['HHT-101', 'HHT-102']));
      for (const key of ['investigator101', 'investigator102']) {
        const client = await as(key);
        const site = (demoPerson(key).diary as { siteIds: string[] }).siteIds[0];
        const { rows } = await client.query<{ event_uuid: string; site_id: string }>(
          `select r.* from (${spanning}) r join diary.record_audit a on a.event_uuid = r.event_uuid
            where a.change_reason = $1 order by a.audit_id`,
          [rescueTreatmentChangeReason],
        );
        expect(rows.map((row) => row.site_id)).toEqual([site]);
        // They read both builds of their study (for the history's build labels).
        const visible = await client.query<{ build_number: string }>(
          'select build_number from cro.study_database_build order by build_number',
        );
        expect(visible.rows.map((row) => row.build_number)).toEqual(['B1', 'B2']);
        // The correction after the amendment is the patient's, with its reason, and names the rescue treatment.
        const last = await client.query<{ change_reason: string; data: Record<string, unknown> }>(
          `select change_reason, data from diary.record_audit where event_uuid = $1 order by audit_id desc limit 1`,
          [rows[0]?.event_uuid],
        );
        expect(last.rows[0]?.change_reason).toMatch(/rescue treatment/);
        expect(last.rows[0]?.data.rescue_treatment).toBeTruthy();
      }
      expect(await count(await as('inspector'), spanning)).toBe(all.rows.length);
      expect(await count(await as('investigator301'), spanning)).toBe(0);
    });
  });

  it('lets every demo person sign in as themselves', async () => {
    expect(demoSignInList().length).toBe(demoPeople.length);
    for (const entry of demoSignInList()) {
      expect(entry.password.length).toBeGreaterThanOrEqual(12);
    }
    expect(new Set(demoPeople.map((person) => person.password)).size).toBe(demoPeople.length);
    for (const person of demoPeople) {
      const client = await as(person.key);
      const { rows } = await client.query<{ uid: string; email: string }>(
        'select auth.uid()::text as uid, (select printed_name from cro.user_profile where user_id = auth.uid()) as email',
      );
      expect(rows[0]?.uid).toBeTruthy();
      expect(rows[0]?.email).toBe(person.printedName);
    }
    expect(
      demoSignInList()
        .filter((entry) => entry.hasTotp)
        .map((entry) => entry.email),
    ).toEqual([
      'admin@countersign.demo',
      'admin.two@countersign.demo',
      'signer.a@countersign.demo',
      'signer.b@countersign.demo',
      'signer.c@countersign.demo',
      'signer.d@countersign.demo',
    ]);
  });

  it('shows each role only what it may see (spot checks)', async () => {
    const studyCode = async (key: string) =>
      (await (await as(key)).query<{ code: string }>('select code from cro.study order by code')).rows.map(
        (row) => row.code,
      );
    expect(await studyCode('admin')).toEqual(['AUR-HHT-201', 'NWO-ONC-301']);
    expect(await studyCode('signerA')).toEqual(['AUR-HHT-201']);
    expect(await studyCode('signerB')).toEqual(['NWO-ONC-301']);
    expect(await studyCode('sponsorNorthwind')).toEqual(['NWO-ONC-301']);
    expect(await studyCode('patient1')).toEqual([]);

    // A signer sees only their study's queue; the sponsor sees no queue but only their own requests.
    const signerA = await as('signerA');
    const visible = await count(signerA, 'select 1 from cro.staging_record');
    const hhtTotal = await count(
      db.operator,
      "select 1 from cro.staging_record s join cro.study t on t.id = s.study_id where t.code = 'AUR-HHT-201'",
    );
    expect(visible).toBe(hhtTotal);
    const sponsor = await as('sponsorAurelia');
    expect(await count(sponsor, 'select 1 from cro.staging_record')).toBe(0);
    const sponsorRequests = await sponsor.query<{ sponsor_id: string }>(
      'select sponsor_id from cro.sponsor_request',
    );
    expect(sponsorRequests.rows.length).toBeGreaterThan(0);
    expect(new Set(sponsorRequests.rows.map((row) => row.sponsor_id))).toEqual(
      new Set(['aurelia-therapeutics']),
    );

    // The audit trail: inspector and admin read it, a monitor does not.
    expect(await count(await as('inspector'), 'select 1 from audit.audit_log')).toBeGreaterThan(500);
    expect(await count(await as('monitor'), 'select 1 from audit.audit_log')).toBe(0);
    // The agent reads its studies' staging but no signatures.
    const agent = await as('agent');
    expect(await count(agent, 'select 1 from cro.staging_record')).toBe(summary.counts.staging.total);
    expect(await count(agent, 'select 1 from cro.signature_event')).toBe(0);

    // Diary: a patient sees only their own records; an investigator only their site; an analyst
    // reads only the de-identified projection of their sites (0059), never the raw rows.
    const patient = await as('patient1');
    const own = await patient.query<{ patient_id: string }>(
      'select distinct patient_id from diary.record_state',
    );
    expect(own.rows.length).toBe(1);
    const investigator = await as('investigator102');
    const sites = await investigator.query<{ site_id: string }>(
      'select distinct site_id from diary.record_state',
    );
    expect(sites.rows.map((row) => row.site_id)).toEqual(['HHT-102']);
    const analyst = await as('analyst');
    expect(await count(analyst, 'select 1 from diary.record_state')).toBe(0);
    expect(await count(analyst, 'select 1 from diary.record_audit')).toBe(0);
    expect(await count(analyst, 'select 1 from diary.deidentified_entry')).toBe(summary.counts.diary.records);
    // The analyst's screen has data at the HHT sites, de-identified: no notes, dates as study days.
    const projected = await analyst.query<{ site_id: string; data: Record<string, unknown> }>(
      'select site_id, data from diary.deidentified_entry',
    );
    const projectedSites = new Set(projected.rows.map((row) => row.site_id));
    expect(projectedSites.has('HHT-101') && projectedSites.has('HHT-102')).toBe(true);
    for (const row of projected.rows) {
      expect(Object.keys(row.data)).not.toContain('notes');
      expect(Object.keys(row.data)).not.toContain('date');
      expect(row.data.date_study_day).toEqual(expect.any(Number));
    }
  });

  it('has a pending admin correction at HHT-101 for its investigator to review [DIARY-CORRECTION-REVIEW]', async () => {
    const admin = demoPerson('admin');
    const { rows } = await db.operator.query(
      `select a.operation, a.role, a.previous_data, a.data, a.change_reason, r.status, r.review_id, r.site_id,
              r.changed_fields, u.email as corrected_by
         from diary.correction_review r join diary.record_audit a on a.audit_id = r.audit_id
         join auth.users u on u.id = r.corrected_by`,
    );
    expect(rows).toHaveLength(1);
    const correction = rows[0];
    expect(correction).toMatchObject({
      operation: 'ADMIN_CORRECTION',
      role: 'ADMIN',
      status: 'pending',
      site_id: 'HHT-101',
      changed_fields: ['duration_minutes'],
      corrected_by: admin.email,
      change_reason: demoCorrectionJustification,
      data: { duration_minutes: demoCorrectedDuration },
    });
    expect(correction.previous_data.duration_minutes).not.toBe(demoCorrectedDuration);
    expect(
      await count(
        db.operator,
        "select 1 from audit.audit_log where event_type = 'diary.correction' and payload ->> 'review_id' = $1",
        [correction.review_id],
      ),
    ).toBe(1);
    // Dr. Marchetti (HHT-101) sees it pending; the investigator of HHT-102 does not.
    expect(
      await count(
        await as('investigator101'),
        "select 1 from diary.correction_review where status = 'pending'",
      ),
    ).toBe(1);
    expect(await count(await as('investigator102'), 'select 1 from diary.correction_review')).toBe(0);
  });

  it('has a transcribed paper entry at HHT-101 and an open conflict for its investigator to resolve [DIARY-TRANSCRIBE]', async () => {
    const investigator = await as('investigator101');
    const events = await db.operator.query(
      `select operation, role, source_reference, u.email as created_by
         from diary.record_audit a join auth.users u on u.id = a.created_by
        where a.event_uuid = $1 order by a.audit_id`,
      [demoTranscription.eventUuid],
    );
    const paperDate = new Date(seededNow.getTime() - demoTranscription.paperDaysAgo * dayMs)
      .toISOString()
      .slice(0, 10);
    expect(events.rows).toEqual([
      {
        operation: 'INVESTIGATOR_TRANSCRIPTION',
        role: 'INVESTIGATOR',
        source_reference: { page_id: demoTranscription.pageId, entry_date: paperDate },
        created_by: demoPerson('investigator101').email,
      },
      {
        operation: 'USER_UPDATE',
        role: 'USER',
        source_reference: null,
        created_by: demoPerson('patient1').email,
      },
    ]);
    // The conflict is Dr. Marchetti's to resolve, and a field merge is possible (different fields).
    const conflicts = await investigator.query(
      `select submitted_operation, submitted_data ->> 'intensity' as mine, current_data ->> 'duration_minutes' as theirs
         from diary.audit_conflicts where event_uuid = $1 and resolved_at is null
          and submitted_by = (select auth.uid())`,
      [demoTranscription.eventUuid],
    );
    expect(conflicts.rows).toEqual([
      { submitted_operation: 'INVESTIGATOR_TRANSCRIPTION', mine: 'severe', theirs: '15' },
    ]);
  });

  it('the demo agent proposes new records as itself and is refused everything else', async () => {
    const agent = await as('agent');
    const rng = createRng(7);
    const before = summary.counts.staging.total;
    const made = [];
    for (const entityKind of entityKinds) made.push(await proposeAsAgent(agent, rng, { entityKind }));
    expect(await count(db.operator, 'select 1 from cro.staging_record')).toBe(before + entityKinds.length);
    const agentId = (
      await db.operator.query<{ id: string }>(
        'select user_id as id from cs_private.login_role where role_name = $1',
        [demoPerson('agent').email],
      )
    ).rows[0]?.id;
    for (const proposal of made) {
      const { rows } = await db.operator.query<{
        state: string;
        created_by: string;
        actor_kind: string;
        subject_id: string;
      }>(
        `select s.state, s.created_by, p.actor_kind, p.subject_id
           from cro.staging_record s join cro.provenance_event p on p.id = s.provenance_id where s.id = $1`,
        [proposal.stagingId],
      );
      expect(rows[0]).toEqual({
        state: 'proposed',
        created_by: agentId,
        actor_kind: 'agent',
        subject_id: proposal.stagingId,
      });
      // Under the study's current build, set by the server: the HHT study's amendment, the other's B1.
      expect(proposal.buildNumber).toBe(proposal.studyCode === 'AUR-HHT-201' ? 'B2' : 'B1');
    }
    // An update changes every field it names (the study is always one).
    const unchanged = await db.operator.query<{ id: string; unchanged: string[] }>(
      `select s.id, array(select e.key from jsonb_each(s.proposed_state) as e
                           where cs_private.live_row_json(s.entity_kind::text, s.entity_id) -> e.key = e.value) as unchanged
         from cro.staging_record s where s.id = any($1::uuid[]) and s.entity_id is not null`,
      [made.map((proposal) => proposal.stagingId)],
    );
    expect(unchanged.rows.length).toBeGreaterThan(0);
    expect(unchanged.rows.filter((row) => row.unchanged.length > 0)).toEqual([]);
    const audit = await count(
      db.operator,
      "select 1 from audit.audit_log where event_type = 'staging.proposed' and actor = $1",
      [agentId],
    );
    expect(audit).toBe(before + entityKinds.length);

    const attempts = await demonstrateAgentRefusals(agent);
    expect(attempts.length).toBeGreaterThanOrEqual(8);
    expect(attempts.map((attempt) => attempt.attempt)).toContain(
      'create a protocol build (cro.study_database_build)',
    );
    for (const attempt of attempts) {
      expect(attempt, attempt.attempt).toMatchObject({ refused: true });
      expect(attempt.sqlstate).toMatch(/^(42501|CS\d{3})$/);
    }
    // Nothing changed.
    expect(await count(db.operator, 'select 1 from cro.staging_record')).toBe(before + entityKinds.length);
  });
});

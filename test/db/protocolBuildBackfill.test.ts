// Migration 0054 on a database that already holds data: a database migrated up to 0053 and used
// (a study with a diary, annotations, a proposal with its provenance and a signature, and a second
// study without any), then migrated on. Every study gets a completed INITIAL build, every existing
// value is assigned to it and pulled again by the workstations, the old signature (content-hash
// version 1) still verifies through promotion, and new data is stamped and validated from then on.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MigrationFile, migrate, readMigrationFiles } from '../../src/main/backend/migrator';
import { loginRoleName, provisionPerson } from '../../src/main/backend/provisioning';
import { actingAs } from './support/operatorActions';
import { migrationsDir, testServer } from './support/testServer';

const buildsMigration = '0054_protocol_builds.sql';
const password = 'correct horse battery staple';

describe('migration 0054 on existing data [BUILD-BACKFILL]', () => {
  const server = testServer();
  const tag = `b${randomBytes(4).toString('hex')}`;
  const name = `countersign_${tag}`;
  const email = (short: string) => `${short}.${tag}@example.test`;
  const files: MigrationFile[] = readMigrationFiles(migrationsDir);
  const clients: pg.Client[] = [];
  let op: pg.Client;
  const ids: Record<string, string> = {};
  /** sync_xid of every row before the migration, per table. */
  let syncBefore: Record<string, string>;

  const connect = async (user: string, secret: string, database = name) => {
    const client = new pg.Client({ host: server.host, port: server.port, user, password: secret, database });
    await client.connect();
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    expect(files.map((file) => file.name)).toContain(buildsMigration);
    const root = await connect(server.superuser, server.password, 'postgres');
    await root.query(`create database ${name}`);
    op = await connect(server.superuser, server.password);
    await migrate(
      op,
      files.filter((file) => file.name < buildsMigration),
    );

    // The world as it was before builds, written through the rules of 0053.
    const person = (
      short: string,
      role: string,
      studyId: string | null,
      extra: Record<string, unknown> = {},
    ) =>
      provisionPerson(op, {
        email: email(short),
        printedName: `${short} person`,
        password,
        roles: role ? [{ role: role as never, studyId }] : [],
        ...extra,
      });
    ids.admin = await person('admin', 'admin', null);
    const study = (code: string) =>
      actingAs(
        op,
        ids.admin as string,
        async () =>
          (
            await op.query<{ id: string }>(
              `insert into cro.study (code, sponsor, phase, therapeutic_area, indication, status, health,
                 executive_summary, goals, start_date, planned_end_date, current_forecast_end_date,
                 contracted_budget, ebv_spent, eac_budget, currency, created_by)
               values ($1, 'Sponsor', 'II', 'Haematology', 'HHT', 'active', 'green', 'Before builds', '[]',
                       '2025-01-01', '2026-01-01', '2026-01-01', 1, 0, 1, 'EUR', $2) returning id`,
              [code, ids.admin],
            )
          ).rows[0]?.id as string,
        { bootstrap: true },
      );
    ids.study = await study('OLD-1');
    ids.otherStudy = await study('OLD-2');
    ids.agent = await person('agent', 'agent', ids.study, { agentId: 'agent-old' });
    ids.signer = await person('signer', 'signer', ids.study, { totpSecretBase32: 'JBSWY3DPEHPK3PXP' });
    ids.patient = await person('patient', 'patient', ids.study);
    ids.investigator = await person('investigator', 'investigator', ids.study);
    await op.query(
      `insert into diary.sites (site_id, site_name, site_number, study_id) values ('OLD1', 'Old site', '901', $1)`,
      [ids.study],
    );
    await op.query(
      `insert into diary.user_site_assignments (patient_id, site_id, subject_code) values ($1, 'OLD1', 'OLD-001')`,
      [ids.patient],
    );
    await op.query(
      `insert into diary.investigator_site_assignments (investigator_id, site_id, access_level) values ($1, 'OLD1', 'full')`,
      [ids.investigator],
    );
    // A diary record in the shape of the time, which the standard form would not accept today.
    ids.record = randomUUID();
    const entry = (operation: string, parent: string | null, data: object) =>
      actingAs(
        op,
        ids.patient as string,
        async () =>
          (
            await op.query<{ audit_id: string }>(
              `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp,
               parent_audit_id, change_reason)
             values ($1, $2, 'OLD1', $3, $4, now(), $5, 'entry') returning audit_id::text`,
              [ids.record, ids.patient, operation, JSON.stringify(data), parent],
            )
          ).rows[0]?.audit_id as string,
      );
    const first = await entry('USER_CREATE', null, { symptom: 'headache', severity: 9 });
    ids.head = await entry('USER_UPDATE', first, { symptom: 'headache', severity: 7 });
    ids.annotation = await actingAs(
      op,
      ids.investigator as string,
      async () =>
        (
          await op.query<{ id: string }>(
            `insert into diary.investigator_annotations (event_uuid, patient_id, parent_audit_id, investigator_id, site_id,
             annotation_kind, annotation_text)
           values ($1, $2, $3, $4, 'OLD1', 'note', 'Seen.') returning annotation_id::text as id`,
            [ids.record, ids.patient, ids.head, ids.investigator],
          )
        ).rows[0]?.id as string,
    );
    // A proposal, its provenance, its review and a signature (hashed as 0050 did), then signed.
    ids.staging = await actingAs(
      op,
      ids.agent as string,
      async () =>
        (
          await op.query<{ id: string }>(
            `insert into cro.staging_record (entity_kind, study_id, agent_id, proposed_state, created_by)
           values ('study_kpi', $1, 'agent-old', '{"label": "Enrolment", "value": "40%", "position": 1}', $2)
           returning id::text`,
            [ids.study, ids.agent],
          )
        ).rows[0]?.id as string,
    );
    await actingAs(op, ids.agent as string, () =>
      op.query(
        `select public.record_agent_provenance($1, 'propose', 'staging_record', $2, null, '[]', '{}')`,
        [ids.study, ids.staging],
      ),
    );
    await actingAs(op, ids.signer as string, () =>
      op.query(`update cro.staging_record set state = 'reviewing' where id = $1`, [ids.staging]),
    );
    await actingAs(op, ids.signer as string, () =>
      op.query(
        `insert into cro.signature_event (user_id, user_display_name, intent, subject_kind, subject_id, re_auth_at,
           meaning_of_signature, signed_at, created_by, study_id, content_hash, ceremony_id, nonce)
         select $1, 'signer person', 'approve', 'staging_record', s.id::text, now(), 'I approve this change', now(), $1,
                s.study_id, cs_private.signing_content_hash(s), gen_random_uuid(), replace(gen_random_uuid()::text, '-', '')
           from cro.staging_record s where s.id = $2`,
        [ids.signer, ids.staging],
      ),
    );
    await actingAs(op, ids.signer as string, () =>
      op.query(`update cro.staging_record set state = 'signed' where id = $1`, [ids.staging]),
    );
    syncBefore = await syncXids();

    await migrate(op, files);
  });
  afterAll(async () => {
    await Promise.all(clients.slice(1).map((client) => client.end().catch(() => undefined)));
    const root = clients[0] as pg.Client;
    await root.query(`drop database if exists ${name} with (force)`);
    const { rows } = await root.query<{ rolname: string }>(
      'select rolname from pg_roles where rolname like $1',
      [`%.${tag}@example.test`],
    );
    for (const row of rows) await root.query(`drop role if exists ${root.escapeIdentifier(row.rolname)}`);
    await root.end();
  });

  async function syncXids(): Promise<Record<string, string>> {
    const { rows } = await op.query<{ key: string; xid: string }>(
      `select 'record_audit' as key, max(sync_xid::text::bigint)::text as xid from diary.record_audit
       union all select 'record_state', max(sync_xid::text::bigint)::text from diary.record_state
       union all select 'annotation', max(sync_xid::text::bigint)::text from diary.investigator_annotations
       union all select 'staging', max(sync_xid::text::bigint)::text from cro.staging_record
       union all select 'provenance', max(sync_xid::text::bigint)::text from cro.provenance_event`,
    );
    return Object.fromEntries(rows.map((row) => [row.key, row.xid]));
  }

  it('gives every study one completed INITIAL build with the standard configuration, audited', async () => {
    const { rows } = await op.query(
      `select s.code, b.build_number, b.build_version, b.build_type::text, b.build_status::text, b.completed_sequence,
              b.built_by::text = s.created_by::text as built_by_creator,
              b.configuration_snapshot = cs_private.standard_build_configuration() as standard,
              (select count(*)::int from cro.build_form f where f.build_id = b.id) as forms,
              (select array_agg(a.payload ->> 'to_status' order by a.seq) from audit.audit_log a
                where a.event_type = 'study_build.transition' and a.payload ->> 'build_id' = b.id::text) as transitions
         from cro.study s join cro.study_database_build b on b.study_id = s.id order by s.code`,
    );
    const forms = (
      (await op.query('select cs_private.standard_build_configuration() as c')).rows[0].c.forms as unknown[]
    ).length;
    const expected = {
      build_number: 'B1',
      build_version: '1.0',
      build_type: 'INITIAL',
      build_status: 'COMPLETED',
      completed_sequence: 1,
      built_by_creator: true,
      standard: true,
      forms,
      transitions: ['DRAFT', 'IN_PROGRESS', 'COMPLETED'],
    };
    expect(rows).toEqual([
      { code: 'OLD-1', ...expected },
      { code: 'OLD-2', ...expected },
    ]);
  });

  it("assigns every existing value to its study's INITIAL build, without re-validating it", async () => {
    const { rows } = await op.query(
      `with initial as (select id from cro.study_database_build where study_id = $1)
       select (select array_agg(distinct build_id::text) from diary.record_audit) as events,
              (select array_agg(distinct build_id::text) from diary.record_state) as states,
              (select array_agg(distinct build_id::text) from diary.investigator_annotations) as annotations,
              (select array_agg(distinct build_id::text) from cro.staging_record) as staging,
              (select array_agg(distinct coalesce(build_id::text, 'none')) from cro.provenance_event) as provenance,
              (select id::text from initial) as initial,
              (select current_data from diary.record_state where event_uuid = $2) as data`,
      [ids.study, ids.record],
    );
    const initial = rows[0].initial as string;
    expect(rows[0]).toMatchObject({
      events: [initial],
      states: [initial],
      annotations: [initial],
      staging: [initial],
      provenance: [initial],
      data: { symptom: 'headache', severity: 7 },
    });
    // The columns are required from now on.
    const { rows: nullable } = await op.query(
      `select table_schema || '.' || table_name as t, is_nullable from information_schema.columns
        where column_name = 'build_id' and table_schema in ('diary', 'cro') and table_name not like 'build_form%'
          -- tables only: not a view (0059) nor one of record_audit's monthly partitions (0060)
          and exists (select 1 from pg_class c
                       where c.oid = (quote_ident(table_schema) || '.' || quote_ident(table_name))::regclass
                         and c.relkind in ('r', 'p') and not c.relispartition)
        order by 1`,
    );
    expect(nullable).toEqual([
      { t: 'cro.provenance_event', is_nullable: 'YES' },
      { t: 'cro.staging_record', is_nullable: 'NO' },
      { t: 'diary.investigator_annotations', is_nullable: 'NO' },
      { t: 'diary.record_audit', is_nullable: 'NO' },
      { t: 'diary.record_state', is_nullable: 'NO' },
    ]);
  });

  it("moves every backfilled row past the workstations' watermarks, so that the next pull fetches its build", async () => {
    const after = await syncXids();
    for (const [table, before] of Object.entries(syncBefore)) {
      expect(BigInt(after[table] as string), table).toBeGreaterThan(BigInt(before));
    }
  });

  it('keeps the old signature at content-hash version 1, and it still verifies through promotion', async () => {
    const { rows } = await op.query(
      `select g.content_hash_version, cs_private.signing_content_version(s) as version,
              g.content_hash = cs_private.signing_content_hash_at(s, 1::smallint) as signed_v1,
              g.content_hash = cs_private.signing_content_hash(s) as verifies
         from cro.staging_record s join cro.signature_event g on g.subject_id = s.id::text where s.id = $1`,
      [ids.staging],
    );
    expect(rows[0]).toEqual({ content_hash_version: 1, version: 1, signed_v1: true, verifies: true });
    const signer = await connect(loginRoleName(email('signer')), password);
    const { rows: outcome } = await signer.query<{ r: { outcome: string }[] }>(
      'select public.promote($1::uuid[]) as r',
      [[ids.staging]],
    );
    expect(outcome[0]?.r.map((o) => o.outcome)).toEqual(['promoted']);
  });

  it('stamps and validates what is written from then on', async () => {
    const patient = await connect(loginRoleName(email('patient')), password);
    const write = (data: object) =>
      patient.query<{ build_id: string }>(
        `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp,
           parent_audit_id, change_reason)
         values ($1, auth.uid(), 'OLD1', 'USER_UPDATE', $2, now(), $3, 'update after builds') returning build_id::text`,
        [ids.record, JSON.stringify(data), ids.head],
      );
    await expect(write({ symptom: 'headache', severity: 5 })).rejects.toMatchObject({
      code: 'CS422',
      message: expect.stringMatching(/diary field "severity" is not in form diary_entry of build B1/),
    });
    const { rows } = await write({ event_type: 'headache', date: '2026-01-05', intensity: 'moderate' });
    const { rows: initial } = await op.query<{ id: string }>(
      'select id::text from cro.study_database_build where study_id = $1',
      [ids.study],
    );
    expect(rows[0]?.build_id).toBe(initial[0]?.id);
  });
});

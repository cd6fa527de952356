// The diary event store partitioned by UTC month (migration 0060): events land in their month's
// partition; every append-only rule and policy holds on the parent and on each partition, for real
// logins and for the owner; a month without a partition refuses with a message saying what to run;
// partitions are made ahead by an idempotent function only an administrator (or the operator) runs;
// references into the event store are kept by the writers now that no foreign key can point at it.
// The migration itself is tested on a populated database: every row kept byte for byte, the identity
// continuing, the audit chain still verifying from genesis.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDiaryPartitions } from '../../src/main/backend/diaryPartitions';
import { type MigrationFile, migrate, readMigrationFiles } from '../../src/main/backend/migrator';
import { loginRoleName, provisionPerson } from '../../src/main/backend/provisioning';
import { actingAs, createStudy } from './support/operatorActions';
import { firstBadServerEntry, type ServerChainEntry } from './support/serverChainWalk';
import { createTestDatabase, migrationsDir, type TestDatabase, testServer } from './support/testServer';

const password = 'partition-pass-1234';
const entry = (fields: object = {}) => ({ event_type: 'epistaxis', date: '2026-02-10', ...fields });
/** The SQLSTATE a statement fails with, or 'ok'. */
const outcome = (query: Promise<unknown>) =>
  query.then(
    () => 'ok',
    (error: { code?: string }) => error.code ?? String(error),
  );

/** The partitions of diary.record_audit, in name order. */
async function partitions(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `select c.oid::regclass::text as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'diary.record_audit'::regclass order by 1`,
  );
  return rows.map((row) => row.name);
}

/** diary.record_audit_yYYYYmMM of the UTC month `offset` months from the server's now(). */
async function monthPartition(client: pg.ClientBase, offset = 0): Promise<string> {
  const { rows } = await client.query<{ name: string }>(
    `select 'diary.record_audit_y' || to_char((now() at time zone 'UTC') + make_interval(months => $1), 'YYYY"m"MM') as name`,
    [offset],
  );
  return rows[0]?.name as string;
}

/**
 * How each partition is guarded, from the catalog: the parent's row triggers (cloned), its own
 * TRUNCATE refusal, row-level security, and no privilege for anyone but its owner.
 */
async function partitionGuards(client: pg.ClientBase) {
  const { rows } = await client.query(
    `with parent_row_triggers as (
       select array_agg(tgname::text order by tgname) as names from pg_trigger
        where tgrelid = 'diary.record_audit'::regclass and not tgisinternal and (tgtype & 1) = 1)
     select c.oid::regclass::text as partition,
            c.relrowsecurity as rls,
            coalesce((select array_agg(distinct a.privilege_type) from aclexplode(c.relacl) a
                       where a.grantee <> c.relowner), '{}') as privileges_of_others,
            (select array_agg(t.tgname::text order by t.tgname) from pg_trigger t
              where t.tgrelid = c.oid and t.tgparentid <> 0 and not t.tgisinternal)
              = (select names from parent_row_triggers) as row_triggers_cloned,
            exists (select 1 from pg_trigger t where t.tgrelid = c.oid and t.tgname = 'record_audit_no_truncate'
                      and (t.tgtype & 32) = 32 and t.tgparentid = 0) as truncate_refused
       from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'diary.record_audit'::regclass order by 1`,
  );
  return rows;
}

describe('the diary event store, partitioned by month [DIARY-PARTITIONED]', () => {
  let db: TestDatabase;
  const ids: Record<string, string> = {};
  const logins: Record<string, pg.Client> = {};
  const record = { own: randomUUID(), neighbour: randomUUID(), otherSite: randomUUID() };
  const heads: Record<string, string> = {};

  const write = (
    client: pg.ClientBase,
    eventUuid: string,
    patientId: string,
    site: string,
    parent: string | null,
    extra: { columns?: string; values?: string; params?: unknown[]; overriding?: boolean } = {},
  ) =>
    client.query<{ audit_id: string; partition: string }>(
      `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp,
         parent_audit_id, change_reason${extra.columns ?? ''})
       ${extra.overriding ? 'overriding system value' : ''}
       values ($1, $2, $3, $4, $5, now(), $6, 'entry'${extra.values ?? ''})
       returning audit_id::text, tableoid::regclass::text as partition`,
      [
        eventUuid,
        patientId,
        site,
        parent ? 'USER_UPDATE' : 'USER_CREATE',
        JSON.stringify(entry()),
        parent,
        ...(extra.params ?? []),
      ],
    );
  const count = async () =>
    Number((await db.operator.query('select count(*) from diary.record_audit')).rows[0].count);

  beforeAll(async () => {
    db = await createTestDatabase();
    const person = (short: string, role: string | null, studyId: string | null) =>
      db.provision({
        email: db.email(short),
        printedName: `${short} person`,
        password,
        roles: role ? [{ role: role as never, studyId }] : [],
      });
    ids.admin = await person('admin', 'admin', null);
    ids.study = await createStudy(db.operator, ids.admin, `PT-${db.tag}`);
    for (const [site, number] of [
      ['PA1', 'PA-1'],
      ['PA2', 'PA-2'],
    ]) {
      await db.operator.query(
        `insert into diary.sites (site_id, site_name, site_number, study_id) values ($1, $1, $2, $3)`,
        [site, `${number}-${db.tag}`, ids.study],
      );
    }
    for (const [short, site] of [
      ['patient', 'PA1'],
      ['neighbour', 'PA1'],
      ['faraway', 'PA2'],
    ] as const) {
      ids[short] = await person(short, 'patient', ids.study);
      await db.operator.query(
        `insert into diary.user_site_assignments (patient_id, site_id, subject_code) values ($1, $2, $3)`,
        [ids[short], site, `${short}-${db.tag}`],
      );
    }
    for (const [short, site] of [
      ['investigator', 'PA1'],
      ['otherInvestigator', 'PA2'],
    ] as const) {
      ids[short] = await person(short, 'investigator', ids.study);
      await db.operator.query(
        `insert into diary.investigator_site_assignments (investigator_id, site_id) values ($1, $2)`,
        [ids[short], site],
      );
    }
    for (const short of ['admin', 'patient', 'neighbour', 'faraway', 'investigator', 'otherInvestigator']) {
      logins[short] = await db.connectAs(db.email(short), password);
    }
    const own = await write(logins.patient as pg.Client, record.own, ids.patient as string, 'PA1', null);
    heads.ownFirst = own.rows[0]?.audit_id as string;
    const update = await write(
      logins.patient as pg.Client,
      record.own,
      ids.patient as string,
      'PA1',
      heads.ownFirst,
    );
    heads.own = update.rows[0]?.audit_id as string;
    heads.ownPartition = update.rows[0]?.partition as string;
    heads.neighbour = (
      await write(logins.neighbour as pg.Client, record.neighbour, ids.neighbour as string, 'PA1', null)
    ).rows[0]?.audit_id as string;
    heads.otherSite = (
      await write(logins.faraway as pg.Client, record.otherSite, ids.faraway as string, 'PA2', null)
    ).rows[0]?.audit_id as string;
  });
  afterAll(async () => {
    await db.drop();
  });

  it('has one partition per UTC month from this month through twelve months ahead, and an empty DEFAULT', async () => {
    const expected = await Promise.all(
      Array.from({ length: 13 }, (_, month) => monthPartition(db.operator, month)),
    );
    expect(await partitions(db.operator)).toEqual(['diary.record_audit_default', ...expected].sort());
    const { rows } = await db.operator.query(
      `select pg_get_expr(c.relpartbound, c.oid) as bound from pg_class c where c.oid = $1::regclass`,
      [expected[0]],
    );
    // Bounds are UTC instants (compared as such, whatever the session's time zone).
    const { rows: instants } = await db.operator.query(
      `select date_trunc('month', now() at time zone 'UTC') at time zone 'UTC' = $1::timestamptz as starts_in_utc`,
      [/FROM \('([^']+)'\)/.exec(rows[0].bound)?.[1]],
    );
    expect(instants[0].starts_in_utc).toBe(true);
    expect(
      Number((await db.operator.query('select count(*) from diary.record_audit_default')).rows[0].count),
    ).toBe(0);
    const { rows: key } = await db.operator.query(
      `select pg_get_partkeydef('diary.record_audit'::regclass) as key,
              (select pg_get_constraintdef(oid) from pg_constraint
                where conrelid = 'diary.record_audit'::regclass and contype = 'p') as primary_key`,
    );
    expect(key[0]).toEqual({
      key: 'RANGE (server_timestamp)',
      primary_key: 'PRIMARY KEY (audit_id, server_timestamp)',
    });
  });

  it('puts each event in the partition of its UTC month', async () => {
    expect(heads.ownPartition).toBe(await monthPartition(db.operator));
    const { rows } = await db.operator.query<{ partition: string; events: number }>(
      `select tableoid::regclass::text as partition, count(*)::int as events from diary.record_audit group by 1`,
    );
    expect(rows).toEqual([{ partition: await monthPartition(db.operator), events: 4 }]);
  });

  it('guards every partition as the parent: its row triggers, a TRUNCATE refusal, row-level security, no privilege for anyone', async () => {
    const guards = await partitionGuards(db.operator);
    expect(guards).toHaveLength(14);
    for (const guard of guards) {
      expect(guard, guard.partition).toMatchObject({
        rls: true,
        privileges_of_others: [],
        row_triggers_cloned: true,
        truncate_refused: true,
      });
    }
  });

  it('refuses the owner an UPDATE, DELETE or TRUNCATE of the event store, through the parent or any partition', async () => {
    const before = await count();
    const op = db.operator;
    expect(await outcome(op.query(`update diary.record_audit set change_reason = 'rewritten'`))).toBe(
      'CS403',
    );
    expect(await outcome(op.query('delete from diary.record_audit'))).toBe('CS403');
    expect(await outcome(op.query('truncate diary.record_audit'))).toBe('CS403');
    const current = heads.ownPartition as string;
    expect(
      await outcome(op.query(`update ${current} set data = '{}' where audit_id = $1`, [heads.own])),
    ).toBe('CS403');
    expect(await outcome(op.query(`delete from ${current} where audit_id = $1`, [heads.own]))).toBe('CS403');
    for (const partition of await partitions(op)) {
      expect(await outcome(op.query(`truncate ${partition}`)), partition).toBe('CS403');
    }
    expect(await count()).toBe(before);
  });

  it('lets a patient and an investigator reach events only through the parent, under its policies', async () => {
    const patient = logins.patient as pg.Client;
    const ownIds = (await patient.query('select audit_id::text from diary.record_audit order by 1')).rows.map(
      (row) => row.audit_id,
    );
    expect(ownIds.sort()).toEqual([heads.ownFirst, heads.own].sort());
    const investigatorIds = (
      await (logins.investigator as pg.Client).query('select audit_id::text from diary.record_audit')
    ).rows.map((row) => row.audit_id);
    expect(investigatorIds.sort()).toEqual([heads.ownFirst, heads.own, heads.neighbour].sort());
    const otherIds = (
      await (logins.otherInvestigator as pg.Client).query('select audit_id::text from diary.record_audit')
    ).rows.map((row) => row.audit_id);
    expect(otherIds).toEqual([heads.otherSite]);

    for (const short of ['patient', 'investigator']) {
      const login = logins[short] as pg.Client;
      expect(await outcome(login.query(`update diary.record_audit set change_reason = 'x'`)), short).toBe(
        '42501',
      );
      expect(await outcome(login.query('delete from diary.record_audit')), short).toBe('42501');
      expect(await outcome(login.query('truncate diary.record_audit')), short).toBe('42501');
      for (const partition of await partitions(db.operator)) {
        for (const statement of [
          `select * from ${partition}`,
          `update ${partition} set change_reason = 'x'`,
          `delete from ${partition}`,
          `truncate ${partition}`,
        ]) {
          expect(await outcome(login.query(statement)), `${short}: ${statement}`).toBe('42501');
        }
        const insert = login.query(
          `insert into ${partition} (event_uuid, patient_id, site_id, operation, data, client_timestamp, change_reason)
           values (gen_random_uuid(), $1, 'PA1', 'USER_CREATE', $2, now(), 'behind the parent')`,
          [ids.patient, JSON.stringify(entry())],
        );
        expect(await outcome(insert), `${short}: insert into ${partition}`).toBe('42501');
      }
    }
    // The parent keeps the policies it had (0010, 0059): reading by patient, site and admin; a
    // patient's own events the only insert.
    const { rows } = await db.operator.query(
      `select policyname::text, cmd from pg_policies where schemaname = 'diary' and tablename = 'record_audit' order by 1`,
    );
    expect(rows).toEqual([
      { policyname: 'admin can read all diary history', cmd: 'SELECT' },
      { policyname: 'investigators and inspectors can read diary history at their si', cmd: 'SELECT' },
      { policyname: 'patient can read their own diary history', cmd: 'SELECT' },
      { policyname: 'patient can record their own diary events', cmd: 'INSERT' },
    ]);
    // A patient still cannot write another patient's diary through the parent.
    expect(
      await outcome(write(logins.patient as pg.Client, randomUUID(), ids.neighbour as string, 'PA1', null)),
    ).toBe('42501');
  });

  it('refuses a supplied server_timestamp, of any month, with nothing written [DIARY-PARTITION-MISSING]', async () => {
    const before = await count();
    for (const supplied of [
      "now() - interval '2 months'",
      "now() + interval '5 years'",
      "now() - interval '1 second'",
    ]) {
      const error = await write(
        logins.patient as pg.Client,
        randomUUID(),
        ids.patient as string,
        'PA1',
        null,
        {
          columns: ', server_timestamp',
          values: `, ${supplied}`,
        },
      ).catch((e) => e);
      expect(error, supplied).toMatchObject({
        code: 'CS422',
        message: 'server_timestamp is set by the server: leave it out of a diary event',
      });
    }
    expect(await count()).toBe(before);
    expect(
      Number((await db.operator.query('select count(*) from diary.record_audit_default')).rows[0].count),
    ).toBe(0);
  });

  it('keeps audit_id unique: generated always, an existing id refused even to the owner, never changed', async () => {
    const explicit = write(logins.patient as pg.Client, randomUUID(), ids.patient as string, 'PA1', null, {
      columns: ', audit_id',
      values: ', $7',
      params: [heads.neighbour],
    });
    expect(await outcome(explicit)).toBe('428C9'); // cannot insert a non-DEFAULT value into a GENERATED ALWAYS column
    const reused = await actingAs(db.operator, ids.patient as string, () =>
      write(db.operator, randomUUID(), ids.patient as string, 'PA1', null, {
        columns: ', audit_id',
        values: ', $7',
        params: [heads.neighbour],
        overriding: true,
      }),
    ).catch((e) => e);
    expect(reused).toMatchObject({ code: 'CS409', message: expect.stringMatching(/exists already/) });
    // An identity column is never updated (428C9), and no column of an event is (CS403, append-only).
    expect(
      await outcome(
        db.operator.query('update diary.record_audit set audit_id = audit_id + 1000 where audit_id = $1', [
          heads.own,
        ]),
      ),
    ).toBe('428C9');
    const { rows } = await db.operator.query(
      'select count(*)::int as events, count(distinct audit_id)::int as ids from diary.record_audit',
    );
    expect(rows[0].events).toBe(rows[0].ids);
  });

  it('refuses a dangling reference into the event store through every writer, as no foreign key can point at it [DIARY-PARTITION-REFERENCES]', async () => {
    const { rows: keys } = await db.operator.query(
      `select count(*)::int as n from pg_constraint where contype = 'f' and confrelid in (
         select 'diary.record_audit'::regclass union all
         select inhrelid from pg_inherits where inhparent = 'diary.record_audit'::regclass)`,
    );
    expect(keys[0].n).toBe(0);
    const patient = logins.patient as pg.Client;
    const missing = '900000000000';
    // record_audit.parent_audit_id: only the record's own head.
    expect(await outcome(write(patient, record.own, ids.patient as string, 'PA1', missing))).toBe('CS409');
    expect(
      await outcome(write(patient, record.own, ids.patient as string, 'PA1', heads.neighbour as string)),
    ).toBe('CS409');
    expect(
      await outcome(
        patient.query(
          `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp,
             parent_audit_id, change_reason)
           values (gen_random_uuid(), $1, 'PA1', 'USER_CREATE', $2, now(), $3, 'new, with a parent')`,
          [ids.patient, JSON.stringify(entry()), heads.own],
        ),
      ),
    ).toBe('CS409');
    // investigator_annotations.parent_audit_id: an entry of that record.
    const annotate = (parent: string) =>
      (logins.investigator as pg.Client).query(
        `insert into diary.investigator_annotations (event_uuid, patient_id, parent_audit_id, investigator_id, site_id,
           annotation_kind, annotation_text)
         values ($1, $2, $3, $4, 'PA1', 'note', 'Seen.')`,
        [record.own, ids.patient, parent, ids.investigator],
      );
    expect(await annotate(missing).catch((e) => e)).toMatchObject({
      code: 'CS422',
      message: expect.stringMatching(/is not an entry of diary record/),
    });
    expect(await outcome(annotate(heads.neighbour as string))).toBe('CS422');
    expect(await outcome(annotate(heads.own as string))).toBe('ok');
    // record_state.last_audit_id: written by the event store's trigger only, even for the owner.
    expect(
      await outcome(
        db.operator.query('update diary.record_state set last_audit_id = $1 where event_uuid = $2', [
          missing,
          record.own,
        ]),
      ),
    ).toBe('CS403');
    // audit_conflicts.current_audit_id: written by the server's diary functions only.
    expect(
      await outcome(
        db.operator.query(
          `insert into diary.audit_conflicts (event_uuid, patient_id, site_id, submitted_parent_audit_id,
             current_audit_id, submitted_data)
           values ($1, $2, 'PA1', 1, $3, '{}')`,
          [record.own, ids.patient, missing],
        ),
      ),
    ).toBe('CS403');
    expect(
      (
        await db.operator.query('select last_audit_id::text from diary.record_state where event_uuid = $1', [
          record.own,
        ])
      ).rows[0].last_audit_id,
    ).toBe(heads.own);
  });

  it('makes partitions ahead idempotently, for the operator and for an administrator only, audited [DIARY-PARTITION-AHEAD]', async () => {
    // The operator's call, as the embedded backend makes it at every start.
    expect(await ensureDiaryPartitions(db.operator)).toEqual([]);
    expect(await ensureDiaryPartitions(db.operator, 14)).toEqual([
      await monthPartition(db.operator, 13),
      await monthPartition(db.operator, 14),
    ]);
    expect(await ensureDiaryPartitions(db.operator, 14)).toEqual([]);

    for (const short of ['patient', 'investigator', 'otherInvestigator']) {
      const login = logins[short] as pg.Client;
      expect(await outcome(login.query('select public.ensure_diary_partitions(15)')), short).toBe('CS403');
      expect(await outcome(login.query('select cs_private.ensure_record_audit_partitions(15)')), short).toBe(
        '42501',
      );
      expect(
        await outcome(login.query('select cs_private.create_record_audit_partition(current_date)')),
        short,
      ).toBe('42501');
    }
    const auditEntries = async () =>
      Number(
        (
          await db.operator.query(
            `select count(*) from audit.audit_log where event_type = 'diary.partitions_created'`,
          )
        ).rows[0].count,
      );
    expect(await auditEntries()).toBe(0);
    const admin = logins.admin as pg.Client;
    const first = (await admin.query('select public.ensure_diary_partitions(15) as r')).rows[0].r;
    const fifteen = await monthPartition(db.operator, 15);
    expect(first).toEqual({
      created: [fifteen],
      covered_through: fifteen.slice(-7).replace('m', '-').replace('y', ''),
    });
    const { rows: audited } = await db.operator.query(
      `select actor, payload from audit.audit_log where event_type = 'diary.partitions_created'`,
    );
    expect(audited).toEqual([
      { actor: ids.admin, payload: { partitions: [fifteen], months_ahead: 15, created_by: ids.admin } },
    ]);
    expect((await admin.query('select public.ensure_diary_partitions(15) as r')).rows[0].r.created).toEqual(
      [],
    );
    expect(await auditEntries()).toBe(1);
    for (const months of [-1, 121]) {
      expect(
        await outcome(admin.query('select public.ensure_diary_partitions($1)', [months])),
        String(months),
      ).toBe('CS422');
    }
    // What was made is guarded like the rest.
    const guards = await partitionGuards(db.operator);
    expect(guards).toHaveLength(17);
    expect(
      guards.filter(
        (guard) =>
          !guard.rls ||
          guard.privileges_of_others.length > 0 ||
          !guard.row_triggers_cloned ||
          !guard.truncate_refused,
      ),
    ).toEqual([]);
  });

  it('refuses an event of a month without a partition, naming the month and what to run, until an administrator makes it [DIARY-PARTITION-MISSING]', async () => {
    // The current month's partition set aside (as if it had never been made), for real logins to meet.
    const current = heads.ownPartition as string;
    const aside = `${current}_aside`;
    await db.operator.query(`alter table diary.record_audit detach partition ${current}`);
    await db.operator.query(`alter table ${current} rename to ${aside.replace('diary.', '')}`);
    const before = await count();
    const month = current.slice(-7).replace('y', '').replace('m', '-');
    const patient = logins.patient as pg.Client;
    const refused = await write(patient, randomUUID(), ids.patient as string, 'PA1', null).catch((e) => e);
    expect(refused).toMatchObject({
      code: 'CS503',
      message: `the diary event store has no partition for ${month} (UTC): an administrator runs public.ensure_diary_partitions`,
    });
    expect(await count()).toBe(before);
    expect(
      Number((await db.operator.query('select count(*) from diary.record_audit_default')).rows[0].count),
    ).toBe(0);

    const made = (await (logins.admin as pg.Client).query('select public.ensure_diary_partitions(0) as r'))
      .rows[0].r;
    expect(made.created).toEqual([current]);
    const accepted = await write(patient, randomUUID(), ids.patient as string, 'PA1', null);
    expect(accepted.rows[0]?.partition).toBe(current);
  });
});

// ── the migration on a populated event store ────────────────────────────────────────────────────

const partitionsMigration = '0060_record_audit_partitions.sql';

describe('migration 0060 on a populated event store [DIARY-PARTITION-MIGRATION]', () => {
  const server = testServer();
  const tag = `p${randomBytes(4).toString('hex')}`;
  const name = `countersign_${tag}`;
  const email = (short: string) => `${short}.${tag}@example.test`;
  const files: MigrationFile[] = readMigrationFiles(migrationsDir);
  const clients: pg.Client[] = [];
  let op: pg.Client;
  const ids: Record<string, string> = {};
  /** Every row of the diary tables that refer to the event store, before the migration. */
  let before: Record<string, unknown[]>;
  let catalogBefore: Record<string, unknown[]>;
  let sequenceBefore: { last_value: string; is_called: boolean };
  let months: string[];

  const connect = async (user: string, secret: string, database = name) => {
    const client = new pg.Client({ host: server.host, port: server.port, user, password: secret, database });
    await client.connect();
    clients.push(client);
    return client;
  };
  const snapshot = async () => {
    const table = async (sql: string) => (await op.query(sql)).rows;
    return {
      record_audit: await table(
        `select audit_id::text, to_jsonb(a) as row, sync_xid::text, server_timestamp::text
           from diary.record_audit a order by audit_id`,
      ),
      record_state: await table('select to_jsonb(s) as row from diary.record_state s order by event_uuid'),
      annotations: await table(
        'select to_jsonb(n) as row from diary.investigator_annotations n order by annotation_id',
      ),
      conflicts: await table('select to_jsonb(c) as row from diary.audit_conflicts c order by conflict_id'),
    };
  };
  /** What guards diary.record_audit, from the catalog, with the table's own name taken out. */
  const guardsOfParent = async () => {
    const query = async (sql: string) => (await op.query(sql)).rows;
    return {
      triggers: await query(
        `select tgname::text, replace(pg_get_triggerdef(oid), 'diary.record_audit', 'T') as def from pg_trigger
          where tgrelid = 'diary.record_audit'::regclass and not tgisinternal and tgname <> 'record_audit_arrival'
          order by 1`,
      ),
      policies: await query(
        `select policyname::text, permissive, roles::text[], cmd, qual, with_check from pg_policies
          where schemaname = 'diary' and tablename = 'record_audit' order by 1`,
      ),
      grants: await query(
        `select grantee::text, privilege_type::text from information_schema.role_table_grants
          where table_schema = 'diary' and table_name = 'record_audit' order by 1, 2`,
      ),
      indexes: await query(
        `select regexp_replace(pg_get_indexdef(indexrelid), ' ON (ONLY )?diary.record_audit ', ' ON T ') as def
           from pg_index where indrelid = 'diary.record_audit'::regclass
            and not indisprimary order by 1`,
      ),
      foreignKeysOut: await query(
        `select conname::text, pg_get_constraintdef(oid) as def from pg_constraint
          where conrelid = 'diary.record_audit'::regclass and contype = 'f' and confrelid <> conrelid order by 1`,
      ),
      checks: await query(
        `select conname::text, pg_get_constraintdef(oid) as def from pg_constraint
          where conrelid = 'diary.record_audit'::regclass and contype = 'c' order by 1`,
      ),
      columns: await query(
        `select attname::text, format_type(atttypid, atttypmod) as type, attnotnull, attidentity::text,
                pg_get_expr(d.adbin, d.adrelid) as default
           from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
          where a.attrelid = 'diary.record_audit'::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum`,
      ),
    };
  };

  beforeAll(async () => {
    expect(files.map((file) => file.name)).toContain(partitionsMigration);
    const root = await connect(server.superuser, server.password, 'postgres');
    await root.query(`create database ${name}`);
    op = await connect(server.superuser, server.password);
    await migrate(
      op,
      files.filter((file) => file.name < partitionsMigration),
    );

    // A diary as 0059 writes it, through its rules, by real logins.
    const person = (short: string, role: string, studyId: string | null) =>
      provisionPerson(op, {
        email: email(short),
        printedName: `${short} person`,
        password,
        roles: [{ role: role as never, studyId }],
      });
    ids.admin = await person('admin', 'admin', null);
    ids.study = await createStudy(op, ids.admin, `MIG-${tag}`);
    await op.query(
      `insert into diary.sites (site_id, site_name, site_number, study_id) values ('MG1', 'Site', $1, $2)`,
      [`MG-${tag}`, ids.study],
    );
    ids.patient = await person('patient', 'patient', ids.study);
    ids.investigator = await person('investigator', 'investigator', ids.study);
    await op.query(
      `insert into diary.user_site_assignments (patient_id, site_id, subject_code) values ($1, 'MG1', 'MG-001')`,
      [ids.patient],
    );
    await op.query(
      `insert into diary.investigator_site_assignments (investigator_id, site_id) values ($1, 'MG1')`,
      [ids.investigator],
    );
    const patient = await connect(loginRoleName(email('patient')), password);
    const investigator = await connect(loginRoleName(email('investigator')), password);
    const submit = async (client: pg.Client, events: object[]) =>
      (await client.query('select public.submit_diary_events($1) as r', [JSON.stringify(events)])).rows[0].r;
    const event = (eventUuid: string, parent: number | null, fields: object, operation = 'USER_CREATE') => ({
      client_request_id: randomUUID(),
      event_uuid: eventUuid,
      patient_id: ids.patient,
      operation: parent === null ? operation : operation === 'USER_CREATE' ? 'USER_UPDATE' : operation,
      data: entry(fields),
      parent_audit_id: parent,
      change_reason: 'entry',
      client_timestamp: new Date().toISOString(),
      ...(operation === 'INVESTIGATOR_TRANSCRIPTION'
        ? { source_reference: { page_id: 'paper-7', entry_date: '2026-02-10' } }
        : {}),
    });
    const applied = (result: { status: string; events: { audit_id: number }[] }) => {
      expect(result.status).toBe('applied');
      return Number(result.events[0]?.audit_id);
    };
    ids.record = randomUUID();
    ids.paper = randomUUID();
    const first = applied(await submit(patient, [event(ids.record, null, { duration_minutes: 5 })]));
    const second = applied(await submit(patient, [event(ids.record, first, { duration_minutes: 10 })]));
    // A write against the first entry: a conflict (current_audit_id refers to the event store).
    const conflict = await submit(patient, [event(ids.record, first, { duration_minutes: 99 })]);
    expect(conflict.status).toBe('conflict');
    const resolution = (
      await patient.query('select public.resolve_diary_conflict($1, $2, $3) as r', [
        conflict.conflicts[0].conflict_id,
        'keep_mine',
        second,
      ])
    ).rows[0].r;
    const third = Number(resolution.audit_id);
    applied(
      await submit(investigator, [
        event(ids.paper, null, { duration_minutes: 3 }, 'INVESTIGATOR_TRANSCRIPTION'),
      ]),
    );
    await investigator.query(
      `insert into diary.investigator_annotations (event_uuid, patient_id, parent_audit_id, investigator_id, site_id,
         annotation_kind, annotation_text)
       values ($1, $2, $3, $4, 'MG1', 'query', 'Please check the duration.')`,
      [ids.record, ids.patient, second, ids.investigator],
    );
    // An id drawn and rolled back: the identity must continue after it, not after the largest id.
    await patient.query('begin');
    await patient.query(
      `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp, change_reason)
       values (gen_random_uuid(), $1, 'MG1', 'USER_CREATE', $2, now(), 'rolled back')`,
      [ids.patient, JSON.stringify(entry())],
    );
    await patient.query('rollback');
    // Spread over several months, as a diary kept for a while is: older server times set by the
    // fixture with the table's triggers off (sync_xid untouched).
    await op.query('alter table diary.record_audit disable trigger user');
    await op.query(
      `update diary.record_audit set server_timestamp = server_timestamp - make_interval(months => case audit_id
         when $1 then 5 when $2 then 3 when $3 then 1 else 0 end) - interval '1 hour'`,
      [first, second, third],
    );
    await op.query('alter table diary.record_audit enable trigger user');
    months = (
      await op.query<{ month: string }>(
        `select distinct to_char(server_timestamp at time zone 'UTC', 'YYYY"m"MM') as month from diary.record_audit order by 1`,
      )
    ).rows.map((row) => row.month);
    expect(months.length).toBeGreaterThanOrEqual(3);
    before = await snapshot();
    catalogBefore = await guardsOfParent();
    sequenceBefore = (
      await op.query(`select last_value::text, is_called from diary.record_audit_audit_id_seq`)
    ).rows[0];
    expect(BigInt(sequenceBefore.last_value)).toBeGreaterThan(
      BigInt((before.record_audit.at(-1) as { audit_id: string }).audit_id),
    );

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

  it('keeps every row of the event store byte for byte, with its audit_id, server time and sync_xid', async () => {
    const after = await snapshot();
    expect(after.record_audit).toHaveLength(before.record_audit.length);
    expect(after).toEqual(before);
    // The 0059 columns came along with their values.
    const rows = after.record_audit as { row: Record<string, unknown> }[];
    expect(rows.some((r) => r.row.conflict_resolution !== null && r.row.previous_data !== null)).toBe(true);
    expect(rows.some((r) => r.row.source_reference !== null)).toBe(true);
  });

  it('puts the old rows in the partitions of their months, and keeps every guard of the table', async () => {
    const { rows } = await op.query<{ partition: string; month: string }>(
      `select distinct tableoid::regclass::text as partition,
              'diary.record_audit_y' || to_char(server_timestamp at time zone 'UTC', 'YYYY"m"MM') as month
         from diary.record_audit order by 1`,
    );
    expect(rows.map((row) => row.partition)).toEqual(rows.map((row) => row.month));
    expect(rows.map((row) => row.partition)).toEqual(months.map((month) => `diary.record_audit_y${month}`));
    const names = await partitions(op);
    for (const month of months) expect(names).toContain(`diary.record_audit_y${month}`);
    const guardsAfter = await guardsOfParent();
    expect(guardsAfter).toEqual(catalogBefore);
    const { rows: dropped } = await op.query(
      `select count(*)::int as n from pg_constraint where confrelid = 'diary.record_audit'::regclass`,
    );
    expect(dropped[0].n).toBe(0);
    for (const guard of await partitionGuards(op)) {
      expect(guard, guard.partition).toMatchObject({
        rls: true,
        privileges_of_others: [],
        row_triggers_cloned: true,
        truncate_refused: true,
      });
    }
  });

  it('continues the identity where the old sequence stood, and the rules hold on the old records', async () => {
    const patient = await connect(loginRoleName(email('patient')), password);
    const head = (
      await op.query('select last_audit_id::text from diary.record_state where event_uuid = $1', [ids.record])
    ).rows[0].last_audit_id;
    const stale = (before.record_audit[0] as { audit_id: string }).audit_id;
    const write = (parent: string) =>
      patient.query<{ audit_id: string }>(
        `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp,
           parent_audit_id, change_reason)
         values ($1, $2, 'MG1', 'USER_UPDATE', $3, now(), $4, 'after partitioning') returning audit_id::text`,
        [ids.record, ids.patient, JSON.stringify(entry({ duration_minutes: 12 })), parent],
      );
    const { rows } = await write(head);
    expect(BigInt(rows[0]?.audit_id as string)).toBe(BigInt(sequenceBefore.last_value) + 1n);
    expect(await outcome(write(stale))).toBe('CS409');
    expect(
      await outcome(
        op.query(`update diary.record_audit set change_reason = 'x' where audit_id = $1`, [stale]),
      ),
    ).toBe('CS403');
  });

  it('leaves an audit chain that verifies from genesis, each diary event matching its row', async () => {
    const { rows } = await op.query<ServerChainEntry>('select * from audit.audit_log order by seq');
    expect(rows.length).toBeGreaterThan(1);
    expect(firstBadServerEntry(rows)).toBeNull();
    const { rows: unmatched } = await op.query(
      `select l.seq from audit.audit_log l
        where l.event_type = 'diary.event'
          and not exists (select 1 from diary.record_audit a
                           where a.audit_id = (l.payload ->> 'audit_id')::bigint
                             and a.event_uuid = (l.payload ->> 'event_uuid')::uuid
                             and cs_private.json_sha256(a.data) = l.payload ->> 'data_sha256')`,
    );
    expect(unmatched).toEqual([]);
    const { rows: events } = await op.query(
      `select (select count(*)::int from audit.audit_log where event_type = 'diary.event') as chained,
              (select count(*)::int from diary.record_audit) as stored`,
    );
    expect(events[0].chained).toBe(events[0].stored);
  });
});

// Least privilege for functions (migration 0044): the FUNCTIONS section of docs/access-matrix.md is
// the specification of who may call what, and this file checks the catalog against it, one case per
// function, then attacks as a person with their own login: every closed function refuses them, and
// the open ones that take an id answer only about rows RLS lets them read.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FunctionRow, readFunctionMatrix } from './support/accessMatrixDocument';
import { buildWorld, type World } from './support/accessWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const documented = readFunctionMatrix();
const projectSchemas = ['auth', 'cro', 'diary', 'audit', 'cs_private', 'public'];

interface CatalogFunction extends FunctionRow {
  owner: string;
  argumentTypes: string[];
}

/** Every function of the project schemas, named as regprocedure prints it with no search_path. */
async function readCatalog(client: pg.ClientBase): Promise<Map<string, CatalogFunction>> {
  await client.query('begin');
  try {
    await client.query("set local search_path = ''");
    const { rows } = await client.query<{
      name: string;
      kind: string;
      definer: boolean;
      search_path: string | null;
      grantees: string[];
      owner: string;
      argument_types: string[];
    }>(
      `select p.oid::regprocedure::text as name, p.prokind as kind, p.prosecdef as definer,
              (select substr(c, length('search_path=') + 1) from unnest(p.proconfig) c
                where c like 'search_path=%') as search_path,
              coalesce((select array_agg(case when a.grantee = 0 then 'PUBLIC'
                                              else pg_catalog.pg_get_userbyid(a.grantee) end::text order by 1)
                          from pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                         where a.privilege_type = 'EXECUTE' and a.grantee <> p.proowner), '{}') as grantees,
              pg_catalog.pg_get_userbyid(p.proowner) as owner,
              array(select pg_catalog.format_type(t, null) from unnest(p.proargtypes) t) as argument_types
         from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        where n.nspname = any ($1)
          and not exists (select 1 from pg_catalog.pg_depend d
                           where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')`,
      [projectSchemas],
    );
    return new Map(
      rows.map((row) => [
        row.name,
        {
          name: row.name,
          procedure: row.kind === 'p',
          security: row.definer ? 'definer' : 'invoker',
          searchPath: row.search_path === null ? null : row.search_path.replace(/^""$/, ''),
          grantees: [...row.grantees].sort(),
          owner: row.owner,
          argumentTypes: row.argument_types,
        },
      ]),
    );
  } finally {
    await client.query('rollback');
  }
}

describe('function privileges (docs/access-matrix.md, FUNCTIONS) [SEC-LEAST-PRIVILEGE]', () => {
  let db: TestDatabase;
  let catalog: Map<string, CatalogFunction>;
  let migrationOwner: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    catalog = await readCatalog(db.operator);
    const { rows } = await db.operator.query<{ owner: string }>(
      `select pg_catalog.pg_get_userbyid(c.relowner) as owner from pg_catalog.pg_class c
        where c.oid = 'countersign_meta.schema_migrations'::regclass`,
    );
    migrationOwner = rows[0]?.owner as string;
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('lists every function of the project schemas, and only functions that exist', () => {
    const names = documented.map((row) => row.name);
    expect([...catalog.keys()].filter((name) => !names.includes(name)).sort(), 'not in the matrix').toEqual(
      [],
    );
    expect(
      names.filter((name) => !catalog.has(name)),
      'in the matrix but not in the database',
    ).toEqual([]);
  });

  it('has every function owned by the role that runs the migrations', () => {
    const others = [...catalog.values()].filter((fn) => fn.owner !== migrationOwner).map((fn) => fn.name);
    expect(others).toEqual([]);
  });

  it('gives every security-definer function an empty search_path', () => {
    const unsafe = [...catalog.values()].filter((fn) => fn.security === 'definer' && fn.searchPath !== '');
    expect(unsafe.map((fn) => fn.name)).toEqual([]);
  });

  it('starts a function the migrating role creates later closed to everyone else', async () => {
    await db.operator.query('begin');
    try {
      await db.operator.query(
        'create function cs_private.created_later() returns int language sql as $$ select 1 $$',
      );
      await db.operator.query(
        'create function public.created_later() returns int language sql as $$ select 1 $$',
      );
      const { rows } = await db.operator.query(
        `select has_function_privilege('public', 'cs_private.created_later()', 'execute') as private_public,
                has_function_privilege('authenticated', 'cs_private.created_later()', 'execute') as private_person,
                has_function_privilege('public', 'public.created_later()', 'execute') as public_public,
                has_function_privilege('anon', 'public.created_later()', 'execute') as public_anon`,
      );
      expect(rows[0]).toEqual({
        private_public: false,
        private_person: false,
        public_public: false,
        public_anon: false,
      });
    } finally {
      await db.operator.query('rollback');
    }
  });

  for (const row of documented) {
    const grantees = row.grantees.length > 0 ? row.grantees.join(', ') : 'nobody';
    it(`${row.name}: ${row.procedure ? 'procedure, ' : ''}${row.security}, search_path ${
      row.searchPath === null ? 'unset' : `'${row.searchPath}'`
    }, EXECUTE ${grantees}`, () => {
      const actual = catalog.get(row.name);
      expect(actual, `${row.name} is not in the database`).toBeDefined();
      expect({
        procedure: actual?.procedure,
        security: actual?.security,
        searchPath: actual?.searchPath,
        grantees: actual?.grantees,
      }).toEqual({
        procedure: row.procedure,
        security: row.security,
        searchPath: row.searchPath,
        grantees: row.grantees,
      });
    });
  }
});

describe("a person's own login gets nothing through functions [SEC-LEAST-PRIVILEGE, SEC-IDOR]", () => {
  let db: TestDatabase;
  let world: World;
  let catalog: Map<string, CatalogFunction>;

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildWorld(db);
    catalog = await readCatalog(db.operator);
  });
  afterAll(async () => {
    await world?.teardown();
    await db?.drop();
  });

  it('refuses every function the matrix closes, for a patient and for a signer', async () => {
    const closed = documented.filter((row) => !row.grantees.includes('authenticated'));
    expect(closed.length).toBeGreaterThan(50);
    for (const role of ['patient', 'signer'] as const) {
      const client = world.clients[role];
      for (const row of closed) {
        const fn = catalog.get(row.name) as CatalogFunction;
        const name = row.name.slice(0, row.name.indexOf('('));
        // A sub-select, not a constant: the planner would fold a strict function of constant nulls
        // to null without ever calling it (and so without checking EXECUTE).
        const args = fn.argumentTypes.map((type) => `(select null::${type})`).join(', ');
        const sql = row.procedure ? `call ${name}(${args})` : `select ${name}(${args})`;
        await expect(client.query(sql), `${role}: ${sql}`).rejects.toMatchObject({ code: '42501' });
      }
    }
  });

  it("cannot test another person's codes, write their audit entries or read their lock state", async () => {
    const patient = world.clients.patient;
    const signer = world.people.signer.id;
    for (const [sql, params] of [
      ["select cs_private.accept_totp($1, '123456', true)", [signer]],
      ['select cs_private.consecutive_reauth_failures($1)', [signer]],
      ['select cs_private.signing_locked($1)', [signer]],
      ["select cs_private.audit_append('reauth.failed', jsonb_build_object('user_id', $1::text))", [signer]],
      ["select cs_private.enforce_reauth_limit($1, gen_random_uuid(), 'forged')", [signer]],
    ] as const) {
      await expect(patient.query(sql, [...params]), sql).rejects.toMatchObject({ code: '42501' });
    }
  });

  it("cannot hold the server's own advisory locks (the audit chain's writer lock) to stall everyone", async () => {
    for (const sql of [
      'select pg_advisory_lock(4242001)',
      'select pg_try_advisory_lock(4242001)',
      'select pg_advisory_xact_lock(4242004, 1)',
      'select pg_advisory_lock_shared(4242002)',
    ]) {
      await expect(world.clients.patient.query(sql), sql).rejects.toMatchObject({ code: '42501' });
    }
  });

  it('reads no live row, signing content or record RLS hides, through any function that takes an id', async () => {
    const kpiA = world.rows.kpi.in;
    const stagingA = world.rows.staging.in;
    for (const role of ['patient', 'analyst'] as const) {
      const client = world.clients[role];
      const { rows } = await client.query(
        `select cs_private.live_row_json('study', $1) as study, cs_private.live_row_json('study_kpi', $2) as kpi,
                public.signing_content($3) as content, public.staging_detail($3) as detail,
                public.signing_subjects(array[$3]::uuid[]) as subjects`,
        [world.studyA, kpiA, stagingA],
      );
      expect(rows[0], role).toEqual({ study: null, kpi: null, content: null, detail: null, subjects: [] });
    }
    // A signer of study B asks about study A's rows.
    const signerB = await world.connect(world.counterparts.signer);
    const { rows } = await signerB.query(
      `select cs_private.live_row_json('study', $1) as study, public.signing_content($2) as content,
              cs_private.sponsors_study('S1', $1) as sponsor_known`,
      [world.studyA, stagingA],
    );
    expect(rows[0]).toEqual({ study: null, content: null, sponsor_known: false });
    // The signer of study A reads their own study's signing content, as the server computes it.
    const { rows: own } = await world.clients.signer.query(
      'select public.signing_content($1) as content, cs_private.live_row_json($2, $3) as kpi',
      [stagingA, 'study_kpi', kpiA],
    );
    expect(own[0].content).toMatchObject({ staging_record_id: stagingA });
    expect(own[0].kpi).toMatchObject({ id: kpiA });
  });
});

// docs/access-matrix.md is the specification of who may read and write what; this file parses it
// and checks the database against every cell, so that the document and the SQL cannot drift apart.
// One case per table × role × command, named `signer · SELECT cro.staging_record · own`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands, readAccessMatrix } from './support/accessMatrixDocument';
import { probeAccess } from './support/accessProbes';
import { tableProbes } from './support/accessTables';
import { buildWorld, type MatrixRole, matrixRoles, type World } from './support/accessWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const matrix = readAccessMatrix();
/** The schemas the matrix must cover completely (auth: only auth.users exists outside Supabase). */
const coveredSchemas = ['auth', 'cro', 'diary', 'audit', 'cs_private', 'countersign_meta'];

describe('access matrix (docs/access-matrix.md)', () => {
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

  describe('the document matches the catalog [SEC-RLS-DEFAULT-DENY]', () => {
    // Views are listed like tables (a row per view; SELECT probed per role, writes refused: none is
    // updatable). Partitions are not: they are their parent's storage, covered by the parent's row and
    // by the test below that nobody reaches one directly.
    it('lists every table and view of the covered schemas (not partitions), and only tables that exist', async () => {
      const { rows } = await db.operator.query<{ name: string }>(
        `select n.nspname || '.' || c.relname as name
         from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where n.nspname = any ($1) and c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition
         order by 1`,
        [coveredSchemas],
      );
      const inDatabase = rows.map((row) => row.name);
      const unlisted = inDatabase.filter((table) => !matrix.tables.includes(table));
      const missing = matrix.tables.filter((table) => !inDatabase.includes(table));
      expect(unlisted, 'tables in the database that docs/access-matrix.md does not list').toEqual([]);
      expect(missing, 'tables in docs/access-matrix.md that do not exist').toEqual([]);
    });

    it('has a column for anon and for every application role, and no other', async () => {
      const { rows } = await db.operator.query<{ role: string }>(
        'select unnest(enum_range(null::cro.app_role))::text as role order by 1',
      );
      const expected = ['anon', ...rows.map((row) => row.role)].sort();
      expect([...matrix.roles].sort()).toEqual(expected);
      expect([...matrixRoles].sort()).toEqual(expected);
    });

    it('has a probe for every table it lists', () => {
      expect(matrix.tables.filter((table) => !tableProbes[table])).toEqual([]);
    });

    it('lets no role read or write a partition directly: only through its parent', async () => {
      const { rows } = await db.operator.query<{ name: string; column: string }>(
        `select c.oid::regclass::text as name,
                (select pg_catalog.quote_ident(a.attname) from pg_catalog.pg_attribute a
                  where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attidentity = ''
                    and a.attgenerated = '' order by a.attnum limit 1) as column
           from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
          where n.nspname = any ($1) and c.relispartition and c.relkind in ('r', 'p')
          order by 1`,
        [coveredSchemas],
      );
      // The diary event store is partitioned by month (0060); once it is, there are partitions to try.
      const { rows: parents } = await db.operator.query<{ kind: string }>(
        "select relkind::text as kind from pg_catalog.pg_class where oid = 'diary.record_audit'::regclass",
      );
      if (parents[0]?.kind === 'p') expect(rows.length).toBeGreaterThan(1);
      const statements = (partition: string, column: string) => [
        `select count(*) from ${partition}`,
        `insert into ${partition} default values`,
        `update ${partition} set ${column} = ${column}`,
        `delete from ${partition}`,
        `truncate ${partition}`,
      ];
      const reached: string[] = [];
      for (const role of matrixRoles) {
        const client = world.clients[role];
        for (const { name, column } of rows) {
          for (const sql of statements(name, column)) {
            const outcome = await client.query(sql).then(
              () => 'done',
              (error: { code?: string }) => error.code,
            );
            if (outcome !== '42501') reached.push(`${role}: ${sql} → ${outcome}`);
          }
        }
      }
      expect(reached, 'statements on a partition that were not refused for lack of privilege').toEqual([]);
    });

    it('every table of the covered schemas has row-level security enabled', async () => {
      const { rows } = await db.operator.query<{ name: string; rls: boolean }>(
        `select n.nspname || '.' || c.relname as name, c.relrowsecurity as rls
         from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where n.nspname = any ($1) and c.relkind in ('r', 'p')
         order by 1`,
        [coveredSchemas],
      );
      expect(rows.map((row) => row.name)).toContain('auth.users');
      expect(rows.filter((row) => !row.rls).map((row) => row.name)).toEqual([]);
    });
  });

  for (const table of matrix.tables) {
    // Each table is one requirement, RLS-<table>, of the validation evidence (docs/requirements.md).
    describe(`${table} [RLS-${table}]`, () => {
      for (const command of commands) {
        for (const role of matrix.roles) {
          const expected = matrix.cell(table, role, command);
          it(`${role} · ${command} ${table} · ${expected}`, async () => {
            const probe = tableProbes[table];
            if (!probe) throw new Error(`no probe for ${table}: add one to test/db/support/accessTables.ts`);
            if (!(matrixRoles as readonly string[]).includes(role)) {
              throw new Error(`the test world has no person for the role ${role}`);
            }
            const actorRole = role as MatrixRole;
            const actor = { role: actorRole, self: actorRole === 'anon' ? null : world.people[actorRole] };
            const result = await probeAccess(world, table, probe, actor, command);
            expect(result.access, `${role} ${command} ${table}: ${result.detail}`).toBe(expected);
          });
        }
      }
    });
  }
});

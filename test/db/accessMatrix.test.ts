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
    it('lists every table of the covered schemas, and only tables that exist', async () => {
      const { rows } = await db.operator.query<{ name: string }>(
        `select n.nspname || '.' || c.relname as name
         from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where n.nspname = any ($1) and c.relkind in ('r', 'p', 'v', 'm', 'f')
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

// The migrations on top of what a Supabase project already has: they apply cleanly, and they leave
// Supabase's own objects (auth.users, auth.uid(), auth.role(), auth.jwt(), ...) exactly as they were.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrationFiles } from '../../src/main/backend/migrator';
import {
  createSupabaseLikeDatabase,
  type SupabaseLikeDatabase,
  supabaseOwnedObjects,
} from './support/supabaseLikeDatabase';
import { migrationsDir } from './support/testServer';

describe('migrations on a Supabase project', () => {
  let db: SupabaseLikeDatabase;

  beforeAll(async () => {
    db = await createSupabaseLikeDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('apply cleanly, every one of them, on top of Supabase auth', () => {
    expect(db.applied).toEqual(readMigrationFiles(migrationsDir).map((file) => file.name));
  });

  it("leave Supabase's auth.uid(), auth.role(), auth.jwt() and auth.users exactly as Supabase defined them", async () => {
    const after = await supabaseOwnedObjects(db.operator);
    expect(after.functions).toEqual(db.ownedBefore.functions);
    expect(Object.keys(after.functions).sort()).toEqual(['email', 'jwt', 'role', 'uid']);
    expect(after.usersColumns).toEqual(db.ownedBefore.usersColumns);
    expect(after.usersColumns.length).toBe(35);
    expect(after.authTables).toEqual(['mfa_factors', 'users']);
  });

  it("leaves the platform's own roles their TEMPORARY privilege on the database (0001 took it, 0049 gives it back)", async () => {
    for (const role of ['service_role', 'authenticated', 'anon']) {
      const { rows } = await db.operator.query(
        "select has_database_privilege($1, current_database(), 'temporary') as ok",
        [role],
      );
      expect(rows[0].ok, role).toBe(true);
    }
  });

  it("starts a function created later in public closed to anon and authenticated, whatever Supabase's defaults grant", async () => {
    await db.operator.query('begin');
    try {
      await db.operator.query(
        'create function public.created_later() returns int language sql as $$ select 1 $$',
      );
      const { rows } = await db.operator.query(
        `select has_function_privilege('anon', 'public.created_later()', 'execute') as anon,
                has_function_privilege('authenticated', 'public.created_later()', 'execute') as person,
                has_function_privilege('service_role', 'public.created_later()', 'execute') as service`,
      );
      // service_role keeps what Supabase's defaults give it; people get only what is granted by name.
      expect(rows[0]).toEqual({ anon: false, person: false, service: true });
    } finally {
      await db.operator.query('rollback');
    }
  });

  it('lets service_role (server-side tools with the service key) insert rows with their time-ordered keys', async () => {
    const { rows } = await db.operator.query(
      `select has_function_privilege('service_role', 'cs_private.time_ordered_uuid()', 'execute') as ok`,
    );
    expect(rows[0].ok).toBe(true);
  });

  it('refuses to delete a Countersign person, saying why and what to do instead', async () => {
    const id = await db.createUser({ email: `keep.${db.tag}@example.test`, printedName: 'Kept', roles: [] });
    await expect(db.operator.query('delete from auth.users where id = $1', [id])).rejects.toMatchObject({
      code: 'CS409',
      message: expect.stringMatching(/never deleted/),
      hint: expect.stringMatching(/Ban user/),
    });
    // Someone Supabase Auth created who never became a Countersign person can still be removed.
    const { rows } = await db.operator.query(
      `insert into auth.users (id, email, created_at, updated_at) values (gen_random_uuid(), $1, now(), now())
       returning id`,
      [`stray.${db.tag}@example.test`],
    );
    await db.operator.query('delete from auth.users where id = $1', [rows[0].id]);
  });
});

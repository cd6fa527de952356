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
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationError, migrate, readMigrationFiles } from '../../src/main/backend/migrator';
import { createTestDatabase, migrationsDir, type TestDatabase } from './support/testServer';

describe('migrator [OPS-MIGRATIONS]', () => {
  let db: TestDatabase;
  const files = readMigrationFiles(migrationsDir);

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('records every migration with its checksum, in order', async () => {
    const { rows } = await db.operator.query<{ name: string; checksum: string }>(
      'select name, checksum from countersign_meta.schema_migrations order by name',
    );
    expect(rows.map((row) => row.name)).toEqual(files.map((file) => file.name));
    expect(rows.map((row) => row.checksum)).toEqual(files.map((file) => file.checksum));
  });

  it('is idempotent: a second run applies nothing', async () => {
    const result = await migrate(db.operator, files);
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied).toBe(files.length);
  });

  it('refuses a migration file that changed after it was applied', async () => {
    const changed = files.map((file, index) =>
      index === 2 ? { ...file, sql: `${file.sql}\n-- edited`, checksum: 'f'.repeat(64) } : file,
    );
    await expect(migrate(db.operator, changed)).rejects.toThrow(/was changed after it was applied/);
  });

  it('refuses a database with a migration this version does not know (a newer schema)', async () => {
    await expect(migrate(db.operator, files.slice(0, -1))).rejects.toThrow(
      new RegExp(`${files.at(-1)?.name}.*newer version`),
    );
  });

  it('refuses a new migration that sorts before applied ones', async () => {
    const early = { name: '0000_early.sql', sql: 'select 1', checksum: 'a'.repeat(64) };
    await expect(migrate(db.operator, [early, ...files])).rejects.toBeInstanceOf(MigrationError);
  });

  it('rolls back a failing migration completely and names it', async () => {
    const broken = {
      name: '9999_broken.sql',
      sql: 'create table cro.half_done (id int); select 1/0;',
      checksum: 'b'.repeat(64),
    };
    await expect(migrate(db.operator, [...files, broken])).rejects.toThrow(
      /9999_broken\.sql failed: division by zero/,
    );
    const { rows } = await db.operator.query("select to_regclass('cro.half_done') as t");
    expect(rows[0].t).toBeNull();
  });
});

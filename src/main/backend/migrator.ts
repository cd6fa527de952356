// Applies supabase/migrations/*.sql in order, each in its own transaction, and records each with its
// SHA-256. Idempotent; refuses a database whose applied history this code does not recognise (a
// changed file, or a migration from a newer version of Countersign) instead of guessing.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientBase } from 'pg';

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
  newest: string | null;
}

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly migration: string | null,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

const migrationName = /^\d{4}_[a-z0-9_]+\.sql$/;
// Any fixed number: one migrator at a time per database.
const migrationLockKey = 4242000;

export function readMigrationFiles(dir: string): MigrationFile[] {
  const names = readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort();
  for (const name of names) {
    if (!migrationName.test(name)) {
      throw new MigrationError(`migration file ${name} is not named NNNN_what_it_does.sql`, name);
    }
  }
  return names.map((name) => {
    const sql = readFileSync(join(dir, name), 'utf8');
    return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

export async function migrate(client: ClientBase, files: MigrationFile[]): Promise<MigrationResult> {
  await client.query('select pg_advisory_lock($1)', [migrationLockKey]);
  try {
    await client.query(`
      create schema if not exists countersign_meta;
      create table if not exists countersign_meta.schema_migrations (
        name text primary key,
        checksum text not null,
        applied_at timestamptz not null default now()
      );
      alter table countersign_meta.schema_migrations enable row level security;
      revoke all on schema countersign_meta from public;`);
    const { rows } = await client.query<{ name: string; checksum: string }>(
      'select name, checksum from countersign_meta.schema_migrations order by name',
    );
    const known = new Map(files.map((file) => [file.name, file]));
    for (const row of rows) {
      const file = known.get(row.name);
      if (!file) {
        throw new MigrationError(
          `the database has migration ${row.name} applied, which this version of Countersign does not know: ` +
            'it was created by a newer version. Update Countersign, or point it at another data folder.',
          row.name,
        );
      }
      if (file.checksum !== row.checksum) {
        throw new MigrationError(
          `migration ${row.name} was changed after it was applied (checksum ${row.checksum.slice(0, 12)}… ` +
            `in the database, ${file.checksum.slice(0, 12)}… on disk). Applied migrations are never edited; ` +
            'restore the file and put the change in a new migration.',
          row.name,
        );
      }
    }
    const appliedNames = new Set(rows.map((row) => row.name));
    const pending = files.filter((file) => !appliedNames.has(file.name));
    const lastApplied = rows.at(-1)?.name;
    if (lastApplied && pending.some((file) => file.name < lastApplied)) {
      const early = pending.find((file) => file.name < lastApplied);
      throw new MigrationError(
        `migration ${early?.name} sorts before the already applied ${lastApplied}; new migrations go at the end.`,
        early?.name ?? null,
      );
    }
    for (const file of pending) {
      try {
        await client.query('begin');
        await client.query(file.sql);
        await client.query(
          'insert into countersign_meta.schema_migrations (name, checksum) values ($1, $2)',
          [file.name, file.checksum],
        );
        await client.query('commit');
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw new MigrationError(`migration ${file.name} failed: ${(error as Error).message}`, file.name);
      }
    }
    return {
      applied: pending.map((file) => file.name),
      alreadyApplied: rows.length,
      newest: files.at(-1)?.name ?? null,
    };
  } finally {
    await client.query('select pg_advisory_unlock($1)', [migrationLockKey]).catch(() => undefined);
  }
}

// The default backend: a real PostgreSQL in the app's data folder, migrated, with the demo study
// seeded once. Writes <dataDir>/backend.json (where it listens; no secrets) for companion tools
// such as `npm run demo:agent`.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { embeddedDatabase } from '../backendConfig';
import { isDemoSeeded, seedDemo } from '../demo/seedDemo';
import { diaryPartitionMonthsAhead, ensureDiaryPartitions } from '../diaryPartitions';
import { migrate, readMigrationFiles } from '../migrator';
import type { ServerAddress } from '../postgres/postgresSession';
import { SignInGuard } from '../postgres/signInGuard';
import { startEmbeddedPostgres } from './embeddedPostgres';

export interface EmbeddedBackend {
  address: ServerAddress;
  serverVersion: string;
  serverPid: number;
  schemaVersion: string | null;
  /** Reads the server's log for failed sign-ins (migration 0048). */
  signInGuard: SignInGuard;
  stop(): Promise<void>;
}

export interface EmbeddedBackendOptions {
  dataDir: string;
  port: number;
  migrationsDir: string;
  log: (line: string) => void;
  /** Seed the demo study on first start (default true). */
  seed?: boolean;
  /** Failed sign-ins are delayed by this much; default 500 ms (embeddedPostgres.ts). */
  signInDelayMs?: number;
}

export async function startEmbeddedBackend(options: EmbeddedBackendOptions): Promise<EmbeddedBackend> {
  if (process.getuid?.() === 0) {
    // As root the server runs as the system user postgres, which must be able to pass through the
    // app's folder (0711: enter, not list) to reach its own cluster folder.
    chmodSync(options.dataDir, 0o711);
  }
  // The guard reads the server's log from its first line; it reports once the database exists.
  let guard: SignInGuard | null = null;
  const early: string[] = [];
  const server = await startEmbeddedPostgres({
    dataDir: join(options.dataDir, 'backend'),
    port: options.port,
    log: options.log,
    signInDelayMs: options.signInDelayMs,
    onServerOutput: (chunk) => (guard ? guard.feed(chunk) : early.push(chunk)),
  });
  try {
    const connect = async (database: string) => {
      const client = new pg.Client({
        host: server.host,
        port: server.port,
        user: server.superuser,
        password: server.superuserPassword,
        database,
        application_name: 'countersign-operator',
      });
      await client.connect();
      return client;
    };
    const root = await connect('postgres');
    try {
      const { rows } = await root.query('select 1 from pg_database where datname = $1', [embeddedDatabase]);
      if (rows.length === 0) await root.query(`create database ${embeddedDatabase}`);
      // People connect to the project database only (they are members of `authenticated`, which
      // keeps CONNECT there through PUBLIC): the cluster's other databases are closed to them.
      await root.query('revoke connect on database postgres, template1 from public');
    } finally {
      await root.end();
    }
    const operator = await connect(embeddedDatabase);
    let schemaVersion: string | null;
    try {
      const result = await migrate(operator, readMigrationFiles(options.migrationsDir));
      schemaVersion = result.newest;
      if (result.applied.length > 0)
        options.log(`embedded backend: applied ${result.applied.length} migrations`);
      await makeDiaryPartitionsAhead(operator, options.log);
      if (options.seed !== false && !(await isDemoSeeded(operator))) {
        options.log('embedded backend: seeding the demo study (first start only)…');
        await seedDemo(operator, { log: options.log });
      }
    } finally {
      await operator.end();
    }
    guard = new SignInGuard({ connect: () => connect(embeddedDatabase), log: options.log });
    for (const chunk of early.splice(0)) guard.feed(chunk);
    guard.start();
    const runningGuard = guard;
    const address: ServerAddress = { host: server.host, port: server.port, database: embeddedDatabase };
    writeFileSync(
      join(options.dataDir, 'backend.json'),
      `${JSON.stringify({ mode: 'embedded', ...address }, null, 2)}\n`,
      { mode: 0o600 },
    );
    return {
      address,
      serverVersion: server.version,
      serverPid: server.pid,
      schemaVersion,
      signInGuard: runningGuard,
      async stop() {
        await runningGuard.stop();
        await server.stop();
      },
    };
  } catch (error) {
    await guard?.stop();
    await server.stop();
    throw error;
  }
}

/**
 * The coming months' partitions of the diary event store, made at every start. A failure does not
 * stop the backend (the months already made keep working); it is logged, and a diary event of a
 * month without a partition is refused with a message saying what an administrator runs.
 */
async function makeDiaryPartitionsAhead(operator: pg.Client, log: (line: string) => void): Promise<void> {
  try {
    const made = await ensureDiaryPartitions(operator, diaryPartitionMonthsAhead);
    if (made.length > 0) log(`embedded backend: made diary event store partitions ${made.join(', ')}`);
  } catch (error) {
    log(
      `embedded backend: could not make the diary event store's partitions ahead: ${(error as Error).message}`,
    );
  }
}

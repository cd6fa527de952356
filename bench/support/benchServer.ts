// One real embedded PostgreSQL for a benchmark run, migrated once into a template; each benchmark
// clones its own database from it, so benchmarks never see each other's rows.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/main/backend/embedded/embeddedPostgres';
import { migrate, readMigrationFiles } from '../../src/main/backend/migrator';
import { freePort } from '../../test/db/support/freePort';

const template = 'countersign_bench_template';
const migrationsDir = fileURLToPath(new URL('../../supabase/migrations', import.meta.url));

export interface BenchDatabase {
  name: string;
  host: string;
  port: number;
  /** The database owner's connection: bypasses RLS, not triggers. */
  operator: pg.Client;
  /** The cluster's superuser (the Supabase stand-in prepares its API roles with it). */
  superuser: { user: string; password: string };
  connect(user: string, password: string): Promise<pg.Client>;
  connectAsOperator(): Promise<pg.Client>;
  drop(): Promise<void>;
}

export interface BenchServer {
  createDatabase(): Promise<BenchDatabase>;
  stop(): Promise<void>;
}

export async function startBenchServer(): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-bench-pg-'));
  const server = await startEmbeddedPostgres({ dataDir, port: await freePort(), durable: false });
  const superuser = { user: server.superuser, password: server.superuserPassword };
  const connect = async (database: string, user: string, password: string) => {
    const client = new pg.Client({ host: server.host, port: server.port, user, password, database });
    await client.connect();
    return client;
  };
  const root = await connect('postgres', superuser.user, superuser.password);
  await root.query(`create database ${template}`);
  const templateClient = await connect(template, superuser.user, superuser.password);
  await migrate(templateClient, readMigrationFiles(migrationsDir));
  await templateClient.end();

  return {
    async createDatabase() {
      const name = `countersign_bench_${randomBytes(4).toString('hex')}`;
      await root.query(`create database ${name} template ${template}`);
      const clients: pg.Client[] = [];
      const open = async (user: string, password: string) => {
        const client = await connect(name, user, password);
        clients.push(client);
        return client;
      };
      const operator = await open(superuser.user, superuser.password);
      return {
        name,
        host: server.host,
        port: server.port,
        operator,
        superuser,
        connect: open,
        connectAsOperator: () => open(superuser.user, superuser.password),
        async drop() {
          await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
          await root.query(`drop database if exists ${name} with (force)`);
        },
      };
    },
    async stop() {
      await root.end();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

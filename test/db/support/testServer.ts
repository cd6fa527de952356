// Test databases on the run's one PostgreSQL (test/db/globalSetup.ts): each test file gets a fresh,
// fully migrated database cloned from the template, an operator connection to it, and helpers to
// provision people and connect as them, exactly as the workstation does.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { inject } from 'vitest';
import { loginRoleName, type PersonSpec, provisionPerson } from '../../../src/main/backend/provisioning';

export interface TestServer {
  host: string;
  port: number;
  superuser: string;
  password: string;
  version: string;
}

export const templateDatabase = 'countersign_template';
export const migrationsDir = fileURLToPath(new URL('../../../supabase/migrations', import.meta.url));

export interface TestDatabase {
  name: string;
  /** A unique prefix for this database's people (login roles are cluster-wide). */
  tag: string;
  /** The database owner's connection: bypasses RLS, but not the triggers. */
  operator: pg.Client;
  server: TestServer;
  provision(spec: PersonSpec): Promise<string>;
  /** The e-mail address a person of this database gets for a short name. */
  email(shortName: string): string;
  connectAs(email: string, password: string): Promise<pg.Client>;
  connectAsOperator(): Promise<pg.Client>;
  drop(): Promise<void>;
}

export function testServer(): TestServer {
  return inject('testServer');
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const server = testServer();
  const tag = `t${randomBytes(4).toString('hex')}`;
  const name = `countersign_${tag}`;
  const root = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.superuser,
    password: server.password,
    database: 'postgres',
  });
  await root.connect();
  await root.query(`create database ${name} template ${templateDatabase}`);
  await root.end();

  const clients: pg.Client[] = [];
  const connect = async (user: string, password: string) => {
    const client = new pg.Client({ host: server.host, port: server.port, user, password, database: name });
    await client.connect();
    clients.push(client);
    return client;
  };
  const operator = await connect(server.superuser, server.password);
  return {
    name,
    tag,
    operator,
    server,
    provision: (spec) => provisionPerson(operator, spec),
    email: (shortName) => `${shortName}.${tag}@example.test`,
    connectAs: (email, password) => connect(loginRoleName(email), password),
    connectAsOperator: () => connect(server.superuser, server.password),
    async drop() {
      await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
      const cleanup = new pg.Client({
        host: server.host,
        port: server.port,
        user: server.superuser,
        password: server.password,
        database: 'postgres',
      });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      const { rows } = await cleanup.query<{ rolname: string }>(
        `select rolname from pg_roles where rolname like $1`,
        [`%.${tag}@example.test`],
      );
      for (const row of rows)
        await cleanup.query(`drop role if exists ${cleanup.escapeIdentifier(row.rolname)}`);
      await cleanup.end();
    },
  };
}

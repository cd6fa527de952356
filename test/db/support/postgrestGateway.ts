// PostgREST as Supabase runs it, for tests against the real PostgreSQL: one connection logged in as
// `authenticator` (a LOGIN role with NOINHERIT, member of anon/authenticated/service_role), and per
// request a transaction that does exactly what PostgREST does before running the request:
//
//   begin; set local role authenticated;
//   select set_config('request.jwt.claims', '<the verified JWT payload>', true);
//   ... the request ...; commit (or rollback on error)
//
// Roles are cluster-wide and other test files run at the same time, so role changes are retried
// when PostgreSQL reports a concurrent update of the same catalog row.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { TestServer } from './testServer';

export type Claims = Record<string, unknown>;

export interface AmrEntry {
  method: string;
  timestamp: number;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A Supabase access token's payload, as GoTrue issues it after password + TOTP (aal2). */
export function supabaseClaims(
  userId: string,
  options: { aal?: 'aal1' | 'aal2'; amr?: AmrEntry[]; sessionId?: string; expiresIn?: number } = {},
): Claims {
  const now = nowSeconds();
  return {
    aud: 'authenticated',
    iss: 'http://127.0.0.1:54321/auth/v1',
    sub: userId,
    role: 'authenticated',
    email: `${userId}@example.test`,
    iat: now,
    exp: now + (options.expiresIn ?? 3600),
    aal: options.aal ?? 'aal2',
    amr: options.amr ?? [
      { method: 'totp', timestamp: now },
      { method: 'password', timestamp: now },
    ],
    session_id: options.sessionId ?? randomUUID(),
    is_anonymous: false,
    app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: {},
  };
}

export const anonClaims: Claims = { role: 'anon', iss: 'supabase' };

async function retryConcurrent(client: pg.ClientBase, sql: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.query(sql);
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      const message = (error as Error).message;
      const concurrent =
        code === '23505' || code === '42710' || code === '40001' || /concurrently/.test(message);
      if (!concurrent || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
    }
  }
}

/**
 * Makes the cluster's API roles what Supabase's are (idempotent), with `supabase_auth_admin`, the role
 * Supabase Auth runs its hooks as. The `authenticator`'s password is the test
 * server's superuser password, the same in every test file of the run.
 */
export async function prepareGatewayRoles(server: TestServer): Promise<void> {
  const root = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.superuser,
    password: server.password,
    database: 'postgres',
  });
  await root.connect();
  try {
    for (const role of ['anon', 'authenticated', 'service_role', 'authenticator', 'supabase_auth_admin']) {
      await retryConcurrent(
        root,
        `do $$ begin
           if not exists (select 1 from pg_roles where rolname = '${role}') then
             create role ${role} nologin noinherit${role === 'service_role' ? ' bypassrls' : ''};
           end if;
         end $$`,
      );
    }
    await retryConcurrent(
      root,
      `alter role authenticator with login noinherit password ${root.escapeLiteral(server.password)}`,
    );
    await retryConcurrent(root, 'grant anon, authenticated, service_role to authenticator');
  } finally {
    await root.end();
  }
}

export class PostgrestGateway {
  private constructor(private readonly client: pg.Client) {}

  static async connect(server: TestServer, database: string): Promise<PostgrestGateway> {
    await prepareGatewayRoles(server);
    const client = new pg.Client({
      host: server.host,
      port: server.port,
      user: 'authenticator',
      password: server.password,
      database,
      application_name: 'postgrest',
    });
    await client.connect();
    return new PostgrestGateway(client);
  }

  private async begin(claims: Claims) {
    await this.client.query('begin');
    await this.client.query(`set local role ${claims.role === 'anon' ? 'anon' : 'authenticated'}`);
    await this.client.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify(claims)]);
  }

  /** One request: its own transaction, committed unless the statement fails. */
  async request<T extends pg.QueryResultRow = pg.QueryResultRow>(
    claims: Claims,
    sql: string,
    params: unknown[] = [],
  ): Promise<T[]> {
    await this.begin(claims);
    try {
      const { rows } = await this.client.query<T>(sql, params);
      await this.client.query('commit');
      return rows;
    } catch (error) {
      await this.client.query('rollback').catch(() => undefined);
      throw error;
    }
  }

  /** POST /rest/v1/rpc/<fn> with named arguments, as PostgREST calls it. */
  async rpc<T = unknown>(claims: Claims, fn: string, args: Record<string, unknown> = {}): Promise<T> {
    const names = Object.keys(args);
    const rows = await this.request<{ r: T }>(
      claims,
      `select public.${fn}(${names.map((name, i) => `${name} := $${i + 1}`).join(', ')}) as r`,
      Object.values(args).map((value) =>
        // JSON arguments travel as JSON text; arrays of scalars as PostgreSQL arrays.
        value !== null &&
        typeof value === 'object' &&
        (!Array.isArray(value) || value.some((item) => typeof item === 'object'))
          ? JSON.stringify(value)
          : value,
      ),
    );
    return rows[0]?.r as T;
  }

  /**
   * A pg.Client look-alike for code written against a person's connection (the access probes): a
   * statement outside a transaction is one request; `begin` opens a request that the caller's own
   * `commit`/`rollback` ends.
   */
  as(claims: Claims): pg.Client {
    let open = false;
    const query = async (text: string, values?: unknown[]) => {
      const statement = text.trim().toLowerCase();
      if (statement === 'begin') {
        await this.begin(claims);
        open = true;
        return { rows: [], rowCount: null };
      }
      if (statement === 'commit' || statement === 'rollback') {
        open = false;
        return this.client.query(text);
      }
      if (open) return this.client.query(text, values);
      await this.begin(claims);
      try {
        const result = await this.client.query(text, values);
        await this.client.query('commit');
        return result;
      } catch (error) {
        await this.client.query('rollback').catch(() => undefined);
        throw error;
      }
    };
    return { query } as unknown as pg.Client;
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

// A Supabase project in one process, answering from the REAL PostgreSQL, for the hosted-mode tests
// and the hosted e2e/demo (issue 23): the GoTrue subset supabase-js 2.x uses (password and refresh
// grants, the user with its TOTP factor, challenge and verify, logout) and the PostgREST subset the
// workstation uses (standInRest.ts; tokens and TOTP codes: standInTokens.ts). Rows and rules are
// the database's: a password is checked by PostgreSQL itself (a connection as the person's own
// login role: SCRAM decides), a TOTP code against the person's cs_private.totp_factor, and every
// REST request runs under the caller's claims on an `authenticator` connection, so RLS, grants and
// the functions decide as on hosted Supabase.
//
// Reachable two ways: over HTTP on 127.0.0.1 (a workstation in another process points
// COUNTERSIGN_SUPABASE_URL at `url`), and through `fetch` for a client in this process. The test
// knobs (expire tokens, refuse refreshes, drop requests, pause) act on both alike. The request log
// holds method and path only: never a body, a password, a code or a token.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { embeddedDatabase } from '../../../src/main/backend/backendConfig';
import { isConnectionError } from '../../../src/main/sync/serverReader';
import { prepareGatewayRoles } from './postgrestGateway';
import {
  databaseErrorReply,
  databaseUnreachableReply,
  errorReply,
  FunctionCatalog,
  identifier,
  RestRefusal,
  type RestReply,
  rpcStatement,
  tableInsertStatement,
  tableReadStatement,
} from './standInRest';
import { type Claims, factorIdOf, TokenSigner, totpAt } from './standInTokens';
import type { TestServer } from './testServer';

export { totpAt } from './standInTokens';

export interface SupabaseStandInOptions {
  host: string;
  port: number;
  database: string;
  /** A superuser: prepares the `authenticator` role and reads people and factors. */
  superuser: string;
  superuserPassword: string;
  /** Lifetime of an access token (default 3600 s, as Supabase's default). */
  accessTokenSeconds?: number;
}

/** A stand-in over a test database of the run's PostgreSQL (test/db/support/testServer.ts). */
export function startStandInOver(db: { name: string; server: TestServer }): Promise<SupabaseStandIn> {
  return startSupabaseStandIn({
    host: db.server.host,
    port: db.server.port,
    database: db.name,
    superuser: db.server.superuser,
    superuserPassword: db.server.password,
  });
}

/**
 * The options for a stand-in over the embedded cluster of a Countersign data folder (the e2e and
 * demo runs): its owner `countersign_owner` and the owner's password from the secret file in the
 * folder's `backend/` (src/main/backend/embedded/embeddedPostgres.ts), and the workstation's
 * database name. `backendDir` is that `<data folder>/backend`.
 */
export function embeddedStandInOptions(
  backendDir: string,
  port: number,
  database = embeddedDatabase,
): SupabaseStandInOptions {
  return {
    host: '127.0.0.1',
    port,
    database,
    superuser: 'countersign_owner',
    superuserPassword: readFileSync(join(backendDir, 'postgres-owner.secret'), 'utf8').trim(),
  };
}

export interface SupabaseStandIn {
  url: string;
  /** An HS256 JWT with role anon, signed with the stand-in's own secret. */
  anonKey: string;
  fetch: typeof fetch;
  /** Method and path of every request answered or dropped, in order. */
  requests: { method: string; path: string }[];
  setAccessTokenSeconds(seconds: number): void;
  /** Every access token issued so far is expired from now on (PGRST303); refresh still works. */
  expireAccessTokens(): void;
  refuseRefresh(on: boolean): void;
  /** The next `count` requests whose path includes `pathIncludes` fail at the network level. */
  dropNextRequests(pathIncludes: string, count: number): void;
  /**
   * The next `count` requests whose path includes `pathIncludes` are answered (the database has
   * done their work) and then the reply is lost at the network level: a resend after a lost reply.
   */
  loseNextReplies(pathIncludes: string, count: number): void;
  /** Stops answering: new connections are refused and open ones are cut (offline). */
  pause(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

interface Amr {
  method: string;
  timestamp: number;
}
interface SessionState {
  userId: string;
  email: string;
  sessionId: string;
  aal: 'aal1' | 'aal2';
  amr: Amr[];
}
interface Person {
  id: string;
  email: string;
  roleName: string | null;
  totpSecret: string | null;
  totpConfirmed: boolean;
  createdAt: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
/** GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL's default: 10 s. */
const refreshReuseMs = 10_000;
const json = (status: number, body: unknown): RestReply => ({ status, body: JSON.stringify(body) });
const authFailure = (status: number, errorCode: string, msg: string) =>
  json(status, { code: status, error_code: errorCode, msg });

export async function startSupabaseStandIn(options: SupabaseStandInOptions): Promise<SupabaseStandIn> {
  let accessTokenSeconds = options.accessTokenSeconds ?? 3600;
  let refreshRefused = false;
  const issuedTokens: string[] = [];
  const expiredTokens = new Set<string>();
  /** Refresh tokens and when each was spent (rotation, with GoTrue's reuse interval). */
  const refreshTokens = new Map<string, SessionState & { spentAt?: number }>();
  const challenges = new Map<string, { userId: string; factorId: string; expiresAt: number }>();
  const drops: { path: string; remaining: number }[] = [];
  /** Counts one request against the first armed failure for its path; true when there was one. */
  const takeOne = (failures: { path: string; remaining: number }[], path: string): boolean => {
    const failure = failures.find((entry) => entry.remaining > 0 && path.includes(entry.path));
    if (failure) failure.remaining--;
    return failure !== undefined;
  };
  const losses: { path: string; remaining: number }[] = [];
  const requests: { method: string; path: string }[] = [];
  let paused = false;

  const tokens = new TokenSigner();
  const sign = (claims: Claims) => tokens.sign(claims);
  /** The verified payload of a token, or why it is refused. */
  const verify = (token: string): Claims | 'invalid' | 'expired' => {
    const claims = tokens.verify(token);
    if (claims === 'invalid') return claims;
    if (claims.role !== 'anon' && claims.role !== 'authenticated') return 'invalid';
    if (typeof claims.exp === 'number' && claims.exp <= nowSeconds()) return 'expired';
    if (expiredTokens.has(token)) return 'expired';
    return claims;
  };
  const anonKey = sign({
    iss: 'supabase',
    ref: 'standin',
    role: 'anon',
    iat: nowSeconds(),
    exp: nowSeconds() + 10 * 365 * 86400,
  });

  await prepareGatewayRoles({
    host: options.host,
    port: options.port,
    superuser: options.superuser,
    password: options.superuserPassword,
    version: '',
  });
  const address = { host: options.host, port: options.port, database: options.database };
  const gateway = new pg.Pool({
    ...address,
    user: 'authenticator',
    password: options.superuserPassword,
    application_name: 'postgrest',
    max: 8,
  });
  const operator = new pg.Pool({
    ...address,
    user: options.superuser,
    password: options.superuserPassword,
    max: 2,
  });
  // A pooled connection that errors while idle (the server restarting) must not crash the process.
  gateway.on('error', () => undefined);
  operator.on('error', () => undefined);
  const catalog = new FunctionCatalog();

  const personBy = async (column: 'email' | 'id', value: string): Promise<Person | null> => {
    const { rows } = await operator.query<Person>(
      `select u.id, u.email, l.role_name as "roleName", f.secret_base32 as "totpSecret",
              f.confirmed_at is not null as "totpConfirmed", to_char(coalesce(u.created_at, now()) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as "createdAt"
         from auth.users u
         left join cs_private.login_role l on l.user_id = u.id
         left join cs_private.totp_factor f on f.user_id = u.id
        where ${column === 'email' ? 'lower(u.email) = lower($1)' : 'u.id = $1::uuid'}`,
      [value],
    );
    return rows[0] ?? null;
  };

  /** PostgreSQL checks the password: a connection as the person's own login role (SCRAM). */
  const passwordMatches = async (person: Person, password: string): Promise<boolean> => {
    if (!person.roleName) {
      // A person Supabase Auth created without a login role (supabaseLikeDatabase.ts): GoTrue's bcrypt.
      const { rows } = await operator.query<{ ok: boolean }>(
        'select encrypted_password = extensions.crypt($2, encrypted_password) as ok from auth.users where id = $1',
        [person.id, password],
      );
      return rows[0]?.ok === true;
    }
    const login = new pg.Client({ ...address, user: person.roleName, password });
    try {
      await login.connect();
      return true;
    } catch {
      return false;
    } finally {
      await login.end().catch(() => undefined);
    }
  };

  const userJson = (person: Person) => ({
    id: person.id,
    aud: 'authenticated',
    role: 'authenticated',
    email: person.email,
    app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: {},
    created_at: person.createdAt,
    factors: person.totpSecret
      ? [
          {
            id: factorIdOf(person.id),
            friendly_name: 'Countersign',
            factor_type: 'totp',
            status: person.totpConfirmed ? 'verified' : 'unverified',
            created_at: person.createdAt,
            updated_at: person.createdAt,
          },
        ]
      : [],
  });

  const issueSession = (state: SessionState, person: Person) => {
    const now = nowSeconds();
    const expiresAt = now + accessTokenSeconds;
    const token = sign({
      aud: 'authenticated',
      iss: `${url}/auth/v1`,
      sub: state.userId,
      role: 'authenticated',
      email: state.email,
      iat: now,
      exp: expiresAt,
      aal: state.aal,
      amr: state.amr,
      session_id: state.sessionId,
      // Unique per token, so that expireAccessTokens() never catches a token issued after it.
      jti: randomUUID(),
      is_anonymous: false,
      app_metadata: { provider: 'email', providers: ['email'] },
      user_metadata: {},
    });
    issuedTokens.push(token);
    const refresh = randomBytes(24).toString('base64url');
    refreshTokens.set(refresh, { ...state, spentAt: undefined });
    return json(200, {
      access_token: token,
      token_type: 'bearer',
      expires_in: accessTokenSeconds,
      expires_at: expiresAt,
      refresh_token: refresh,
      user: userJson(person),
    });
  };

  const bearer = (headers: Headers) => {
    const authorization = headers.get('authorization');
    if (authorization?.toLowerCase().startsWith('bearer ')) return authorization.slice(7).trim();
    return headers.get('apikey');
  };

  const authSession = async (headers: Headers) => {
    const token = bearer(headers);
    const claims = token ? verify(token) : 'invalid';
    if (claims === 'invalid' || claims === 'expired' || claims.role !== 'authenticated') return null;
    const person = await personBy('id', String(claims.sub));
    return person ? { claims, person } : null;
  };

  const answerAuth = async (
    method: string,
    path: string,
    query: URLSearchParams,
    headers: Headers,
    body: Record<string, unknown>,
  ) => {
    if (method === 'POST' && path === '/auth/v1/token' && query.get('grant_type') === 'password') {
      const email = typeof body.email === 'string' ? body.email.trim() : '';
      const password = typeof body.password === 'string' ? body.password : '';
      const person = email ? await personBy('email', email) : null;
      if (!person || !password || !(await passwordMatches(person, password))) {
        return authFailure(400, 'invalid_credentials', 'Invalid login credentials');
      }
      const state: SessionState = {
        userId: person.id,
        email: person.email,
        sessionId: randomUUID(),
        aal: 'aal1',
        amr: [{ method: 'password', timestamp: nowSeconds() }],
      };
      return issueSession(state, person);
    }
    if (method === 'POST' && path === '/auth/v1/token' && query.get('grant_type') === 'refresh_token') {
      const given = typeof body.refresh_token === 'string' ? body.refresh_token : '';
      const state = refreshTokens.get(given);
      if (refreshRefused || !state) {
        return authFailure(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
      }
      // Rotation as GoTrue does it: a refresh token is spent by its first use, but the same token
      // sent again within the reuse interval (two refreshes racing in one client) still works.
      if (state.spentAt !== undefined && Date.now() - state.spentAt > refreshReuseMs) {
        return authFailure(400, 'refresh_token_already_used', 'Invalid Refresh Token: Already Used');
      }
      state.spentAt ??= Date.now();
      const person = await personBy('id', state.userId);
      if (!person)
        return authFailure(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
      return issueSession(state, person);
    }
    if (path === '/auth/v1/user' && method === 'GET') {
      const session = await authSession(headers);
      if (!session)
        return authFailure(
          403,
          'bad_jwt',
          'invalid JWT: unable to parse or verify signature, token is expired or invalid',
        );
      return json(200, userJson(session.person));
    }
    if (path === '/auth/v1/logout' && method === 'POST') {
      const session = await authSession(headers);
      if (session) {
        for (const [token, state] of refreshTokens) {
          if (state.sessionId === session.claims.session_id) refreshTokens.delete(token);
        }
      }
      return { status: 204, body: null };
    }
    const factorPath = /^\/auth\/v1\/factors\/([0-9a-f-]{36})\/(challenge|verify)$/.exec(path);
    if (factorPath && method === 'POST') {
      const session = await authSession(headers);
      if (!session)
        return authFailure(401, 'no_authorization', 'This endpoint requires a valid Bearer token');
      const [, factorId, action] = factorPath;
      const { person, claims } = session;
      if (!person.totpSecret || factorIdOf(person.id) !== factorId) {
        return authFailure(404, 'mfa_factor_not_found', 'Factor not found');
      }
      if (action === 'challenge') {
        const id = randomUUID();
        const expiresAt = nowSeconds() + 300;
        challenges.set(id, { userId: person.id, factorId, expiresAt });
        return json(200, { id, type: 'totp', expires_at: expiresAt });
      }
      const challenge = challenges.get(String(body.challenge_id ?? ''));
      if (!challenge || challenge.userId !== person.id || challenge.expiresAt < nowSeconds()) {
        return authFailure(
          422,
          'mfa_challenge_expired',
          'MFA challenge has expired, verify against another challenge',
        );
      }
      const code = String(body.code ?? '');
      const epoch = nowSeconds();
      const matches = [-1, 0, 1].some(
        (step) => totpAt(person.totpSecret as string, epoch + step * 30) === code,
      );
      if (!matches) return authFailure(422, 'mfa_verification_failed', 'Invalid TOTP code entered');
      challenges.delete(String(body.challenge_id));
      const previous = (claims.amr as Amr[] | undefined) ?? [];
      const state: SessionState = {
        userId: person.id,
        email: person.email,
        sessionId: String(claims.session_id),
        aal: 'aal2',
        amr: [{ method: 'totp', timestamp: epoch }, ...previous.filter((entry) => entry.method !== 'totp')],
      };
      return issueSession(state, person);
    }
    return authFailure(404, 'not_found', 'this stand-in does not answer that Supabase Auth request');
  };

  /** One PostgREST request: one transaction under the verified claims on a pooled authenticator connection. */
  const inTransaction = async (claims: Claims, sql: string, params: unknown[]) => {
    const role = claims.role === 'authenticated' ? 'authenticated' : 'anon';
    const client = await gateway.connect();
    let broken = false;
    try {
      await client.query('begin');
      await client.query(`set local role ${role}`);
      await client.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify(claims)]);
      const result = await client.query<{ body?: string }>(sql, params);
      await client.query('commit');
      return result;
    } catch (error) {
      // A connection the server dropped (stopped, restarted) is not given back to the pool.
      broken = isConnectionError(error);
      if (!broken) await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release(broken);
    }
  };

  const answerRest = async (
    method: string,
    path: string,
    query: URLSearchParams,
    headers: Headers,
    text: string,
  ) => {
    const token = bearer(headers);
    const claims = token ? verify(token) : 'invalid';
    if (claims === 'invalid') return errorReply(401, 'PGRST301', 'JWSError JWSInvalidSignature');
    if (claims === 'expired') return errorReply(401, 'PGRST303', 'JWT expired');
    const role = claims.role === 'authenticated' ? 'authenticated' : 'anon';
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return errorReply(400, 'PGRST102', 'Empty or invalid json');
      }
    }
    try {
      if (path.startsWith('/rest/v1/rpc/')) {
        if (method !== 'POST') return errorReply(405, 'PGRST101', 'only POST calls a function here');
        const call = await rpcStatement(catalog, gateway, path.slice('/rest/v1/rpc/'.length), body);
        const result = await inTransaction(claims, call.sql, call.params);
        if (call.returns === 'void') return { status: 204, body: null };
        return { status: 200, body: result.rows[0]?.body ?? 'null' };
      }
      const table = path.slice('/rest/v1/'.length);
      if (!identifier.test(table))
        return errorReply(404, 'PGRST205', 'Could not find the table in the schema cache');
      if (method === 'GET') {
        const schema = headers.get('accept-profile') ?? 'public';
        const read = tableReadStatement(schema, table, query);
        const result = await inTransaction(claims, read.sql, read.params);
        return { status: 200, body: result.rows[0]?.body ?? '[]', headers: { 'content-range': '*/*' } };
      }
      if (method === 'POST') {
        const schema = headers.get('content-profile') ?? 'public';
        const representation = /return=representation/.test(headers.get('prefer') ?? '');
        const insert = tableInsertStatement(schema, table, body, query, representation);
        const result = await inTransaction(claims, insert.sql, insert.params);
        return { status: 201, body: representation ? (result.rows[0]?.body ?? '[]') : null };
      }
      return errorReply(405, 'PGRST101', 'this stand-in answers GET and POST only');
    } catch (error) {
      if (error instanceof RestRefusal) return errorReply(error.status, error.code, error.message);
      return databaseErrorReply(error, role);
    }
  };

  /** Routes one request; null means "drop it" (a network failure for the client). */
  const answer = async (
    method: string,
    target: URL,
    headers: Headers,
    text: string,
  ): Promise<RestReply | null> => {
    const path = target.pathname;
    requests.push({ method, path });
    // Dropped: never answered. Lost: answered by the database, the reply never sent.
    if (takeOne(drops, path)) return null;
    if (takeOne(losses, path)) {
      await route(method, target, headers, text);
      return null;
    }
    return route(method, target, headers, text);
  };
  const route = async (
    method: string,
    target: URL,
    headers: Headers,
    text: string,
  ): Promise<RestReply | null> => {
    const path = target.pathname;
    if (path.startsWith('/auth/v1/')) {
      let body: Record<string, unknown> = {};
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        return authFailure(400, 'bad_json', 'Could not parse request body as JSON');
      }
      return answerAuth(method, path, target.searchParams, headers, body).catch(internalError);
    }
    if (path.startsWith('/rest/v1/')) {
      return answerRest(method, path, target.searchParams, headers, text).catch(internalError);
    }
    return json(404, { message: 'no route' });
  };
  /** The database unreachable: 503, as PostgREST answers; anything else the stand-in's own failure, 500. */
  const internalError = (error: unknown): RestReply =>
    isConnectionError(error)
      ? databaseUnreachableReply
      : json(500, { code: 'standin', message: 'the stand-in failed' });

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const headers = new Headers();
      for (const [key, value] of Object.entries(request.headers)) {
        if (typeof value === 'string') headers.set(key, value);
      }
      answer(
        request.method ?? 'GET',
        new URL(request.url ?? '/', url),
        headers,
        Buffer.concat(chunks).toString('utf8'),
      )
        .then((reply) => {
          if (!reply) {
            request.socket.destroy();
            return;
          }
          response.writeHead(reply.status, {
            'content-type': 'application/json; charset=utf-8',
            ...reply.headers,
          });
          response.end(reply.body ?? undefined);
        })
        .catch(() => {
          response.writeHead(500, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ code: 'standin', message: 'the stand-in failed' }));
        });
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  const networkFailure = (code: string) =>
    new TypeError('fetch failed', {
      cause: Object.assign(new Error(`connect ${code} 127.0.0.1:${port}`), { code }),
    });

  const inProcessFetch = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const request = input instanceof Request ? input : null;
    const target = new URL(request ? request.url : input.toString());
    if (paused) throw networkFailure('ECONNREFUSED');
    const headers = new Headers(request?.headers);
    new Headers(init.headers).forEach((value, key) => {
      headers.set(key, value);
    });
    const method = (init.method ?? request?.method ?? 'GET').toUpperCase();
    const text =
      typeof init.body === 'string' ? init.body : request && method !== 'GET' ? await request.text() : '';
    const reply = await answer(method, target, headers, text);
    if (!reply) throw networkFailure('ECONNRESET');
    return new Response(reply.status === 204 ? null : reply.body, {
      status: reply.status,
      headers: { 'content-type': 'application/json; charset=utf-8', ...reply.headers },
    });
  }) as typeof fetch;

  return {
    url,
    anonKey,
    fetch: inProcessFetch,
    requests,
    setAccessTokenSeconds(seconds) {
      accessTokenSeconds = seconds;
    },
    expireAccessTokens() {
      for (const token of issuedTokens) expiredTokens.add(token);
    },
    refuseRefresh(on) {
      refreshRefused = on;
    },
    dropNextRequests(pathIncludes, count) {
      drops.push({ path: pathIncludes, remaining: count });
    },
    loseNextReplies(pathIncludes, count) {
      losses.push({ path: pathIncludes, remaining: count });
    },
    async pause() {
      if (paused) return;
      paused = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async resume() {
      if (!paused) return;
      await listen(port);
      paused = false;
    },
    async close() {
      if (!paused) {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await closed;
      }
      paused = true;
      await gateway.end().catch(() => undefined);
      await operator.end().catch(() => undefined);
    },
  };
}

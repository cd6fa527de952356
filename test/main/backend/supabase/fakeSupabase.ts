// A Supabase project in a fetch function: Supabase Auth (GoTrue) and PostgREST answered from memory,
// every request recorded, so the adapter's requests can be inspected and its error handling driven
// without a network. Only what the adapter uses is answered; anything else fails the test loudly.

export interface RecordedRequest {
  method: string;
  path: string;
  search: string;
  headers: Record<string, string>;
  body: unknown;
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };
type RpcHandler = (args: Record<string, unknown>, request: RecordedRequest) => Reply | Promise<Reply>;
/** A table read (GET or HEAD /rest/v1/<table>?<filters>), with the schema from Accept-Profile. */
type TableHandler = (query: URLSearchParams, request: RecordedRequest) => Reply | Promise<Reply>;

export const fakeUrl = 'https://abcdefgh.supabase.co';
/** A syntactically real anon JWT (role anon); not a secret. */
export const fakeAnonKey = [
  Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url'),
  Buffer.from(JSON.stringify({ iss: 'supabase', ref: 'abcdefgh', role: 'anon' })).toString('base64url'),
  'c2lnbmF0dXJl',
].join('.');

function jwt(claims: Record<string, unknown>): string {
  return [
    Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url'),
    Buffer.from(JSON.stringify(claims)).toString('base64url'),
    'c2lnbmF0dXJl',
  ].join('.');
}

export interface FakeSupabaseOptions {
  email?: string;
  password?: string;
  totpCode?: string;
  /** The person's TOTP factor: verified (a signer), unverified, or none (a first-time signer). */
  factor?: 'verified' | 'unverified' | 'none';
}

export class FakeSupabase {
  readonly requests: RecordedRequest[] = [];
  readonly userId = '11111111-2222-4333-8444-555555555555';
  readonly email: string;
  readonly password: string;
  totpCode: string;
  factor: 'verified' | 'unverified' | 'none';
  factorId = '99999999-8888-4777-8666-555555555555';
  /** Tokens issued, in order (the last is the current session's). */
  readonly tokens: string[] = [];
  private readonly rpcs = new Map<string, RpcHandler>();
  private readonly tables = new Map<string, TableHandler>();
  /** Fail the next N requests whose path includes `path` at the network level. */
  private readonly networkFailures: { path: string; remaining: number }[] = [];
  /** RPCs still to refuse as PostgREST refuses an expired token (401 PGRST303). */
  private expiredRpcs = 0;
  /** Token refreshes are refused (the refresh token is gone). */
  private refreshRefused = false;

  constructor(options: FakeSupabaseOptions = {}) {
    this.email = options.email ?? 'sam.signer@example.test';
    this.password = options.password ?? 'correct horse battery staple';
    this.totpCode = options.totpCode ?? '123456';
    this.factor = options.factor ?? 'verified';
    this.onRpc('my_identity', () => ({
      status: 200,
      body: { user_id: this.userId, printed_name: 'Sam Signer', roles: ['signer', 'not-a-role'] },
    }));
  }

  onRpc(fn: string, handler: RpcHandler): this {
    this.rpcs.set(fn, handler);
    return this;
  }

  /** Answers reads of `schema.table` (e.g. 'cro.study_database_build'). */
  onTable(name: string, handler: TableHandler): this {
    this.tables.set(name, handler);
    return this;
  }

  tableCalls(name: string): RecordedRequest[] {
    const [schema, table] = name.split('.');
    return this.requests.filter(
      (r) => r.path === `/rest/v1/${table}` && (r.headers['accept-profile'] ?? 'public') === schema,
    );
  }

  /** The next `times` RPCs are refused as a token that expired in flight (401, PGRST303). */
  expireToken(times = 1): this {
    this.expiredRpcs = times;
    return this;
  }

  /** Token refreshes from now on are refused by Supabase Auth (the refresh token is gone). */
  failRefresh(): this {
    this.refreshRefused = true;
    return this;
  }

  refreshCalls(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/auth/v1/token' && r.search.includes('refresh_token'));
  }

  failNetwork(path: string, times = 1): this {
    this.networkFailures.push({ path, remaining: times });
    return this;
  }

  rpcCalls(fn?: string): RecordedRequest[] {
    return this.requests.filter(
      (r) => r.path.startsWith('/rest/v1/rpc/') && (!fn || r.path === `/rest/v1/rpc/${fn}`),
    );
  }

  paths(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  private session(aal: 'aal1' | 'aal2') {
    const now = Math.floor(Date.now() / 1000);
    const amr = [{ method: 'password', timestamp: now }];
    if (aal === 'aal2') amr.push({ method: 'totp', timestamp: now });
    const token = jwt({
      sub: this.userId,
      role: 'authenticated',
      aud: 'authenticated',
      aal,
      amr,
      exp: now + 3600,
      iat: now,
      session_id: `session-${this.tokens.length}`,
    });
    this.tokens.push(token);
    return {
      access_token: token,
      token_type: 'bearer',
      expires_in: 3600,
      expires_at: now + 3600,
      refresh_token: `refresh-${this.tokens.length}`,
      user: this.user(),
    };
  }

  private user() {
    return {
      id: this.userId,
      aud: 'authenticated',
      role: 'authenticated',
      email: this.email,
      app_metadata: { provider: 'email' },
      user_metadata: {},
      created_at: '2026-01-01T00:00:00Z',
      factors:
        this.factor === 'none'
          ? []
          : [
              {
                id: this.factorId,
                friendly_name: 'Countersign',
                factor_type: 'totp',
                status: this.factor,
                created_at: '2026-01-01T00:00:00Z',
                updated_at: '2026-01-01T00:00:00Z',
              },
            ],
    };
  }

  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input.toString() : input.url);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const text = typeof init.body === 'string' ? init.body : null;
    const request: RecordedRequest = {
      method: init.method ?? 'GET',
      path: url.pathname,
      search: url.search,
      headers,
      body: text ? JSON.parse(text) : null,
    };
    this.requests.push(request);
    const failure = this.networkFailures.find((f) => f.remaining > 0 && request.path.includes(f.path));
    if (failure) {
      failure.remaining--;
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNRESET'), { code: 'ECONNRESET' }),
      });
    }
    const reply = await this.answer(request, url);
    return new Response(reply.status === 204 ? null : JSON.stringify(reply.body ?? null), {
      status: reply.status,
      headers: { 'content-type': 'application/json', ...reply.headers },
    });
  };

  private async answer(request: RecordedRequest, url: URL): Promise<Reply> {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const path = request.path;
    if (path === '/auth/v1/token' && url.searchParams.get('grant_type') === 'password') {
      if (body.email !== this.email || body.password !== this.password) {
        return {
          status: 400,
          body: { code: 400, error_code: 'invalid_credentials', msg: 'Invalid login credentials' },
        };
      }
      return { status: 200, body: this.session('aal1') };
    }
    if (path === '/auth/v1/token' && url.searchParams.get('grant_type') === 'refresh_token') {
      if (this.refreshRefused) {
        return {
          status: 400,
          body: {
            code: 400,
            error_code: 'refresh_token_not_found',
            msg: 'Invalid Refresh Token: Refresh Token Not Found',
          },
        };
      }
      return { status: 200, body: this.session(this.factor === 'verified' ? 'aal2' : 'aal1') };
    }
    if (path === '/auth/v1/user') return { status: 200, body: this.user() };
    if (path === '/auth/v1/logout') return { status: 204 };
    if (path === '/auth/v1/factors' && request.method === 'POST') {
      this.factor = 'unverified';
      return {
        status: 200,
        body: {
          id: this.factorId,
          type: 'totp',
          friendly_name: body.friendly_name,
          totp: {
            qr_code: '<svg/>',
            secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
            uri: `otpauth://totp/Countersign:${this.email}?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Countersign`,
          },
        },
      };
    }
    if (path.startsWith('/auth/v1/factors/') && request.method === 'DELETE') {
      this.factor = 'none';
      return { status: 200, body: { id: this.factorId } };
    }
    if (path === `/auth/v1/factors/${this.factorId}/challenge`) {
      return {
        status: 200,
        body: { id: 'challenge-1', type: 'totp', expires_at: Math.floor(Date.now() / 1000) + 300 },
      };
    }
    if (path === `/auth/v1/factors/${this.factorId}/verify`) {
      if (body.code !== this.totpCode) {
        return {
          status: 422,
          body: { code: 422, error_code: 'mfa_verification_failed', msg: 'Invalid TOTP code entered' },
        };
      }
      this.factor = 'verified';
      return { status: 200, body: this.session('aal2') };
    }
    if (path.startsWith('/rest/v1/rpc/')) {
      if (this.expiredRpcs > 0) {
        this.expiredRpcs--;
        return { status: 401, body: { code: 'PGRST303', message: 'JWT expired', details: null, hint: null } };
      }
      const handler = this.rpcs.get(path.slice('/rest/v1/rpc/'.length));
      if (!handler) throw new Error(`the fake has no answer for ${request.method} ${path}`);
      return handler(body, request);
    }
    if (path.startsWith('/rest/v1/')) {
      const schema = request.headers['accept-profile'] ?? 'public';
      const handler = this.tables.get(`${schema}.${path.slice('/rest/v1/'.length)}`);
      if (handler) return handler(url.searchParams, request);
      return { status: 200, body: [{ id: 'row-1' }] };
    }
    throw new Error(`the fake has no answer for ${request.method} ${path}`);
  }
}

/** A PostgREST error reply, as PostgREST renders a RAISE with a custom SQLSTATE. */
export function postgrestErrorReply(
  status: number,
  code: string,
  message: string,
  hint: string | null = null,
): Reply {
  return { status, body: { code, message, details: null, hint } };
}

/** A PostgREST error reply with details (a CS409's JSON, a constraint violation's key). */
export function postgrestDetailedReply(
  status: number,
  code: string,
  message: string,
  details: string | null,
  hint: string | null = null,
): Reply {
  return { status, body: { code, message, details, hint } };
}

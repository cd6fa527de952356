// The Supabase stand-in (test/db/support/supabaseStandIn.ts) answers the real hosted adapter from the
// real database: sign-in is decided by PostgreSQL (the person's own login) and their TOTP factor,
// and every REST request by RLS under the token's claims. Tokens it did not sign, or that expired,
// are refused as PostgREST refuses them.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignInError } from '../../src/main/backend/postgres/postgresSession';
import { createSupabaseClient } from '../../src/main/backend/supabase/supabaseClient';
import { callRpc } from '../../src/main/backend/supabase/supabaseRpc';
import { SupabaseSession } from '../../src/main/backend/supabase/supabaseSession';
import { TransientBackendError } from '../../src/main/signing/signingBackend';
import { pullAll } from '../../src/main/sync/pullEngine';
import { streamDefinitions } from '../../src/main/sync/streamDefinitions';
import { appRoles } from '../../src/shared/domain';
import { worldPassword } from './support/accessWorld';
import { buildSigningWorld, password, type Signer, type SigningWorld } from './support/signingWorld';
import { type SupabaseStandIn, startStandInOver, totpAt } from './support/supabaseStandIn';
import { cachedKeys, serverKeys } from './support/syncCache';
import { syncWorld } from './support/syncWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

let db: TestDatabase;
let world: SigningWorld;
let signer: Signer;
let proposals: string[];
let standIn: SupabaseStandIn;
/** The TOTP secret every signer of the access world has (test/db/support/accessWorld.ts). */
const worldTotpSecret = 'JBSWY3DPEHPK3PXP';
const project = () => ({ url: standIn.url, anonKey: standIn.anonKey });

beforeAll(async () => {
  db = await createTestDatabase();
  world = await buildSigningWorld(db);
  signer = await world.newSigner();
  proposals = await world.reviewing(world.studyA, 3);
  standIn = await startStandInOver(db);
});

afterAll(async () => {
  await standIn?.close();
  await world?.close();
  await db?.drop();
});

/** A raw PostgREST call with a given bearer token: status and decoded body. */
async function rawRpc(fn: string, token: string, args: Record<string, unknown> = {}) {
  const response = await fetch(`${standIn.url}/rest/v1/rpc/${fn}`, {
    method: 'POST',
    headers: {
      apikey: standIn.anonKey,
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(args),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function signedInClient(email: string, transport: 'http' | 'fetch' = 'fetch') {
  const client = createSupabaseClient(project(), {
    autoRefreshToken: false,
    ...(transport === 'fetch' ? { fetch: standIn.fetch } : {}),
  });
  const signedIn = await client.auth.signInWithPassword({ email, password });
  if (signedIn.error) throw signedIn.error;
  return { client, token: signedIn.data.session.access_token };
}

describe('the Supabase stand-in backed by the real database [HOSTED-STANDIN]', () => {
  it.each([
    ['over HTTP', 'http'],
    ['through its in-process fetch', 'fetch'],
  ] as const)(
    'the hosted adapter signs in with password and TOTP and reads the staging queue %s [HOSTED-STANDIN]',
    async (_label, transport) => {
      const session = await SupabaseSession.signIn(
        project(),
        signer.email,
        password,
        signer.code(),
        transport === 'fetch'
          ? { fetch: standIn.fetch, autoRefreshToken: false }
          : { autoRefreshToken: false },
      );
      try {
        expect(session.identity.userId).toBe(signer.id);
        expect(session.identity.roles).toContain('signer');
        const queue = await session.stagingQueue({ limit: 50, after: null, states: [], studyId: null });
        expect(queue.rows.map((row) => row.id).sort()).toEqual([...proposals].sort());
        expect(queue.countsByState.reviewing).toBe(3);
      } finally {
        await session.close();
      }
      const paths = standIn.requests.map((request) => request.path);
      expect(paths).toContain('/auth/v1/token');
      expect(paths.some((path) => /^\/auth\/v1\/factors\/[0-9a-f-]{36}\/verify$/.test(path))).toBe(true);
      expect(JSON.stringify(standIn.requests)).not.toContain(password);
    },
  );

  it('refuses a wrong password and a wrong authenticator code [HOSTED-STANDIN]', async () => {
    const options = { fetch: standIn.fetch, autoRefreshToken: false };
    await expect(
      SupabaseSession.signIn(project(), signer.email, 'not the password', signer.code(), options),
    ).rejects.toThrow(new SignInError('Wrong e-mail address or password.'));
    const wrongCode = signer.code() === '000000' ? '111111' : '000000';
    await expect(
      SupabaseSession.signIn(project(), signer.email, password, wrongCode, options),
    ).rejects.toThrow(new SignInError('Wrong authenticator code.'));
  });

  it('refuses an expired token with PGRST303 and a refreshed one works; a refused refresh says so [HOSTED-STANDIN]', async () => {
    const { client, token } = await signedInClient(signer.email);
    expect((await rawRpc('my_identity', token)).body.user_id).toBe(signer.id);
    standIn.expireAccessTokens();
    const expired = await rawRpc('my_identity', token);
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe('PGRST303');

    const refreshed = await client.auth.refreshSession();
    expect(refreshed.error).toBeNull();
    const fresh = refreshed.data.session?.access_token as string;
    expect((await rawRpc('my_identity', fresh)).body.user_id).toBe(signer.id);

    standIn.refuseRefresh(true);
    try {
      const refused = await client.auth.refreshSession();
      expect(refused.error?.code).toBe('refresh_token_not_found');
    } finally {
      standIn.refuseRefresh(false);
    }
  });

  it('rotates refresh tokens, honouring a resend within the reuse interval, and forgets them at logout [HOSTED-STANDIN]', async () => {
    const { client } = await signedInClient(signer.email);
    const refreshToken = (await client.auth.getSession()).data.session?.refresh_token as string;
    const refresh = async (token: string) => {
      const response = await standIn.fetch(`${standIn.url}/auth/v1/token?grant_type=refresh_token`, {
        method: 'POST',
        headers: { apikey: standIn.anonKey, 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: token }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const first = await refresh(refreshToken);
    const again = await refresh(refreshToken);
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(first.body.refresh_token).not.toBe(refreshToken);
    const next = first.body.refresh_token as string;
    await standIn.fetch(`${standIn.url}/auth/v1/logout?scope=local`, {
      method: 'POST',
      headers: { apikey: standIn.anonKey, authorization: `Bearer ${first.body.access_token}` },
    });
    const afterLogout = await refresh(next);
    expect(afterLogout.status).toBe(400);
    expect(afterLogout.body.error_code).toBe('refresh_token_not_found');
  });

  it('refuses a token with a forged signature or claims it did not sign (PGRST301) [HOSTED-STANDIN]', async () => {
    const { token } = await signedInClient(signer.email);
    const [header, payload] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: world.adminId })).toString(
      'base64url',
    );
    const reused = `${header}.${forgedPayload}.${token.split('.')[2]}`;
    const otherKey = `${header}.${forgedPayload}.${createHmac('sha256', 'guessed secret').update(`${header}.${forgedPayload}`).digest('base64url')}`;
    for (const forged of [reused, otherKey, 'not-a-jwt']) {
      const answer = await rawRpc('my_identity', forged);
      expect(answer.status).toBe(401);
      expect(answer.body.code).toBe('PGRST301');
    }
  });

  it('answers a refused database request as PostgREST does: anon may not read a sync page [HOSTED-STANDIN]', async () => {
    const answer = await rawRpc('sync_page', standIn.anonKey, {
      stream: 'staging_record',
      after_xid: '0',
      after_key: '00000000-0000-0000-0000-000000000000',
      below: null,
      page_size: 10,
    });
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('42501');
    const unknown = await rawRpc('no_such_function', standIn.anonKey);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('PGRST202');
  });

  it('lets an agent insert proposals through the table endpoint and a signer read them back [HOSTED-STANDIN]', async () => {
    const agentId = await db.provision({
      email: db.email('standin-agent'),
      printedName: 'Stand-in Agent',
      password,
      roles: [{ role: 'agent', studyId: world.studyA }],
      agentId: 'agent:standin',
    });
    const agent = await signedInClient(db.email('standin-agent'));
    const rows = [0, 1].map((i) => ({
      entity_kind: 'study_kpi',
      entity_id: null,
      study_id: world.studyA,
      agent_id: 'agent:standin',
      proposed_state: { label: `Stand-in KPI ${i}`, value: `${i}%`, position: 50 + i },
      created_by: agentId,
    }));
    const inserted = await agent.client.schema('cro').from('staging_record').insert(rows).select('id');
    expect(inserted.error).toBeNull();
    const ids = (inserted.data ?? []).map((row) => row.id as string);
    expect(ids).toHaveLength(2);

    const reader = await signedInClient(signer.email, 'http');
    const read = await reader.client
      .schema('cro')
      .from('staging_record')
      .select('id,state')
      .in('id', ids)
      .order('id', { ascending: true })
      .limit(10);
    expect(read.error).toBeNull();
    expect(read.data).toEqual([...ids].sort().map((id) => ({ id, state: 'proposed' })));
  });

  it('drops requests at the network level and refuses connections while paused [HOSTED-STANDIN]', async () => {
    const { client } = await signedInClient(signer.email, 'http');
    standIn.dropNextRequests('/rest/v1/rpc/my_identity', 1);
    await expect(callRpc(client, 'my_identity')).rejects.toBeInstanceOf(TransientBackendError);
    expect(((await callRpc(client, 'my_identity')) as { user_id: string }).user_id).toBe(signer.id);
    await standIn.pause();
    try {
      await expect(callRpc(client, 'my_identity')).rejects.toBeInstanceOf(TransientBackendError);
    } finally {
      await standIn.resume();
    }
    expect(((await callRpc(client, 'my_identity')) as { user_id: string }).user_id).toBe(signer.id);
  });
});

describe('the workstation pull engine through the stand-in [HOSTED-STANDIN]', () => {
  const setup = syncWorld();

  it.each(appRoles)(
    'a %s signed in through the stand-in caches exactly the keys their own login reads [HOSTED-STANDIN]',
    async (role) => {
      const person = setup.world.people[role];
      const server = await startStandInOver(setup.db);
      try {
        const session = await SupabaseSession.signIn(
          { url: server.url, anonKey: server.anonKey },
          person.email,
          worldPassword,
          totpAt(worldTotpSecret, Date.now() / 1000),
          { autoRefreshToken: false },
        );
        try {
          const cache = setup.cacheOf(`${person.id}-hosted`);
          const report = await pullAll(cache, session.syncServer(), { pageSize: 3 });
          expect(report.quarantined).toBe(0);
          for (const stream of streamDefinitions) {
            expect(cachedKeys(cache, stream), `${role} · ${stream.name}`).toEqual(
              await serverKeys(setup.world.clients[role], stream),
            );
          }
        } finally {
          await session.close();
        }
        expect(server.requests.some((request) => request.path === '/rest/v1/rpc/sync_page')).toBe(true);
      } finally {
        await server.close();
      }
    },
  );
});

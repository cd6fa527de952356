// The hosted-mode signing backend against a fake Supabase: which requests it sends in which order
// with which token, where the password and the code go (Supabase Auth only, once), and how every
// failure reaches the ceremony (wrong password / code counted on the server, network errors
// transient and resent as the same ceremony, rule violations as the server's own message).
import { afterEach, describe, expect, it } from 'vitest';
import { SupabaseSession } from '../../../../src/main/backend/supabase/supabaseSession';
import { TransientBackendError } from '../../../../src/main/signing/signingBackend';
import { SigningCeremonies } from '../../../../src/main/signing/signingCeremony';
import { UserFacingError } from '../../../../src/main/userFacingError';
import { FakeSupabase, fakeAnonKey, fakeUrl, postgrestErrorReply } from './fakeSupabase';

const project = { url: fakeUrl, anonKey: fakeAnonKey };
const attemptId = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const ceremonyId = '0f0e0d0c-0b0a-4909-8807-060504030201';
const stagingId = '12345678-1234-4234-8234-123456789abc';
const sessions: SupabaseSession[] = [];

async function signedIn(fake: FakeSupabase) {
  const session = await SupabaseSession.signIn(project, fake.email, fake.password, fake.totpCode, {
    fetch: fake.fetch,
    autoRefreshToken: false,
  });
  sessions.push(session);
  return session;
}

const bearer = (token: string | undefined) => `Bearer ${token}`;
const reauthReplies = (fake: FakeSupabase) =>
  fake
    .onRpc('begin_reauth', () => ({ status: 200, body: { ok: true, attempt_id: attemptId } }))
    .onRpc('complete_reauth_from_claims', () => ({
      status: 200,
      body: { ok: true, re_auth_at: '2026-05-01T10:00:00.000Z' },
    }))
    .onRpc('record_reauth_failure', () => ({
      status: 200,
      body: { ok: false, reason: 'wrong_password', locked: false, attempts_left: 4 },
    }))
    .onRpc('record_reauth_totp_failure', () => ({
      status: 200,
      body: { ok: false, reason: 'totp_wrong', locked: false, attempts_left: 3 },
    }))
    .onRpc('cancel_reauth', () => ({ status: 204 }));

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
});

describe('SupabaseSession.signIn', () => {
  it('signs in with the password, then the TOTP code (aal2), and knows the person from the server', async () => {
    const fake = new FakeSupabase();
    const session = await signedIn(fake);
    expect(session.identity).toEqual({
      userId: fake.userId,
      email: fake.email,
      printedName: 'Sam Signer',
      roles: ['signer'],
    });
    expect(fake.paths()).toEqual([
      'POST /auth/v1/token',
      'GET /auth/v1/user',
      `POST /auth/v1/factors/${fake.factorId}/challenge`,
      `POST /auth/v1/factors/${fake.factorId}/verify`,
      'POST /rest/v1/rpc/my_identity',
    ]);
    // The project's anon key on every request; the aal2 token on the first API call.
    expect(fake.requests.every((r) => r.headers.apikey === fakeAnonKey)).toBe(true);
    expect(fake.rpcCalls('my_identity')[0]?.headers.authorization).toBe(bearer(fake.tokens.at(-1)));
    // Nothing of the session crosses to the renderer with the identity.
    expect(JSON.stringify(session.identity)).not.toMatch(/eyJ|refresh|password/);
  });

  it('asks for the code of a person who has an authenticator, and refuses a wrong one', async () => {
    const fake = new FakeSupabase();
    await expect(
      SupabaseSession.signIn(project, fake.email, fake.password, null, {
        fetch: fake.fetch,
        autoRefreshToken: false,
      }),
    ).rejects.toThrow(/enter its current 6-digit code/);
    await expect(
      SupabaseSession.signIn(project, fake.email, fake.password, '000000', {
        fetch: fake.fetch,
        autoRefreshToken: false,
      }),
    ).rejects.toThrow('Wrong authenticator code.');
  });

  it('refuses a wrong password with the same message for an unknown address', async () => {
    const fake = new FakeSupabase();
    await expect(
      SupabaseSession.signIn(project, fake.email, 'nope', fake.totpCode, {
        fetch: fake.fetch,
        autoRefreshToken: false,
      }),
    ).rejects.toThrow('Wrong e-mail address or password.');
  });

  it('says the project cannot be reached when the network fails', async () => {
    const fake = new FakeSupabase().failNetwork('/auth/v1/token', 10);
    await expect(
      SupabaseSession.signIn(project, fake.email, fake.password, fake.totpCode, {
        fetch: fake.fetch,
        autoRefreshToken: false,
      }),
    ).rejects.toThrow(/cannot be reached/);
  });

  it('lets a first-time signer in with the password alone (aal1)', async () => {
    const fake = new FakeSupabase({ factor: 'none' });
    const session = await signedIn(fake);
    expect(session.identity.userId).toBe(fake.userId);
    expect(fake.paths()).not.toContain(`POST /auth/v1/factors/${fake.factorId}/verify`);
  });
});

describe('SupabaseSigningBackend.reauthenticate', () => {
  it('proves the password and the code to Supabase Auth, then hands the server the aal2 session', async () => {
    const fake = reauthReplies(new FakeSupabase());
    const backend = (await signedIn(fake)).signingBackend();
    const before = fake.requests.length;
    const outcome = await backend.reauthenticate(ceremonyId, fake.password, fake.totpCode);
    expect(outcome).toEqual({ ok: true, reAuthAt: '2026-05-01T10:00:00.000Z' });
    const ceremonyRequests = fake.requests.slice(before);
    expect(ceremonyRequests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /rest/v1/rpc/begin_reauth',
      'POST /auth/v1/token',
      'GET /auth/v1/user',
      `POST /auth/v1/factors/${fake.factorId}/challenge`,
      `POST /auth/v1/factors/${fake.factorId}/verify`,
      'POST /rest/v1/rpc/complete_reauth_from_claims',
    ]);
    expect(ceremonyRequests[0]?.body).toEqual({ ceremony_id: ceremonyId });
    expect(ceremonyRequests[5]?.body).toEqual({ attempt_id: attemptId });
    // The completion carries the token issued by the verification just made, nothing older.
    expect(ceremonyRequests[5]?.headers.authorization).toBe(bearer(fake.tokens.at(-1)));
    // The password went to the password grant only, the code to the verification only.
    const carrying = (secret: string) =>
      fake.requests.filter((r) => JSON.stringify(r.body ?? '').includes(secret)).map((r) => r.path);
    expect(carrying(fake.password)).toEqual(['/auth/v1/token', '/auth/v1/token']);
    expect(carrying(fake.totpCode)).toEqual([
      `/auth/v1/factors/${fake.factorId}/verify`,
      `/auth/v1/factors/${fake.factorId}/verify`,
    ]);
  });

  it('reports a wrong password to the server, which counts it toward the lockout', async () => {
    const fake = reauthReplies(new FakeSupabase());
    const backend = (await signedIn(fake)).signingBackend();
    const outcome = await backend.reauthenticate(ceremonyId, 'wrong password', fake.totpCode);
    expect(outcome).toEqual({ ok: false, reason: 'wrong_password', locked: false, attemptsLeft: 4 });
    expect(fake.rpcCalls('record_reauth_failure')[0]?.body).toEqual({ attempt_id: attemptId });
    expect(fake.rpcCalls('complete_reauth_from_claims')).toEqual([]);
  });

  it('reports a wrong code to the server, which counts it toward the lockout', async () => {
    const fake = reauthReplies(new FakeSupabase());
    const backend = (await signedIn(fake)).signingBackend();
    const outcome = await backend.reauthenticate(ceremonyId, fake.password, '000000');
    expect(outcome).toEqual({ ok: false, reason: 'totp_wrong', locked: false, attemptsLeft: 3 });
    expect(fake.rpcCalls('record_reauth_totp_failure')).toHaveLength(1);
  });

  it('passes on the server refusing the claims (aal1, stale amr) and a lock', async () => {
    const fake = reauthReplies(new FakeSupabase()).onRpc('complete_reauth_from_claims', () => ({
      status: 200,
      body: { ok: false, reason: 'claims_totp_stale', locked: true, attempts_left: 0 },
    }));
    const backend = (await signedIn(fake)).signingBackend();
    expect(await backend.reauthenticate(ceremonyId, fake.password, fake.totpCode)).toEqual({
      ok: false,
      reason: 'claims_totp_stale',
      locked: true,
      attemptsLeft: 0,
    });
    fake.onRpc('begin_reauth', () => ({ status: 200, body: { ok: false, reason: 'locked', locked: true } }));
    expect(await backend.reauthenticate(ceremonyId, fake.password, fake.totpCode)).toMatchObject({
      ok: false,
      reason: 'locked',
      locked: true,
    });
  });

  it('turns a network failure at Supabase Auth into a transient error and cancels the attempt', async () => {
    const fake = reauthReplies(new FakeSupabase());
    const backend = (await signedIn(fake)).signingBackend();
    fake.failNetwork('/auth/v1/token', 10);
    await expect(backend.reauthenticate(ceremonyId, fake.password, fake.totpCode)).rejects.toBeInstanceOf(
      TransientBackendError,
    );
    expect(fake.rpcCalls('cancel_reauth')).toHaveLength(1);
  });
});

describe('SupabaseSigningBackend requests and errors', () => {
  const signResult = {
    ceremony_id: ceremonyId,
    intent: 'approve',
    meaning: 'I approve this change',
    comment: null,
    signed_at: '2026-05-01T10:00:01.000Z',
    re_auth_at: '2026-05-01T10:00:00.000Z',
    signer: { user_id: '11111111-2222-4333-8444-555555555555', printed_name: 'Sam Signer' },
    records: [
      {
        staging_record_id: stagingId,
        signature_id: attemptId,
        content_hash: 'a'.repeat(64),
        state: 'signed',
      },
    ],
    replayed: false,
  };

  it('shapes sign_batch as the SQL function takes it', async () => {
    const fake = new FakeSupabase().onRpc('sign_batch', () => ({ status: 200, body: signResult }));
    const backend = (await signedIn(fake)).signingBackend();
    const result = await backend.signBatch(
      {
        ceremonyId,
        nonce: 'n'.repeat(24),
        intent: 'approve',
        meaning: 'I approve this change',
        comment: null,
        manifest: [{ stagingRecordId: stagingId, contentHash: 'a'.repeat(64) }],
      },
      'ignored',
    );
    expect(fake.rpcCalls('sign_batch')[0]?.body).toEqual({
      ceremony_id: ceremonyId,
      nonce: 'n'.repeat(24),
      intent: 'approve',
      meaning: 'I approve this change',
      signature_comment: null,
      manifest: [{ staging_record_id: stagingId, content_hash: 'a'.repeat(64) }],
      rejection_reason: null,
      rejection_explanation: null,
    });
    expect(result.records).toEqual([
      { stagingRecordId: stagingId, signatureId: attemptId, contentHash: 'a'.repeat(64), state: 'signed' },
    ]);
    expect(result.rejection).toBeNull();
    expect(JSON.stringify(fake.rpcCalls('sign_batch')[0]?.body)).not.toContain('ignored');
  });

  it('sends a rejection with its reason and explanation, and reads them back [SIGN-REJECT-REASON]', async () => {
    const rejection = { reason: 'Duplicate of another proposal', explanation: 'Same KPI as the March one.' };
    const fake = new FakeSupabase()
      .onRpc('sign_batch', () => ({
        status: 200,
        body: {
          ...signResult,
          intent: 'reject',
          meaning: 'I reject this change',
          records: [{ ...signResult.records[0], state: 'rejected' }],
          rejection_reason: rejection.reason,
          rejection_explanation: rejection.explanation,
        },
      }))
      .onRpc('rejection_reasons', () => ({
        status: 200,
        body: [rejection.reason, 'Other (explained below)'],
      }));
    const backend = (await signedIn(fake)).signingBackend();
    expect(await backend.rejectionReasons()).toEqual([rejection.reason, 'Other (explained below)']);
    const result = await backend.signBatch(
      {
        ceremonyId,
        nonce: 'n'.repeat(24),
        intent: 'reject',
        meaning: 'I reject this change',
        comment: null,
        rejection,
        manifest: [{ stagingRecordId: stagingId, contentHash: 'a'.repeat(64) }],
      },
      'ignored',
    );
    expect(fake.rpcCalls('sign_batch')[0]?.body).toMatchObject({
      intent: 'reject',
      rejection_reason: rejection.reason,
      rejection_explanation: rejection.explanation,
    });
    expect(result.rejection).toEqual(rejection);
  });

  it('asks the server for a 10,000-record manifest 5,000 records at a time (its limit per call)', async () => {
    const ids = Array.from(
      { length: 10_000 },
      (_, i) => `12345678-1234-4234-8234-${String(i).padStart(12, '0')}`,
    );
    const fake = new FakeSupabase().onRpc('signing_subjects', (body) => ({
      status: 200,
      body: (body as { staging_ids: string[] }).staging_ids.map((id) => ({
        staging_record_id: id,
        study_id: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d',
        study_code: 'CS-001',
        entity_kind: 'study_kpi',
        entity_id: null,
        state: 'reviewing',
        proposed_state: { label: 'Enrolment' },
        live_row: null,
      })),
    }));
    const backend = (await signedIn(fake)).signingBackend();
    const subjects = await backend.subjects(ids);
    expect(subjects.map((s) => s.stagingRecordId)).toEqual(ids);
    expect(
      fake
        .rpcCalls('signing_subjects')
        .map((call) => (call.body as { staging_ids: string[] }).staging_ids.length),
    ).toEqual([5000, 5000]);
  });

  it('resends the very same ceremony after a dropped connection (the ceremony service retries)', async () => {
    const fake = reauthReplies(new FakeSupabase())
      .onRpc('signing_subjects', () => ({
        status: 200,
        body: [
          {
            staging_record_id: stagingId,
            study_id: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d',
            study_code: 'CS-001',
            entity_kind: 'study_kpi',
            entity_id: null,
            state: 'reviewing',
            proposed_state: { label: 'Enrolment', value: '41%', position: 1 },
            live_row: null,
          },
        ],
      }))
      .onRpc('sign_batch', () => ({ status: 200, body: { ...signResult, replayed: true } }));
    const session = await signedIn(fake);
    const ceremonies = new SigningCeremonies(session.signingBackend(), { retryDelayMs: 0 });
    const manifest = await ceremonies.buildManifest([stagingId]);
    fake.failNetwork('/rest/v1/rpc/sign_batch', 2);
    const outcome = await ceremonies.sign({
      ceremonyId: manifest.ceremonyId,
      intent: 'approve',
      meaning: 'I approve this change',
      comment: null,
      entries: manifest.entries.map((e) => ({
        stagingRecordId: e.stagingRecordId,
        contentHash: e.contentHash,
      })),
      password: fake.password,
      totpCode: fake.totpCode,
    });
    expect(outcome.ok).toBe(true);
    const sent = fake.rpcCalls('sign_batch').map((r) => JSON.stringify(r.body));
    expect(sent).toHaveLength(3);
    expect(new Set(sent).size).toBe(1);
  });

  it.each([
    [
      postgrestErrorReply(
        400,
        'CS409',
        'record x is signed, not reviewing',
        'Only records opened for review can be signed.',
      ),
      UserFacingError,
      'record x is signed, not reviewing Only records opened for review can be signed.',
    ],
    [postgrestErrorReply(400, 'CS403', 'only a signer can sign'), UserFacingError, 'only a signer can sign'],
    [
      postgrestErrorReply(400, 'CS422', 'the manifest must list at least one record'),
      UserFacingError,
      'the manifest must list at least one record',
    ],
    [
      postgrestErrorReply(403, '42501', 'permission denied for function sign_batch'),
      UserFacingError,
      'You are not allowed to do this.',
    ],
    [postgrestErrorReply(401, 'PGRST301', 'JWT expired'), UserFacingError, /sign in again/],
    [
      postgrestErrorReply(404, 'PGRST202', 'Could not find the function public.sign_batch'),
      UserFacingError,
      /apply the migrations/,
    ],
    [
      postgrestErrorReply(503, 'PGRST002', 'Could not query the database for the schema cache'),
      TransientBackendError,
      /could not be reached/,
    ],
    [postgrestErrorReply(502, '', 'Bad gateway'), TransientBackendError, /could not be reached/],
  ])('maps a PostgREST error reply %#', async (reply, type, message) => {
    const fake = new FakeSupabase().onRpc('promote', () => reply);
    const backend = (await signedIn(fake)).signingBackend();
    const failure = backend.promote([stagingId]);
    await expect(failure).rejects.toBeInstanceOf(type);
    await expect(failure).rejects.toThrow(message);
  });

  it('maps a network failure of an RPC to a transient error', async () => {
    const fake = new FakeSupabase();
    const backend = (await signedIn(fake)).signingBackend();
    fake.failNetwork('/rest/v1/rpc/open_for_review');
    await expect(backend.openForReview([stagingId])).rejects.toBeInstanceOf(TransientBackendError);
  });

  it('reads the TOTP state from Supabase Auth and the rest of the status from the server', async () => {
    const fake = new FakeSupabase({ factor: 'none' }).onRpc('my_signing_status', () => ({
      status: 200,
      body: { is_signer: true, totp: 'none', locked: false, consecutive_failures: 2 },
    }));
    const backend = (await signedIn(fake)).signingBackend();
    expect(await backend.status()).toEqual({
      isSigner: true,
      totp: 'none',
      locked: false,
      consecutiveFailures: 2,
    });
    fake.factor = 'verified';
    expect((await backend.status()).totp).toBe('confirmed');
  });
});

describe('SupabaseSession reads and enrolment', () => {
  it('pulls a keyset page through PostgREST from the exposed schema', async () => {
    const fake = new FakeSupabase();
    const session = await signedIn(fake);
    const rows = await session.pullPage({
      schema: 'cro',
      table: 'staging_record',
      keyColumn: 'id',
      after: stagingId,
      limit: 500,
    });
    expect(rows).toEqual([{ id: 'row-1' }]);
    const request = fake.requests.at(-1);
    expect(request?.method).toBe('GET');
    expect(request?.path).toBe('/rest/v1/staging_record');
    expect(new URLSearchParams(request?.search).getAll('id')).toEqual([`gt.${stagingId}`]);
    expect(new URLSearchParams(request?.search).get('order')).toBe('id.asc');
    expect(new URLSearchParams(request?.search).get('limit')).toBe('500');
    expect(request?.headers['accept-profile']).toBe('cro');
    expect(request?.headers.authorization).toBe(bearer(fake.tokens.at(-1)));
  });

  it('refuses a table or column name that is not an identifier', async () => {
    const session = await signedIn(new FakeSupabase());
    await expect(
      session.pullPage({
        schema: 'cro',
        table: 'staging_record;drop',
        keyColumn: 'id',
        after: null,
        limit: 1,
      }),
    ).rejects.toThrow(/not a table or column name/);
  });

  it('pages the staging queue with a keyset cursor and counts per state', async () => {
    const row = {
      id: stagingId,
      state: 'reviewing',
      entityKind: 'study_kpi',
      entityId: null,
      studyId: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d',
      studyCode: 'CS-001',
      agentId: 'agent',
      modelVersion: null,
      createdAt: '2026-05-01T10:00:00.000001Z',
      updatedAt: '2026-05-01T10:00:00.000001Z',
    };
    const fake = new FakeSupabase().onRpc('staging_queue', () => ({
      status: 200,
      body: { rows: [row, { ...row, id: attemptId }], counts: { reviewing: 7 } },
    }));
    const session = await signedIn(fake);
    const page = await session.stagingQueue({ limit: 1, after: null, states: ['reviewing'], studyId: null });
    expect(fake.rpcCalls('staging_queue')[0]?.body).toEqual({
      page_size: 2,
      after_created_at: null,
      after_id: null,
      states: ['reviewing'],
      study: null,
      build: null,
    });
    // Each row names its build by id (0054; supabaseBuilds.test.ts); this fake's rows name none.
    expect(page.rows).toEqual([{ ...row, build: null }]);
    expect(page.nextCursor).toEqual({ createdAt: row.createdAt, id: stagingId });
    expect(page.countsByState).toEqual({ proposed: 0, reviewing: 7, signed: 0, promoted: 0, rejected: 0 });
  });

  it('refreshes the token on request', async () => {
    const fake = new FakeSupabase();
    const session = await signedIn(fake);
    const issued = fake.tokens.length;
    await session.refresh();
    expect(fake.tokens.length).toBe(issued + 1);
  });

  it('enrols a first-time signer with a factor from Supabase Auth, QR drawn from its secret, confirmed by a code', async () => {
    const fake = new FakeSupabase({ factor: 'none' });
    const session = await signedIn(fake);
    const offer = await session.offerTotpEnrolment();
    expect(offer.secretBase32).toBe('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    expect(offer.otpauthUri).toContain('secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    expect(offer.qr.modules).toMatch(/^[01]+$/);
    expect(offer.qr.modules.length).toBe(offer.qr.size * offer.qr.size);
    const enrol = fake.requests.find((r) => r.path === '/auth/v1/factors');
    expect(enrol?.body).toMatchObject({ factor_type: 'totp', issuer: 'Countersign' });

    const backend = session.signingBackend();
    expect(await backend.confirmTotpEnrolment('000000')).toEqual({ ok: false, reason: 'wrong' });
    expect(await backend.confirmTotpEnrolment(fake.totpCode)).toEqual({ ok: true });
    expect(fake.factor).toBe('verified');
    await expect(session.offerTotpEnrolment()).rejects.toThrow(/already have a confirmed authenticator/);
  });

  it('signs out locally on close, and keeps tokens out of everything it returns', async () => {
    const fake = new FakeSupabase();
    const session = await signedIn(fake);
    sessions.pop();
    await session.close();
    expect(fake.paths().at(-1)).toBe('POST /auth/v1/logout');
    expect(fake.requests.at(-1)?.search).toBe('?scope=local');
  });
});

// The Part 11 ceremony in hosted mode, against the real PostgreSQL shaped like a Supabase project
// (Supabase's own auth.uid(), which trusts request.jwt.claims), reached exactly as PostgREST reaches
// it: `authenticator`, `set local role authenticated`, request.jwt.claims per request. The proof of
// re-authentication is the JWT (aal2, fresh password and totp amr entries); every rule of sign_batch
// holds as in the direct modes.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, type SigningSubject } from '../../src/main/signing/contentHash';
import { actingAs, createKpi, createStudy, propose } from './support/operatorActions';
import { type AmrEntry, type Claims, PostgrestGateway, supabaseClaims } from './support/postgrestGateway';
import { createSupabaseLikeDatabase, type SupabaseLikeDatabase } from './support/supabaseLikeDatabase';

const approve = 'I approve this change';
const nonce = () => randomBytes(18).toString('base64url');
const seconds = (offset = 0) => Math.floor(Date.now() / 1000) + offset;
const amr = (passwordAge: number, totpAge: number): AmrEntry[] => [
  { method: 'password', timestamp: seconds(-passwordAge) },
  { method: 'totp', timestamp: seconds(-totpAge) },
];

interface ServerSubject {
  staging_record_id: string;
  study_id: string;
  entity_kind: string;
  entity_id: string | null;
  state: string;
  proposed_state: unknown;
  live_row: unknown;
}

interface ReauthResult {
  ok: boolean;
  reason?: string;
  locked?: boolean;
  attempts_left?: number;
  re_auth_at?: string;
}

describe('hosted mode: signing with Supabase JWT claims through PostgREST [SEC-HOSTED-CLAIMS]', () => {
  let db: SupabaseLikeDatabase;
  let gateway: PostgrestGateway;
  let adminId: string;
  let agentA: string;
  let studyA: string;
  let studyB: string;
  let kpiA: string;
  let people = 0;

  const newPerson = (roles: { role: string; studyId: string | null }[]) => {
    people++;
    return db.createUser({
      email: `p${people}.${db.tag}@example.test`,
      printedName: `Sam Signer ${people}`,
      roles,
    });
  };
  const newSigner = (study?: string) => newPerson([{ role: 'signer', studyId: study ?? studyA }]);

  /** New proposals in a study (by its agent), opened for review by `signer` through the API. */
  async function reviewing(signer: string, count: number, study = studyA): Promise<string[]> {
    const agent = study === studyA ? agentA : await newPerson([{ role: 'agent', studyId: study }]);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      ids.push(
        await propose(db.operator, agent, {
          entityKind: 'study_kpi',
          entityId: i === 0 ? kpiA : null,
          studyId: study,
          proposedState: { label: `KPI ${i}`, value: `${i}%`, position: i },
        }),
      );
    }
    if (study === studyA) {
      const opened = await gateway.rpc<number>(supabaseClaims(signer, { aal: 'aal1' }), 'open_for_review', {
        staging_ids: ids,
      });
      expect(opened).toBe(count);
    } else {
      await actingAs(db.operator, adminId, () =>
        db.operator.query(`update cro.staging_record set state = 'reviewing' where id = any ($1::uuid[])`, [
          ids,
        ]),
      );
    }
    return ids;
  }

  const begin = async (userId: string, ceremonyId: string) => {
    const begun = await gateway.rpc<{ ok: boolean; attempt_id?: string }>(
      supabaseClaims(userId, { aal: 'aal1' }),
      'begin_reauth',
      { ceremony_id: ceremonyId },
    );
    expect(begun.ok).toBe(true);
    return begun.attempt_id as string;
  };
  const complete = (claims: Claims, attemptId: string) =>
    gateway.rpc<ReauthResult>(claims, 'complete_reauth_from_claims', { attempt_id: attemptId });

  async function manifestOf(claims: Claims, ids: string[]) {
    const subjects = await gateway.rpc<ServerSubject[]>(claims, 'signing_subjects', { staging_ids: ids });
    // The build each record was written under, read as the hosted workstation reads it (PostgREST's
    // GET /rest/v1/staging_record?select=id,build_id, schema cro): what is signed binds it (0054).
    const builds = new Map(
      (
        await gateway.request<{ id: string; build_id: string }>(
          claims,
          'select id::text, build_id::text from cro.staging_record where id = any ($1::uuid[])',
          [ids],
        )
      ).map((row) => [row.id, row.build_id]),
    );
    return subjects.map((s) => {
      const subject: SigningSubject = {
        stagingRecordId: s.staging_record_id,
        studyId: s.study_id,
        entityKind: s.entity_kind,
        entityId: s.entity_id,
        proposedState: s.proposed_state,
        liveRow: s.live_row,
        buildId: builds.get(s.staging_record_id) ?? null,
      };
      return { staging_record_id: s.staging_record_id, content_hash: contentHash(subject) };
    });
  }

  const signBatch = (
    claims: Claims,
    ceremonyId: string,
    manifest: unknown,
    overrides: Partial<{ nonce: string; intent: string; meaning: string }> = {},
  ) =>
    gateway.rpc<{
      records: { staging_record_id: string; state: string }[];
      replayed: boolean;
      re_auth_at: string;
    }>(claims, 'sign_batch', {
      ceremony_id: ceremonyId,
      nonce: overrides.nonce ?? nonce(),
      intent: overrides.intent ?? 'approve',
      meaning: overrides.meaning ?? approve,
      signature_comment: null,
      manifest,
    });

  /** A whole ceremony as the workstation runs it in hosted mode. */
  async function ceremony(signer: string, ids: string[], claims = supabaseClaims(signer), options = {}) {
    const ceremonyId = randomUUID();
    const attempt = await begin(signer, ceremonyId);
    expect(await complete(claims, attempt)).toMatchObject({ ok: true });
    return signBatch(claims, ceremonyId, await manifestOf(claims, ids), options);
  }

  const state = async (id: string) =>
    (await db.operator.query('select state::text as s from cro.staging_record where id = $1', [id])).rows[0]
      ?.s;
  const status = (userId: string) =>
    gateway.rpc<{ locked: boolean; consecutive_failures: number }>(
      supabaseClaims(userId, { aal: 'aal1' }),
      'my_signing_status',
    );

  beforeAll(async () => {
    db = await createSupabaseLikeDatabase();
    gateway = await PostgrestGateway.connect(db.server, db.name);
    adminId = await db.createUser({
      email: `admin.${db.tag}@example.test`,
      printedName: 'Ada Admin',
      roles: [{ role: 'admin', studyId: null }],
    });
    studyA = await createStudy(db.operator, adminId, `SB-A-${db.tag}`);
    studyB = await createStudy(db.operator, adminId, `SB-B-${db.tag}`);
    kpiA = await createKpi(db.operator, adminId, studyA);
    agentA = await newPerson([{ role: 'agent', studyId: studyA }]);
  });
  afterAll(async () => {
    await gateway?.close();
    await db?.drop();
  });

  it('signs a batch with a fresh aal2 token: the signature carries the totp verification time', async () => {
    const signer = await newSigner();
    const ids = await reviewing(signer, 3);
    const totpAt = seconds(-30);
    const claims = supabaseClaims(signer, {
      amr: [
        { method: 'password', timestamp: seconds(-40) },
        { method: 'totp', timestamp: totpAt },
      ],
    });
    const result = await ceremony(signer, ids, claims);
    expect(result.records.map((r) => r.state)).toEqual(['signed', 'signed', 'signed']);
    expect(result.replayed).toBe(false);
    expect(Date.parse(result.re_auth_at)).toBe(totpAt * 1000);
    for (const id of ids) expect(await state(id)).toBe('signed');
    const { rows } = await db.operator.query(
      `select user_id, re_auth_at from cro.signature_event where subject_id = any ($1::text[])`,
      [ids],
    );
    expect(rows.map((r) => r.user_id)).toEqual([signer, signer, signer]);
    expect(rows.every((r) => r.re_auth_at.getTime() === totpAt * 1000)).toBe(true);
  });

  it('refuses an aal1 token, counts it as a failed re-authentication, and sign_batch refuses aal1 too', async () => {
    const signer = await newSigner();
    const ids = await reviewing(signer, 1);
    const ceremonyId = randomUUID();
    const attempt = await begin(signer, ceremonyId);
    const aal1 = supabaseClaims(signer, { aal: 'aal1', amr: [{ method: 'password', timestamp: seconds() }] });
    expect(await complete(aal1, attempt)).toMatchObject({
      ok: false,
      reason: 'claims_not_aal2',
      attempts_left: 4,
    });
    expect(await status(signer)).toMatchObject({ consecutive_failures: 1 });

    // A verified re-authentication cannot be spent with a token that never passed MFA.
    const verified = randomUUID();
    const fresh = supabaseClaims(signer);
    expect(await complete(fresh, await begin(signer, verified))).toMatchObject({ ok: true });
    await expect(signBatch(aal1, verified, await manifestOf(fresh, ids))).rejects.toMatchObject({
      code: 'CS403',
      message: expect.stringMatching(/not_aal2/),
    });
    expect(await state(ids[0] as string)).toBe('reviewing');
  });

  it('refuses a stale password or totp amr entry (older than 5 minutes), and a missing one', async () => {
    const signer = await newSigner();
    const cases: [AmrEntry[], string][] = [
      [amr(301, 10), 'claims_password_stale'],
      [amr(10, 301), 'claims_totp_stale'],
      [[{ method: 'totp', timestamp: seconds() }], 'claims_password_missing'],
      [[{ method: 'password', timestamp: seconds() }], 'claims_totp_missing'],
      [amr(-600, 0), 'claims_amr_in_future'],
    ];
    for (const [entries, reason] of cases) {
      const result = await complete(
        supabaseClaims(signer, { amr: entries }),
        await begin(signer, randomUUID()),
      );
      expect(result, reason).toMatchObject({ ok: false, reason });
    }
    expect(await status(signer)).toMatchObject({ consecutive_failures: 5, locked: true });
  });

  it('takes the newest amr entry per method, whatever their order', async () => {
    const signer = await newSigner();
    const newestFirst = [
      { method: 'totp', timestamp: seconds(-5) },
      { method: 'password', timestamp: seconds(-6) },
      { method: 'totp', timestamp: seconds(-900) },
      { method: 'password', timestamp: seconds(-900) },
      { method: 'oauth', timestamp: seconds() },
    ];
    expect(
      await complete(supabaseClaims(signer, { amr: newestFirst }), await begin(signer, randomUUID())),
    ).toMatchObject({ ok: true });
    const staleLast = [
      { method: 'password', timestamp: seconds(-900) },
      { method: 'totp', timestamp: seconds(-900) },
      { method: 'password', timestamp: seconds(-2) },
      { method: 'totp', timestamp: seconds(-1) },
    ];
    expect(
      await complete(supabaseClaims(signer, { amr: staleLast }), await begin(signer, randomUUID())),
    ).toMatchObject({ ok: true });
  });

  it('lets one MFA verification back one ceremony only: the same or an older totp entry is refused', async () => {
    const signer = await newSigner();
    const claims = supabaseClaims(signer, { amr: amr(20, 10) });
    expect(await complete(claims, await begin(signer, randomUUID()))).toMatchObject({ ok: true });
    expect(await complete(claims, await begin(signer, randomUUID()))).toMatchObject({
      ok: false,
      reason: 'totp_reused',
    });
    const older = supabaseClaims(signer, { amr: amr(20, 15) });
    expect(await complete(older, await begin(signer, randomUUID()))).toMatchObject({
      ok: false,
      reason: 'totp_reused',
    });
    const newer = supabaseClaims(signer, { amr: amr(20, 1) });
    expect(await complete(newer, await begin(signer, randomUUID()))).toMatchObject({ ok: true });
  });

  it('locks signing at the fifth failure in a row (wrong codes reported by the workstation included) [CFR-11.300d]', async () => {
    const signer = await newSigner();
    for (let i = 0; i < 3; i++) {
      const failed = await gateway.rpc<ReauthResult>(
        supabaseClaims(signer, { aal: 'aal1' }),
        'record_reauth_totp_failure',
        { attempt_id: await begin(signer, randomUUID()) },
      );
      expect(failed).toMatchObject({ ok: false, reason: 'totp_wrong', attempts_left: 4 - i });
    }
    await complete(supabaseClaims(signer, { aal: 'aal1' }), await begin(signer, randomUUID()));
    const last = await complete(
      supabaseClaims(signer, { amr: amr(400, 0) }),
      await begin(signer, randomUUID()),
    );
    expect(last).toMatchObject({ ok: false, locked: true, attempts_left: 0 });

    const locked = await gateway.rpc<{ ok: boolean; reason: string }>(
      supabaseClaims(signer, { aal: 'aal1' }),
      'begin_reauth',
      { ceremony_id: randomUUID() },
    );
    expect(locked).toMatchObject({ ok: false, reason: 'locked' });
    const { rows } = await db.operator.query(
      `select count(*)::int as n from audit.security_alert where kind = 'signing_locked' and user_id = $1`,
      [signer],
    );
    expect(rows[0].n).toBe(1);
  });

  it('commits every refused completion with its answer: returned, never raised, so PostgREST commits it [SEC-ATTEMPTS-COMMITTED]', async () => {
    const signer = await newSigner();
    const refusals: Claims[] = [
      supabaseClaims(signer, { aal: 'aal1' }),
      supabaseClaims(signer, { amr: amr(400, 0) }),
      supabaseClaims(signer, { amr: amr(0, 400) }),
      supabaseClaims(signer, { amr: [{ method: 'password', timestamp: Math.floor(Date.now() / 1000) }] }),
    ];
    for (const [index, claims] of refusals.entries()) {
      const attempt = await begin(signer, randomUUID());
      // The answer comes back as a value (an exception would make PostgREST roll the attempt back) ...
      const answer = await complete(claims, attempt);
      expect(answer).toMatchObject({ ok: false, attempts_left: 4 - index });
      // ... and by then the failure and its audit entry are committed: another connection sees them.
      const { rows } = await db.operator.query(
        `select a.outcome, (select count(*)::int from audit.audit_log l
                             where l.event_type = 'reauth.failed' and l.payload ->> 'attempt_id' = a.id::text) as audited
           from cs_private.reauth_attempt a where a.id = $1`,
        [attempt],
      );
      expect(rows[0]).toMatchObject({ outcome: expect.stringMatching(/^failed_/), audited: 1 });
    }
  });

  describe('Supabase Auth hooks report every password and code GoTrue checks [SEC-SIGN-IN-LOCK, CFR-11.300d]', () => {
    /** Calls a hook as Supabase Auth does: as supabase_auth_admin, in a transaction it commits. */
    const hook = async (name: string, event: Record<string, unknown>) => {
      await db.operator.query('begin');
      try {
        await db.operator.query('set local role supabase_auth_admin');
        const { rows } = await db.operator.query(`select cs_private.${name}($1::jsonb) as r`, [
          JSON.stringify(event),
        ]);
        await db.operator.query('commit');
        return rows[0].r as { decision: string; message?: string };
      } catch (error) {
        await db.operator.query('rollback');
        throw error;
      }
    };

    it('counts wrong passwords, locks sign-in at five with an alert, and then refuses the right one', async () => {
      const person = await newSigner();
      const decisions: string[] = [];
      for (let i = 0; i < 5; i++) {
        decisions.push(
          (await hook('hook_password_verification_attempt', { user_id: person, valid: false })).decision,
        );
      }
      expect(decisions).toEqual(['continue', 'continue', 'continue', 'continue', 'reject']);
      expect(
        await hook('hook_password_verification_attempt', { user_id: person, valid: true }),
      ).toMatchObject({
        decision: 'reject',
        message: expect.stringMatching(/locked/),
      });
      const { rows } = await db.operator.query(
        `select count(*)::int as n from audit.security_alert where kind = 'sign_in_locked' and user_id = $1`,
        [person],
      );
      expect(rows[0].n).toBe(1);
    });

    it('counts wrong codes toward the signing lock, and refuses codes once it is locked', async () => {
      const signer = await newSigner();
      for (let i = 0; i < 4; i++) {
        expect(await hook('hook_mfa_verification_attempt', { user_id: signer, valid: false })).toMatchObject({
          decision: 'continue',
        });
      }
      expect(await hook('hook_mfa_verification_attempt', { user_id: signer, valid: false })).toMatchObject({
        decision: 'reject',
      });
      expect(await status(signer)).toMatchObject({ locked: true, consecutive_failures: 5 });
      expect(await hook('hook_mfa_verification_attempt', { user_id: signer, valid: true })).toMatchObject({
        decision: 'reject',
      });
    });

    it('is callable by Supabase Auth only', async () => {
      const signer = await newSigner();
      for (const name of ['hook_password_verification_attempt', 'hook_mfa_verification_attempt']) {
        await expect(
          gateway.request(supabaseClaims(signer), `select cs_private.${name}($1::jsonb)`, [
            JSON.stringify({ user_id: signer, valid: true }),
          ]),
        ).rejects.toThrow(/permission denied/);
      }
    });
  });

  it('refuses a person who is not a signer, and a signer of another study', async () => {
    const monitor = await newPerson([{ role: 'monitor', studyId: studyA }]);
    await expect(
      gateway.rpc(supabaseClaims(monitor), 'begin_reauth', { ceremony_id: randomUUID() }),
    ).rejects.toMatchObject({ code: 'CS403', message: 'only a signer can sign' });

    const signerA = await newSigner();
    const signerB = await newSigner(studyB);
    const idsA = await reviewing(signerA, 1);
    // Signer B cannot even see A's record; a tampering client sends the manifest A's signer would.
    expect(await manifestOf(supabaseClaims(signerB), idsA)).toEqual([]);
    const ceremonyId = randomUUID();
    const claimsB = supabaseClaims(signerB);
    expect(await complete(claimsB, await begin(signerB, ceremonyId))).toMatchObject({ ok: true });
    await expect(
      signBatch(claimsB, ceremonyId, await manifestOf(supabaseClaims(signerA), idsA)),
    ).rejects.toMatchObject({ code: 'CS403', message: expect.stringMatching(/not a signer of study/) });
    expect(await state(idsA[0] as string)).toBe('reviewing');
  });

  it('refuses a record not in reviewing, a changed record, a replayed nonce, and a consumed re-authentication', async () => {
    const signer = await newSigner();
    const [changed, replay1, replay2, consumed] = await reviewing(signer, 4);
    const proposed = await propose(db.operator, agentA, {
      entityKind: 'study_kpi',
      entityId: null,
      studyId: studyA,
      proposedState: { label: 'not opened', position: 9 },
    });
    // Each ceremony below carries a newer totp amr entry than the one before (each is single use).
    await expect(ceremony(signer, [proposed], supabaseClaims(signer, { amr: amr(10, 10) }))).rejects.toThrow(
      /is proposed, not reviewing/,
    );

    const ceremonyId = randomUUID();
    const claims = supabaseClaims(signer, { amr: amr(8, 8) });
    const manifest = await manifestOf(claims, [changed as string]);
    await actingAs(db.operator, agentA, () =>
      db.operator.query(
        `update cro.staging_record set proposed_state = '{"label": "sneaky"}' where id = $1`,
        [changed],
      ),
    );
    expect(await complete(claims, await begin(signer, ceremonyId))).toMatchObject({ ok: true });
    await expect(signBatch(claims, ceremonyId, manifest)).rejects.toMatchObject({ code: 'CS409' });

    const used = nonce();
    await ceremony(signer, [replay1 as string], supabaseClaims(signer, { amr: amr(6, 6) }), { nonce: used });
    await expect(
      ceremony(signer, [replay2 as string], supabaseClaims(signer, { amr: amr(4, 4) }), { nonce: used }),
    ).rejects.toThrow(/replayed nonce/);

    // A ceremony id with no verified re-authentication of its own, even holding a fresh aal2 token.
    const fresh = supabaseClaims(signer, { amr: amr(0, -1) });
    await expect(
      signBatch(fresh, randomUUID(), await manifestOf(fresh, [consumed as string])),
    ).rejects.toThrow(/no re-authentication for ceremony/);
    expect(await state(consumed as string)).toBe('reviewing');
  });

  it('answers a resent ceremony with the first result, even after the token aged', async () => {
    const signer = await newSigner();
    const ids = await reviewing(signer, 2);
    const ceremonyId = randomUUID();
    const claims = supabaseClaims(signer);
    expect(await complete(claims, await begin(signer, ceremonyId))).toMatchObject({ ok: true });
    const manifest = await manifestOf(claims, ids);
    const sameNonce = nonce();
    const first = await signBatch(claims, ceremonyId, manifest, { nonce: sameNonce });
    const aged = supabaseClaims(signer, { amr: amr(600, 600) });
    const again = await signBatch(aged, ceremonyId, manifest, { nonce: sameNonce });
    expect(again.replayed).toBe(true);
    expect(again.records).toEqual(first.records);
    const { rows } = await db.operator.query(
      'select count(*)::int as n from cro.signature_event where ceremony_id = $1',
      [ceremonyId],
    );
    expect(rows[0].n).toBe(2);
  });

  it('refuses a re-authentication older than 5 minutes at sign_batch', async () => {
    const signer = await newSigner();
    const ids = await reviewing(signer, 1);
    const ceremonyId = randomUUID();
    const claims = supabaseClaims(signer);
    expect(await complete(claims, await begin(signer, ceremonyId))).toMatchObject({ ok: true });
    await db.operator.query(
      `update cs_private.reauth_attempt set password_verified_at = password_verified_at - interval '6 minutes',
              totp_verified_at = totp_verified_at - interval '6 minutes' where ceremony_id = $1`,
      [ceremonyId],
    );
    await expect(signBatch(claims, ceremonyId, await manifestOf(claims, ids))).rejects.toThrow(
      /older than 5 minutes/,
    );
  });

  it('never honours forged claims on a direct login, even where auth.uid() trusts them', async () => {
    const signer = await newSigner();
    const ids = await reviewing(signer, 1);
    const ceremonyId = randomUUID();
    const attempt = await begin(signer, ceremonyId);
    // Someone with a database login of their own (member of `authenticated`), claiming to be the signer.
    const login = `forger_${db.tag}`;
    await db.operator.query(`create role ${login} login password 'forger-pass-123' in role authenticated`);
    const forger = new pg.Client({
      host: db.server.host,
      port: db.server.port,
      user: login,
      password: 'forger-pass-123',
      database: db.name,
    });
    await forger.connect();
    try {
      await forger.query("select set_config('request.jwt.claims', $1, false)", [
        JSON.stringify(supabaseClaims(signer)),
      ]);
      await expect(
        forger.query('select public.complete_reauth_from_claims($1)', [attempt]),
      ).rejects.toMatchObject({
        code: 'CS403',
        message: expect.stringMatching(/only through the API gateway/),
      });
      const manifest = await manifestOf(supabaseClaims(signer), ids);
      await expect(
        forger.query('select public.sign_batch($1, $2, $3, $4, null, $5::jsonb)', [
          ceremonyId,
          nonce(),
          'approve',
          approve,
          JSON.stringify(manifest),
        ]),
      ).rejects.toThrow(/no re-authentication for ceremony/);
    } finally {
      await forger.end();
      await db.operator.query(`drop owned by ${login}; drop role ${login}`);
    }
    expect(await state(ids[0] as string)).toBe('reviewing');
  });

  it('exposes nothing of the signing API to anon', async () => {
    const { rows } = await db.operator.query<{ fn: string }>(
      `select p.oid::regprocedure::text as fn from pg_proc p
        where p.pronamespace = 'public'::regnamespace and has_function_privilege('anon', p.oid, 'execute')`,
    );
    expect(rows.map((r) => r.fn)).toEqual([]);
  });
});

// The claims path on the direct-mode schema (Countersign's own auth.uid() shim): through the PostgREST
// gateway it signs exactly as on Supabase, and on a person's own login forged claims count for
// nothing: they neither change who is calling nor prove a re-authentication.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../src/main/signing/contentHash';
import { PostgrestGateway, supabaseClaims } from './support/postgrestGateway';
import { buildSigningWorld, password, type SigningWorld } from './support/signingWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const approve = 'I approve this change';

describe('the claims path on the direct-mode schema [SEC-HOSTED-CLAIMS]', () => {
  let db: TestDatabase;
  let world: SigningWorld;
  let gateway: PostgrestGateway;

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildSigningWorld(db);
    gateway = await PostgrestGateway.connect(db.server, db.name);
  });
  afterAll(async () => {
    await gateway?.close();
    await world?.close();
    await db?.drop();
  });

  it('signs through the gateway with a fresh aal2 token, as on Supabase', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 2);
    const claims = supabaseClaims(signer.id);
    const ceremonyId = randomUUID();
    const begun = await gateway.rpc<{ attempt_id: string }>(claims, 'begin_reauth', {
      ceremony_id: ceremonyId,
    });
    expect(
      await gateway.rpc(claims, 'complete_reauth_from_claims', { attempt_id: begun.attempt_id }),
    ).toMatchObject({ ok: true });
    const subjects = await signer.backend.subjects(ids);
    const result = await gateway.rpc<{ records: { state: string }[] }>(claims, 'sign_batch', {
      ceremony_id: ceremonyId,
      nonce: randomBytes(18).toString('base64url'),
      intent: 'approve',
      meaning: approve,
      signature_comment: null,
      manifest: subjects.map((s) => ({ staging_record_id: s.stagingRecordId, content_hash: contentHash(s) })),
    });
    expect(result.records.map((r) => r.state)).toEqual(['signed', 'signed']);
  });

  it('refuses the TOTP-in-SQL completion on the gateway: that path needs a fresh login of the person', async () => {
    const signer = await world.newSigner();
    const claims = supabaseClaims(signer.id);
    const begun = await gateway.rpc<{ attempt_id: string }>(claims, 'begin_reauth', {
      ceremony_id: randomUUID(),
    });
    // PostgREST reaches functions only; complete_reauth is a procedure (it commits the attempt first).
    await expect(
      gateway.rpc(claims, 'complete_reauth', { attempt_id: begun.attempt_id, totp_code: signer.code() }),
    ).rejects.toMatchObject({ code: '42809' });
    // Its first step, reached on the gateway's connection, still wants the person's own fresh login.
    await expect(
      gateway.request(claims, 'select cs_private.submit_reauth_code($1, $2)', [
        begun.attempt_id,
        signer.code(),
      ]),
    ).rejects.toMatchObject({ code: 'CS403', message: expect.stringMatching(/fresh login as yourself/) });
  });

  it("never honours forged claims on a person's own login: not as someone else, not as themselves", async () => {
    const victim = await world.newSigner();
    const forger = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 1);
    const client = await db.connectAs(forger.email, password);
    const ceremonyId = randomUUID();

    // Claims of the victim, aal2 and fresh: auth.uid() stays the forger.
    await client.query("select set_config('request.jwt.claims', $1, false)", [
      JSON.stringify(supabaseClaims(victim.id)),
    ]);
    expect((await client.query('select auth.uid() as id')).rows[0].id).toBe(forger.id);

    // Their own claims, aal2 and fresh, do not stand in for a password and a code either.
    await client.query("select set_config('request.jwt.claims', $1, false)", [
      JSON.stringify(supabaseClaims(forger.id)),
    ]);
    const begun = (await client.query('select public.begin_reauth($1) as r', [ceremonyId])).rows[0].r;
    await expect(
      client.query('select public.complete_reauth_from_claims($1)', [begun.attempt_id]),
    ).rejects.toMatchObject({
      code: 'CS403',
      message: expect.stringMatching(/only through the API gateway/),
    });

    const subjects = await forger.backend.subjects(ids);
    await expect(
      client.query('select public.sign_batch($1, $2, $3, $4, null, $5::jsonb)', [
        ceremonyId,
        randomBytes(18).toString('base64url'),
        'approve',
        approve,
        JSON.stringify(
          subjects.map((s) => ({ staging_record_id: s.stagingRecordId, content_hash: contentHash(s) })),
        ),
      ]),
    ).rejects.toThrow(/no re-authentication for ceremony/);
    expect(await world.state(ids[0] as string)).toBe('reviewing');
    expect(
      await world.count(
        `select 1 from cs_private.reauth_attempt where user_id = $1 and outcome = 'verified'`,
        [victim.id],
      ),
    ).toBe(0);
  });

  it('answers the read API (queue, detail) through the gateway exactly as the direct adapter reads it', async () => {
    const signer = await world.newSigner();
    await world.reviewing(world.studyA, 3);
    const claims = supabaseClaims(signer.id, { aal: 'aal1' });
    const direct = await signer.session.stagingQueue({ limit: 2, after: null, states: [], studyId: null });
    const page = await gateway.rpc<{ rows: unknown[]; counts: Record<string, number> }>(
      claims,
      'staging_queue',
      {
        page_size: 3,
        after_created_at: null,
        after_id: null,
        states: null,
        study: null,
      },
    );
    // The function names each row's build by id (0054); the adapters add its number and version.
    const withoutBuild = (rows: typeof direct.rows) =>
      rows.map(({ build, ...row }) => ({ ...row, buildId: build?.id ?? null }));
    expect(page.rows.slice(0, 2)).toEqual(withoutBuild(direct.rows));
    for (const [state, n] of Object.entries(direct.countsByState)) expect(page.counts[state] ?? 0).toBe(n);
    const cursor = direct.nextCursor;
    if (!cursor) throw new Error('expected a second page');
    const next = await gateway.rpc<{ rows: unknown[] }>(claims, 'staging_queue', {
      page_size: 2,
      after_created_at: cursor.createdAt,
      after_id: cursor.id,
      states: ['reviewing'],
      study: world.studyA,
    });
    const directNext = await signer.session.stagingQueue({
      limit: 2,
      after: cursor,
      states: ['reviewing'],
      studyId: world.studyA,
    });
    expect(next.rows).toEqual(withoutBuild(directNext.rows));

    const id = direct.rows[0]?.id as string;
    // The same for a record's detail, whose builds and signatures' content-hash versions are read
    // beside the function too.
    const detail = await signer.session.stagingDetail(id);
    const { build: _build, ...record } = detail.record;
    expect(await gateway.rpc(claims, 'staging_detail', { staging_id: id })).toEqual({
      ...detail,
      record,
      signatures: detail.signatures.map(({ contentHashVersion: _version, ...signature }) => signature),
      provenance: detail.provenance.map(({ build: _provenanceBuild, ...event }) => event),
    });
    // Someone without access to the study sees nothing.
    const outsider = await world.newSigner({ study: world.studyB });
    expect(await gateway.rpc(supabaseClaims(outsider.id), 'staging_detail', { staging_id: id })).toBeNull();
  });
});

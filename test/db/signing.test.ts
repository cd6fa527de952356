// The Part 11 ceremony against a real PostgreSQL: every rule of sign_batch is the server's, and each
// test below fails if that rule is broken. Signers sign through the workstation's own services
// (SigningCeremonies over PostgresSigningBackend), or call the backend directly where a test needs
// to send what a tampering client would.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../src/main/signing/contentHash';
import { type SigningBackend, TransientBackendError } from '../../src/main/signing/signingBackend';
import { SigningCeremonies } from '../../src/main/signing/signingCeremony';
import { actingAs, propose } from './support/operatorActions';
import { buildSigningWorld, password, type Signer, type SigningWorld } from './support/signingWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const approve = 'I approve this change';
const nonce = () => randomBytes(18).toString('base64url');

describe('sign_batch: one Part 11 ceremony for a batch', () => {
  let db: TestDatabase;
  let world: SigningWorld;

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildSigningWorld(db);
  });
  afterAll(async () => {
    await world?.close();
    await db?.drop();
  });

  /** Re-authenticates `signer` for a new ceremony and submits `manifest` as a client would. */
  async function reauthAndSubmit(
    signer: Signer,
    ids: string[],
    overrides: Partial<{
      ceremonyId: string;
      nonce: string;
      intent: 'approve' | 'reject';
      meaning: string;
      rejection: { reason: string; explanation: string };
    }> = {},
    codeSteps = 0,
  ) {
    const ceremonyId = overrides.ceremonyId ?? randomUUID();
    const reauth = await signer.backend.reauthenticate(ceremonyId, password, signer.code(codeSteps));
    expect(reauth.ok).toBe(true);
    const subjects = await signer.backend.subjects(ids);
    return signer.backend.signBatch(
      {
        ceremonyId,
        nonce: overrides.nonce ?? nonce(),
        intent: overrides.intent ?? 'approve',
        meaning: overrides.meaning ?? approve,
        comment: null,
        rejection: overrides.rejection ?? null,
        manifest: subjects.map((s) => ({ stagingRecordId: s.stagingRecordId, contentHash: contentHash(s) })),
      },
      password,
    );
  }

  it('signs every record of the batch: one signature, provenance and audit entries each, all signed [SIGN-BATCH, CFR-11.10e]', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 5);
    const ceremonies = new SigningCeremonies(signer.backend);
    const manifest = await ceremonies.buildManifest(ids);
    expect(manifest.entries.map((e) => e.stagingRecordId).sort()).toEqual([...ids].sort());
    expect(manifest.problems).toEqual([]);
    const auditBefore = await world.count('select 1 from audit.audit_log');

    const outcome = await ceremonies.sign({
      ceremonyId: manifest.ceremonyId,
      intent: 'approve',
      meaning: approve,
      comment: 'Checked against the monitoring report',
      entries: manifest.entries.map((e) => ({
        stagingRecordId: e.stagingRecordId,
        contentHash: e.contentHash,
      })),
      password,
      totpCode: signer.code(),
    });
    if (!outcome.ok) throw new Error(outcome.error);
    expect(outcome.result.replayed).toBe(false);
    expect(outcome.result.signer.printedName).toMatch(/^Sam Signer/);
    expect(outcome.result.records.map((r) => r.state)).toEqual(Array(5).fill('signed'));
    for (const id of ids) expect(await world.state(id)).toBe('signed');

    const { rows } = await db.operator.query(
      `select g.user_id, g.user_display_name, g.intent::text, g.meaning_of_signature, g.re_auth_at, g.signed_at,
              g.content_hash, g.ceremony_id, g.nonce, g.signature_comment, g.subject_id,
              g.content_hash = cs_private.signing_content_hash(s) as hash_matches_server,
              p.action as provenance_action, p.signature_id = g.id as provenance_links_signature
         from cro.signature_event g
         join cro.staging_record s on s.id::text = g.subject_id
         join cro.provenance_event p on p.id = g.provenance_id
        where g.ceremony_id = $1`,
      [manifest.ceremonyId],
    );
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      expect(row.user_id).toBe(signer.id);
      expect(row.user_display_name).toBe(outcome.result.signer.printedName);
      expect(row.intent).toBe('approve');
      expect(row.meaning_of_signature).toBe(approve);
      expect(row.signature_comment).toBe('Checked against the monitoring report');
      expect(row.re_auth_at.getTime()).toBeLessThanOrEqual(row.signed_at.getTime() + 1);
      expect(row.signed_at.getTime() - row.re_auth_at.getTime()).toBeLessThan(5 * 60_000);
      expect(row.hash_matches_server).toBe(true);
      expect(row.nonce).toMatch(/^[A-Za-z0-9_-]{16,}$/);
      expect(row.provenance_action).toBe('approve');
      expect(row.provenance_links_signature).toBe(true);
    }
    // Per record: a signature entry and a state change; plus the ceremony, and the re-authentication's
    // committed code submission and its verdict.
    const auditAfter = await world.count('select 1 from audit.audit_log');
    expect(auditAfter - auditBefore).toBe(5 * 2 + 3);
    expect(
      await world.count(
        `select 1 from audit.audit_log where event_type = 'signing.ceremony' and payload ->> 'ceremony_id' = $1`,
        [manifest.ceremonyId],
      ),
    ).toBe(1);
  });

  it('rejects with intent reject: the records end rejected [SIGN-BATCH]', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 2);
    const result = await reauthAndSubmit(signer, ids, {
      intent: 'reject',
      meaning: 'I reject this change',
      rejection: { reason: 'Incorrect or incomplete values', explanation: 'The value is not a percentage.' },
    });
    expect(result.records.map((r) => r.state)).toEqual(['rejected', 'rejected']);
    for (const id of ids) expect(await world.state(id)).toBe('rejected');
  });

  it('refuses a wrong password, records the failure and signs nothing [CFR-11.200a]', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 1);
    const ceremonies = new SigningCeremonies(signer.backend);
    const manifest = await ceremonies.buildManifest(ids);
    const outcome = await ceremonies.sign({
      ceremonyId: manifest.ceremonyId,
      intent: 'approve',
      meaning: approve,
      comment: null,
      entries: manifest.entries,
      password: 'not the password',
      totpCode: signer.code(),
    });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error).toMatch(/Wrong password\. 4 attempts left/);
    expect(await world.state(ids[0] as string)).toBe('reviewing');
    expect(
      await world.count(
        `select 1 from cs_private.reauth_attempt where user_id = $1 and outcome = 'failed_password'`,
        [signer.id],
      ),
    ).toBe(1);
    expect(await world.count(`select 1 from cro.signature_event where user_id = $1`, [signer.id])).toBe(0);
  });

  it('refuses a wrong TOTP code and signs nothing [CFR-11.200a]', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 1);
    const ceremonyId = randomUUID();
    const wrong = String((Number(signer.code()) + 1) % 1_000_000).padStart(6, '0');
    const reauth = await signer.backend.reauthenticate(ceremonyId, password, wrong);
    expect(reauth).toMatchObject({ ok: false, reason: 'totp_wrong', locked: false, attemptsLeft: 4 });
    const subjects = await signer.backend.subjects(ids);
    await expect(
      signer.backend.signBatch(
        {
          ceremonyId,
          nonce: nonce(),
          intent: 'approve',
          meaning: approve,
          comment: null,
          manifest: subjects.map((s) => ({
            stagingRecordId: s.stagingRecordId,
            contentHash: contentHash(s),
          })),
        },
        password,
      ),
    ).rejects.toThrow(/no re-authentication for ceremony/);
    expect(await world.state(ids[0] as string)).toBe('reviewing');
  });

  it('refuses a TOTP code that was already used [CFR-11.200a, SEC-TOTP]', async () => {
    const signer = await world.newSigner();
    const code = signer.code();
    expect((await signer.backend.reauthenticate(randomUUID(), password, code)).ok).toBe(true);
    const second = await signer.backend.reauthenticate(randomUUID(), password, code);
    expect(second).toMatchObject({ ok: false, reason: 'totp_reused' });
  });

  it('refuses a re-authentication older than 5 minutes [CFR-11.200a]', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 1);
    const ceremonyId = randomUUID();
    expect((await signer.backend.reauthenticate(ceremonyId, password, signer.code())).ok).toBe(true);
    await db.operator.query(
      `update cs_private.reauth_attempt
          set password_verified_at = password_verified_at - interval '6 minutes',
              totp_verified_at = totp_verified_at - interval '6 minutes'
        where ceremony_id = $1`,
      [ceremonyId],
    );
    const subjects = await signer.backend.subjects(ids);
    await expect(
      signer.backend.signBatch(
        {
          ceremonyId,
          nonce: nonce(),
          intent: 'approve',
          meaning: approve,
          comment: null,
          manifest: subjects.map((s) => ({
            stagingRecordId: s.stagingRecordId,
            contentHash: contentHash(s),
          })),
        },
        password,
      ),
    ).rejects.toThrow(/older than 5 minutes/);
    expect(await world.state(ids[0] as string)).toBe('reviewing');
  });

  it('consumes the re-authentication: a second ceremony cannot reuse it [CFR-11.200a]', async () => {
    const signer = await world.newSigner();
    const [first, second] = await world.reviewing(world.studyA, 2);
    const ceremonyId = randomUUID();
    await reauthAndSubmit(signer, [first as string], { ceremonyId });
    const subjects = await signer.backend.subjects([second as string]);
    const manifest = subjects.map((s) => ({
      stagingRecordId: s.stagingRecordId,
      contentHash: contentHash(s),
    }));
    // A new ceremony id with no re-authentication of its own…
    await expect(
      signer.backend.signBatch(
        {
          ceremonyId: randomUUID(),
          nonce: nonce(),
          intent: 'approve',
          meaning: approve,
          comment: null,
          manifest,
        },
        password,
      ),
    ).rejects.toThrow(/no re-authentication for ceremony/);
    // …and the consumed one is not verified any more.
    expect(
      await world.count(
        `select 1 from cs_private.reauth_attempt where ceremony_id = $1 and outcome = 'consumed'`,
        [ceremonyId],
      ),
    ).toBe(1);
    expect(await world.state(second as string)).toBe('reviewing');
  });

  it('refuses a person who is not a signer, even with a password and a valid code [CFR-11.10g]', async () => {
    const monitor = await world.newSigner({ roles: ['monitor'] });
    await expect(monitor.backend.reauthenticate(randomUUID(), password, monitor.code())).rejects.toThrow(
      /only a signer can sign/,
    );
    const ids = await world.reviewing(world.studyA, 1);
    const subjects = await monitor.backend.subjects(ids);
    await expect(
      monitor.backend.signBatch(
        {
          ceremonyId: randomUUID(),
          nonce: nonce(),
          intent: 'approve',
          meaning: approve,
          comment: null,
          manifest: subjects.map((s) => ({
            stagingRecordId: s.stagingRecordId,
            contentHash: contentHash(s),
          })),
        },
        password,
      ),
    ).rejects.toThrow(/no re-authentication/);
    expect(await world.state(ids[0] as string)).toBe('reviewing');
  });

  it('refuses a signer of another study [CFR-11.10g, SEC-IDOR]', async () => {
    const signerB = await world.newSigner({ study: world.studyB });
    const idsA = await world.reviewing(world.studyA, 1);
    const ceremonyId = randomUUID();
    expect((await signerB.backend.reauthenticate(ceremonyId, password, signerB.code())).ok).toBe(true);
    // Signer B cannot read study A's record; a tampering client sends the right hash anyway.
    const { rows } = await db.operator.query<{ h: string }>(
      'select cs_private.signing_content_hash(s) as h from cro.staging_record s where id = $1',
      [idsA[0]],
    );
    await expect(
      signerB.backend.signBatch(
        {
          ceremonyId,
          nonce: nonce(),
          intent: 'approve',
          meaning: approve,
          comment: null,
          manifest: [{ stagingRecordId: idsA[0] as string, contentHash: rows[0]?.h as string }],
        },
        password,
      ),
    ).rejects.toThrow(/not a signer of study SIGN-A/);
    expect(await world.state(idsA[0] as string)).toBe('reviewing');
  });

  it('refuses a record that is not in reviewing, and the manifest says so first [CFR-11.10f]', async () => {
    const signer = await world.newSigner();
    const proposedId = await propose(db.operator, world.agentA, {
      entityKind: 'study_kpi',
      entityId: null,
      studyId: world.studyA,
      proposedState: { label: 'Not opened', value: '1', position: 1 },
    });
    const manifest = await new SigningCeremonies(signer.backend).buildManifest([proposedId]);
    expect(manifest.entries).toEqual([]);
    expect(manifest.problems[0]).toMatch(/is proposed; only records in reviewing can be signed/);
    await expect(reauthAndSubmit(signer, [proposedId])).rejects.toThrow(/is proposed, not reviewing/);
    expect(await world.state(proposedId)).toBe('proposed');
  });

  it('refuses a record whose proposed_state changed after the manifest was built [CFR-11.70, SIGN-HASH]', async () => {
    const signer = await world.newSigner();
    const [id, other] = await world.reviewing(world.studyA, 2);
    const ceremonyId = randomUUID();
    expect((await signer.backend.reauthenticate(ceremonyId, password, signer.code())).ok).toBe(true);
    const subjects = await signer.backend.subjects([id as string, other as string]);
    const manifest = subjects.map((s) => ({
      stagingRecordId: s.stagingRecordId,
      contentHash: contentHash(s),
    }));
    // The agent revises the proposal (it goes back to proposed) and it is opened again.
    await actingAs(db.operator, world.agentA, () =>
      db.operator.query(
        `update cro.staging_record set proposed_state = proposed_state || '{"value":"99%"}' where id = $1`,
        [id],
      ),
    );
    await signer.backend.openForReview([id as string]);
    await expect(
      signer.backend.signBatch(
        { ceremonyId, nonce: nonce(), intent: 'approve', meaning: approve, comment: null, manifest },
        password,
      ),
    ).rejects.toThrow(new RegExp(`record ${id} changed after the manifest was built`));
    // All or nothing: the unchanged record of the same batch was not signed either.
    expect(await world.state(other as string)).toBe('reviewing');
    expect(await world.count('select 1 from cro.signature_event where ceremony_id = $1', [ceremonyId])).toBe(
      0,
    );
  });

  it('refuses a record whose live row changed after the manifest was built [CFR-11.70, SIGN-HASH]', async () => {
    const signer = await world.newSigner();
    const id = await propose(db.operator, world.agentA, {
      entityKind: 'study_kpi',
      entityId: world.kpiA,
      studyId: world.studyA,
      proposedState: { value: '55%' },
    });
    await signer.backend.openForReview([id]);
    const ceremonyId = randomUUID();
    expect((await signer.backend.reauthenticate(ceremonyId, password, signer.code())).ok).toBe(true);
    const subjects = await signer.backend.subjects([id]);
    const manifest = subjects.map((s) => ({
      stagingRecordId: s.stagingRecordId,
      contentHash: contentHash(s),
    }));
    await actingAs(
      db.operator,
      world.adminId,
      () => db.operator.query(`update cro.study_kpi set value = 'changed' where id = $1`, [world.kpiA]),
      { bootstrap: true },
    );
    await expect(
      signer.backend.signBatch(
        { ceremonyId, nonce: nonce(), intent: 'approve', meaning: approve, comment: null, manifest },
        password,
      ),
    ).rejects.toThrow(/changed after the manifest was built/);
    expect(await world.state(id)).toBe('reviewing');
  });

  it('refuses a replayed nonce, even under a new ceremony id [SEC-NONCE]', async () => {
    const signer = await world.newSigner();
    const [first, second] = await world.reviewing(world.studyA, 2);
    const used = nonce();
    await reauthAndSubmit(signer, [first as string], { nonce: used });
    await expect(reauthAndSubmit(signer, [second as string], { nonce: used }, 1)).rejects.toThrow(
      /replayed nonce/,
    );
    expect(await world.state(second as string)).toBe('reviewing');
  });

  it('answers the same ceremony id sent twice with the first result, and writes one set of rows [SIGN-IDEMPOTENT]', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 3);
    const ceremonyId = randomUUID();
    const sameNonce = nonce();
    const first = await reauthAndSubmit(signer, ids, { ceremonyId, nonce: sameNonce });
    const counts = async () => ({
      signatures: await world.count('select 1 from cro.signature_event where ceremony_id = $1', [ceremonyId]),
      audit: await world.count('select 1 from audit.audit_log'),
      provenance: await world.count('select 1 from cro.provenance_event'),
    });
    const before = await counts();
    const subjects = await signer.backend.subjects(ids);
    const again = await signer.backend.signBatch(
      {
        ceremonyId,
        nonce: sameNonce,
        intent: 'approve',
        meaning: approve,
        comment: null,
        manifest: ids.map((id) => ({
          stagingRecordId: id,
          contentHash: first.records.find((r) => r.stagingRecordId === id)?.contentHash as string,
        })),
      },
      password,
    );
    expect(subjects.every((s) => s.state === 'signed')).toBe(true);
    expect(again.replayed).toBe(true);
    expect(again.records).toEqual(first.records);
    expect(await counts()).toEqual(before);
    expect(before.signatures).toBe(3);
  });

  it('lets exactly one of two signers racing for the same record sign it [SIGN-IDEMPOTENT]', async () => {
    const one = await world.newSigner();
    const two = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 3);
    const prepare = async (signer: Signer) => {
      const ceremonyId = randomUUID();
      expect((await signer.backend.reauthenticate(ceremonyId, password, signer.code())).ok).toBe(true);
      const subjects = await signer.backend.subjects(ids);
      return () =>
        signer.backend.signBatch(
          {
            ceremonyId,
            nonce: nonce(),
            intent: 'approve',
            meaning: approve,
            comment: null,
            manifest: subjects.map((s) => ({
              stagingRecordId: s.stagingRecordId,
              contentHash: contentHash(s),
            })),
          },
          password,
        );
    };
    const [submitOne, submitTwo] = await Promise.all([prepare(one), prepare(two)]);
    const results = await Promise.allSettled([submitOne(), submitTwo()]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(String(refused.reason)).toMatch(/is signed, not reviewing/);
    for (const id of ids) {
      expect(await world.count(`select 1 from cro.signature_event where subject_id = $1`, [id])).toBe(1);
    }
  });

  it('refuses a meaning that is not configured for the intent [SIGN-MEANING]', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 1);
    await expect(reauthAndSubmit(signer, ids, { meaning: 'I reject this change' })).rejects.toThrow(
      /is not a meaning of signature for intent approve/,
    );
  });

  it('resends the same ceremony after a lost reply, and the server signs once [SIGN-IDEMPOTENT]', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 2);
    let submissions = 0;
    // The reply of the first submission is lost after the server committed it.
    const lossy: SigningBackend = Object.assign(Object.create(signer.backend), {
      signBatch: async (...args: Parameters<SigningBackend['signBatch']>) => {
        submissions++;
        const result = await signer.backend.signBatch(...args);
        if (submissions === 1) throw new TransientBackendError('connection reset');
        return result;
      },
    });
    const ceremonies = new SigningCeremonies(lossy, { retryDelayMs: 10 });
    const manifest = await ceremonies.buildManifest(ids);
    const outcome = await ceremonies.sign({
      ceremonyId: manifest.ceremonyId,
      intent: 'approve',
      meaning: approve,
      comment: null,
      entries: manifest.entries,
      password,
      totpCode: signer.code(),
    });
    if (!outcome.ok) throw new Error(outcome.error);
    expect(submissions).toBe(2);
    expect(outcome.result.replayed).toBe(true);
    expect(
      await world.count('select 1 from cro.signature_event where ceremony_id = $1', [manifest.ceremonyId]),
    ).toBe(2);
  });

  it('survives the server dropping the connection mid-ceremony: nothing half-written, the resend signs [SIGN-IDEMPOTENT, SIGN-BATCH]', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 2);
    const ceremonies = new SigningCeremonies(signer.backend, { retryDelayMs: 300 });
    const manifest = await ceremonies.buildManifest(ids);
    // Hold a lock on one record so the first submission waits, then kill that server process.
    const blocker = await db.connectAsOperator();
    await blocker.query('begin');
    await blocker.query('select 1 from cro.staging_record where id = $1 for update', [ids[1]]);
    const signing = ceremonies.sign({
      ceremonyId: manifest.ceremonyId,
      intent: 'approve',
      meaning: approve,
      comment: null,
      entries: manifest.entries,
      password,
      totpCode: signer.code(),
    });
    let killed = 0;
    for (let i = 0; i < 100 && killed === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const { rowCount } = await db.operator.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
          where application_name = 'countersign-signing' and wait_event_type = 'Lock' and datname = $1`,
        [db.name],
      );
      killed = rowCount ?? 0;
    }
    expect(killed).toBe(1);
    await blocker.query('rollback');
    await blocker.end();
    const outcome = await signing;
    if (!outcome.ok) throw new Error(outcome.error);
    expect(outcome.result.replayed).toBe(false);
    expect(
      await world.count('select 1 from cro.signature_event where ceremony_id = $1', [manifest.ceremonyId]),
    ).toBe(2);
    for (const id of ids) expect(await world.state(id)).toBe('signed');
  });

  it('builds the manifest from the cache; a cache that fell behind is refused by the server, not signed [SIGN-HASH]', async () => {
    const signer = await world.newSigner();
    const [stale, uncached] = await world.reviewing(world.studyA, 2);
    const [current] = await signer.backend.subjects([stale as string]);
    if (!current) throw new Error('no subject');
    // The cache holds an older version of one record and has not seen the other yet.
    const cachedCopy = { ...current, proposedState: { ...(current.proposedState as object), value: 'old' } };
    const ceremonies = new SigningCeremonies(signer.backend, { cachedSubjects: () => [cachedCopy] });
    const manifest = await ceremonies.buildManifest([stale as string, uncached as string]);
    expect(manifest.entries.map((e) => e.stagingRecordId)).toEqual([stale, uncached]);
    expect(manifest.entries[0]?.contentHash).toBe(contentHash(cachedCopy));
    const outcome = ceremonies.sign({
      ceremonyId: manifest.ceremonyId,
      intent: 'approve',
      meaning: approve,
      comment: null,
      entries: manifest.entries,
      password,
      totpCode: signer.code(),
    });
    await expect(outcome).rejects.toThrow(new RegExp(`record ${stale} changed after the manifest was built`));
    expect(await world.state(stale as string)).toBe('reviewing');
    expect(await world.state(uncached as string)).toBe('reviewing');
  });

  it('never lets a signature row be changed or deleted, by its signer or by the table owner [CFR-11.70, CFR-11.10c]', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 1);
    const result = await reauthAndSubmit(signer, ids);
    const signatureId = result.records[0]?.signatureId;
    const client = await db.connectAs(signer.email, password);
    await expect(
      client.query(`update cro.signature_event set meaning_of_signature = 'forged' where id = $1`, [
        signatureId,
      ]),
    ).rejects.toThrow(/permission denied/);
    await expect(
      client.query('delete from cro.signature_event where id = $1', [signatureId]),
    ).rejects.toThrow(/permission denied/);
    await expect(
      db.operator.query(`update cro.signature_event set meaning_of_signature = 'forged' where id = $1`, [
        signatureId,
      ]),
    ).rejects.toThrow(/append-only|not allowed/);
    await expect(
      db.operator.query('delete from cro.signature_event where id = $1', [signatureId]),
    ).rejects.toThrow(/append-only|not allowed/);
    const { rows } = await db.operator.query(
      'select meaning_of_signature from cro.signature_event where id = $1',
      [signatureId],
    );
    expect(rows[0]?.meaning_of_signature).toBe(approve);
  });
});

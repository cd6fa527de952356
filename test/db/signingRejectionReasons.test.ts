// A rejection names its reason (decision 40): one of the configured reasons and an explanation,
// refused by the server without them (a person's own login calling sign_batch directly), stored on
// each signature, bound by its audit entry, and shown wherever the signature is read.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../src/main/signing/contentHash';
import { SigningCeremonies } from '../../src/main/signing/signingCeremony';
import { buildSigningWorld, password, type Signer, type SigningWorld } from './support/signingWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const reject = 'I reject this change';
const reason = 'Duplicate of another proposal';
const explanation = 'The same enrolment KPI was proposed on 3 March and is already in review.';
const nonce = () => randomBytes(18).toString('base64url');
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('a rejection names its reason [SIGN-REJECT-REASON]', () => {
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

  /** Re-authenticates, then calls public.sign_batch on the signer's own login with whatever it is given. */
  async function signDirectly(signer: Signer, ids: string[]) {
    const ceremonyId = randomUUID();
    expect((await signer.backend.reauthenticate(ceremonyId, password, signer.code())).ok).toBe(true);
    const manifest = (await signer.backend.subjects(ids)).map((s) => ({
      staging_record_id: s.stagingRecordId,
      content_hash: contentHash(s),
    }));
    const client = await db.connectAs(signer.email, password);
    return (
      intent: 'approve' | 'reject',
      meaning: string,
      rejectionReason: string | null,
      rejectionExplanation: string | null,
    ) =>
      client.query('select public.sign_batch($1, $2, $3, $4, null, $5::jsonb, $6, $7) as r', [
        ceremonyId,
        nonce(),
        intent,
        meaning,
        JSON.stringify(manifest),
        rejectionReason,
        rejectionExplanation,
      ]);
  }

  it('is refused by sign_batch without a reason, with one not configured, or without an explanation', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 2);
    const sign = await signDirectly(signer, ids);
    await expect(sign('reject', reject, null, null)).rejects.toMatchObject({
      code: 'CS422',
      message: expect.stringMatching(/a rejection needs one of the configured reasons/),
    });
    await expect(sign('reject', reject, 'I just do not like it', explanation)).rejects.toMatchObject({
      code: 'CS422',
      message: expect.stringMatching(/configured reasons, not "I just do not like it"/),
    });
    await expect(sign('reject', reject, reason, null)).rejects.toMatchObject({
      code: 'CS422',
      message: expect.stringMatching(/needs an explanation/),
    });
    await expect(sign('reject', reject, reason, ' \n ')).rejects.toMatchObject({
      code: 'CS422',
      message: expect.stringMatching(/needs an explanation/),
    });
    for (const id of ids) expect(await world.state(id)).toBe('reviewing');
    expect(await world.count('select 1 from cro.signature_event where user_id = $1', [signer.id])).toBe(0);
  });

  it('is refused on an approval: only a rejection has a reason', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 1);
    const sign = await signDirectly(signer, ids);
    await expect(sign('approve', 'I approve this change', reason, explanation)).rejects.toMatchObject({
      code: 'CS422',
      message: expect.stringMatching(/only a rejection has a reason/),
    });
    expect(await world.state(ids[0] as string)).toBe('reviewing');
  });

  it('is kept on each signature and bound by its audit entry; the ceremony answers with it', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 3);
    const ceremonies = new SigningCeremonies(signer.backend);
    const manifest = await ceremonies.buildManifest(ids);
    const outcome = await ceremonies.sign({
      ceremonyId: manifest.ceremonyId,
      intent: 'reject',
      meaning: reject,
      comment: null,
      rejection: { reason, explanation: `  ${explanation}  ` },
      entries: manifest.entries,
      password,
      totpCode: signer.code(),
    });
    if (!outcome.ok) throw new Error(outcome.error);
    expect(outcome.result.rejection).toEqual({ reason, explanation });
    expect(outcome.result.records.map((r) => r.state)).toEqual(['rejected', 'rejected', 'rejected']);

    const { rows } = await db.operator.query<{
      id: string;
      rejection_reason: string;
      rejection_explanation: string;
      payload: Record<string, unknown>;
    }>(
      `select g.id, g.rejection_reason, g.rejection_explanation, a.payload
         from cro.signature_event g
         join audit.audit_log a on a.event_type = 'signature.recorded' and a.payload ->> 'signature_id' = g.id::text
        where g.ceremony_id = $1`,
      [manifest.ceremonyId],
    );
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.rejection_reason).toBe(reason);
      expect(row.rejection_explanation).toBe(explanation);
      expect(row.payload.rejection_reason).toBe(reason);
      expect(row.payload.rejection_explanation_sha256).toBe(sha256(explanation));
      // The explanation is the study's business: the chain carries its hash, never its words.
      expect(JSON.stringify(row.payload)).not.toContain('enrolment KPI');
    }
  });

  it('leaves the audit entries of an approval exactly as they were', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 1);
    const ceremonies = new SigningCeremonies(signer.backend);
    const manifest = await ceremonies.buildManifest(ids);
    const outcome = await ceremonies.sign({
      ceremonyId: manifest.ceremonyId,
      intent: 'approve',
      meaning: 'I approve this change',
      comment: null,
      entries: manifest.entries,
      password,
      totpCode: signer.code(),
    });
    if (!outcome.ok) throw new Error(outcome.error);
    const { rows } = await db.operator.query<{ event_type: string; keys: string[] }>(
      `select event_type, array(select jsonb_object_keys(payload) order by 1) as keys
         from audit.audit_log
        where payload ->> 'signature_id' = $1 or payload ->> 'staging_id' = $2
        order by seq`,
      [outcome.result.records[0]?.signatureId, ids[0]],
    );
    expect(rows.filter((row) => ['signature.recorded', 'staging.signed'].includes(row.event_type))).toEqual([
      {
        event_type: 'signature.recorded',
        keys: [
          'ceremony_id',
          'content_hash',
          'intent',
          'meaning_of_signature',
          're_auth_at',
          'signature_id',
          'signed_at',
          'study_id',
          'subject_id',
          'subject_kind',
          'user_id',
        ],
      },
      {
        event_type: 'staging.signed',
        // The build the proposal was written under (0054) is named by every staging entry since.
        keys: [
          'build_id',
          'entity_id',
          'entity_kind',
          'from_state',
          'proposed_state_sha256',
          'signature_id',
          'staging_id',
          'study_id',
          'to_state',
        ],
      },
    ]);
  });

  it('is asked for by the workstation before anything reaches the server', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 1);
    const ceremonies = new SigningCeremonies(signer.backend);
    const manifest = await ceremonies.buildManifest(ids);
    const base = {
      ceremonyId: manifest.ceremonyId,
      intent: 'reject' as const,
      meaning: reject,
      comment: null,
      entries: manifest.entries,
      password,
      totpCode: signer.code(),
    };
    await expect(ceremonies.sign({ ...base, rejection: null })).rejects.toThrow(
      'Choose the reason for the rejection.',
    );
    await expect(ceremonies.sign({ ...base, rejection: { reason, explanation: '  ' } })).rejects.toThrow(
      'Explain the reason for the rejection.',
    );
    expect(await world.count('select 1 from cs_private.reauth_attempt where user_id = $1', [signer.id])).toBe(
      0,
    );
  });

  it('offers the configured reasons, in order, to every signed-in person', async () => {
    const signer = await world.newSigner();
    expect(await signer.backend.rejectionReasons()).toEqual([
      'Not supported by the cited sources',
      'Incorrect or incomplete values',
      'Conflicts with the current record',
      'Duplicate of another proposal',
      "Outside the protocol or the study's scope",
      'Other (explained below)',
    ]);
    const client = await db.connectAs(signer.email, password);
    const { rows } = await client.query<{ r: string[] }>('select public.rejection_reasons() as r');
    expect(rows[0]?.r).toContain(reason);
  });
});

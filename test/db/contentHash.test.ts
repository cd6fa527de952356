// The content hash a signer signs is computed by the workstation and recomputed by the server; the
// two must agree byte for byte, on awkward content too (unicode, numbers, nesting, key order) and
// on live rows with numerics, dates and timestamps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, signingContent } from '../../src/main/signing/contentHash';
import { canonicalJson } from '../../src/shared/canonicalJson';
import { actingAs, propose } from './support/operatorActions';
import { buildSigningWorld, password, type SigningWorld } from './support/signingWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const awkward = {
  '\u05d3\u05bc': 'right-to-left',
  zeroWidth: 'a\u200bb\u200dc',
  emoji: '😀 \ud83c\udff3\ufe0f\u200d\ud83c\udf08',
  escapes: '"quoted" \\ back\nline\ttab \u0001 </script><img src=x onerror=alert(1)>',
  numbers: JSON.parse(
    '[0, -0, 1e21, 1e-7, 5e-324, 0.1, 1.5e300, 123456789012345680000, 9007199254740993, -1.0]',
  ),
  nested: { z: [{ b: 1, a: [true, false, null] }], a: {}, '10': 'ten', '9': 'nine', é: 'e-acute', e: 'e' },
};

describe('content hash: workstation and server agree [SIGN-HASH]', () => {
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

  /** The server's content, read as the signer (RLS), canonicalised and hashed by the server's functions. */
  async function serverContent(signerEmail: string, id: string) {
    const client = await db.connectAs(signerEmail, password);
    const { rows } = await client.query<{ content: string }>(
      'select public.signing_content($1)::text as content',
      [id],
    );
    const hashed = await db.operator.query<{ canonical: string; hash: string }>(
      'select cs_private.canonical_json($1::jsonb) as canonical, cs_private.json_sha256($1::jsonb) as hash',
      [rows[0]?.content],
    );
    return hashed.rows[0];
  }

  it('for a new document whose metadata holds every awkward kind of JSON', async () => {
    const signer = await world.newSigner();
    const id = await propose(db.operator, world.agentA, {
      entityKind: 'live_essential_document',
      entityId: null,
      studyId: world.studyA,
      proposedState: {
        document_type: 'protocol_amendment',
        document_title: 'Amendment 3 — “dose” ≤ 5 mg/kg',
        storage_uri: 's3://tmf/amendment-3.pdf',
        metadata: awkward,
      },
    });
    const [subject] = await signer.backend.subjects([id]);
    if (!subject) throw new Error('the signer cannot read the proposal');
    const server = await serverContent(signer.email, id);
    expect(canonicalJson(signingContent(subject))).toBe(server?.canonical);
    expect(contentHash(subject)).toBe(server?.hash);
  });

  it('for an update of a live row with numerics, dates, timestamps and JSON', async () => {
    const signer = await world.newSigner();
    await actingAs(
      db.operator,
      world.adminId,
      () =>
        db.operator.query(
          `update cro.study set contracted_budget = 1234567.890, ebv_spent = 0.10, eac_budget = 1e20,
                  goals = $2::jsonb, updated_at = '2026-03-01 12:34:56.789012+05:30'
            where id = $1`,
          [world.studyA, JSON.stringify(awkward)],
        ),
      { bootstrap: true },
    );
    const id = await propose(db.operator, world.agentA, {
      entityKind: 'study',
      entityId: world.studyA,
      studyId: world.studyA,
      proposedState: { executive_summary: 'Enrolment ahead of plan — ½ of sites active', goals: [awkward] },
    });
    const [subject] = await signer.backend.subjects([id]);
    if (!subject) throw new Error('the signer cannot read the proposal');
    expect(subject.liveRow).toMatchObject({
      contracted_budget: 1234567.89,
      updated_at: expect.stringMatching(/\+00:00$/),
    });
    const server = await serverContent(signer.email, id);
    expect(canonicalJson(signingContent(subject))).toBe(server?.canonical);
    expect(contentHash(subject)).toBe(server?.hash);
  });

  it('changes when either the proposal or the live row changes', async () => {
    const base = {
      stagingRecordId: '00000000-0000-4000-8000-000000000001',
      studyId: '00000000-0000-4000-8000-000000000002',
      entityKind: 'study_kpi',
      entityId: '00000000-0000-4000-8000-000000000003',
      proposedState: { value: '40%' },
      liveRow: { id: '00000000-0000-4000-8000-000000000003', value: '39%' },
    };
    const hash = contentHash(base);
    expect(contentHash({ ...base, proposedState: { value: '41%' } })).not.toBe(hash);
    expect(contentHash({ ...base, liveRow: { ...base.liveRow, value: '38%' } })).not.toBe(hash);
    expect(contentHash({ ...base, proposedState: { value: '40%' } })).toBe(hash);
  });
});

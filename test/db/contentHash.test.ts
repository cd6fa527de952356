// The content hash a signer signs is computed by the workstation and recomputed by the server; the
// two must agree byte for byte, on awkward content too (unicode, numbers, nesting, key order), on
// live rows with numerics, dates and timestamps, and on the build (content-hash version 2, 0054) of a
// record written under any build of its study; version 1 (before builds) stays computable for the
// signatures made with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, signingContent } from '../../src/main/signing/contentHash';
import { canonicalJson } from '../../src/shared/canonicalJson';
import { buildIn, standardConfiguration } from './support/buildActions';
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
    await client.end();
    const hashed = await db.operator.query<{ canonical: string; hash: string; stored: string; v1: string }>(
      `select cs_private.canonical_json($1::jsonb) as canonical, cs_private.json_sha256($1::jsonb) as hash,
              cs_private.signing_content_hash(s) as stored, cs_private.signing_content_hash_at(s, 1::smallint) as v1
         from cro.staging_record s where s.id = $2`,
      [rows[0]?.content, id],
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
    expect(contentHash(subject)).toBe(server?.stored);
    expect(contentHash(subject, 1)).toBe(server?.v1);
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
    expect(contentHash(subject, 1)).toBe(server?.v1);
  });

  it('for a record written under a non-initial build of its study [BUILD-SIGNING-MANIFEST]', async () => {
    const signer = await world.newSigner();
    const initial = await db.operator.query<{ id: string }>('select cs_private.current_build($1) as id', [
      world.studyA,
    ]);
    const amendment = await actingAs(db.operator, world.adminId, async () =>
      buildIn(db.operator, 'COMPLETED', {
        study: world.studyA,
        number: `B2-${db.tag}`.slice(0, 40),
        configuration: await standardConfiguration(db.operator),
      }),
    );
    expect(amendment.completed_sequence).toBe(2);
    const id = await propose(db.operator, world.agentA, {
      entityKind: 'study_kpi',
      entityId: world.kpiA,
      studyId: world.studyA,
      proposedState: { value: '47%' },
    });
    const [subject] = await signer.backend.subjects([id]);
    if (!subject) throw new Error('the signer cannot read the proposal');
    // The server wrote it under the amendment, and the manifest names that build.
    expect(subject.buildId).toBe(amendment.id);
    expect(subject.buildId).not.toBe(initial.rows[0]?.id);
    expect(subject.build).toMatchObject({
      id: amendment.id,
      number: amendment.build_number,
      superseded: false,
    });
    const server = await serverContent(signer.email, id);
    expect(canonicalJson(signingContent(subject))).toBe(server?.canonical);
    expect(server?.canonical).toContain(`"build_id":"${amendment.id}"`);
    expect(contentHash(subject)).toBe(server?.stored);
    // The same record under the initial build would hash otherwise: what is signed binds the build.
    expect(contentHash({ ...subject, buildId: initial.rows[0]?.id as string })).not.toBe(server?.stored);
  });

  it('changes when either the proposal or the live row changes', async () => {
    const base = {
      stagingRecordId: '00000000-0000-4000-8000-000000000001',
      studyId: '00000000-0000-4000-8000-000000000002',
      entityKind: 'study_kpi',
      entityId: '00000000-0000-4000-8000-000000000003',
      proposedState: { value: '40%' },
      liveRow: { id: '00000000-0000-4000-8000-000000000003', value: '39%' },
      buildId: '00000000-0000-4000-8000-000000000004',
    };
    const hash = contentHash(base);
    expect(contentHash({ ...base, proposedState: { value: '41%' } })).not.toBe(hash);
    expect(contentHash({ ...base, liveRow: { ...base.liveRow, value: '38%' } })).not.toBe(hash);
    expect(contentHash({ ...base, proposedState: { value: '40%' } })).toBe(hash);
  });

  it('binds the build from version 2 on, and version 1 never did [BUILD-SIGNING-MANIFEST]', () => {
    const base = {
      stagingRecordId: '00000000-0000-4000-8000-000000000001',
      studyId: '00000000-0000-4000-8000-000000000002',
      entityKind: 'study_kpi',
      entityId: null,
      proposedState: { value: '40%' },
      liveRow: null,
      buildId: '00000000-0000-4000-8000-000000000004',
    };
    const otherBuild = { ...base, buildId: '00000000-0000-4000-8000-000000000005' };
    expect(contentHash(otherBuild)).not.toBe(contentHash(base));
    expect(contentHash(otherBuild, 1)).toBe(contentHash(base, 1));
    // RFC 8785 sorts build_id first; version 1 is the six keys of 0014.
    expect(canonicalJson(signingContent(base))).toMatch(
      /^\{"build_id":"00000000-0000-4000-8000-000000000004","entity_id"/,
    );
    expect(Object.keys(signingContent(base, 1)).sort()).toEqual([
      'entity_id',
      'entity_kind',
      'live_row_sha256',
      'proposed_state',
      'staging_record_id',
      'study_id',
    ]);
  });
});

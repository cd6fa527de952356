// What a signer needs beside the diff, as the server records it (migration 0053): each citation of
// agent provenance judged against the knowledge index when it is written (decision 33), the live
// row a promotion replaced kept with the promotion, and the record's detail carrying both with the
// model registry version; each signature's content hash then recomputes from the record.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../src/main/signing/contentHash';
import { signedContentChecks } from '../../src/main/signing/signedContent';
import { actingAs } from './support/operatorActions';
import { buildSigningWorld, password, type Signer, type SigningWorld } from './support/signingWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('proposal context and promotion history on the server', () => {
  let db: TestDatabase;
  let world: SigningWorld;
  let codeA: string;
  let codeB: string;
  let modelId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildSigningWorld(db);
    const codes = await db.operator.query<{ id: string; code: string }>(
      'select id, code from cro.study where id = any ($1::uuid[])',
      [[world.studyA, world.studyB]],
    );
    codeA = codes.rows.find((row) => row.id === world.studyA)?.code as string;
    codeB = codes.rows.find((row) => row.id === world.studyB)?.code as string;
    await actingAs(
      db.operator,
      world.adminId,
      async () => {
        for (const [uri, index, content, code] of [
          ['kb://a/protocol.pdf', 0, 'Section 9.2: Epistaxis episodes are recorded daily. The rest.', codeA],
          ['kb://a/protocol.pdf', 1, 'Section 7.1: Sixty patients will be randomised.', codeA],
          ['kb://b/minutes.docx', 0, 'The DSMB recommended continuing the study.', codeB],
        ] as const) {
          await db.operator.query(
            `insert into cro.vector_document (source_kind, source_uri, chunk_index, content, embedding, metadata)
             values ('protocol', $1, $2, $3, '[]', jsonb_build_object('study_code', $4::text))`,
            [uri, index, content, code],
          );
        }
        const { rows } = await db.operator.query<{ id: string }>(
          `insert into cro.model_registry_version (provider, model_id, prompt_hash, prompt_version, registered_at,
             notes, created_by)
           values ('anthropic', 'claude-test', 'sha256:5f1c0ffee', 'protocol-digest/9.9', now(), 'test', $1)
           returning id`,
          [world.adminId],
        );
        modelId = rows[0]?.id as string;
      },
      { bootstrap: true },
    );
  });
  afterAll(async () => {
    await world?.close();
    await db?.drop();
  });

  /** Agent provenance and the proposal citing it, written as the deployment's own session writes them. */
  async function proposeWithCitations(
    retrievedContext: unknown[],
    proposal: { entityId: string | null; proposedState: Record<string, unknown> },
    payload: Record<string, unknown> = { rationale: 'The protocol says so.', confidence: 0.9 },
  ): Promise<{ stagingId: string; provenanceId: string }> {
    const stagingId = randomUUID();
    return actingAs(db.operator, world.agentA, async () => {
      const { rows } = await db.operator.query<{ id: string }>(
        `insert into cro.provenance_event (study_id, actor_kind, actor_id, model_provider, model_id, model_version_id,
           action, subject_kind, subject_id, retrieved_context, payload)
         values ($1, 'agent', 'agent:test', 'anthropic', 'claude-test', $2, 'propose', 'staging_record', $3, $4, $5)
         returning id`,
        [world.studyA, modelId, stagingId, JSON.stringify(retrievedContext), JSON.stringify(payload)],
      );
      const provenanceId = rows[0]?.id as string;
      await db.operator.query(
        `insert into cro.staging_record (id, entity_kind, entity_id, study_id, agent_id, model_version_id,
           provenance_id, proposed_state, created_by)
         values ($1, 'study_kpi', $2, $3, 'agent:test', $4, $5, $6, $7)`,
        [
          stagingId,
          proposal.entityId,
          world.studyA,
          modelId,
          provenanceId,
          JSON.stringify(proposal.proposedState),
          world.agentA,
        ],
      );
      return { stagingId, provenanceId };
    });
  }

  const payloadOf = async (provenanceId: string) =>
    (
      await db.operator.query<{ payload: Record<string, unknown> }>(
        'select payload from cro.provenance_event where id = $1',
        [provenanceId],
      )
    ).rows[0]?.payload as Record<string, unknown>;

  it('judges each citation of agent provenance when it is written, and replaces a verdict the agent wrote [SEC-CITATION-GROUNDING]', async () => {
    const cite = (source_uri: unknown, chunk_index: unknown, quote: unknown) => ({
      source_uri,
      chunk_index,
      quote,
      retrieved_at: '2026-12-01T10:00:00Z',
    });
    const { provenanceId } = await proposeWithCitations(
      [
        cite('kb://a/protocol.pdf', 0, 'Epistaxis episodes are recorded daily.'),
        cite('kb://a/protocol.pdf', null, 'Sixty patients will be randomised'),
        cite('kb://a/protocol.pdf', 0, 'Epistaxis episodes are recorded weekly.'),
        cite('kb://a/protocol.pdf', 1, 'Epistaxis episodes are recorded daily.'),
        cite('kb://a/nowhere.pdf', 0, 'Epistaxis'),
        cite('kb://b/minutes.docx', 0, 'The DSMB recommended continuing the study.'),
        cite('kb://a/protocol.pdf', 0, '   '),
        cite(null, 0, 'Epistaxis'),
        cite('kb://a/protocol.pdf', 1.5, 'Sixty'),
        cite('kb://a/protocol.pdf', 1e30, 'Sixty'),
        'not an object',
      ],
      { entityId: null, proposedState: { label: 'Grounding', value: '1', position: 1 } },
      { rationale: 'r', citation_grounding: { citations: [{ resolves: true }] } },
    );
    const grounding = (await payloadOf(provenanceId)).citation_grounding as {
      citations: { resolves: boolean; reason?: string }[];
      checked_at: string;
    };
    expect(grounding.citations).toEqual([
      { resolves: true },
      { resolves: true },
      { resolves: false, reason: 'quote_not_in_source' },
      { resolves: false, reason: 'quote_not_in_source' },
      { resolves: false, reason: 'unknown_source' },
      { resolves: false, reason: 'other_study' },
      { resolves: false, reason: 'incomplete' },
      { resolves: false, reason: 'incomplete' },
      { resolves: false, reason: 'unknown_source' },
      { resolves: false, reason: 'unknown_source' },
      { resolves: false, reason: 'incomplete' },
    ]);
    expect(grounding.checked_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('leaves provenance of people alone', async () => {
    const { rows } = await actingAs(db.operator, world.adminId, () =>
      db.operator.query<{ payload: Record<string, unknown> }>(
        `insert into cro.provenance_event (study_id, actor_kind, actor_id, action, subject_kind, subject_id,
           retrieved_context, payload)
         values ($1, 'human', $2, 'file_request', 'sponsor_request', $3, '[]', '{"channel":"portal"}')
         returning payload`,
        [world.studyA, world.adminId, randomUUID()],
      ),
    );
    expect(rows[0]?.payload).toEqual({ channel: 'portal' });
  });

  async function signAndPromote(signer: Signer, id: string) {
    expect(await signer.backend.openForReview([id])).toBe(1);
    const ceremonyId = randomUUID();
    expect((await signer.backend.reauthenticate(ceremonyId, password, signer.code())).ok).toBe(true);
    const subjects = await signer.backend.subjects([id]);
    await signer.backend.signBatch(
      {
        ceremonyId,
        nonce: randomBytes(18).toString('base64url'),
        intent: 'approve',
        meaning: 'I approve this change',
        comment: null,
        manifest: subjects.map((s) => ({ stagingRecordId: s.stagingRecordId, contentHash: contentHash(s) })),
      },
      password,
    );
    const [outcome] = await signer.backend.promote([id]);
    expect(outcome?.outcome).toBe('promoted');
  }

  it("returns the agent's context with the record: its provenance, citations, verdicts and model registry version [UI-AGENT-REASONS]", async () => {
    const signer = await world.newSigner();
    const { stagingId, provenanceId } = await proposeWithCitations(
      [
        {
          source_uri: 'kb://a/protocol.pdf',
          chunk_index: 1,
          quote: 'Sixty patients',
          retrieved_at: '2026-12-01T10:00:00Z',
        },
      ],
      { entityId: world.kpiA, proposedState: { value: '41%' } },
    );
    const detail = await signer.session.stagingDetail(stagingId);
    expect(detail.record.provenanceId).toBe(provenanceId);
    expect(detail.model).toMatchObject({
      id: modelId,
      provider: 'anthropic',
      modelId: 'claude-test',
      promptVersion: 'protocol-digest/9.9',
      promptHash: 'sha256:5f1c0ffee',
      retiredAt: null,
    });
    const propose = detail.provenance.find((event) => event.id === provenanceId);
    expect(propose?.retrievedContext).toEqual([
      {
        source_uri: 'kb://a/protocol.pdf',
        chunk_index: 1,
        quote: 'Sixty patients',
        retrieved_at: '2026-12-01T10:00:00Z',
      },
    ]);
    expect(propose?.payload).toMatchObject({
      rationale: 'The protocol says so.',
      citation_grounding: { citations: [{ resolves: true }] },
    });
  });

  it('keeps the live row a promotion replaced, so each signature recomputes against it [SIGN-PROMOTION-HISTORY, UI-SIGNED-CONTENT]', async () => {
    const signer = await world.newSigner();
    const before = (
      await db.operator.query<{ row: Record<string, unknown> }>(
        `select to_jsonb(k) - 'sync_xid' as row from cro.study_kpi k where id = $1`,
        [world.kpiA],
      )
    ).rows[0]?.row as Record<string, unknown>;
    const update = await proposeWithCitations([], { entityId: world.kpiA, proposedState: { value: '57%' } });
    await signAndPromote(signer, update.stagingId);
    const detail = await signer.session.stagingDetail(update.stagingId);
    expect(detail.record.state).toBe('promoted');
    expect((detail.record.liveRow as Record<string, unknown>).value).toBe('57%');
    const promotion = detail.provenance.find((event) => event.action === 'promote');
    expect(promotion?.payload).toMatchObject({
      staging_id: update.stagingId,
      live_row_before: { id: world.kpiA, value: before.value },
    });
    const [check] = signedContentChecks(detail);
    expect(check).toMatchObject({ verdict: 'matches', recomputedHash: detail.signatures[0]?.contentHash });

    const create = await proposeWithCitations([], {
      entityId: null,
      proposedState: { label: 'Created by promotion', value: '3', position: 9 },
    });
    await signAndPromote(await world.newSigner(), create.stagingId);
    const created = await signer.session.stagingDetail(create.stagingId);
    const createdPromotion = created.provenance.find((event) => event.action === 'promote');
    expect(createdPromotion?.payload).toMatchObject({ live_row_before: null });
    expect(created.record.entityId).not.toBeNull();
    expect(signedContentChecks(created)[0]).toMatchObject({
      verdict: 'matches',
      content: { entity_id: null },
    });
  });
});

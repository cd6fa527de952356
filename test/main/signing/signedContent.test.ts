// What each signature covered, recomputed from the record: against the live row it replaced for a
// promoted record (kept by the server since migration 0053), against the live row now otherwise,
// and said plainly when the row it covered is not known.
import { describe, expect, it } from 'vitest';
import { type ContentHashVersion, contentHash } from '../../../src/main/signing/contentHash';
import { signedContentChecks } from '../../../src/main/signing/signedContent';
import type { StagingDetailRead } from '../../../src/shared/contract';

const id = '0192f1d7-c4e8-7a5b-8c3d-9e2f1a2b3c4d';
const studyId = '0192f1d7-c4e8-7a5b-8c3d-000000000003';
const riskId = '0192f1d7-c4e8-7a5b-8c3d-000000000002';
const signatureId = '0192f1d7-c4e8-7a5b-8c3d-000000000004';
const before = {
  id: riskId,
  status: 'mitigating',
  severity: 'high',
  updated_at: '2026-12-01T10:00:00+00:00',
};
const proposedState = { status: 'open' };
const build = { id: '0192f1d7-c4e8-7a5b-8c3d-000000000006', number: 'B2', version: '2.0', superseded: false };

function detail(
  state: StagingDetailRead['record']['state'],
  options: {
    entityId?: string | null;
    liveRow?: unknown;
    promotionPayload?: unknown;
    signedHash: string;
    version?: ContentHashVersion;
    build?: StagingDetailRead['record']['build'];
  },
): StagingDetailRead {
  return {
    record: {
      id,
      state,
      entityKind: 'study_risk',
      entityId: options.entityId === undefined ? riskId : options.entityId,
      studyId,
      studyCode: 'AUR-HHT-201',
      agentId: 'agent:protocol-digest',
      modelVersion: null,
      createdAt: '2026-12-01T10:00:02.000000Z',
      updatedAt: '2026-12-01T10:00:02.000000Z',
      proposedState,
      liveRow: options.liveRow ?? null,
      provenanceId: null,
      build: options.build === undefined ? build : options.build,
    },
    model: null,
    signatures: [
      {
        id: signatureId,
        printedName: 'Dr. Miriam Okafor',
        intent: 'approve',
        meaning: 'I approve this change',
        comment: null,
        signedAt: '2026-12-02T10:00:00.000Z',
        reAuthAt: '2026-12-02T09:59:00.000Z',
        contentHash: options.signedHash,
        ceremonyId: null,
        // A signature from before builds (0054) has no version: it is 1.
        ...(options.version ? { contentHashVersion: options.version } : {}),
      },
    ],
    provenance:
      options.promotionPayload === undefined
        ? []
        : [
            {
              id: '0192f1d7-c4e8-7a5b-8c3d-000000000005',
              action: 'promote',
              actorKind: 'human',
              actorId: 'b1d7c4e8-0000-4000-8000-000000000001',
              occurredAt: '2026-12-03T10:00:00.000Z',
              retrievedContext: [],
              payload: options.promotionPayload,
              build,
            },
          ],
  };
}

const signedOver = (
  entityId: string | null,
  liveRow: unknown,
  version: ContentHashVersion = 1,
  buildId: string | null = build.id,
) =>
  contentHash(
    { stagingRecordId: id, studyId, entityKind: 'study_risk', entityId, proposedState, liveRow, buildId },
    version,
  );

describe('signed content of each signature [UI-SIGNED-CONTENT]', () => {
  it('recomputes a promoted record against the live row it replaced', () => {
    const signedHash = signedOver(riskId, before);
    const [check] = signedContentChecks(
      detail('promoted', {
        signedHash,
        liveRow: { ...before, status: 'open' },
        promotionPayload: { staging_id: id, live_row_before: before },
      }),
    );
    expect(check).toMatchObject({
      signatureId,
      verdict: 'matches',
      recomputedHash: signedHash,
      basis: 'the live row as it was just before promotion',
      content: { staging_record_id: id, entity_id: riskId, proposed_state: proposedState },
    });
    expect(check?.content.live_row_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('recomputes a promoted new record as signed: no entity, no live row', () => {
    const signedHash = signedOver(null, null);
    const [check] = signedContentChecks(
      detail('promoted', {
        signedHash,
        liveRow: { id: riskId, status: 'open' },
        promotionPayload: { staging_id: id, live_row_before: null },
      }),
    );
    expect(check).toMatchObject({ verdict: 'matches', content: { entity_id: null, live_row_sha256: null } });
  });

  it('says it cannot recompute a promotion whose replaced row was not kept', () => {
    const [check] = signedContentChecks(
      detail('promoted', {
        signedHash: signedOver(riskId, before),
        liveRow: before,
        promotionPayload: { staging_id: id },
      }),
    );
    expect(check).toMatchObject({ verdict: 'unknown', recomputedHash: null });
    expect(check?.basis).toMatch(/not recorded/);
  });

  it('recomputes a signed record against the live row now, and says when that row changed since', () => {
    const signedHash = signedOver(riskId, before);
    expect(signedContentChecks(detail('signed', { signedHash, liveRow: before }))[0]?.verdict).toBe(
      'matches',
    );
    const changed = signedContentChecks(
      detail('signed', { signedHash, liveRow: { ...before, severity: 'low' } }),
    );
    expect(changed[0]).toMatchObject({ verdict: 'differs', basis: 'the live row as it is now' });
  });
});

describe('signed content at the version each signature recorded [BUILD-SIGNING-MANIFEST]', () => {
  it('recomputes a version 2 signature with the build the record was written under', () => {
    const signedHash = signedOver(riskId, before, 2);
    const [check] = signedContentChecks(detail('signed', { signedHash, liveRow: before, version: 2 }));
    expect(check).toMatchObject({
      contentHashVersion: 2,
      verdict: 'matches',
      recomputedHash: signedHash,
      content: { build_id: build.id, staging_record_id: id },
    });
  });

  it('says a version 2 signature differs when the record names another build than the one signed', () => {
    const signedHash = signedOver(riskId, before, 2, '0192f1d7-c4e8-7a5b-8c3d-000000000007');
    const [check] = signedContentChecks(detail('signed', { signedHash, liveRow: before, version: 2 }));
    expect(check).toMatchObject({ contentHashVersion: 2, verdict: 'differs' });
  });

  it('cannot recompute a version 2 signature when the build is not known, and says why', () => {
    const signedHash = signedOver(riskId, before, 2);
    const [check] = signedContentChecks(
      detail('signed', { signedHash, liveRow: before, version: 2, build: null }),
    );
    expect(check).toMatchObject({ verdict: 'unknown', recomputedHash: null });
    expect(check?.basis).toMatch(/build .* not known/);
  });

  it('recomputes a signature from before builds (no version: 1) without the build, whatever the record names', () => {
    const signedHash = signedOver(riskId, before, 1);
    expect(signedHash).not.toBe(signedOver(riskId, before, 2));
    const [check] = signedContentChecks(detail('signed', { signedHash, liveRow: before }));
    expect(check).toMatchObject({ contentHashVersion: 1, verdict: 'matches' });
    expect(check?.content).not.toHaveProperty('build_id');
  });
});

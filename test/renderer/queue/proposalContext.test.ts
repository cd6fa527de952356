// What the record detail shows beside the diff, from the record's provenance: the agent's citations
// with the server's verdict, the proposal marked unless every citation resolves, the review step,
// and a promoted record's field history against the live row it replaced.
import { describe, expect, it } from 'vitest';
import {
  fieldHistoryOf,
  liveRowBeforePromotion,
  proposalContextOf,
  reviewStartOf,
} from '../../../src/renderer/src/queue/proposalContext';
import type { StagingDetail } from '../../../src/shared/contract';

const id = '0192f1d7-c4e8-7a5b-8c3d-9e2f1a2b3c4d';
const provenanceId = '0192f1d7-c4e8-7a5b-8c3d-000000000001';
const riskId = '0192f1d7-c4e8-7a5b-8c3d-000000000002';
const citations = [
  {
    source_uri: 'kb://AUR-HHT-201/protocol-v3.0.pdf',
    chunk_index: 0,
    quote: 'Section 9.2: Epistaxis.',
    retrieved_at: '2026-12-01T10:00:00.000Z',
  },
  {
    source_uri: 'kb://AUR-HHT-201/minutes.docx',
    chunk_index: 4,
    quote: 'Invented.',
    retrieved_at: '2026-12-01T10:00:00.000Z',
  },
];

function detail(patch: {
  state?: StagingDetail['record']['state'];
  propose?: Partial<StagingDetail['provenance'][number]> | null;
  /** Events after the proposal (their build is the record's: none here). */
  more?: Omit<StagingDetail['provenance'][number], 'build'>[];
  liveRow?: unknown;
  proposedState?: unknown;
}): StagingDetail {
  const propose =
    patch.propose === null
      ? []
      : [
          {
            id: provenanceId,
            action: 'propose',
            actorKind: 'agent',
            actorId: 'agent:protocol-digest',
            occurredAt: '2026-12-01T10:00:01.000Z',
            retrievedContext: citations,
            payload: {
              rationale: 'The minutes ask for the risk to be re-scored.',
              confidence: 0.83,
              citation_grounding: {
                citations: [{ resolves: true }, { resolves: false, reason: 'quote_not_in_source' }],
              },
            },
            ...patch.propose,
          },
        ];
  return {
    record: {
      id,
      state: patch.state ?? 'proposed',
      entityKind: 'study_risk',
      entityId: riskId,
      studyId: '0192f1d7-c4e8-7a5b-8c3d-000000000003',
      studyCode: 'AUR-HHT-201',
      agentId: 'agent:protocol-digest',
      modelVersion: null,
      createdAt: '2026-12-01T10:00:02.000000Z',
      updatedAt: '2026-12-01T10:00:02.000000Z',
      proposedState: patch.proposedState ?? { status: 'open', severity: 'high' },
      liveRow:
        patch.liveRow === undefined ? { id: riskId, status: 'mitigating', severity: 'high' } : patch.liveRow,
      provenanceId: patch.propose === null ? null : provenanceId,
      build: null,
    },
    model: null,
    signatures: [],
    signedContent: [],
    provenance: [...propose, ...(patch.more ?? [])].map((event) => ({ build: null, ...event })),
  };
}

describe('the agent reasons beside the diff [UI-AGENT-REASONS]', () => {
  it("gives each citation its source, quote and the server's verdict, and marks the proposal when one does not resolve", () => {
    const context = proposalContextOf(detail({}));
    expect(context.rationale).toBe('The minutes ask for the risk to be re-scored.');
    expect(context.confidence).toBe(0.83);
    expect(context.citations.map((c) => [c.sourceUri, c.chunkIndex, c.quote, c.resolves, c.problem])).toEqual(
      [
        ['kb://AUR-HHT-201/protocol-v3.0.pdf', 0, 'Section 9.2: Epistaxis.', true, null],
        ['kb://AUR-HHT-201/minutes.docx', 4, 'Invented.', false, 'quote_not_in_source'],
      ],
    );
    expect(context.grounding).toEqual({ kind: 'unresolved', unresolved: 1, citations: 2 });
  });

  it('is grounded only with at least one citation, every one resolving', () => {
    const grounded = detail({
      propose: { payload: { citation_grounding: { citations: [{ resolves: true }, { resolves: true }] } } },
    });
    expect(proposalContextOf(grounded).grounding).toEqual({ kind: 'grounded', citations: 2 });
    const none = detail({
      propose: { retrievedContext: [], payload: { citation_grounding: { citations: [] } } },
    });
    expect(proposalContextOf(none).grounding).toEqual({ kind: 'no_citations' });
    expect(proposalContextOf(detail({ propose: null })).grounding).toEqual({ kind: 'no_provenance' });
  });

  it('marks citations the server did not check, or whose verdicts do not match them one for one', () => {
    const unchecked = proposalContextOf(detail({ propose: { payload: { rationale: 'r' } } }));
    expect(unchecked.grounding).toEqual({ kind: 'unchecked', citations: 2 });
    expect(unchecked.citations.every((citation) => citation.resolves === null)).toBe(true);
    const mismatched = detail({
      propose: { payload: { citation_grounding: { citations: [{ resolves: true }] } } },
    });
    expect(proposalContextOf(mismatched).grounding.kind).toBe('unchecked');
  });

  it('treats malformed citations as data: no source, no quote', () => {
    const context = proposalContextOf(
      detail({
        propose: {
          retrievedContext: ['just text', { quote: 42 }],
          payload: {
            citation_grounding: {
              citations: [{ resolves: false, reason: 'incomplete' }, { resolves: false }],
            },
          },
        },
      }),
    );
    expect(context.citations.map((c) => [c.sourceUri, c.quote, c.problem])).toEqual([
      [null, null, 'incomplete'],
      [null, null, 'unknown_source'],
    ]);
  });
});

describe('review step and field history [UI-REVIEW-STEP, UI-FIELD-HISTORY]', () => {
  it('finds who started the review and when', () => {
    const open = {
      id: '0192f1d7-c4e8-7a5b-8c3d-000000000009',
      action: 'open_for_review',
      actorKind: 'human',
      actorId: 'b1d7c4e8-0000-4000-8000-000000000001',
      occurredAt: '2026-12-02T08:00:00.000Z',
      retrievedContext: [],
      payload: {},
    };
    expect(reviewStartOf(detail({ state: 'reviewing', more: [open] }))?.occurredAt).toBe(
      '2026-12-02T08:00:00.000Z',
    );
    expect(reviewStartOf(detail({}))).toBeNull();
  });

  it('shows each field before promotion, as proposed and as it is now', () => {
    const promote = {
      id: '0192f1d7-c4e8-7a5b-8c3d-00000000000a',
      action: 'promote',
      actorKind: 'human',
      actorId: 'b1d7c4e8-0000-4000-8000-000000000001',
      occurredAt: '2026-12-03T08:00:00.000Z',
      retrievedContext: [],
      payload: { staging_id: id, live_row_before: { id: riskId, status: 'mitigating', severity: 'high' } },
    };
    const promoted = detail({
      state: 'promoted',
      more: [promote],
      liveRow: { id: riskId, status: 'closed', severity: 'high' },
    });
    expect(liveRowBeforePromotion(promoted)).toMatchObject({ recorded: true, row: { status: 'mitigating' } });
    expect(fieldHistoryOf(promoted)).toEqual([
      { field: 'severity', before: 'high', proposed: 'high', now: 'high', changedSince: false },
      { field: 'status', before: 'mitigating', proposed: 'open', now: 'closed', changedSince: true },
    ]);
  });

  it('says when the row before promotion was not kept, and when the promotion created the row', () => {
    const old = { ...detail({ state: 'promoted' }) };
    expect(liveRowBeforePromotion(old)).toEqual({ recorded: false });
    const created = detail({
      state: 'promoted',
      more: [
        {
          id: '0192f1d7-c4e8-7a5b-8c3d-00000000000b',
          action: 'promote',
          actorKind: 'human',
          actorId: 'b1d7c4e8-0000-4000-8000-000000000001',
          occurredAt: '2026-12-03T08:00:00.000Z',
          retrievedContext: [],
          payload: { staging_id: id, live_row_before: null },
        },
      ],
    });
    expect(liveRowBeforePromotion(created)).toMatchObject({ recorded: true, row: null });
    expect(fieldHistoryOf(created)[0]?.before).toBeUndefined();
  });
});

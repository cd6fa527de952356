// What a record's detail shows beside the diff, read from its provenance: the agent's rationale and
// citations with the server's verdict on each (decision 33: a citation resolves when its source and
// chunk exist in the proposal's study's knowledge index and its quote appears there), the review
// step, and the live row before promotion with each field's history. Pure: the agent's text is
// passed through as data and rendered as text by the components.
import type { StagingDetail } from '../../../shared/contract';
import { sameJson } from '../../../shared/sameJson';

type ProvenanceEvent = StagingDetail['provenance'][number];

export type CitationProblem = 'incomplete' | 'unknown_source' | 'other_study' | 'quote_not_in_source';

export interface Citation {
  sourceUri: string | null;
  chunkIndex: number | null;
  quote: string | null;
  retrievedAt: string | null;
  /** The server's verdict: true, false, or null when it did not check this proposal. */
  resolves: boolean | null;
  problem: CitationProblem | null;
}

/**
 * grounded: at least one citation and every one resolves; anything else is marked: no provenance
 * (nothing says why the agent proposed it), no citations, citations that do not resolve, or
 * citations the server did not check (recorded before migration 0053, or written around it).
 */
export type Grounding =
  | { kind: 'grounded'; citations: number }
  | { kind: 'no_provenance' }
  | { kind: 'no_citations' }
  | { kind: 'unresolved'; unresolved: number; citations: number }
  | { kind: 'unchecked'; citations: number };

export interface ProposalContext {
  provenance: ProvenanceEvent | null;
  rationale: string | null;
  confidence: number | null;
  citations: Citation[];
  grounding: Grounding;
}

export const citationProblemText: Record<CitationProblem, string> = {
  incomplete: 'it names no source or quotes nothing',
  unknown_source: 'no such source (or chunk) is in the knowledge index',
  other_study: "the source belongs to another study's knowledge index",
  quote_not_in_source: 'the quote does not appear in the source',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** The agent's provenance of the proposal: the event the record names, else its first `propose`. */
function proposalEvent(detail: StagingDetail): ProvenanceEvent | null {
  const named = detail.record.provenanceId;
  return (
    detail.provenance.find((event) => named !== null && event.id === named) ??
    detail.provenance.find((event) => event.action === 'propose' && event.actorKind === 'agent') ??
    null
  );
}

function serverVerdicts(payload: unknown, count: number): { resolves: boolean; reason: unknown }[] | null {
  const grounding = isRecord(payload) ? payload.citation_grounding : undefined;
  const verdicts = isRecord(grounding) ? grounding.citations : undefined;
  if (!Array.isArray(verdicts) || verdicts.length !== count) return null;
  return verdicts.map((verdict) => ({
    resolves: isRecord(verdict) && verdict.resolves === true,
    reason: isRecord(verdict) ? verdict.reason : undefined,
  }));
}

export function proposalContextOf(detail: StagingDetail): ProposalContext {
  const provenance = proposalEvent(detail);
  if (provenance === null) {
    return {
      provenance,
      rationale: null,
      confidence: null,
      citations: [],
      grounding: { kind: 'no_provenance' },
    };
  }
  const payload = isRecord(provenance.payload) ? provenance.payload : {};
  const raw = Array.isArray(provenance.retrievedContext) ? provenance.retrievedContext : [];
  const verdicts = serverVerdicts(provenance.payload, raw.length);
  const citations = raw.map((entry, index): Citation => {
    const item = isRecord(entry) ? entry : {};
    const verdict = verdicts?.[index] ?? null;
    const reason = verdict && !verdict.resolves ? verdict.reason : null;
    return {
      sourceUri: text(item.source_uri),
      chunkIndex: typeof item.chunk_index === 'number' ? item.chunk_index : null,
      quote: text(item.quote),
      retrievedAt: text(item.retrieved_at),
      resolves: verdict === null ? null : verdict.resolves,
      problem:
        verdict === null || verdict.resolves
          ? null
          : typeof reason === 'string' && reason in citationProblemText
            ? (reason as CitationProblem)
            : 'unknown_source',
    };
  });
  const unresolved = citations.filter((citation) => citation.resolves === false).length;
  const grounding: Grounding =
    citations.length === 0
      ? { kind: 'no_citations' }
      : verdicts === null
        ? { kind: 'unchecked', citations: citations.length }
        : unresolved > 0
          ? { kind: 'unresolved', unresolved, citations: citations.length }
          : { kind: 'grounded', citations: citations.length };
  return {
    provenance,
    rationale: text(payload.rationale),
    confidence: typeof payload.confidence === 'number' ? payload.confidence : null,
    citations,
    grounding,
  };
}

/** The event that started the review (proposed → reviewing), if any. */
export function reviewStartOf(detail: StagingDetail): ProvenanceEvent | null {
  return detail.provenance.find((event) => event.action === 'open_for_review') ?? null;
}

/**
 * The live row as it was just before this record was promoted: `recorded` false when the server
 * did not keep it (a promotion before migration 0053), `row` null for a record that created its row.
 */
export function liveRowBeforePromotion(
  detail: StagingDetail,
): { recorded: true; row: Record<string, unknown> | null; at: string } | { recorded: false } {
  const promotion = detail.provenance
    .filter(
      (event) =>
        event.action === 'promote' &&
        isRecord(event.payload) &&
        event.payload.staging_id === detail.record.id,
    )
    .at(-1);
  const payload = promotion?.payload;
  if (!promotion || !isRecord(payload) || !Object.hasOwn(payload, 'live_row_before'))
    return { recorded: false };
  const before = payload.live_row_before;
  return { recorded: true, row: isRecord(before) ? before : null, at: promotion.occurredAt };
}

export interface FieldHistoryRow {
  field: string;
  /** undefined: the field did not exist (a new record) or the row before is unknown. */
  before: unknown;
  proposed: unknown;
  /** The live row's value now; undefined when the live row is not visible. */
  now: unknown;
  /** The live value no longer equals what was promoted (a later change). */
  changedSince: boolean;
}

/** Each proposed field: its live value before promotion, the value proposed, and the live value now. */
export function fieldHistoryOf(detail: StagingDetail): FieldHistoryRow[] {
  const proposed = isRecord(detail.record.proposedState) ? detail.record.proposedState : {};
  const before = liveRowBeforePromotion(detail);
  const beforeRow = before.recorded ? before.row : null;
  const live = isRecord(detail.record.liveRow) ? detail.record.liveRow : null;
  return Object.keys(proposed)
    .sort()
    .map((field) => {
      const now = live && Object.hasOwn(live, field) ? live[field] : undefined;
      return {
        field,
        before: beforeRow && Object.hasOwn(beforeRow, field) ? beforeRow[field] : undefined,
        proposed: proposed[field],
        now,
        changedSince: live !== null && !sameJson(now, proposed[field]),
      };
    });
}

// One proposal next to the live row it would change, with what the signer needs to decide: whether
// it is in review (opening a record changes nothing on the server; starting the review is its own
// step, decision 34), the agent's rationale, model and citations with their grounding (decision 33),
// its signatures (manifested) with the content each covered, a promoted record's field history, and
// its provenance. Proposal text is untrusted (an AI agent wrote it): it is only ever rendered as
// text. A reload (a sync, an action) keeps the record on screen, marked as refreshing.
import { useEffect, useMemo, useState } from 'react';
import type { StagingDetail } from '../../../shared/contract';
import { api } from '../common/api';
import { BuildChip } from '../common/BuildChip';
import { buildName } from '../common/buildText';
import { messageOf } from '../common/messageOf';
import { PersonName } from '../common/PersonName';
import { Timestamp } from '../common/Timestamp';
import { visibleText } from '../common/visibleText';
import { DiffView } from '../diff/DiffView';
import { SignatureManifestation } from '../signing/SignatureManifestation';
import { AgentReasons, GroundingMarker } from './AgentReasons';
import { FieldHistory } from './FieldHistory';
import { fieldHistoryOf, liveRowBeforePromotion, proposalContextOf, reviewStartOf } from './proposalContext';
import { SignedContent } from './SignedContent';

export function RecordDetail({
  id,
  generation,
  onClose,
  onOpenForReview,
  openingForReview,
}: {
  id: string;
  generation: number;
  onClose: () => void;
  /** Starts the review of this record (proposed → reviewing), an audited step on the server. */
  onOpenForReview: (id: string) => void;
  openingForReview: boolean;
}) {
  /** The record shown, with the id it belongs to (a reload of the same record keeps it shown). */
  const [loaded, setLoaded] = useState<{ id: string; detail: StagingDetail } | null>(null);
  const [refreshing, setRefreshing] = useState(false);
  const [error, setError] = useState<string | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: generation is the reload trigger
  useEffect(() => {
    let current = true;
    setRefreshing(true);
    setError(null);
    api['staging.detail']({ id })
      .then((next) => {
        if (current) setLoaded({ id, detail: next });
      })
      .catch((caught) => current && setError(messageOf(caught)))
      .finally(() => current && setRefreshing(false));
    return () => {
      current = false;
    };
  }, [id, generation]);

  const detail = loaded?.id === id ? loaded.detail : null;
  const context = useMemo(() => (detail ? proposalContextOf(detail) : null), [detail]);
  const before = useMemo(() => (detail ? liveRowBeforePromotion(detail) : null), [detail]);
  const history = useMemo(() => (detail ? fieldHistoryOf(detail) : []), [detail]);

  const proposed = (detail?.record.proposedState ?? {}) as Record<string, unknown>;
  const live = (detail?.record.liveRow ?? null) as Record<string, unknown> | null;
  const liveUpdated = typeof live?.updated_at === 'string' ? Date.parse(live.updated_at) : Number.NaN;
  const promoted = detail?.record.state === 'promoted';
  const liveChangedAfterProposal =
    detail !== null &&
    !promoted &&
    !Number.isNaN(liveUpdated) &&
    liveUpdated > Date.parse(detail.record.createdAt);
  const reviewStart = detail ? reviewStartOf(detail) : null;

  return (
    <aside
      className={refreshing && detail !== null ? 'record-detail panel refreshing' : 'record-detail panel'}
      aria-labelledby="detail-heading"
      aria-busy={refreshing}
    >
      <div className="detail-header">
        <h2 id="detail-heading">Record {id.slice(0, 8)}</h2>
        {refreshing && detail !== null && (
          // Not announced: a background sync would say it every few minutes (aria-busy is set).
          <span className="muted refreshing-note">Refreshing…</span>
        )}
        <button type="button" className="button button-quiet" onClick={onClose} aria-label="Close the record">
          Close
        </button>
      </div>
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {detail === null ? error : `Could not refresh the record; shown as last read. ${error}`}
        </p>
      )}
      {detail === null || context === null ? (
        error === null && <p className="muted">Loading…</p>
      ) : (
        <>
          <p>
            <span className={`badge state-${detail.record.state}`}>{detail.record.state}</span>{' '}
            {detail.record.entityKind} in {detail.record.studyCode} · proposed by{' '}
            <PersonName id={detail.record.agentId} kind="agent" />
            {detail.record.build !== null && (
              <>
                {' '}
                · written under <BuildChip build={detail.record.build} />
              </>
            )}
          </p>
          {detail.record.build?.superseded === true && (
            <p className="notice notice-warning" role="note">
              Written under build {buildName(detail.record.build)}, which a later build of the study has
              superseded. It can still be reviewed and signed under it: the signature binds the build.
            </p>
          )}

          {detail.record.state === 'proposed' ? (
            <div className="notice review-step" role="note">
              <p>
                <strong>Not in review yet.</strong> Reading this record changes nothing on the server. Opening
                it for review is a step of its own, recorded under your name in the audit trail; only records
                in review can be signed or rejected.
              </p>
              <button
                type="button"
                className="button button-primary"
                disabled={openingForReview}
                aria-keyshortcuts="r"
                onClick={() => onOpenForReview(id)}
              >
                {openingForReview ? 'Opening for review…' : 'Open for review (r)'}
              </button>
            </div>
          ) : detail.record.state === 'reviewing' && reviewStart !== null ? (
            <p className="review-step muted">
              In review since <Timestamp iso={reviewStart.occurredAt} />, opened by{' '}
              <PersonName id={reviewStart.actorId} kind={reviewStart.actorKind} />.
            </p>
          ) : null}

          <GroundingMarker grounding={context.grounding} />

          {live === null && detail.record.entityId === null && (
            <p className="notice">
              A new {detail.record.entityKind}: there is no live row yet; every field is added.
            </p>
          )}
          {live === null && detail.record.entityId !== null && (
            <p className="notice notice-error">
              The live row this proposal changes is missing or not visible to you.
            </p>
          )}
          {liveChangedAfterProposal && (
            <p className="notice notice-warning">
              The live row changed after this proposal was made (live row updated {String(live?.updated_at)});
              the diff below is against the live row as it is now.
            </p>
          )}
          {promoted && before !== null ? (
            <>
              <p className="notice">
                Promoted
                {before.recorded ? (
                  <>
                    {' '}
                    <Timestamp iso={before.at} />
                  </>
                ) : null}
                : the live row carries this change. The diff below is against the live row as it was before
                promotion.
              </p>
              {before.recorded && <DiffView liveRow={before.row} proposedState={proposed} />}
              <FieldHistory
                rows={history}
                beforeKnown={before.recorded}
                createdRow={before.recorded && before.row === null}
              />
            </>
          ) : (
            <DiffView liveRow={live} proposedState={proposed} />
          )}

          <AgentReasons context={context} model={detail.model} />

          <h3>Signatures</h3>
          {detail.signatures.length === 0 ? (
            <p className="muted">Not signed.</p>
          ) : (
            detail.signatures.map((signature) => {
              const check = detail.signedContent.find((candidate) => candidate.signatureId === signature.id);
              return (
                <div key={signature.id} className="signature-entry">
                  <SignatureManifestation
                    printedName={signature.printedName}
                    meaning={signature.meaning}
                    intent={signature.intent}
                    signedAt={signature.signedAt}
                    comment={signature.comment}
                    rejection={signature.rejection}
                  />
                  {check && <SignedContent check={check} contentHash={signature.contentHash} />}
                </div>
              );
            })
          )}

          <h3>Provenance</h3>
          <ol className="provenance-list">
            {detail.provenance.map((event) => (
              <li key={event.id}>
                <Timestamp iso={event.occurredAt} /> {visibleText(event.action)} by{' '}
                <PersonName id={event.actorId} kind={event.actorKind} /> <BuildChip build={event.build} />
              </li>
            ))}
          </ol>
        </>
      )}
    </aside>
  );
}

// One proposal next to the live row it would change, with its signatures (manifested) and its
// provenance. Proposal text is untrusted (an AI agent wrote it): it is only ever rendered as text.
import { useEffect, useState } from 'react';
import type { StagingDetail } from '../../../shared/contract';
import { api } from '../common/api';
import { formatLocal, formatUtc } from '../common/formatTime';
import { messageOf } from '../common/messageOf';
import { visibleText } from '../common/visibleText';
import { DiffView } from '../diff/DiffView';
import { SignatureManifestation } from '../signing/SignatureManifestation';

export function RecordDetail({
  id,
  generation,
  onClose,
}: {
  id: string;
  generation: number;
  onClose: () => void;
}) {
  const [detail, setDetail] = useState<StagingDetail | null>(null);
  const [error, setError] = useState<string | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: generation is the reload trigger
  useEffect(() => {
    let current = true;
    setDetail(null);
    setError(null);
    api['staging.detail']({ id })
      .then((next) => current && setDetail(next))
      .catch((caught) => current && setError(messageOf(caught)));
    return () => {
      current = false;
    };
  }, [id, generation]);

  const proposed = (detail?.record.proposedState ?? {}) as Record<string, unknown>;
  const live = (detail?.record.liveRow ?? null) as Record<string, unknown> | null;
  const liveUpdated = typeof live?.updated_at === 'string' ? Date.parse(live.updated_at) : Number.NaN;
  const promoted = detail?.record.state === 'promoted';
  const liveChangedAfterProposal =
    detail !== null &&
    !promoted &&
    !Number.isNaN(liveUpdated) &&
    liveUpdated > Date.parse(detail.record.createdAt);

  return (
    <aside className="record-detail panel" aria-labelledby="detail-heading">
      <div className="detail-header">
        <h2 id="detail-heading">Record {id.slice(0, 8)}</h2>
        <button type="button" className="button button-quiet" onClick={onClose} aria-label="Close the record">
          Close
        </button>
      </div>
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {detail === null ? (
        error === null && <p className="muted">Loading…</p>
      ) : (
        <>
          <p>
            <span className={`badge state-${detail.record.state}`}>{detail.record.state}</span>{' '}
            {detail.record.entityKind} in {detail.record.studyCode} · proposed by{' '}
            {visibleText(detail.record.agentId)}
          </p>
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
          {promoted && <p className="notice">Promoted: the live row carries this change.</p>}
          {liveChangedAfterProposal && (
            <p className="notice notice-warning">
              The live row changed after this proposal was made (live row updated {String(live?.updated_at)});
              the diff below is against the live row as it is now.
            </p>
          )}
          <DiffView liveRow={live} proposedState={proposed} />

          <h3>Signatures</h3>
          {detail.signatures.length === 0 ? (
            <p className="muted">Not signed.</p>
          ) : (
            detail.signatures.map((signature) => (
              <SignatureManifestation
                key={signature.id}
                printedName={signature.printedName}
                meaning={signature.meaning}
                intent={signature.intent}
                signedAt={signature.signedAt}
                comment={signature.comment}
                contentHash={signature.contentHash}
              />
            ))
          )}

          <h3>Provenance</h3>
          <ol className="provenance-list">
            {detail.provenance.map((event) => (
              <li key={event.id}>
                <time dateTime={event.occurredAt} title={formatLocal(event.occurredAt)}>
                  {formatUtc(event.occurredAt)}
                </time>{' '}
                {visibleText(event.action)} by {event.actorKind} {visibleText(event.actorId)}
              </li>
            ))}
          </ol>
        </>
      )}
    </aside>
  );
}

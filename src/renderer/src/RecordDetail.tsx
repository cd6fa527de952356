// One proposal next to the live row it would change, with its signatures (manifested) and its
// provenance. Proposal text is untrusted (an AI agent wrote it): it is only ever rendered as text.
import { useEffect, useState } from 'react';
import type { StagingDetail } from '../../shared/contract';
import { api } from './api';
import { formatLocal, formatUtc } from './formatTime';
import { messageOf } from './messageOf';
import { SignatureManifestation } from './SignatureManifestation';

function show(value: unknown): string {
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value, null, 1);
}

export function RecordDetail({ id, onClose }: { id: string; onClose: () => void }) {
  const [detail, setDetail] = useState<StagingDetail | null>(null);
  const [error, setError] = useState<string | null>(null);

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
  }, [id]);

  const proposed = (detail?.record.proposedState ?? {}) as Record<string, unknown>;
  const live = (detail?.record.liveRow ?? null) as Record<string, unknown> | null;

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
            {detail.record.entityKind} in {detail.record.studyCode} · proposed by {detail.record.agentId}
          </p>
          <table className="table diff-table">
            <caption>{live === null ? 'New row' : 'Proposed change against the live row'}</caption>
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Live</th>
                <th scope="col">Proposed</th>
              </tr>
            </thead>
            <tbody>
              {Object.keys(proposed)
                .sort()
                .map((field) => {
                  const before = live === null ? undefined : live[field];
                  const after = proposed[field];
                  const changed = JSON.stringify(before) !== JSON.stringify(after);
                  return (
                    <tr key={field} className={changed ? 'diff-changed' : undefined}>
                      <th scope="row">{field}</th>
                      <td className="diff-before">
                        <pre>{show(before)}</pre>
                      </td>
                      <td className="diff-after">
                        <pre>{show(after)}</pre>
                      </td>
                    </tr>
                  );
                })}
            </tbody>
          </table>

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
                {event.action} by {event.actorKind} {event.actorId}
              </li>
            ))}
          </ol>
        </>
      )}
    </aside>
  );
}

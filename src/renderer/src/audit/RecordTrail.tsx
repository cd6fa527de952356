// One staging record's trail, from the cache: its audit entries with their place in the chain (each
// re-hashed), its signatures with their manifestation and whether the chain records them, and its
// provenance, each event with the protocol build it was recorded under. Anything that does not hold
// together is listed first.
import { useEffect, useState } from 'react';
import type { ResponseOf } from '../../../shared/contract';
import { api } from '../common/api';
import { BuildChip } from '../common/BuildChip';
import { messageOf } from '../common/messageOf';
import { PersonName } from '../common/PersonName';
import { Timestamp } from '../common/Timestamp';
import { visibleText } from '../common/visibleText';
import { SignatureManifestation } from '../signing/SignatureManifestation';
import { hashPrefix, payloadBlock } from './payloadText';

type Trail = ResponseOf<'record.trail'>;

interface RecordTrailProps {
  stagingId: string;
  generation: number;
  onClose: () => void;
  onShowEntry: (seq: number) => void;
}

export function RecordTrail({ stagingId, generation, onClose, onShowEntry }: RecordTrailProps) {
  const [trail, setTrail] = useState<Trail | null>(null);
  const [error, setError] = useState<string | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: generation is the reload trigger
  useEffect(() => {
    let current = true;
    setError(null);
    api['record.trail']({ stagingId })
      .then((next) => current && setTrail(next))
      .catch((caught: unknown) => current && setError(messageOf(caught)));
    return () => {
      current = false;
    };
  }, [stagingId, generation]);

  const shown = trail !== null && trail.stagingId === stagingId ? trail : null;
  return (
    <aside className="panel audit-side" aria-labelledby="trail-heading">
      <div className="detail-header">
        <h3 id="trail-heading">Record trail {stagingId.slice(0, 8)}</h3>
        <button
          type="button"
          className="button button-quiet"
          onClick={onClose}
          aria-label="Close the record trail"
        >
          Close
        </button>
      </div>
      <p className="muted">
        Staging record <code>{stagingId}</code>
      </p>
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {shown === null ? (
        error === null && <p className="muted">Loading…</p>
      ) : (
        <>
          {(shown.state !== null || shown.build !== null) && (
            <p>
              {shown.state !== null && (
                <>
                  State <span className={`badge state-${shown.state}`}>{shown.state}</span>{' '}
                </>
              )}
              {shown.build !== null && (
                <>
                  · written under <BuildChip build={shown.build} />
                </>
              )}
            </p>
          )}
          {shown.ok ? (
            <p className="notice notice-success" role="status">
              <span aria-hidden="true">✓ </span>
              Trail holds together: {shown.chain.length} audit entries recompute to their hashes, and every
              signature has its entry in the chain.
            </p>
          ) : (
            <div className="notice notice-error" role="alert">
              <p>
                <span aria-hidden="true">✗ </span>
                <strong>This trail does not hold together:</strong>
              </p>
              <ul>
                {shown.problems.map((problem) => (
                  <li key={problem}>{problem}</li>
                ))}
              </ul>
            </div>
          )}

          <h4>Signatures</h4>
          {shown.signatures.length === 0 ? (
            <p className="muted">Not signed.</p>
          ) : (
            shown.signatures.map((signature) => (
              <div key={signature.id} className="trail-signature">
                <SignatureManifestation
                  printedName={signature.signerName}
                  meaning={signature.meaning}
                  intent={signature.intent}
                  signedAt={signature.signedAt}
                  rejection={signature.rejection}
                  contentHash={signature.contentHash}
                />
                <p className={signature.inChain ? 'trail-check' : 'trail-check trail-check-bad'}>
                  {signature.inChain
                    ? '✓ recorded in the audit chain with this content hash'
                    : '✗ no audit entry records this signature with this content hash'}
                </p>
              </div>
            ))
          )}

          <h4>Audit entries</h4>
          {shown.chain.length === 0 ? (
            <p className="muted">No audit entries in the cache.</p>
          ) : (
            <table className="table trail-table" aria-label="Audit entries of this record">
              <thead>
                <tr>
                  <th scope="col">Entry</th>
                  <th scope="col">Event · by · occurred (UTC · local)</th>
                  <th scope="col">Checks</th>
                </tr>
              </thead>
              <tbody>
                {shown.chain.map((entry) => (
                  <tr key={entry.seq} className={entry.hashesOk ? undefined : 'audit-row-bad'}>
                    <td className="cell-number">
                      <button
                        type="button"
                        className="link-button"
                        aria-label={`Show audit entry ${entry.seq}`}
                        onClick={() => onShowEntry(entry.seq)}
                      >
                        {entry.seq.toLocaleString()}
                      </button>
                    </td>
                    <td>
                      <code>{visibleText(entry.eventType)}</code> by <PersonName id={entry.actor} />
                      <br />
                      <Timestamp iso={entry.occurredAt} stacked />
                    </td>
                    <td className={entry.hashesOk ? 'trail-checks' : 'trail-checks trail-check-bad'}>
                      <span>{entry.hashesOk ? '✓ hashes recompute' : '✗ hashes do not match'}</span>
                      <span>
                        {entry.withinVerifiedChain ? '✓ in the verified chain' : '… not yet verified'}
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}

          <h4>Provenance</h4>
          {shown.provenance.length === 0 ? (
            <p className="muted">No provenance events in the cache.</p>
          ) : (
            <ol className="trail-provenance">
              {shown.provenance.map((event) => (
                <li key={event.id}>
                  <p className="trail-provenance-line">
                    <Timestamp iso={event.occurredAt} /> — <strong>{visibleText(event.action)}</strong> by{' '}
                    <PersonName id={event.actorId} kind={event.actorKind} />
                    {event.modelId !== null &&
                      ` · model ${visibleText(`${event.modelProvider ?? ''} ${event.modelId}`.trim())}`}
                    {event.signatureId !== null && (
                      <>
                        {' '}
                        · signature <code>{hashPrefix(event.signatureId, 8)}</code>
                      </>
                    )}
                    {event.build !== null && (
                      <>
                        {' '}
                        · <BuildChip build={event.build} />
                      </>
                    )}
                  </p>
                  <details>
                    <summary>
                      Payload
                      {Array.isArray(event.retrievedContext) && event.retrievedContext.length > 0
                        ? ` and ${event.retrievedContext.length} retrieved-context citations`
                        : ''}
                    </summary>
                    <pre className="trail-json">{payloadBlock(event.payload)}</pre>
                    {Array.isArray(event.retrievedContext) && event.retrievedContext.length > 0 && (
                      <pre className="trail-json">{payloadBlock(event.retrievedContext)}</pre>
                    )}
                  </details>
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </aside>
  );
}

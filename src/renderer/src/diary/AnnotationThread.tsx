// The investigators' layer of one diary record: notes, queries and corrections with their replies,
// the entry each was made on, whether a query is open or closed, and for what this workstation
// made, where it stands in the outbox. Answer, close and reopen go through the outbox too.
import { useState } from 'react';
import type { DiaryAnnotation } from '../../../shared/contract';
import { queryReasonLabels } from '../../../shared/domain';
import { BuildChip } from '../common/BuildChip';
import { PersonName } from '../common/PersonName';
import { Timestamp } from '../common/Timestamp';
import type { Runner } from '../common/useAction';
import { visibleText } from '../common/visibleText';
import { AnnotationComposer } from './AnnotationComposer';
import { type OutboxItem, OutboxStatus, type ResolveOutbox } from './OutboxStatus';
import { ResolutionForm } from './ResolutionForm';

const kindLabels: Record<DiaryAnnotation['kind'], string> = {
  note: 'Note',
  query: 'Query',
  correction: 'Correction',
};

/** A query is what asks for an answer: kind query, or any annotation that requires a response. */
function isQuery(annotation: DiaryAnnotation): boolean {
  return annotation.kind === 'query' || annotation.requiresResponse;
}

/** The state the person asked for last (a close or reopen not yet on the server), else the server's. */
function askedResolved(annotation: DiaryAnnotation): { resolved: boolean; waiting: OutboxItem | null } {
  const waiting = [...annotation.resolutions].reverse().find((item) => item.state !== 'sent') ?? null;
  if (waiting) return { resolved: waiting.kind === 'close', waiting };
  return { resolved: annotation.resolved, waiting: null };
}

export function AnnotationThread({
  eventUuid,
  annotations,
  entryNumbers,
  lastAuditId,
  online,
  run,
  onChanged,
  onResolveOutbox,
}: {
  eventUuid: string;
  annotations: readonly DiaryAnnotation[];
  /** audit id → entry number on the left. */
  entryNumbers: ReadonlyMap<number, number>;
  lastAuditId: number;
  online: boolean;
  run: Runner;
  onChanged: () => void;
  onResolveOutbox: ResolveOutbox;
}) {
  const [replyingTo, setReplyingTo] = useState<string | null>(null);
  const [resolving, setResolving] = useState<string | null>(null);
  const currentEntry = entryNumbers.get(lastAuditId) ?? entryNumbers.size;
  const byId = new Map(annotations.map((annotation) => [annotation.annotationId, annotation]));
  const openQueries = annotations.filter((a) => isQuery(a) && !askedResolved(a).resolved).length;

  return (
    <section className="diary-annotations" aria-labelledby="diary-annotations-title">
      <h3 id="diary-annotations-title" className="diary-pane-title">
        Annotations and queries{' '}
        <span className="muted">
          ({annotations.length}, {openQueries} open {openQueries === 1 ? 'query' : 'queries'})
        </span>
      </h3>
      <AnnotationComposer
        eventUuid={eventUuid}
        parentAuditId={lastAuditId}
        entryNumber={currentEntry}
        run={run}
        onAdded={onChanged}
      />
      {annotations.length === 0 ? (
        <p className="muted">No annotations on this record yet.</p>
      ) : (
        <ol className="diary-thread">
          {annotations.map((annotation) => {
            const parent = annotation.inReplyTo !== null ? byId.get(annotation.inReplyTo) : undefined;
            const label = parent
              ? `Reply to ${kindLabels[parent.kind].toLowerCase()}`
              : kindLabels[annotation.kind];
            const entry = entryNumbers.get(annotation.parentAuditId);
            const asked = askedResolved(annotation);
            const lastResolution = annotation.resolutions.at(-1) ?? null;
            return (
              <li
                key={annotation.annotationId}
                className={parent ? 'diary-annotation is-reply' : 'diary-annotation'}
                aria-label={`${label}: ${visibleText(annotation.text).slice(0, 60)}`}
                data-annotation-id={annotation.annotationId}
              >
                <div className="diary-annotation-head">
                  <span className={`diary-tag diary-kind-${annotation.kind}`}>{label}</span>
                  {isQuery(annotation) && (
                    <span className={asked.resolved ? 'diary-tag diary-closed' : 'diary-tag diary-open'}>
                      {asked.resolved ? '✓ Closed' : '○ Open'}
                      {asked.waiting && ' (not sent yet)'}
                    </span>
                  )}
                  <span className="muted">
                    <PersonName
                      id={annotation.authorId}
                      isYou={annotation.byMe}
                      fallback={annotation.byMe ? 'you' : 'another investigator'}
                    />{' '}
                    · on entry {entry ?? `audit ${annotation.parentAuditId}`}
                    {annotation.parentAuditId !== lastAuditId && ' (an earlier entry)'}
                  </span>
                  <BuildChip build={annotation.build} />
                </div>
                <p className="diary-annotation-text">{visibleText(annotation.text)}</p>
                <div className="diary-times">
                  {annotation.createdAt !== null ? (
                    <Timestamp label="Made (server)" iso={annotation.createdAt} />
                  ) : (
                    <span className="muted">Not on the server yet</span>
                  )}
                  {annotation.resolvedAt !== null && annotation.resolved && (
                    <Timestamp label="Closed" iso={annotation.resolvedAt} />
                  )}
                </div>
                {annotation.outbox && (
                  <OutboxStatus item={annotation.outbox} online={online} onResolve={onResolveOutbox} />
                )}
                {annotation.resolutionHistory.length > 0 && (
                  <ol className="diary-resolution-history" aria-label="Closed and reopened">
                    {annotation.resolutionHistory.map((event) => (
                      <li key={event.requestId}>
                        <strong>{event.resolved ? 'Closed' : 'Reopened'}</strong> by{' '}
                        <PersonName id={event.requestedBy} /> · <Timestamp iso={event.requestedAt} />
                        {event.reasonCode !== null && <> · {queryReasonLabels[event.reasonCode]}</>}
                        {event.reasonText !== null && <>: {visibleText(event.reasonText)}</>}
                      </li>
                    ))}
                  </ol>
                )}
                {lastResolution && lastResolution.state !== 'sent' && (
                  <div className="diary-resolution">
                    <span className="timestamp-label">
                      {lastResolution.kind === 'close' ? 'Close' : 'Reopen'} requested
                      {lastResolution.reasonCode !== null &&
                        ` (${queryReasonLabels[lastResolution.reasonCode]})`}
                      :
                    </span>
                    <OutboxStatus item={lastResolution} online={online} onResolve={onResolveOutbox} />
                  </div>
                )}
                <div className="diary-annotation-actions">
                  <button
                    type="button"
                    className="button button-small"
                    aria-expanded={replyingTo === annotation.annotationId}
                    onClick={() =>
                      setReplyingTo((current) =>
                        current === annotation.annotationId ? null : annotation.annotationId,
                      )
                    }
                  >
                    Reply
                  </button>
                  {isQuery(annotation) && (
                    <button
                      type="button"
                      className="button button-small"
                      aria-expanded={resolving === annotation.annotationId}
                      onClick={() =>
                        setResolving((current) =>
                          current === annotation.annotationId ? null : annotation.annotationId,
                        )
                      }
                    >
                      {asked.resolved ? 'Reopen query…' : 'Close query…'}
                    </button>
                  )}
                </div>
                {resolving === annotation.annotationId && (
                  <ResolutionForm
                    annotationId={annotation.annotationId}
                    closing={!asked.resolved}
                    run={run}
                    onDone={() => {
                      setResolving(null);
                      onChanged();
                    }}
                    onCancel={() => setResolving(null)}
                  />
                )}
                {replyingTo === annotation.annotationId && (
                  <AnnotationComposer
                    eventUuid={eventUuid}
                    parentAuditId={lastAuditId}
                    entryNumber={currentEntry}
                    replyTo={{ annotationId: annotation.annotationId, label: label.toLowerCase() }}
                    run={run}
                    onAdded={() => {
                      setReplyingTo(null);
                      onChanged();
                    }}
                    onCancel={() => setReplyingTo(null)}
                  />
                )}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}

// "Corrections to review": the administrators' corrections at the investigator's sites (seed 003:
// "admin modifications flagged for investigator review"), pending first. Each shows the patient's
// subject code, every changed field old beside new, the justification, who corrected and when; a
// pending one can be acknowledged or disputed (online only: the decision goes to the server at once,
// the first investigator's decision closes it for the site). Read from the cache.
import { useState } from 'react';
import type { CorrectionReview } from '../../../shared/contract';
import { PersonName } from '../common/PersonName';
import { Timestamp } from '../common/Timestamp';
import { visibleText } from '../common/visibleText';
import { shortId } from './diaryValues';
import { FieldChangeRow } from './FieldChangeRow';
import { ReviewDecisionDialog } from './ReviewDecisionDialog';

const statusWords: Record<CorrectionReview['status'], string> = {
  pending: 'pending review',
  acknowledged: 'acknowledged',
  disputed: 'disputed',
};

export interface CorrectionReviewsProps {
  reviews: readonly CorrectionReview[];
  pending: number;
  /** The diary form's label of each field code (from the builds), where known. */
  fieldLabels: ReadonlyMap<string, string>;
  online: boolean;
  onDecided: () => void;
  onShowRecord: (eventUuid: string) => void;
}

export function CorrectionReviews({
  reviews,
  pending,
  fieldLabels,
  online,
  onDecided,
  onShowRecord,
}: CorrectionReviewsProps) {
  const [deciding, setDeciding] = useState<{
    review: CorrectionReview;
    decision: 'acknowledged' | 'disputed';
  } | null>(null);
  const [showDecided, setShowDecided] = useState(false);
  const shown = showDecided ? reviews : reviews.filter((review) => review.status === 'pending');
  return (
    <details className="correction-reviews">
      <summary>
        <h2 className="correction-reviews-title">Corrections to review ({pending})</h2>
      </summary>
      <label className="correction-reviews-decided">
        <input
          type="checkbox"
          checked={showDecided}
          onChange={(event) => setShowDecided(event.target.checked)}
        />{' '}
        Show decided corrections too
      </label>
      {!online && pending > 0 && (
        <p className="muted">You are offline: acknowledging or disputing needs the server.</p>
      )}
      {shown.length === 0 ? (
        <p className="muted">
          {reviews.length === 0
            ? 'No administrator has corrected a diary at your sites.'
            : 'Nothing waits for review.'}
        </p>
      ) : (
        <ol className="correction-review-list">
          {shown.map((review) => (
            <li
              key={review.reviewId}
              className="correction-review"
              aria-label={`Correction for ${review.subjectCode ?? 'a patient'}`}
            >
              <ReviewSummary review={review} fieldLabels={fieldLabels} />
              <div className="correction-review-actions">
                <button type="button" className="link-button" onClick={() => onShowRecord(review.eventUuid)}>
                  Open record {shortId(review.eventUuid)}
                </button>
                {review.status === 'pending' && (
                  <>
                    <button
                      type="button"
                      className="button"
                      disabled={!online}
                      onClick={() => setDeciding({ review, decision: 'acknowledged' })}
                    >
                      Acknowledge…
                    </button>
                    <button
                      type="button"
                      className="button button-quiet"
                      disabled={!online}
                      onClick={() => setDeciding({ review, decision: 'disputed' })}
                    >
                      Dispute…
                    </button>
                  </>
                )}
              </div>
            </li>
          ))}
        </ol>
      )}
      {deciding !== null && (
        <ReviewDecisionDialog
          reviewId={deciding.review.reviewId}
          decision={deciding.decision}
          onClose={(decided) => {
            setDeciding(null);
            if (decided) onDecided();
          }}
        >
          <ReviewSummary review={deciding.review} fieldLabels={fieldLabels} />
        </ReviewDecisionDialog>
      )}
    </details>
  );
}

function ReviewSummary({
  review,
  fieldLabels,
}: {
  review: CorrectionReview;
  fieldLabels: ReadonlyMap<string, string>;
}) {
  return (
    <div className="correction-review-summary">
      <p>
        <strong>{review.subjectCode !== null ? visibleText(review.subjectCode) : 'Patient'}</strong>{' '}
        <span className="muted">· site {visibleText(review.siteId)} ·</span>{' '}
        <span className={`diary-tag correction-status-${review.status}`}>{statusWords[review.status]}</span>
      </p>
      <p className="muted">
        Corrected by <PersonName id={review.correctedBy} /> · <Timestamp iso={review.correctedAt} />
      </p>
      <table className="table diary-changes">
        <caption className="visually-hidden">Values the administrator changed</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Change</th>
            <th scope="col">Old value</th>
            <th scope="col">New value</th>
          </tr>
        </thead>
        <tbody>
          {review.changes.map((change) => (
            <FieldChangeRow
              key={change.field}
              change={change}
              label={fieldLabels.get(change.field) ?? change.field}
            />
          ))}
        </tbody>
      </table>
      <p className="diary-reason">
        <span className="timestamp-label">Justification: </span>
        {visibleText(review.justification)}
      </p>
      {review.status !== 'pending' && (
        <p className="muted">
          {review.status === 'acknowledged' ? 'Acknowledged' : 'Disputed'} by{' '}
          <PersonName id={review.decidedBy} />
          {review.decidedAt !== null && (
            <>
              {' '}
              · <Timestamp iso={review.decidedAt} />
            </>
          )}
          {review.decisionComment !== null && <>: {visibleText(review.decisionComment)}</>}
        </p>
      )}
    </div>
  );
}

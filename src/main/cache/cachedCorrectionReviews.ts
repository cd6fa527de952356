// The investigator's list of administrators' corrections at their sites, from the cache (online and
// offline alike): pending first, then decided, newest first within each; per correction the
// patient's subject code, each changed field old beside new (the correction's own record_audit row:
// previous_data and data), the justification, who corrected and when, and the decision if any.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import type { CorrectionReview } from '../../shared/contract';
import { diaryFieldChanges } from './diaryReads';

type Json = Record<string, unknown>;

const objectOrNull = (value: unknown): Json | null =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null;
const textOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuidOrNull = (value: unknown): string | null =>
  typeof value === 'string' && uuidShape.test(value) ? value : null;

/** A to_jsonb timestamp ("2026-12-07T12:00:00.123456+00:00") as ISO UTC, or null. */
function isoOrNull(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

export function cachedCorrectionReviews(db: Database): { reviews: CorrectionReview[]; pending: number } {
  const rows = db
    .prepare(
      `select c.review_id, c.audit_id, c.event_uuid, c.site_id, c.status, c.corrected_at, c.doc,
              a.doc as audit_doc, e.subject_code
         from correction_review c
         left join record_audit a on a.audit_id = c.audit_id
         left join enrolment e on e.patient_id = json_extract(c.doc, '$.patient_id')
        order by c.status <> 'pending', c.corrected_at desc, c.review_id`,
    )
    .all() as {
    review_id: string;
    audit_id: number;
    event_uuid: string;
    site_id: string;
    status: CorrectionReview['status'];
    corrected_at: string;
    doc: string;
    audit_doc: string | null;
    subject_code: string | null;
  }[];
  const reviews = rows.map((row): CorrectionReview => {
    const doc = JSON.parse(row.doc) as Json;
    const audit = row.audit_doc === null ? null : (JSON.parse(row.audit_doc) as Json);
    // Until the correction's event is pulled, the changed fields are named without their values.
    const changes = audit
      ? diaryFieldChanges(objectOrNull(audit.previous_data) ?? {}, objectOrNull(audit.data) ?? {})
      : (Array.isArray(doc.changed_fields) ? doc.changed_fields : []).map((field) => ({
          field: String(field),
          change: 'changed' as const,
          before: null,
          after: null,
        }));
    return {
      reviewId: row.review_id,
      eventUuid: row.event_uuid,
      auditId: row.audit_id,
      patientId: String(doc.patient_id),
      subjectCode: row.subject_code,
      siteId: row.site_id,
      correctedBy: String(doc.corrected_by),
      correctedAt: row.corrected_at,
      justification: String(doc.justification ?? ''),
      changes,
      status: row.status,
      decidedBy: uuidOrNull(doc.decided_by),
      decidedAt: isoOrNull(doc.decided_at),
      decisionComment: textOrNull(doc.decision_comment),
    };
  });
  return { reviews, pending: reviews.filter((review) => review.status === 'pending').length };
}

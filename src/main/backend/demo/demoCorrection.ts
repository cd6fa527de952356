// The demo's pending admin correction (issue 22): the demo administrator corrected the duration of
// the earliest patient entry at HHT-101, with a justification, and the correction waits for the
// site's investigator (Dr. Marchetti) to acknowledge or dispute it. Written as the workstation's
// correction writes it (the ADMIN_CORRECTION event with the replaced values kept by the server, the
// review item, the diary.correction audit entry), under the operator's bootstrap, which 0059's guard
// allows for the review row; no re-authentication attempt exists for it, so the audit entry names none.
// Deterministic: the same record and the same values on every seed.
import type { ClientBase } from 'pg';

export const demoCorrectionSite = 'HHT-101';
export const demoCorrectionJustification =
  'Patient phoned the site: the duration was mistyped, the nosebleed lasted 12 minutes (source: call note 2026-11-02).';
export const demoCorrectedDuration = 12;

/**
 * Writes the correction as the demo administrator. `actAs` makes auth.uid() a demo person (the
 * seeder's own, so it knows who it acts as); `uid` names one.
 */
export async function seedDemoCorrection(
  db: ClientBase,
  now: Date,
  actAs: (key: string | null) => Promise<void>,
  uid: (key: string) => string,
): Promise<void> {
  const { rows } = await db.query<{
    event_uuid: string;
    patient_id: string;
    last_audit_id: string;
    current_data: Record<string, unknown>;
  }>(
    `select s.event_uuid, s.patient_id, s.last_audit_id, s.current_data from diary.record_state s
      where s.site_id = $1 and not s.is_deleted and s.version < 3 and s.current_data ? 'duration_minutes'
        and (s.current_data ->> 'duration_minutes')::numeric <> $2
      order by s.current_data ->> 'date', s.current_data ->> 'time', s.event_uuid limit 1`,
    [demoCorrectionSite, demoCorrectedDuration],
  );
  const record = rows[0];
  if (!record) throw new Error(`demo seed: no diary entry at ${demoCorrectionSite} to correct`);
  const admin = uid('admin');
  await actAs('admin');
  const corrected = { ...record.current_data, duration_minutes: demoCorrectedDuration };
  const event = await db.query<{ audit_id: string }>(
    `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, created_by, role,
                                     client_timestamp, parent_audit_id, change_reason)
     values ($1, $2, $3, 'ADMIN_CORRECTION', $4::jsonb, $5, 'ADMIN', $6, $7, $8) returning audit_id`,
    [
      record.event_uuid,
      record.patient_id,
      demoCorrectionSite,
      JSON.stringify(corrected),
      admin,
      new Date(now.getTime() - 2 * 3_600_000).toISOString(),
      record.last_audit_id,
      demoCorrectionJustification,
    ],
  );
  const auditId = Number(event.rows[0]?.audit_id);
  const review = await db.query<{ review_id: string }>(
    `insert into diary.correction_review (audit_id, event_uuid, patient_id, site_id, corrected_by, corrected_at,
                                          justification, changed_fields)
     values ($1, $2, $3, $4, $5, now(), $6, '{duration_minutes}') returning review_id`,
    [auditId, record.event_uuid, record.patient_id, demoCorrectionSite, admin, demoCorrectionJustification],
  );
  await db.query(
    `select cs_private.audit_append('diary.correction', jsonb_build_object(
       'audit_id', $1::bigint, 'event_uuid', $2::uuid, 'site_id', $3::text, 'review_id', $4::uuid,
       'corrected_by', $5::uuid, 'changed_fields', '["duration_minutes"]'::jsonb,
       'justification_sha256', cs_private.sha256_hex($6::text), 'reauth_attempt_id', null, 'ceremony_id', null))`,
    [
      auditId,
      record.event_uuid,
      demoCorrectionSite,
      review.rows[0]?.review_id,
      admin,
      demoCorrectionJustification,
    ],
  );
  await actAs(null);
}

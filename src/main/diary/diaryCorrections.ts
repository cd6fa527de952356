// An administrator's correction of diary data and the investigators' review of it (migration 0059):
// the correction first proves the administrator's own password and TOTP code through the
// re-authentication signers use, then spends it on public.correct_diary_record with the entry the
// administrator saw; a record that moved on meanwhile is refused with its current values. An
// investigator of the record's site acknowledges the correction or disputes it with a comment. Both
// need the server (offline they are refused before anything is sent: serverWriteGuard.ts). The
// password and the code live only for the call; they are never logged, nor are the diary values.
import { randomUUID } from 'node:crypto';
import type { DiaryCorrectionOutcome, DiaryCorrectionRequest } from '../../shared/contract';
import { type SigningBackend, TransientBackendError } from '../signing/signingBackend';
import { reauthField, reauthMessage } from '../signing/signingCeremony';
import { UserFacingError } from '../userFacingError';

export type CorrectionDecision = 'acknowledged' | 'disputed';

/** The record's current entry, as the server answered a correction made against an older one. */
export interface CurrentDiaryEntry {
  auditId: number;
  version: number;
  data: Record<string, unknown>;
}

/** The server refused the correction because the record moved on since the administrator read it. */
export class DiaryRecordMovedOn extends UserFacingError {
  override name = 'DiaryRecordMovedOn';
  constructor(readonly current: CurrentDiaryEntry) {
    super('The record changed since you opened it: check its current values and correct again.');
  }
}

/** What a backend (direct or hosted) offers for corrections; each call runs as the signed-in person. */
export interface DiaryCorrectionsBackend {
  /** Spends the caller's verified re-authentication of `ceremonyId` on the correction. */
  correct(correction: {
    eventUuid: string;
    parentAuditId: number;
    data: Record<string, unknown>;
    justification: string;
    ceremonyId: string;
  }): Promise<{ auditId: number; reviewId: string; changedFields: string[] }>;
  review(reviewId: string, decision: CorrectionDecision, comment: string | null): Promise<void>;
}

/** The current entry named in a CS409's detail (0059), or null if the detail is not one. */
export function currentEntryFrom(detail: unknown): CurrentDiaryEntry | null {
  if (typeof detail !== 'string') return null;
  try {
    const parsed = JSON.parse(detail) as Record<string, unknown>;
    const data = parsed.current_data;
    if (typeof parsed.current_audit_id !== 'number' || typeof data !== 'object' || data === null) return null;
    return {
      auditId: parsed.current_audit_id,
      version: Number(parsed.current_version),
      data: data as Record<string, unknown>,
    };
  } catch {
    return null;
  }
}

const refused = (
  error: string,
  field: 'justification' | 'password' | 'code' | null,
): DiaryCorrectionOutcome => ({ ok: false, error, field, locked: false, current: null });

/** Re-authenticates the administrator (password + TOTP, checked by the server), then corrects. */
export async function correctDiaryRecord(
  signing: SigningBackend,
  corrections: DiaryCorrectionsBackend,
  request: DiaryCorrectionRequest,
  log: (line: string) => void,
): Promise<DiaryCorrectionOutcome> {
  const justification = request.justification.trim();
  if (!justification)
    return refused('Say why the entry is corrected: the justification is required.', 'justification');
  if (!/^\d{6}$/.test(request.totpCode.trim())) {
    // Checked before the server sees it, so a typo costs no attempt.
    return refused('The authenticator code is 6 digits.', 'code');
  }
  const ceremonyId = randomUUID();
  let reauth: Awaited<ReturnType<SigningBackend['reauthenticate']>>;
  try {
    reauth = await signing.reauthenticate(ceremonyId, request.password, request.totpCode.trim());
  } catch (error) {
    if (error instanceof TransientBackendError) {
      return refused(
        'The server could not be reached to check your password and code. Nothing was corrected; try again.',
        null,
      );
    }
    throw error;
  }
  if (!reauth.ok) {
    log(`countersign: an administrator's re-authentication for a diary correction failed (${reauth.reason})`);
    return {
      ok: false,
      error: reauth.locked
        ? 'Your own account is locked for re-authentication after 5 failed attempts in a row. Another administrator must unlock it.'
        : reauthMessage(reauth).replace('before signing is locked', 'before your account is locked'),
      locked: reauth.locked,
      field: reauthField(reauth.reason),
      current: null,
    };
  }
  try {
    const result = await corrections.correct({
      eventUuid: request.eventUuid,
      parentAuditId: request.parentAuditId,
      data: request.data,
      justification,
      ceremonyId,
    });
    log(
      `countersign: diary record ${request.eventUuid} corrected by an administrator (audit ${result.auditId})`,
    );
    return { ok: true, ...result };
  } catch (error) {
    if (error instanceof DiaryRecordMovedOn) {
      return { ok: false, error: error.message, field: null, locked: false, current: error.current };
    }
    if (error instanceof TransientBackendError) {
      return refused(
        'The connection to the server was lost while correcting: look at the record after the next sync before you try again.',
        null,
      );
    }
    throw error;
  }
}

/** An investigator's decision on a correction at their site; a dispute needs a comment. */
export async function reviewDiaryCorrection(
  corrections: DiaryCorrectionsBackend,
  request: { reviewId: string; decision: CorrectionDecision; comment: string | null },
  log: (line: string) => void,
): Promise<{ status: CorrectionDecision }> {
  const comment = request.comment?.trim() || null;
  if (request.decision === 'disputed' && comment === null) {
    throw new UserFacingError('Say why you dispute the correction: a comment is required.');
  }
  await corrections.review(request.reviewId, request.decision, comment);
  log(`countersign: diary correction review ${request.reviewId} ${request.decision}`);
  return { status: request.decision };
}

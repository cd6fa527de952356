// Diary corrections and their review over the person's own PostgreSQL session (migration 0059).
import type pg from 'pg';
import {
  type CorrectionDecision,
  currentEntryFrom,
  type DiaryCorrectionsBackend,
  DiaryRecordMovedOn,
} from '../../diary/diaryCorrections';
import { TransientBackendError } from '../../signing/signingBackend';
import { isTransient, userFacingServerError } from './postgresSigning';

export class PostgresDiaryCorrections implements DiaryCorrectionsBackend {
  constructor(private readonly client: pg.Client) {}

  private async call<T>(sql: string, params: unknown[]): Promise<T> {
    try {
      const { rows } = await this.client.query<{ r: T }>(sql, params);
      return rows[0]?.r as T;
    } catch (error) {
      if (isTransient(error)) throw new TransientBackendError('the connection to the server was lost');
      const { code, detail } = (error ?? {}) as { code?: string; detail?: string };
      const current = code === 'CS409' ? currentEntryFrom(detail) : null;
      if (current) throw new DiaryRecordMovedOn(current);
      throw userFacingServerError(error);
    }
  }

  async correct(correction: Parameters<DiaryCorrectionsBackend['correct']>[0]) {
    const result = await this.call<{ audit_id: number; review_id: string; changed_fields: string[] }>(
      'select public.correct_diary_record($1, $2, $3, $4, $5) as r',
      [
        correction.eventUuid,
        correction.parentAuditId,
        JSON.stringify(correction.data),
        correction.justification,
        correction.ceremonyId,
      ],
    );
    return {
      auditId: Number(result.audit_id),
      reviewId: result.review_id,
      changedFields: result.changed_fields,
    };
  }

  async review(reviewId: string, decision: CorrectionDecision, comment: string | null): Promise<void> {
    await this.call('select public.review_diary_correction($1, $2, $3) as r', [reviewId, decision, comment]);
  }
}

// Diary corrections and their review through PostgREST (hosted mode, migration 0059). The
// correction, like sign_batch, needs the token of a session that has just passed MFA
// (require_gateway_reauth through spend_reauth).
import type { SupabaseClient } from '@supabase/supabase-js';
import {
  type CorrectionDecision,
  currentEntryFrom,
  type DiaryCorrectionsBackend,
  DiaryRecordMovedOn,
} from '../../diary/diaryCorrections';
import { TransientBackendError } from '../../signing/signingBackend';
import { postgrestError } from './supabaseErrors';
import { callRpc } from './supabaseRpc';

export class SupabaseDiaryCorrections implements DiaryCorrectionsBackend {
  constructor(private readonly client: SupabaseClient) {}

  async correct(correction: Parameters<DiaryCorrectionsBackend['correct']>[0]) {
    let response: Awaited<ReturnType<SupabaseClient['rpc']>>;
    try {
      response = await this.client.rpc('correct_diary_record', {
        event_uuid: correction.eventUuid,
        parent_audit_id: correction.parentAuditId,
        data: correction.data,
        justification: correction.justification,
        ceremony_id: correction.ceremonyId,
      });
    } catch {
      throw new TransientBackendError('the Supabase project could not be reached');
    }
    if (response.error) {
      const current = response.error.code === 'CS409' ? currentEntryFrom(response.error.details) : null;
      if (current) throw new DiaryRecordMovedOn(current);
      throw postgrestError(response.error, response.status);
    }
    const result = response.data as { audit_id: number; review_id: string; changed_fields: string[] };
    return {
      auditId: Number(result.audit_id),
      reviewId: result.review_id,
      changedFields: result.changed_fields,
    };
  }

  async review(reviewId: string, decision: CorrectionDecision, comment: string | null): Promise<void> {
    await callRpc(this.client, 'review_diary_correction', { review_id: reviewId, decision, comment });
  }
}

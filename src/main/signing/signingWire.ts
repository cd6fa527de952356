// The JSON the server's signing functions answer with (0013 re-authentication, 0014 and 0050
// sign_batch, 0015 promote), and its mapping to the signing types. Both adapters call the same SQL functions,
// over a PostgreSQL connection or PostgREST, so they share this one translation.
import type {
  PromotionOutcome,
  ReauthFailureReason,
  ReauthOutcome,
  SignBatchRequest,
  SignBatchResult,
} from './signingBackend';

export interface ServerReauthFailure {
  ok: false;
  reason: string;
  locked?: boolean;
  attempts_left?: number;
}

export function reauthFailureFrom(result: ServerReauthFailure, reason: ReauthFailureReason): ReauthOutcome {
  return {
    ok: false,
    reason,
    locked: Boolean(result.locked),
    attemptsLeft: typeof result.attempts_left === 'number' ? result.attempts_left : null,
  };
}

/** sign_batch's manifest argument. */
export function manifestWire(manifest: SignBatchRequest['manifest']) {
  return manifest.map((entry) => ({
    staging_record_id: entry.stagingRecordId,
    content_hash: entry.contentHash,
  }));
}

export interface ServerSignResult {
  ceremony_id: string;
  intent: 'approve' | 'reject';
  meaning: string;
  comment: string | null;
  signed_at: string;
  re_auth_at: string;
  signer: { user_id: string; printed_name: string };
  /** Only on a rejection (0050). */
  rejection_reason?: string;
  rejection_explanation?: string;
  records: {
    staging_record_id: string;
    signature_id: string;
    content_hash: string;
    state: 'signed' | 'rejected';
  }[];
  replayed: boolean;
}

export function signBatchResultFrom(r: ServerSignResult): SignBatchResult {
  return {
    ceremonyId: r.ceremony_id,
    intent: r.intent,
    meaning: r.meaning,
    comment: r.comment,
    signedAt: r.signed_at,
    reAuthAt: r.re_auth_at,
    signer: { userId: r.signer.user_id, printedName: r.signer.printed_name },
    rejection:
      r.rejection_reason !== undefined && r.rejection_explanation !== undefined
        ? { reason: r.rejection_reason, explanation: r.rejection_explanation }
        : null,
    records: r.records.map((record) => ({
      stagingRecordId: record.staging_record_id,
      signatureId: record.signature_id,
      contentHash: record.content_hash,
      state: record.state,
    })),
    replayed: r.replayed,
  };
}

export interface ServerPromotionOutcome {
  staging_record_id: string;
  outcome: PromotionOutcome['outcome'];
  message: string;
  live_id?: string;
}

export function promotionOutcomesFrom(outcomes: ServerPromotionOutcome[]): PromotionOutcome[] {
  return outcomes.map((outcome) => ({
    stagingRecordId: outcome.staging_record_id,
    outcome: outcome.outcome,
    message: outcome.message,
    liveId: outcome.live_id ?? null,
  }));
}

// The signing backend of hosted mode (Supabase). The server rules are the same SQL as in the direct
// modes (sign_batch, 0014); what differs is the proof of re-authentication: Supabase Auth checks the
// password (signInWithPassword: a new session) and the TOTP code (mfa.challengeAndVerify: that
// session raised to aal2), and the server accepts the resulting JWT's claims as the proof
// (complete_reauth_from_claims, migration 0030). The password and the code go to Supabase Auth once
// and are kept nowhere; the session that results stays in memory.
import type { SupabaseClient } from '@supabase/supabase-js';
import { buildRefFor } from '../../builds/studyBuilds';
import {
  type ManifestSubject,
  type MeaningOfSignature,
  type PromotionOutcome,
  type ReauthFailureReason,
  type ReauthOutcome,
  type SignBatchRequest,
  type SignBatchResult,
  type SigningBackend,
  type SigningStatus,
  TransientBackendError,
} from '../../signing/signingBackend';
import {
  manifestWire,
  promotionOutcomesFrom,
  reauthFailureFrom,
  type ServerPromotionOutcome,
  type ServerReauthFailure,
  type ServerSignResult,
  signBatchResultFrom,
} from '../../signing/signingWire';
import { hostedBuildIds, hostedBuildRefs } from './supabaseBuildReads';
import { authError, isWrongCode, isWrongPassword } from './supabaseErrors';
import { callRpc } from './supabaseRpc';

/** Reasons the claims check gives (0030) in the vocabulary the ceremony already speaks. */
function reauthReason(reason: string): ReauthFailureReason {
  switch (reason) {
    case 'totp_reused':
    case 'totp_wrong':
    case 'wrong_password':
    case 'locked':
      return reason;
    case 'claims_password_missing':
    case 'claims_password_stale':
      return 'wrong_password';
    default:
      // claims_not_aal2, claims_totp_stale, claims_totp_missing, claims_amr_in_future, ...
      return reason as ReauthFailureReason;
  }
}

interface ServerSubject {
  staging_record_id: string;
  study_id: string;
  study_code: string;
  entity_kind: string;
  entity_id: string | null;
  state: string;
  proposed_state: unknown;
  live_row: unknown;
  /** The build (0054), when the server's function says it; otherwise read beside it. */
  build_id?: string | null;
}

/** public.signing_subjects answers for at most this many records per call (0031). */
const subjectsPerCall = 5000;

export class SupabaseSigningBackend implements SigningBackend {
  /** The factor Supabase Auth issued in an enrolment not yet confirmed. */
  pendingFactorId: string | null = null;

  constructor(
    private readonly client: SupabaseClient,
    private readonly email: string,
  ) {}

  async status(): Promise<SigningStatus> {
    const s = await callRpc<{ is_signer: boolean; locked: boolean; consecutive_failures: number }>(
      this.client,
      'my_signing_status',
    );
    return {
      isSigner: s.is_signer,
      totp: await this.totpState(),
      locked: s.locked,
      consecutiveFailures: s.consecutive_failures,
    };
  }

  /** The person's TOTP factor as Supabase Auth holds it (hosted mode has no cs_private.totp_factor). */
  private async totpState(): Promise<SigningStatus['totp']> {
    const { data, error } = await this.client.auth.mfa.listFactors();
    if (error) throw authError(error);
    if (data.totp.length > 0) return 'confirmed';
    return data.all.some((factor) => factor.factor_type === 'totp') ? 'unconfirmed' : 'none';
  }

  private async verifiedTotpFactor(): Promise<string | null> {
    const { data, error } = await this.client.auth.mfa.listFactors();
    if (error) throw authError(error);
    return data.totp[0]?.id ?? null;
  }

  async meanings(): Promise<MeaningOfSignature[]> {
    return callRpc<MeaningOfSignature[]>(this.client, 'signature_meanings');
  }

  async rejectionReasons(): Promise<string[]> {
    return callRpc<string[]>(this.client, 'rejection_reasons');
  }

  async subjects(stagingIds: string[]): Promise<ManifestSubject[]> {
    // Built by the server with the live rows as to_jsonb renders them in UTC (0031), so the content
    // hash computed here is the one sign_batch recomputes; the server answers for 5,000 at a time.
    const rows: ServerSubject[] = [];
    for (let start = 0; start < stagingIds.length; start += subjectsPerCall) {
      const chunk = stagingIds.slice(start, start + subjectsPerCall);
      rows.push(...(await callRpc<ServerSubject[]>(this.client, 'signing_subjects', { staging_ids: chunk })));
    }
    // What is signed binds the build (content-hash version 2): signing_subjects names it since 0054;
    // for a project whose function does not, it is read beside it.
    const unknown = rows.filter((row) => row.build_id === undefined).map((row) => row.staging_record_id);
    const [buildIds, builds] = await Promise.all([
      unknown.length > 0
        ? hostedBuildIds(this.client, 'staging_record', unknown)
        : new Map<string, string | null>(),
      rows.length > 0 ? hostedBuildRefs(this.client) : new Map(),
    ]);
    return rows.map((row) => {
      const buildId =
        row.build_id !== undefined ? row.build_id : (buildIds.get(row.staging_record_id) ?? null);
      return {
        stagingRecordId: row.staging_record_id,
        studyId: row.study_id,
        studyCode: row.study_code,
        entityKind: row.entity_kind,
        entityId: row.entity_id,
        state: row.state,
        proposedState: row.proposed_state,
        liveRow: row.entity_id ? (row.live_row ?? null) : null,
        buildId,
        build: buildRefFor(builds, buildId),
      };
    });
  }

  async openForReview(stagingIds: string[]): Promise<number> {
    return callRpc<number>(this.client, 'open_for_review', { staging_ids: stagingIds });
  }

  async reauthenticate(ceremonyId: string, password: string, totpCode: string): Promise<ReauthOutcome> {
    const begun = await callRpc<{ ok: boolean; attempt_id?: string }>(this.client, 'begin_reauth', {
      ceremony_id: ceremonyId,
    });
    if (!begun.ok || !begun.attempt_id) return { ok: false, reason: 'locked', locked: true, attemptsLeft: 0 };
    const attemptId = begun.attempt_id;
    const cancel = () =>
      callRpc(this.client, 'cancel_reauth', { attempt_id: attemptId }).catch(() => undefined);

    // The password: a new session from Supabase Auth. A refused password leaves the current session.
    const signedIn = await this.client.auth.signInWithPassword({ email: this.email, password });
    if (signedIn.error) {
      if (isWrongPassword(signedIn.error)) {
        const failed = await callRpc<ServerReauthFailure>(this.client, 'record_reauth_failure', {
          attempt_id: attemptId,
        });
        return reauthFailureFrom(failed, 'wrong_password');
      }
      await cancel();
      throw authError(signedIn.error);
    }

    // The code: that new session raised to aal2 with a fresh `totp` amr entry.
    const factorId = await this.verifiedTotpFactor();
    if (!factorId) {
      await cancel();
      return { ok: false, reason: 'totp_no_factor', locked: false, attemptsLeft: null };
    }
    const verified = await this.client.auth.mfa.challengeAndVerify({ factorId, code: totpCode });
    if (verified.error) {
      if (isWrongCode(verified.error)) {
        const failed = await callRpc<ServerReauthFailure>(this.client, 'record_reauth_totp_failure', {
          attempt_id: attemptId,
        });
        return reauthFailureFrom(failed, 'totp_wrong');
      }
      await cancel();
      throw authError(verified.error);
    }

    const result = await callRpc<{ ok: true; re_auth_at: string } | ServerReauthFailure>(
      this.client,
      'complete_reauth_from_claims',
      { attempt_id: attemptId },
    );
    return result.ok
      ? { ok: true, reAuthAt: result.re_auth_at }
      : reauthFailureFrom(result, reauthReason(result.reason));
  }

  /** `password` is not needed here: the session's own aal2 token is the proof sign_batch checks. */
  async signBatch(request: SignBatchRequest, _password: string): Promise<SignBatchResult> {
    const r = await callRpc<ServerSignResult>(this.client, 'sign_batch', {
      ceremony_id: request.ceremonyId,
      nonce: request.nonce,
      intent: request.intent,
      meaning: request.meaning,
      signature_comment: request.comment,
      manifest: manifestWire(request.manifest),
      rejection_reason: request.rejection?.reason ?? null,
      rejection_explanation: request.rejection?.explanation ?? null,
    });
    if (!r) throw new TransientBackendError('sign_batch returned nothing');
    return signBatchResultFrom(r);
  }

  async promote(stagingIds: string[]): Promise<PromotionOutcome[]> {
    return promotionOutcomesFrom(
      await callRpc<ServerPromotionOutcome[]>(this.client, 'promote', { staging_ids: stagingIds }),
    );
  }

  /** Hosted mode: Supabase Auth issues the secret (mfa.enroll); see SupabaseSession.offerTotpEnrolment. */
  async beginTotpEnrolment(_secretBase32: string): Promise<void> {
    throw new Error('In hosted mode the authenticator secret comes from Supabase Auth (mfa.enroll).');
  }

  async confirmTotpEnrolment(code: string): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (!/^\d{6}$/.test(code)) return { ok: false, reason: 'malformed' };
    if (!this.pendingFactorId) return { ok: false, reason: 'no_factor' };
    const verified = await this.client.auth.mfa.challengeAndVerify({ factorId: this.pendingFactorId, code });
    if (verified.error) {
      if (isWrongCode(verified.error)) return { ok: false, reason: 'wrong' };
      if (verified.error.code === 'mfa_factor_not_found') return { ok: false, reason: 'no_factor' };
      throw authError(verified.error);
    }
    this.pendingFactorId = null;
    return { ok: true };
  }
}

// What the ceremony needs from a backend, whichever mode it runs in. The postgres adapter
// (src/main/backend/postgres/postgresSigning.ts) proves the password by a fresh login; a Supabase
// adapter proves it with signInWithPassword and MFA. Passwords and codes pass through these calls
// and are kept nowhere.
import type { BuildRef } from '../../shared/contract';
import type { SigningSubject } from './contentHash';

export type SignatureIntent = 'approve' | 'reject';

export interface MeaningOfSignature {
  intent: 'approve' | 'reject' | 'approve_release';
  meaning: string;
}

export interface SigningStatus {
  isSigner: boolean;
  totp: 'none' | 'unconfirmed' | 'confirmed';
  locked: boolean;
  consecutiveFailures: number;
}

export interface RecoveryStatus {
  /** Unused codes of the current set. */
  remaining: number;
  generatedAt: string | null;
  /** A recovery code was used: a new authenticator must be enrolled before the next signature. */
  replacementDue: boolean;
}

/** A record as the manifest shows it, with what its hash is computed from. */
export interface ManifestSubject extends SigningSubject {
  state: string;
  studyCode: string;
  /** The build it was written under, as the manifest shows it (its id is `buildId`); null: not known. */
  build: BuildRef | null;
}

export type ReauthFailureReason =
  | 'locked'
  | 'wrong_password'
  | 'totp_wrong'
  | 'totp_reused'
  | 'totp_malformed'
  | 'totp_unanswered'
  | 'totp_no_factor'
  | 'totp_not_confirmed'
  | 'recovery_code_wrong'
  | 'recovery_code_used'
  | 'recovery_code_unanswered';

export type ReauthOutcome =
  | {
      ok: true;
      reAuthAt: string /** A recovery code was used: a new authenticator is due. */;
      enrolNewAuthenticator?: boolean;
    }
  | { ok: false; reason: ReauthFailureReason; locked: boolean; attemptsLeft: number | null };

/** Why a batch is rejected: one of the configured reasons, explained in free text (decision 40). */
export interface RejectionReason {
  reason: string;
  explanation: string;
}

export interface SignBatchRequest {
  ceremonyId: string;
  nonce: string;
  intent: SignatureIntent;
  meaning: string;
  comment: string | null;
  /** Required when rejecting, absent when approving (the server refuses otherwise). */
  rejection?: RejectionReason | null;
  manifest: { stagingRecordId: string; contentHash: string }[];
}

export interface SignedRecord {
  stagingRecordId: string;
  signatureId: string;
  contentHash: string;
  state: 'signed' | 'rejected';
}

export interface SignBatchResult {
  ceremonyId: string;
  intent: SignatureIntent;
  meaning: string;
  comment: string | null;
  signedAt: string;
  reAuthAt: string;
  signer: { userId: string; printedName: string };
  rejection: RejectionReason | null;
  records: SignedRecord[];
  /** true when the server returned the result of an earlier submission of this ceremony. */
  replayed: boolean;
}

export interface PromotionOutcome {
  stagingRecordId: string;
  outcome: 'promoted' | 'conflict' | 'refused';
  message: string;
  liveId: string | null;
}

export interface SigningBackend {
  status(): Promise<SigningStatus>;
  meanings(): Promise<MeaningOfSignature[]>;
  /** The configured reasons a rejection may name (cro.rejection_reason), in their order. */
  rejectionReasons(): Promise<string[]>;
  subjects(stagingIds: string[]): Promise<ManifestSubject[]>;
  openForReview(stagingIds: string[]): Promise<number>;
  /** Steps 1-3 of the re-authentication; the password and code are used once and dropped. */
  reauthenticate(ceremonyId: string, password: string, totpCode: string): Promise<ReauthOutcome>;
  /**
   * Submits the ceremony. `password` lets the adapter open a fresh connection for the submission and
   * for each retry, so a dropped connection never loses the ceremony; it is not kept.
   */
  signBatch(request: SignBatchRequest, password: string): Promise<SignBatchResult>;
  promote(stagingIds: string[]): Promise<PromotionOutcome[]>;
  beginTotpEnrolment(secretBase32: string): Promise<void>;
  /**
   * Recovery codes (migration 0055), in the direct modes only: in hosted mode Supabase Auth owns the
   * second factor and these are absent (docs/security.md).
   */
  reauthenticateWithRecoveryCode?(
    ceremonyId: string,
    password: string,
    recoveryCode: string,
  ): Promise<ReauthOutcome>;
  /** A new set of recovery codes, voiding earlier ones; shown once and kept nowhere. */
  generateRecoveryCodes?(): Promise<string[]>;
  recoveryStatus?(): Promise<RecoveryStatus>;
  confirmTotpEnrolment(code: string): Promise<{ ok: true } | { ok: false; reason: string }>;
}

/** A failure of the connection, not of a rule: the same request may be sent again. */
export class TransientBackendError extends Error {
  override name = 'TransientBackendError';
}

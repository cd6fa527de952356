// The Part 11 ceremony as the workstation runs it (ARCHITECTURE.md "Part 11 signing ceremony"):
// build the manifest the signer sees, re-authenticate (password + TOTP, verified by the server),
// submit once, and resend the very same ceremony (same id, same nonce) after a dropped connection,
// which the server answers with the first result instead of signing twice. The password and the
// code live only for the duration of sign(); they are never logged, cached or returned.
import { randomBytes, randomUUID } from 'node:crypto';
import { type BuildRef, maxRecordsPerCeremony } from '../../shared/contract';
import { UserFacingError } from '../userFacingError';
import { contentHash } from './contentHash';
import {
  type ManifestSubject,
  type PromotionOutcome,
  type ReauthOutcome,
  type RejectionReason,
  type SignatureIntent,
  type SignBatchResult,
  type SigningBackend,
  TransientBackendError,
} from './signingBackend';

export interface ManifestEntry {
  stagingRecordId: string;
  studyCode: string;
  entityKind: string;
  entityId: string | null;
  state: string;
  contentHash: string;
  /** The build the record was written under: the hash binds it (content-hash version 2). */
  build: BuildRef | null;
}

export interface Manifest {
  ceremonyId: string;
  entries: ManifestEntry[];
  /** One line per selected record that cannot be signed now, saying why. */
  problems: string[];
}

export interface SignRequest {
  ceremonyId: string;
  intent: SignatureIntent;
  meaning: string;
  comment: string | null;
  /** Required when rejecting (decision 40), absent when approving. */
  rejection?: RejectionReason | null;
  entries: { stagingRecordId: string; contentHash: string }[];
  password: string;
  totpCode: string;
  /** Given instead of the TOTP code: one of the signer's recovery codes (migration 0055). */
  recoveryCode?: string | undefined;
}

/** The field a refusal is about: the dialog clears that one and keeps the other. */
export type CredentialField = 'password' | 'code';

export type SignOutcome =
  | {
      ok: true;
      result: SignBatchResult /** A recovery code was used: enrol a new authenticator. */;
      enrolNewAuthenticator?: boolean;
    }
  | {
      ok: false;
      error: string;
      locked: boolean;
      attemptsLeft: number | null;
      retryable: boolean;
      field: CredentialField | null;
    };

export interface SigningCeremoniesOptions {
  log?: (line: string) => void;
  /**
   * Where the manifest's records come from: the local cache, as the signer reviewed them. Records it
   * does not hold (not synced yet) are read from the backend.
   */
  cachedSubjects?: (stagingIds: string[]) => Promise<ManifestSubject[]> | ManifestSubject[];
  /** Submissions after the first when the connection drops (default 3). */
  retries?: number;
  retryDelayMs?: number;
  /** How long a built manifest may wait for its signature (default 30 minutes). */
  manifestLifetimeMs?: number;
}

/** Which field a failed re-authentication was about: a wrong password, or anything about the code. */
export function reauthField(reason: Extract<ReauthOutcome, { ok: false }>['reason']): CredentialField | null {
  if (reason === 'wrong_password') return 'password';
  return reason.startsWith('totp_') || reason.startsWith('recovery_code_') ? 'code' : null;
}

/** The rejection as the server takes it: both parts trimmed, and only for a rejection. */
function rejectionOf(request: SignRequest): RejectionReason | null {
  const reason = request.rejection?.reason.trim() ?? '';
  const explanation = request.rejection?.explanation.trim() ?? '';
  if (request.intent === 'approve') {
    if (reason || explanation) throw new UserFacingError('Only a rejection has a reason.');
    return null;
  }
  if (!reason) throw new UserFacingError('Choose the reason for the rejection.');
  if (!explanation) throw new UserFacingError('Explain the reason for the rejection.');
  return { reason, explanation };
}

/** A recovery code as typed: 10 characters of Crockford base32, with or without the hyphen. */
function recoveryCodeProblem(code: string, backend: SigningBackend): string | null {
  if (!backend.reauthenticateWithRecoveryCode) {
    return 'Recovery codes are not used with a hosted account; ask an administrator to reset your authenticator.';
  }
  return /^[0-9a-z]{10}$/i.test(code.replace(/[\s-]/g, ''))
    ? null
    : 'A recovery code is 10 letters and digits (XXXXX-XXXXX).';
}

export function reauthMessage(outcome: Extract<ReauthOutcome, { ok: false }>): string {
  const left =
    outcome.attemptsLeft !== null && outcome.attemptsLeft > 0
      ? ` ${outcome.attemptsLeft} attempt${outcome.attemptsLeft === 1 ? '' : 's'} left before signing is locked.`
      : '';
  if (outcome.locked) {
    return 'Your account is locked for signing after 5 failed re-authentications in a row. An administrator must unlock it.';
  }
  switch (outcome.reason) {
    case 'wrong_password':
      return `Wrong password.${left}`;
    case 'totp_wrong':
      return `Wrong authenticator code.${left}`;
    case 'totp_reused':
      return `That code was already used. Wait for the next code (codes change every 30 seconds).${left}`;
    case 'totp_malformed':
      return `The authenticator code is 6 digits.${left}`;
    case 'totp_unanswered':
      return `The code was not checked in time; enter the current code.${left}`;
    case 'recovery_code_wrong':
      return `That is not one of your recovery codes.${left}`;
    case 'recovery_code_used':
      return `That recovery code was already used, or replaced by newer codes.${left}`;
    case 'recovery_code_unanswered':
      return `The recovery code was not checked in time; try again.${left}`;
    case 'totp_no_factor':
    case 'totp_not_confirmed':
      return 'You have no confirmed authenticator. Set one up before signing.';
    default:
      return `Re-authentication failed (${outcome.reason}).${left}`;
  }
}

export class SigningCeremonies {
  private readonly pending = new Map<string, { nonce: string; builtAt: number }>();
  private readonly log: (line: string) => void;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly manifestLifetimeMs: number;
  private readonly cachedSubjects: SigningCeremoniesOptions['cachedSubjects'];

  constructor(
    private readonly backend: SigningBackend,
    options: SigningCeremoniesOptions = {},
  ) {
    this.log = options.log ?? (() => undefined);
    this.retries = options.retries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.manifestLifetimeMs = options.manifestLifetimeMs ?? 30 * 60_000;
    this.cachedSubjects = options.cachedSubjects;
  }

  private async subjects(stagingIds: string[]): Promise<ManifestSubject[]> {
    const cached = this.cachedSubjects ? await this.cachedSubjects(stagingIds) : [];
    const have = new Set(cached.map((subject) => subject.stagingRecordId));
    const missing = stagingIds.filter((id) => !have.has(id));
    const fetched = missing.length > 0 ? await this.backend.subjects(missing) : [];
    const byId = new Map([...cached, ...fetched].map((subject) => [subject.stagingRecordId, subject]));
    return stagingIds.flatMap((id) => byId.get(id) ?? []);
  }

  async buildManifest(stagingIds: string[]): Promise<Manifest> {
    const unique = [...new Set(stagingIds)];
    if (unique.length === 0) throw new UserFacingError('Select at least one record to sign.');
    if (unique.length > maxRecordsPerCeremony) {
      throw new UserFacingError(
        `One ceremony signs at most ${maxRecordsPerCeremony.toLocaleString('en')} records; select fewer.`,
      );
    }
    const subjects = await this.subjects(unique);
    const found = new Set(subjects.map((subject) => subject.stagingRecordId));
    const problems = unique
      .filter((id) => !found.has(id))
      .map((id) => `Record ${id} does not exist or is not visible to you.`);
    const entries: ManifestEntry[] = [];
    for (const subject of subjects) {
      if (subject.state !== 'reviewing') {
        problems.push(
          `Record ${subject.stagingRecordId} (${subject.studyCode}) is ${subject.state}; only records in reviewing can be signed.`,
        );
        continue;
      }
      entries.push({
        stagingRecordId: subject.stagingRecordId,
        studyCode: subject.studyCode,
        entityKind: subject.entityKind,
        entityId: subject.entityId,
        state: subject.state,
        contentHash: contentHash(subject),
        build: subject.build,
      });
    }
    const ceremonyId = randomUUID();
    this.forgetExpired();
    this.pending.set(ceremonyId, { nonce: randomBytes(24).toString('base64url'), builtAt: Date.now() });
    return { ceremonyId, entries, problems };
  }

  async sign(request: SignRequest): Promise<SignOutcome> {
    const pending = this.pending.get(request.ceremonyId);
    if (!pending || Date.now() - pending.builtAt > this.manifestLifetimeMs) {
      throw new UserFacingError('This signature dialog has expired. Close it and select the records again.');
    }
    if (request.entries.length === 0) throw new UserFacingError('The manifest is empty.');
    if (!request.meaning.trim()) throw new UserFacingError('Choose the meaning of your signature.');
    const rejection = rejectionOf(request);
    if (request.password.length === 0) throw new UserFacingError('Enter your password.');
    const recoveryCode = request.recoveryCode?.trim() ?? '';
    const secondFactorProblem = recoveryCode
      ? recoveryCodeProblem(recoveryCode, this.backend)
      : /^\d{6}$/.test(request.totpCode)
        ? null
        : 'The authenticator code is 6 digits.';
    if (secondFactorProblem) {
      // Checked before the server sees it, so a typo costs no attempt.
      return {
        ok: false,
        error: secondFactorProblem,
        locked: false,
        attemptsLeft: null,
        retryable: true,
        field: 'code',
      };
    }

    let reauth: ReauthOutcome;
    try {
      reauth =
        recoveryCode && this.backend.reauthenticateWithRecoveryCode
          ? await this.backend.reauthenticateWithRecoveryCode(
              request.ceremonyId,
              request.password,
              recoveryCode,
            )
          : await this.backend.reauthenticate(request.ceremonyId, request.password, request.totpCode);
    } catch (error) {
      if (error instanceof TransientBackendError) {
        return {
          ok: false,
          error:
            'The server could not be reached to check your password and code. Nothing was signed; try again.',
          locked: false,
          attemptsLeft: null,
          retryable: true,
          field: null,
        };
      }
      throw error;
    }
    if (!reauth.ok) {
      this.log(`countersign: re-authentication failed for ceremony ${request.ceremonyId} (${reauth.reason})`);
      return {
        ok: false,
        error: reauthMessage(reauth),
        locked: reauth.locked,
        attemptsLeft: reauth.attemptsLeft,
        retryable: !reauth.locked,
        field: reauthField(reauth.reason),
      };
    }

    const submission = {
      ceremonyId: request.ceremonyId,
      nonce: pending.nonce,
      intent: request.intent,
      meaning: request.meaning,
      comment: request.comment?.trim() ? request.comment.trim() : null,
      rejection,
      manifest: request.entries,
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.backend.signBatch(submission, request.password);
        this.pending.delete(request.ceremonyId);
        this.log(
          `countersign: ceremony ${result.ceremonyId}: ${result.records.length} record(s) ${result.intent === 'approve' ? 'signed' : 'rejected'}` +
            (result.replayed ? ' (result of an earlier submission)' : ''),
        );
        if (reauth.enrolNewAuthenticator) {
          this.log(
            `countersign: ceremony ${result.ceremonyId}: a recovery code was used; a new authenticator is due`,
          );
          return { ok: true, result, enrolNewAuthenticator: true };
        }
        return { ok: true, result };
      } catch (error) {
        if (!(error instanceof TransientBackendError)) throw error;
        if (attempt >= this.retries) {
          this.log(
            `countersign: ceremony ${request.ceremonyId}: connection lost, ${attempt + 1} submissions failed`,
          );
          return {
            ok: false,
            error:
              'The connection to the server was lost while signing. Whether or not it was recorded, pressing ' +
              'Sign again resends the same ceremony and cannot sign twice.',
            locked: false,
            attemptsLeft: null,
            retryable: true,
            field: null,
          };
        }
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * (attempt + 1)));
      }
    }
  }

  async promote(stagingIds: string[]): Promise<PromotionOutcome[]> {
    const unique = [...new Set(stagingIds)];
    if (unique.length === 0) throw new UserFacingError('Select at least one signed record to promote.');
    const outcomes = await this.backend.promote(unique);
    const promoted = outcomes.filter((outcome) => outcome.outcome === 'promoted').length;
    this.log(`countersign: promotion: ${promoted} of ${unique.length} record(s) promoted`);
    return outcomes;
  }

  private forgetExpired() {
    const now = Date.now();
    for (const [id, entry] of this.pending) {
      if (now - entry.builtAt > this.manifestLifetimeMs) this.pending.delete(id);
    }
  }
}

// The signing backend of the direct modes (embedded, postgres): the database is the server. The
// password is proved by a fresh login as the signer (PostgreSQL's SCRAM is the check), the TOTP code
// by the database itself (migration 0013), and every ceremony runs in sign_batch (0014, 0050).
import type pg from 'pg';
import { entityKinds } from '../../../shared/domain';
import { buildRefFor } from '../../builds/studyBuilds';
import {
  type ManifestSubject,
  type MeaningOfSignature,
  type PromotionOutcome,
  type ReauthFailureReason,
  type ReauthOutcome,
  type RecoveryStatus,
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
import { UserFacingError } from '../../userFacingError';
import { connectAsPerson, type ServerAddress } from './personConnection';
import { serverBuildRefs } from './serverBuildRefs';

const transientCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '57P01', // admin_shutdown: the server terminated the connection
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
]);

export function isTransient(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  if (code && transientCodes.has(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
}

/** Server rule violations (CS403/CS409/CS422) carry messages written for the signer. */
export function userFacingServerError(error: unknown): Error {
  const { code, message, hint } = (error ?? {}) as { code?: string; message?: string; hint?: string };
  if (code && /^CS\d{3}$/.test(code))
    return new UserFacingError(hint ? `${message} ${hint}` : String(message));
  if (code === '28P01')
    return new UserFacingError('The server no longer accepts your password; sign in again.');
  if (code === '42501') return new UserFacingError('You are not allowed to do this.');
  return error instanceof Error ? error : new Error(String(error));
}

export class PostgresSigningBackend implements SigningBackend {
  constructor(
    private readonly client: pg.Client,
    private readonly address: ServerAddress,
    private readonly loginRole: string,
  ) {}

  private freshLogin(password: string): Promise<pg.Client> {
    return connectAsPerson(this.address, this.loginRole, password, 'countersign-signing');
  }

  private async call<T>(sql: string, params: unknown[]): Promise<T> {
    try {
      const { rows } = await this.client.query<{ r: T }>(sql, params);
      return rows[0]?.r as T;
    } catch (error) {
      if (isTransient(error)) throw new TransientBackendError('the connection to the server was lost');
      throw userFacingServerError(error);
    }
  }

  async status(): Promise<SigningStatus> {
    const s = await this.call<{
      is_signer: boolean;
      totp: SigningStatus['totp'];
      locked: boolean;
      consecutive_failures: number;
    }>('select public.my_signing_status() as r', []);
    return {
      isSigner: s.is_signer,
      totp: s.totp,
      locked: s.locked,
      consecutiveFailures: s.consecutive_failures,
    };
  }

  async meanings(): Promise<MeaningOfSignature[]> {
    const { rows } = await this.client.query<MeaningOfSignature>(
      'select intent::text as intent, meaning from cro.signature_meaning order by intent, position',
    );
    return rows;
  }

  async rejectionReasons(): Promise<string[]> {
    const { rows } = await this.client.query<{ reason: string }>(
      'select reason from cro.rejection_reason order by position, reason',
    );
    return rows.map((row) => row.reason);
  }

  async subjects(stagingIds: string[]): Promise<ManifestSubject[]> {
    if (stagingIds.length === 0) return [];
    // Live rows are read as the server's to_jsonb renders them in UTC, as cs_private.live_row_json does.
    await this.client.query("begin read only; set local timezone to 'UTC'");
    try {
      const { rows } = await this.client.query<{
        id: string;
        study_id: string;
        study_code: string;
        entity_kind: string;
        entity_id: string | null;
        state: string;
        proposed: string;
        build_id: string | null;
      }>(
        `select s.id, s.study_id, st.code as study_code, s.entity_kind, s.entity_id, s.state::text as state,
                s.proposed_state::text as proposed, s.build_id
           from cro.staging_record s join cro.study st on st.id = s.study_id
          where s.id = any ($1::uuid[])`,
        [stagingIds],
      );
      const live = new Map<string, unknown>();
      for (const kind of entityKinds) {
        const ids = rows
          .filter((row) => row.entity_kind === kind && row.entity_id)
          .map((row) => row.entity_id);
        if (ids.length === 0) continue;
        const result = await this.client.query<{ id: string; doc: string }>(
          `select t.id, to_jsonb(t)::text as doc from cro.${kind} t where t.id = any ($1::uuid[])`,
          [ids],
        );
        for (const row of result.rows) live.set(row.id, JSON.parse(row.doc));
      }
      const builds = await serverBuildRefs(
        this.client,
        rows.map((row) => row.build_id),
      );
      await this.client.query('commit');
      const byId = new Map(rows.map((row) => [row.id, row]));
      return stagingIds.flatMap((id) => {
        const row = byId.get(id);
        if (!row) return [];
        return [
          {
            stagingRecordId: row.id,
            studyId: row.study_id,
            studyCode: row.study_code,
            entityKind: row.entity_kind,
            entityId: row.entity_id,
            state: row.state,
            proposedState: JSON.parse(row.proposed),
            liveRow: row.entity_id ? (live.get(row.entity_id) ?? null) : null,
            buildId: row.build_id,
            build: buildRefFor(builds, row.build_id),
          },
        ];
      });
    } catch (error) {
      await this.client.query('rollback').catch(() => undefined);
      if (isTransient(error)) throw new TransientBackendError('the connection to the server was lost');
      throw userFacingServerError(error);
    }
  }

  async openForReview(stagingIds: string[]): Promise<number> {
    return this.call<number>('select public.open_for_review($1::uuid[]) as r', [stagingIds]);
  }

  async reauthenticate(ceremonyId: string, password: string, totpCode: string): Promise<ReauthOutcome> {
    // A procedure: it commits the attempt before it checks the code (migration 0045), so it runs on
    // its own, never inside a transaction block.
    return this.reauthenticateBy('call public.complete_reauth($1, $2, null)', ceremonyId, password, totpCode);
  }

  async reauthenticateWithRecoveryCode(
    ceremonyId: string,
    password: string,
    recoveryCode: string,
  ): Promise<ReauthOutcome> {
    // The same rule as complete_reauth: committed first, then answered (migration 0055).
    return this.reauthenticateBy(
      'call public.complete_reauth_with_recovery_code($1, $2, null)',
      ceremonyId,
      password,
      recoveryCode,
    );
  }

  async generateRecoveryCodes(): Promise<string[]> {
    return (await this.call<{ codes: string[] }>('select public.generate_recovery_codes() as r', [])).codes;
  }

  async recoveryStatus(): Promise<RecoveryStatus> {
    const status = await this.call<{
      remaining: number;
      generated_at: string | null;
      authenticator_replacement_due: boolean;
    }>('select public.my_recovery_status() as r', []);
    return {
      remaining: status.remaining,
      generatedAt: status.generated_at,
      replacementDue: status.authenticator_replacement_due,
    };
  }

  /** begin_reauth, the fresh login that proves the password, then `completion` with the second factor. */
  private async reauthenticateBy(
    completion: string,
    ceremonyId: string,
    password: string,
    secondFactor: string,
  ): Promise<ReauthOutcome> {
    const begun = await this.call<{ ok: boolean; attempt_id?: string; reason?: string }>(
      'select public.begin_reauth($1) as r',
      [ceremonyId],
    );
    if (!begun.ok || !begun.attempt_id) {
      return { ok: false, reason: 'locked', locked: true, attemptsLeft: 0 };
    }
    const attemptId = begun.attempt_id;
    let fresh: pg.Client;
    try {
      fresh = await this.freshLogin(password);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '28P01') {
        const failed = await this.call<ServerReauthFailure>('select public.record_reauth_failure($1) as r', [
          attemptId,
        ]);
        return reauthFailureFrom(failed, 'wrong_password');
      }
      await this.call('select public.cancel_reauth($1) as r', [attemptId]).catch(() => undefined);
      if (isTransient(error)) throw new TransientBackendError('the server could not be reached');
      throw userFacingServerError(error);
    }
    try {
      const { rows } = await fresh.query<{
        result: { ok: true; re_auth_at: string; enrol_new_authenticator?: boolean } | ServerReauthFailure;
      }>(completion, [attemptId, secondFactor]);
      const result = rows[0]?.result;
      if (!result) throw new Error('the re-authentication returned nothing');
      if (!result.ok) return reauthFailureFrom(result, result.reason as ReauthFailureReason);
      return result.enrol_new_authenticator
        ? { ok: true, reAuthAt: result.re_auth_at, enrolNewAuthenticator: true }
        : { ok: true, reAuthAt: result.re_auth_at };
    } catch (error) {
      if (isTransient(error)) throw new TransientBackendError('the connection to the server was lost');
      throw userFacingServerError(error);
    } finally {
      await fresh.end().catch(() => undefined);
    }
  }

  async signBatch(request: SignBatchRequest, password: string): Promise<SignBatchResult> {
    let client: pg.Client | null = null;
    try {
      client = await this.freshLogin(password);
      const { rows } = await client.query<{ r: ServerSignResult }>(
        'select public.sign_batch($1, $2, $3, $4, $5, $6::jsonb, $7, $8) as r',
        [
          request.ceremonyId,
          request.nonce,
          request.intent,
          request.meaning,
          request.comment,
          JSON.stringify(manifestWire(request.manifest)),
          request.rejection?.reason ?? null,
          request.rejection?.explanation ?? null,
        ],
      );
      const r = rows[0]?.r;
      if (!r) throw new Error('sign_batch returned nothing');
      return signBatchResultFrom(r);
    } catch (error) {
      if (isTransient(error)) throw new TransientBackendError('the connection to the server was lost');
      throw userFacingServerError(error);
    } finally {
      await client?.end().catch(() => undefined);
    }
  }

  async promote(stagingIds: string[]): Promise<PromotionOutcome[]> {
    return promotionOutcomesFrom(
      await this.call<ServerPromotionOutcome[]>('select public.promote($1::uuid[]) as r', [stagingIds]),
    );
  }

  async beginTotpEnrolment(secretBase32: string): Promise<void> {
    await this.call('select public.begin_totp_enrolment($1) as r', [secretBase32]);
  }

  async confirmTotpEnrolment(code: string): Promise<{ ok: true } | { ok: false; reason: string }> {
    const result = await this.call<{ ok: boolean; reason?: string }>(
      'select public.confirm_totp_enrolment($1) as r',
      [code],
    );
    return result.ok ? { ok: true } : { ok: false, reason: result.reason ?? 'wrong' };
  }
}

// Security alerts and unlocking, as the Administration screen uses them (migration 0056): the
// alerts list, an acknowledgement or closing with a reason, and an unlock that first proves the
// administrator's own password and TOTP code through the re-authentication the signers use, then
// spends it on the unlock. The password and the code live only for the call; they are never logged.
import { randomUUID } from 'node:crypto';
import type { SecurityAlert } from '../../shared/contract';
import { type SigningBackend, TransientBackendError } from '../signing/signingBackend';
import { reauthField, reauthMessage } from '../signing/signingCeremony';
import { UserFacingError } from '../userFacingError';

export type LockKind = 'signing' | 'sign_in';

/** A row of public.security_alerts(), as the server returns it. */
export interface ServerSecurityAlert {
  id: string;
  kind: string;
  raised_at: string;
  user_id: string | null;
  printed_name: string | null;
  failed_attempts: number | null;
  client_addr: string | null;
  application_name: string | null;
  lock_kind: LockKind | null;
  still_locked: boolean;
  state: 'open' | 'acknowledged' | 'closed';
  decided_by_name: string | null;
  decided_at: string | null;
  decision_reason: string | null;
}

/** What a backend (direct or hosted) offers for the alerts; each call runs as the signed-in person. */
export interface SecurityAlertsBackend {
  list(): Promise<ServerSecurityAlert[]>;
  review(alertId: string, decision: 'acknowledged' | 'closed', reason: string): Promise<void>;
  /** Spends the caller's verified re-authentication of `ceremonyId` on the unlock. */
  unlock(userId: string, lockKind: LockKind, reason: string, ceremonyId: string): Promise<void>;
}

export function securityAlertFrom(row: ServerSecurityAlert): SecurityAlert {
  return {
    id: row.id,
    kind: row.kind,
    raisedAt: row.raised_at,
    userId: row.user_id,
    printedName: row.printed_name,
    failedAttempts: row.failed_attempts,
    clientAddr: row.client_addr,
    applicationName: row.application_name,
    lockKind: row.lock_kind,
    stillLocked: row.still_locked,
    state: row.state,
    decidedByName: row.decided_by_name,
    decidedAt: row.decided_at,
    decisionReason: row.decision_reason,
  };
}

export interface UnlockRequest {
  userId: string;
  lockKind: LockKind;
  reason: string;
  password: string;
  totpCode: string;
}

export type UnlockOutcome =
  | { ok: true }
  | { ok: false; error: string; locked: boolean; field: 'password' | 'code' | null };

/** Re-authenticates the administrator (password + TOTP, checked by the server), then unlocks. */
export async function unlockAccount(
  signing: SigningBackend,
  alerts: SecurityAlertsBackend,
  request: UnlockRequest,
  log: (line: string) => void,
): Promise<UnlockOutcome> {
  const reason = request.reason.trim();
  if (!reason) throw new UserFacingError('Say why the account is unlocked.');
  if (!/^\d{6}$/.test(request.totpCode)) {
    // Checked before the server sees it, so a typo costs no attempt.
    return { ok: false, error: 'The authenticator code is 6 digits.', locked: false, field: 'code' };
  }
  const ceremonyId = randomUUID();
  let reauth: Awaited<ReturnType<SigningBackend['reauthenticate']>>;
  try {
    reauth = await signing.reauthenticate(ceremonyId, request.password, request.totpCode);
  } catch (error) {
    if (error instanceof TransientBackendError) {
      return {
        ok: false,
        error:
          'The server could not be reached to check your password and code. Nothing was unlocked; try again.',
        locked: false,
        field: null,
      };
    }
    throw error;
  }
  if (!reauth.ok) {
    log(`countersign: an administrator's re-authentication for an unlock failed (${reauth.reason})`);
    return {
      ok: false,
      error: reauth.locked
        ? 'Your own account is locked for re-authentication after 5 failed attempts in a row. Another administrator must unlock it.'
        : reauthMessage(reauth).replace('before signing is locked', 'before your account is locked'),
      locked: reauth.locked,
      field: reauthField(reauth.reason),
    };
  }
  await alerts.unlock(request.userId, request.lockKind, reason, ceremonyId);
  log(`countersign: user ${request.userId} unlocked (${request.lockKind}) by an administrator`);
  return { ok: true };
}

// How a failure from Supabase reaches the signer. PostgREST answers a database error with its
// SQLSTATE in `code`: our rules raise CS403 / CS409 / CS422 with messages written for the signer, so
// those pass through (with their hint); a permission error becomes a plain refusal. A request that
// never got an answer (status 0: no network, DNS, TLS, reset) or got a gateway error is transient:
// the same request may be sent again. Nothing here ever includes a token, key, password or code.
import { TransientBackendError } from '../../signing/signingBackend';
import { UserFacingError } from '../../userFacingError';

export interface PostgrestFailure {
  message: string;
  code?: string;
  hint?: string | null;
  details?: string | null;
}

/** HTTP statuses after which the request may be sent again unchanged. */
const transientStatuses = new Set([0, 408, 425, 429, 500, 502, 503, 504, 520, 522, 524]);

export function isTransientStatus(status: number): boolean {
  return transientStatuses.has(status);
}

export function postgrestError(error: PostgrestFailure, status: number): Error {
  const code = error.code ?? '';
  if (/^CS\d{3}$/.test(code)) {
    return new UserFacingError(error.hint ? `${error.message} ${error.hint}` : error.message);
  }
  // A statement refused by the rules (RLS, grants), or a JWT PostgREST would not accept.
  if (code === '42501') return new UserFacingError('You are not allowed to do this.');
  if (code === 'PGRST301' || code === 'PGRST302' || code === 'PGRST303' || status === 401) {
    return new UserFacingError('Your session has expired or was signed out; sign in again.');
  }
  if (code === 'PGRST202') {
    return new UserFacingError(
      'The Supabase project does not have the Countersign functions; apply the migrations to it (see docs/backend-modes.md, "Hosted mode").',
    );
  }
  if (isTransientStatus(status) || code === '57014' || code.startsWith('08')) {
    return new TransientBackendError('the Supabase project could not be reached');
  }
  return new Error(`Supabase request failed (${status}${code ? ` ${code}` : ''}): ${error.message}`);
}

interface AuthFailure {
  name?: string;
  message?: string;
  status?: number;
  code?: string;
}

/** A failure of Supabase Auth (GoTrue) outside of a password or code check. */
export function authError(error: unknown): Error {
  const failure = (error ?? {}) as AuthFailure;
  if (failure.name === 'AuthRetryableFetchError' || isTransientStatus(failure.status ?? -1)) {
    return new TransientBackendError('Supabase Auth could not be reached');
  }
  switch (failure.code) {
    case 'over_request_rate_limit':
      return new UserFacingError('Too many sign-in attempts for now; wait a minute and try again.');
    case 'user_banned':
      return new UserFacingError('This account is suspended; ask an administrator.');
    case 'email_not_confirmed':
      return new UserFacingError('Confirm your e-mail address first (see the message Supabase sent you).');
    case 'mfa_totp_enroll_not_enabled':
    case 'mfa_totp_verify_not_enabled':
      return new UserFacingError(
        'TOTP multi-factor authentication is switched off for this Supabase project; an administrator must enable it.',
      );
    case 'session_not_found':
    case 'session_expired':
    case 'refresh_token_not_found':
    case 'refresh_token_already_used':
      return new UserFacingError('Your session has expired or was signed out; sign in again.');
    default:
      return new UserFacingError(
        `Supabase Auth refused the request (${failure.code ?? failure.status ?? 'unknown'}).`,
      );
  }
}

export function isWrongPassword(error: unknown): boolean {
  const { code, status } = (error ?? {}) as AuthFailure;
  return code === 'invalid_credentials' || (code === undefined && status === 400);
}

export function isWrongCode(error: unknown): boolean {
  const { code } = (error ?? {}) as AuthFailure;
  return code === 'mfa_verification_failed' || code === 'mfa_challenge_expired';
}

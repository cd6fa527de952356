// What the workstation tells a person when their PostgreSQL server does not protect sign-ins the way
// the embedded server does (migration 0048, docs/security.md "A PostgreSQL of your own"): read from
// public.sign_in_protection(), one sentence per gap.

export interface SignInProtection {
  auth_delay_ms: number | null;
  lock_threshold: number;
  login_trigger: boolean;
  password_fingerprints: boolean;
  guard_seen_at: string | null;
  other_databases_open: string[];
}

/** A guard that has not polled for this long is not running. */
const guardSilenceMs = 10 * 60_000;

export function signInProtectionWarnings(protection: SignInProtection, now: Date): string[] {
  const see = ' See docs/security.md, "A PostgreSQL of your own".';
  const warnings: string[] = [];
  if (!protection.auth_delay_ms || protection.auth_delay_ms < 100) {
    warnings.push(`This server does not delay failed sign-ins (auth_delay is not loaded).${see}`);
  }
  const guardSeen = protection.guard_seen_at ? Date.parse(protection.guard_seen_at) : Number.NaN;
  if (Number.isNaN(guardSeen) || now.getTime() - guardSeen > guardSilenceMs) {
    warnings.push(
      `No Countersign sign-in guard watches this server's log: failed sign-ins are not counted, alerted or locked.${see}`,
    );
  }
  if (!protection.login_trigger || !protection.password_fingerprints) {
    warnings.push(
      `This server cannot tell a password changed outside Countersign (it needs PostgreSQL 17 or later and a superuser owner for the migrations).${see}`,
    );
  }
  if (protection.other_databases_open.length > 0) {
    warnings.push(
      `People can connect to other databases on this server (${protection.other_databases_open.join(', ')}).${see}`,
    );
  }
  return warnings;
}

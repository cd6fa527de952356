// The idle lock (21 CFR 11.300, continuous-session control): after a quiet spell the workstation
// locks and only the person's password continues it. The state lives here in the main process, not
// in the renderer, so a reload cannot shed it; the clock is injected so that tests need not wait.

/** Default quiet time before the lock: ten minutes. */
export const defaultIdleLockSeconds = 600;
/** Wrong passwords at the lock before the person is signed out. */
export const defaultWrongPasswordLimit = 5;

export interface IdleLockState {
  locked: boolean;
  idleLockSeconds: number;
  /** Wrong passwords still allowed before sign-out (while locked). */
  attemptsLeft: number;
}

export type PasswordOutcome = 'unlocked' | 'retry' | 'signOut';

export class IdleLock {
  private lastActivity: number;
  private lockedAt: number | null = null;
  private wrongPasswords = 0;
  private active = false;

  constructor(
    readonly idleLockSeconds: number,
    private readonly wrongPasswordLimit = defaultWrongPasswordLimit,
    private readonly now: () => number = Date.now,
  ) {
    this.lastActivity = now();
  }

  /** A person signed in: the quiet time counts from now. */
  start(): void {
    this.active = true;
    this.lockedAt = null;
    this.wrongPasswords = 0;
    this.lastActivity = this.now();
  }

  /** Signed out: nothing to lock. */
  stop(): void {
    this.active = false;
    this.lockedAt = null;
    this.wrongPasswords = 0;
  }

  /** The person typed, clicked or scrolled; ignored once locked (only the password unlocks). */
  noteActivity(): void {
    if (!this.isLocked()) this.lastActivity = this.now();
  }

  isLocked(): boolean {
    if (!this.active) return false;
    if (this.lockedAt === null && this.now() - this.lastActivity >= this.idleLockSeconds * 1000) {
      this.lockedAt = this.now();
    }
    return this.lockedAt !== null;
  }

  state(): IdleLockState {
    return {
      locked: this.isLocked(),
      idleLockSeconds: this.idleLockSeconds,
      attemptsLeft: this.wrongPasswordLimit - this.wrongPasswords,
    };
  }

  /** The password at the lock was checked: unlock, let the person try again, or sign them out. */
  passwordChecked(accepted: boolean): PasswordOutcome {
    if (accepted) {
      this.lockedAt = null;
      this.wrongPasswords = 0;
      this.lastActivity = this.now();
      return 'unlocked';
    }
    this.wrongPasswords += 1;
    return this.wrongPasswords >= this.wrongPasswordLimit ? 'signOut' : 'retry';
  }
}

/**
 * The quiet time from COUNTERSIGN_IDLE_LOCK_SECONDS (a tester shortens it), else ten minutes;
 * whole seconds from 5 to 3600, anything else is refused so that a typo cannot switch the lock off.
 */
export function idleLockSecondsFrom(env: Record<string, string | undefined>): number {
  const raw = env.COUNTERSIGN_IDLE_LOCK_SECONDS?.trim();
  if (raw === undefined || raw === '') return defaultIdleLockSeconds;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 5 || seconds > 3600) {
    throw new Error(
      `COUNTERSIGN_IDLE_LOCK_SECONDS must be a whole number of seconds from 5 to 3600 (it is "${raw}").`,
    );
  }
  return seconds;
}

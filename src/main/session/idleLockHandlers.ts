// The idle lock's channels, and the guard that refuses every other piece of work while the window
// is locked: the lock is enforced here in the main process, so a renderer that kept showing data
// could not fetch any more of it.
import type { Channel, ContractHandlers, UnlockResponse } from '../../shared/contract';
import { UserFacingError } from '../userFacingError';
import type { IdleLock } from './idleLock';

export interface IdleLockServices {
  lock: IdleLock;
  /** True: the person's password. A string: why it cannot be checked here (the person can act on it). */
  checkPassword(password: string): Promise<boolean | string>;
  signOut(): Promise<void>;
  log(line: string): void;
}

type IdleLockChannel = 'session.lockState' | 'session.activity' | 'session.unlock';

export function idleLockHandlers(services: IdleLockServices): Pick<ContractHandlers, IdleLockChannel> {
  const { lock } = services;
  return {
    'session.lockState': async () => lock.state(),
    'session.activity': async () => {
      lock.noteActivity();
      return lock.state();
    },
    'session.unlock': async ({ password }): Promise<UnlockResponse> => {
      if (!lock.isLocked()) return { ok: true, lock: lock.state() };
      const checked = await services.checkPassword(password);
      if (typeof checked === 'string')
        return { ok: false, error: checked, signedOut: false, lock: lock.state() };
      const outcome = lock.passwordChecked(checked);
      if (outcome === 'unlocked') return { ok: true, lock: lock.state() };
      if (outcome === 'signOut') {
        services.log('countersign: too many wrong passwords at the idle lock; signed out');
        await services.signOut();
        return {
          ok: false,
          error: 'Too many wrong passwords: you were signed out. Sign in again.',
          signedOut: true,
          lock: lock.state(),
        };
      }
      const { attemptsLeft } = lock.state();
      return {
        ok: false,
        error: `That is not your password. ${attemptsLeft} more wrong ${attemptsLeft === 1 ? 'try signs' : 'tries sign'} you out.`,
        signedOut: false,
        lock: lock.state(),
      };
    },
  };
}

/** What still answers while locked: the lock itself, the status bar, the sync's status, signing out. */
const allowedWhileLocked = new Set<Channel>([
  'session.lockState',
  'session.activity',
  'session.unlock',
  'session.signOut',
  'backend.status',
  'sync.status',
]);

export function guardIdleLock(handlers: ContractHandlers, lock: IdleLock): ContractHandlers {
  const guarded = { ...handlers } as Record<Channel, (request: never) => Promise<unknown>>;
  for (const channel of Object.keys(handlers) as Channel[]) {
    if (allowedWhileLocked.has(channel)) continue;
    const handler = handlers[channel] as (request: never) => Promise<unknown>;
    guarded[channel] = async (request: never) => {
      if (lock.isLocked()) {
        throw new UserFacingError('The workstation is locked: enter your password to continue.');
      }
      return handler(request);
    };
  }
  return guarded as ContractHandlers;
}

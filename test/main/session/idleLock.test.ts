import { describe, expect, it } from 'vitest';
import { IdleLock, idleLockSecondsFrom } from '../../../src/main/session/idleLock';
import { guardIdleLock, idleLockHandlers } from '../../../src/main/session/idleLockHandlers';
import { fakeHandlers } from '../fakeHandlers';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (seconds: number) => (now += seconds * 1000) };
}

describe('the idle lock in the main process [SESSION-IDLE-LOCK, CFR-11.10d]', () => {
  it('locks after the quiet time, and activity restarts the count', () => {
    const time = clock();
    const lock = new IdleLock(600, 5, time.now);
    lock.start();
    time.advance(599);
    expect(lock.isLocked()).toBe(false);
    lock.noteActivity();
    time.advance(599);
    expect(lock.isLocked()).toBe(false);
    time.advance(1);
    expect(lock.state()).toEqual({ locked: true, idleLockSeconds: 600, attemptsLeft: 5 });
  });

  it('stays locked whatever the renderer reports, until the password', () => {
    const time = clock();
    const lock = new IdleLock(30, 5, time.now);
    lock.start();
    time.advance(30);
    lock.noteActivity();
    expect(lock.isLocked()).toBe(true);
    expect(lock.passwordChecked(true)).toBe('unlocked');
    expect(lock.isLocked()).toBe(false);
    time.advance(29);
    expect(lock.isLocked()).toBe(false);
  });

  it('signs the person out at the fifth wrong password', () => {
    const time = clock();
    const lock = new IdleLock(30, 5, time.now);
    lock.start();
    time.advance(31);
    for (let attempt = 1; attempt < 5; attempt++) expect(lock.passwordChecked(false)).toBe('retry');
    expect(lock.state().attemptsLeft).toBe(1);
    expect(lock.passwordChecked(false)).toBe('signOut');
  });

  it('does not lock while nobody is signed in, nor after sign-out', () => {
    const time = clock();
    const lock = new IdleLock(30, 5, time.now);
    time.advance(60);
    expect(lock.isLocked()).toBe(false);
    lock.start();
    time.advance(60);
    expect(lock.isLocked()).toBe(true);
    lock.stop();
    expect(lock.isLocked()).toBe(false);
  });

  it('takes its quiet time from COUNTERSIGN_IDLE_LOCK_SECONDS, ten minutes by default', () => {
    expect(idleLockSecondsFrom({})).toBe(600);
    expect(idleLockSecondsFrom({ COUNTERSIGN_IDLE_LOCK_SECONDS: '8' })).toBe(8);
    for (const wrong of ['0', '2', '-5', '1.5', 'ten', '99999']) {
      expect(() => idleLockSecondsFrom({ COUNTERSIGN_IDLE_LOCK_SECONDS: wrong }), wrong).toThrow(/5 to 3600/);
    }
  });
});

describe('the idle lock channels and guard [SESSION-IDLE-LOCK]', () => {
  const lockedWorkstation = (checkPassword: (password: string) => Promise<boolean | string>) => {
    const time = clock();
    const lock = new IdleLock(30, 3, time.now);
    lock.start();
    let signedOut = false;
    const handlers = guardIdleLock(
      {
        ...fakeHandlers(),
        ...idleLockHandlers({
          lock,
          checkPassword,
          signOut: async () => {
            signedOut = true;
            lock.stop();
          },
          log: () => undefined,
        }),
      },
      lock,
    );
    time.advance(31);
    return { handlers, lock, signedOut: () => signedOut };
  };

  it('refuses every other channel while locked, and answers again after the password', async () => {
    const { handlers } = lockedWorkstation(async (password) => password === 'right');
    await expect(handlers['staging.queue']({ limit: 10 } as never)).rejects.toThrow(/locked/);
    expect((await handlers['backend.status']({})).state).toBe('ready');
    expect((await handlers['session.lockState']({})).locked).toBe(true);
    const wrong = await handlers['session.unlock']({ password: 'wrong' });
    expect(wrong).toMatchObject({ ok: false, signedOut: false, lock: { locked: true, attemptsLeft: 2 } });
    expect(await handlers['session.unlock']({ password: 'right' })).toMatchObject({
      ok: true,
      lock: { locked: false },
    });
    await expect(handlers['staging.queue']({ limit: 10 } as never)).resolves.toBeDefined();
  });

  it('signs out after too many wrong passwords', async () => {
    const { handlers, signedOut } = lockedWorkstation(async () => false);
    await handlers['session.unlock']({ password: 'a' });
    await handlers['session.unlock']({ password: 'b' });
    expect(await handlers['session.unlock']({ password: 'c' })).toMatchObject({ ok: false, signedOut: true });
    expect(signedOut()).toBe(true);
  });

  it('says why when the password cannot be checked, without counting it', async () => {
    const { handlers } = lockedWorkstation(async () => 'sign out and sign in again');
    expect(await handlers['session.unlock']({ password: 'x' })).toMatchObject({
      ok: false,
      error: 'sign out and sign in again',
      lock: { attemptsLeft: 3 },
    });
  });
});

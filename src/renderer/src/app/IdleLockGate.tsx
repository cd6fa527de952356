// The idle lock's gate around the workspace: the main process decides when the window is locked
// (the state survives a reload); while it is, the workspace is unmounted, not covered, and only the
// lock screen is shown. The person's typing, clicks and scrolling are reported, a few at most a second.
import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import type { IdleLockStatus } from '../../../shared/contract';
import { api } from '../common/api';
import { LockScreen } from './LockScreen';

const lockPollMs = 1000;
const activityEvents = ['keydown', 'pointerdown', 'wheel', 'touchstart'] as const;

interface IdleLockGateProps {
  children: ReactNode;
  /** Too many wrong passwords at the lock: the person was signed out. */
  onSignedOut: () => void;
}

export function IdleLockGate({ children, onSignedOut }: IdleLockGateProps) {
  const [lock, setLock] = useState<IdleLockStatus | null>(null);
  const lastReport = useRef(0);

  const refresh = useCallback(async () => {
    try {
      setLock(await api['session.lockState']({}));
    } catch {
      // The status bar reports a lost connection; the lock state is asked again on the next tick.
    }
  }, []);

  useEffect(() => {
    void refresh();
    const timer = window.setInterval(() => void refresh(), lockPollMs);
    return () => window.clearInterval(timer);
  }, [refresh]);

  const locked = lock?.locked ?? false;
  const idleLockSeconds = lock?.idleLockSeconds ?? 600;
  useEffect(() => {
    if (locked) return;
    // Often enough that the main process never sees a busy person as idle, rarely enough to be free.
    const reportEveryMs = Math.min(15_000, (idleLockSeconds * 1000) / 4);
    const onActivity = () => {
      const now = Date.now();
      if (now - lastReport.current < reportEveryMs) return;
      lastReport.current = now;
      void api['session.activity']({})
        .then(setLock)
        .catch(() => undefined);
    };
    for (const name of activityEvents)
      window.addEventListener(name, onActivity, { passive: true, capture: true });
    return () => {
      for (const name of activityEvents) window.removeEventListener(name, onActivity, { capture: true });
    };
  }, [locked, idleLockSeconds]);

  if (lock === null) return null;
  if (lock.locked) {
    return (
      <LockScreen
        attemptsLeft={lock.attemptsLeft}
        onUnlocked={(next) => {
          lastReport.current = Date.now();
          setLock(next);
        }}
        onSignedOut={onSignedOut}
      />
    );
  }
  return <>{children}</>;
}

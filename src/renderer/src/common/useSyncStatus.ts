// The cache's sync state for the whole window: asked once, then kept current by the 'sync.progress'
// events the main process pushes (one shared event stream per page). Null until the first answer,
// or when no cache is open (nobody signed in).
import { useCallback, useEffect, useState } from 'react';
import type { SyncStatus } from '../../../shared/contract';
import { api, subscribe } from './api';
import { messageOf } from './messageOf';

export interface SyncStatusHandle {
  status: SyncStatus | null;
  error: string | null;
  /** Runs a sync action (sync now, work offline) and keeps the status it answers with. */
  act: (action: () => Promise<SyncStatus>) => Promise<void>;
}

export function useSyncStatus(active: boolean): SyncStatusHandle {
  const [status, setStatus] = useState<SyncStatus | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!active) {
      setStatus(null);
      return;
    }
    let live = true;
    const unsubscribe = subscribe('sync.progress', (next) => live && setStatus(next));
    api['sync.status']({}).then(
      (next) => live && setStatus(next),
      (caught: unknown) => live && setError(messageOf(caught)),
    );
    return () => {
      live = false;
      unsubscribe();
    };
  }, [active]);

  // An event pushed before this page's event stream is open never arrives (a short first sync can
  // end in that moment): while a sync runs, ask again every second, so its end is never missed.
  const syncing = status?.syncing ?? false;
  useEffect(() => {
    if (!active || !syncing) return;
    let live = true;
    const timer = window.setInterval(() => {
      api['sync.status']({}).then(
        (next) => live && setStatus(next),
        () => undefined,
      );
    }, 1000);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [active, syncing]);

  const act = useCallback(async (action: () => Promise<SyncStatus>) => {
    try {
      setStatus(await action());
      setError(null);
    } catch (caught) {
      setError(messageOf(caught));
    }
  }, []);

  return { status, error, act };
}

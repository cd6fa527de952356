// The cache's sync state for the whole window: asked once, then kept current by the 'sync.progress'
// events the main process pushes (one shared event stream per page). Null until the first answer,
// or when no cache is open (nobody signed in).
import { useCallback, useEffect, useState } from 'react';
import type { SyncStatus } from '../../shared/contract';
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
    api['sync.status']({}).then(
      (next) => live && setStatus(next),
      (caught: unknown) => live && setError(messageOf(caught)),
    );
    const unsubscribe = subscribe('sync.progress', (next) => live && setStatus(next));
    return () => {
      live = false;
      unsubscribe();
    };
  }, [active]);

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

// When the diary screen should read the cache again: after every sync run (new rows, annotations
// sent) and whenever the outbox changes, as told by the pushed 'sync.progress' events. Also hands
// the screen the sync status, for its offline notice.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { SyncStatus } from '../../../shared/contract';
import { useSyncStatus } from '../common/useSyncStatus';

function outboxKey(status: SyncStatus | null): string {
  if (!status) return '';
  const { pending, conflict, failed } = status.outbox;
  return `${pending}/${conflict}/${failed}/${status.online}`;
}

export function useDiaryRefresh(): { revision: number; status: SyncStatus | null; bump: () => void } {
  const { status } = useSyncStatus(true);
  const [revision, setRevision] = useState(0);
  const last = useRef({ syncing: false, outbox: '', synced: null as string | null });
  useEffect(() => {
    if (!status) return;
    const previous = last.current;
    const finishedRun = previous.syncing && !status.syncing;
    const changed =
      finishedRun || outboxKey(status) !== previous.outbox || status.lastSyncedAt !== previous.synced;
    last.current = { syncing: status.syncing, outbox: outboxKey(status), synced: status.lastSyncedAt };
    if (changed) setRevision((n) => n + 1);
  }, [status]);
  const bump = useCallback(() => setRevision((n) => n + 1), []);
  return { revision, status, bump };
}

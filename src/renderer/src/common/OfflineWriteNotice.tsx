// Said above every action that needs the server (review, signing, promotion) while the workstation
// is offline: that those actions are refused, why, and one click to go online (or to try to
// reconnect, when the connection was lost rather than switched off). The main process refuses them
// anyway; this is so the person knows before they try.
import { api } from './api';
import { useSyncStatus } from './useSyncStatus';

export function OfflineWriteNotice({ actions }: { actions: string }) {
  const sync = useSyncStatus(true);
  const status = sync.status;
  if (status === null || !status.cacheOpen || status.online) return null;
  return (
    <div className="notice notice-warning offline-write-notice" role="status">
      {status.workOffline ? (
        <>
          You are working offline: {actions} need the server and are not sent.{' '}
          <button
            type="button"
            className="button"
            onClick={() => void sync.act(() => api['sync.setOffline']({ offline: false }))}
          >
            Go online
          </button>
        </>
      ) : (
        <>
          The backend cannot be reached: {actions} need the server and wait until it is back. Countersign
          reconnects by itself.{' '}
          <button
            type="button"
            className="button"
            disabled={status.syncing}
            onClick={() => void sync.act(() => api['sync.now']({}))}
          >
            Reconnect now
          </button>
        </>
      )}
    </div>
  );
}

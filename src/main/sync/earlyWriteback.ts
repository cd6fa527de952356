// Early writeback of the cache file while the cache writer fills it. In WAL mode SQLite syncs the
// WAL before each checkpoint and the database file after it (synchronous = NORMAL), and the writer
// thread waits while the kernel writes out everything dirtied since the last checkpoint: with
// plenty of memory nothing has been written out before. Syncing both files from the libuv thread
// pool every few milliseconds starts that writing early, so a checkpoint's own syncs find little
// left and the writer goes on working. It only adds syncs (durability is unchanged) and does no
// CPU work of its own. Measured with strace over an initial sync of 200,000 rows: the writer's
// time in fsync 0.15-0.18 s -> 0.011-0.015 s.
import { close, fsync, open } from 'node:fs';

/** How often a sync of the cache file and its WAL is started (one at a time). */
export const earlyWritebackEveryMs = 25;

export interface EarlyWriteback {
  /** Stops, waits for a sync under way, and closes the files. */
  stop(): Promise<void>;
}

export function startEarlyWriteback(path: string, everyMs = earlyWritebackEveryMs): EarlyWriteback {
  let fds: number[] = [];
  let busy: Promise<void> | null = null;
  let stopped = false;

  const promised = <T>(call: (done: (error: NodeJS.ErrnoException | null, value: T) => void) => void) =>
    new Promise<T | null>((resolve) => call((error, value) => resolve(error ? null : value)));

  const round = async () => {
    if (fds.length === 0) {
      // The WAL exists once the writer has written; until then there is nothing to write out. Both
      // are opened for writing (never written): Windows flushes only a handle with write access.
      const wal = await promised<number>((done) => open(`${path}-wal`, 'r+', done));
      const db = wal === null ? null : await promised<number>((done) => open(path, 'r+', done));
      if (wal === null || db === null) {
        if (wal !== null) close(wal, () => undefined);
        return;
      }
      if (stopped) {
        for (const fd of [wal, db]) close(fd, () => undefined);
        return;
      }
      fds = [wal, db];
    }
    // A failed sync here changes nothing: SQLite's own sync of the same file reports the error.
    for (const fd of fds) await promised<void>((done) => fsync(fd, (error) => done(error, undefined)));
  };

  const timer = setInterval(() => {
    if (busy || stopped) return;
    busy = round().finally(() => {
      busy = null;
    });
  }, everyMs);
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await busy;
      await Promise.all(
        fds.map((fd) => promised<void>((done) => close(fd, (error) => done(error, undefined)))),
      );
      fds = [];
    },
  };
}

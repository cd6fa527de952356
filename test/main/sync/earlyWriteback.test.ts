// Early writeback: while the cache writer fills the cache, its file and WAL are synced from the
// thread pool; stopping waits for a sync under way and leaves no file open, and a cache whose WAL
// does not exist yet is simply left alone. (Linux only: open files are read from /proc/self/fd.)
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCache } from '../../../src/main/cache/openCache';
import { CacheWriter } from '../../../src/main/sync/cacheWriter';
import { startEarlyWriteback } from '../../../src/main/sync/earlyWriteback';

const key = Buffer.alloc(32, 5);

/** The descriptors this process has open on the file or its WAL. */
function openOn(path: string): string[] {
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return ''; // closed meanwhile (the readdir's own descriptor)
      }
    })
    .filter((target) => target === path || target === `${path}-wal`);
}

const until = async (condition: () => boolean, timeoutMs: number) => {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
};

describe.skipIf(process.platform !== 'linux')('early writeback of the cache [SYNC-RESUME]', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-writeback-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('syncs the cache and its WAL while it runs, and closes both when stopped', async () => {
    const path = join(dir, 'c.sqlite');
    const db = openCache({ path, key, userId: 'u', backendId: 'b' });
    try {
      db.prepare(`insert into sync_meta (name, value) values ('probe', 'x')`).run(); // the WAL exists now
      const before = openOn(path).length; // this connection's own
      const writeback = startEarlyWriteback(path, 2);
      expect(await until(() => openOn(path).length === before + 2, 2000)).toBe(true);
      await writeback.stop();
      expect(openOn(path)).toHaveLength(before);
      expect(db.prepare(`select value from sync_meta where name = 'probe'`).get()).toEqual({ value: 'x' });
    } finally {
      db.close();
    }
  });

  it('leaves a cache with no WAL yet alone, and stops cleanly', async () => {
    const path = join(dir, 'never-written.sqlite');
    const writeback = startEarlyWriteback(path, 2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await writeback.stop();
    expect(openOn(path)).toEqual([]);
  });

  it('is stopped with the cache writer, which leaves nothing of it open', async () => {
    const path = join(dir, 'w.sqlite');
    const db = openCache({ path, key, userId: 'u', backendId: 'b' });
    const writer = CacheWriter.start({ path, key });
    try {
      await writer.write({
        insertSql: 'insert or replace into sync_meta (name, value) values (?, ?)',
        values: ['row-1', 'one'],
        width: 2,
        quarantine: [],
        cursor: ['test_stream', '0', '1', 1, new Date().toISOString()],
      });
      await writer.drain();
      // Running: the writer's connection, and the writeback's two once the WAL is there.
      expect(await until(() => openOn(path).length >= 4, 2000)).toBe(true);
    } finally {
      await writer.close();
    }
    expect(db.prepare(`select value from sync_meta where name = 'row-1'`).get()).toEqual({ value: 'one' });
    // SQLite keeps a closed connection's descriptor while another connection of the process holds
    // locks on the file; once that one closes too, nothing at all is left open.
    db.close();
    expect(openOn(path)).toEqual([]);
  });
});

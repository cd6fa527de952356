// The cache writer worker: pages land in order with their cursors; a page the cache refuses fails
// the sync with a clear error (never silently); a worker that cannot even open the cache fails the
// same way, and closing it afterwards does not hang.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCache } from '../../../src/main/cache/openCache';
import { CacheWriter, type PageWrite } from '../../../src/main/sync/cacheWriter';

const key = Buffer.alloc(32, 3);
const page = (n: number, value: string): PageWrite => ({
  insertSql: 'insert or replace into sync_meta (name, value) values (?, ?)',
  rows: [[`row-${n}`, value]],
  quarantine: [],
  cursor: ['test_stream', '0', String(n), 1, new Date().toISOString()],
});

describe('CacheWriter [SYNC-RESUME]', () => {
  let dir: string;
  let path: string;
  let db: Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-writer-'));
    path = join(dir, 'c.sqlite');
    db = openCache({
      path,
      key,
      userId: '11111111-1111-4111-8111-111111111111',
      backendId: 'aaaaaaaaaaaaaaaa',
    });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes every page with its cursor, in order', async () => {
    const writer = CacheWriter.start({ path, key });
    for (let n = 1; n <= 20; n++) await writer.write(page(n, `v${n}`));
    await writer.drain();
    await writer.close();
    expect(db.prepare("select count(*) as n from sync_meta where name like 'row-%'").get()).toEqual({
      n: 20,
    });
    expect(db.prepare('select last_key, rows_pulled from sync_cursor').get()).toEqual({
      last_key: '20',
      rows_pulled: 20,
    });
  });

  it('fails the sync with the reason when the cache refuses a page, keeping the pages before it', async () => {
    const writer = CacheWriter.start({ path, key });
    await writer.write(page(1, 'ok'));
    await writer.write({ ...page(2, 'x'), insertSql: 'insert into no_such_table values (?, ?)' });
    await expect(writer.drain()).rejects.toThrow(/could not store a page: no such table/);
    await writer.close();
    expect(db.prepare("select value from sync_meta where name = 'row-1'").get()).toEqual({ value: 'ok' });
    expect(db.prepare("select count(*) as n from sync_meta where name = 'row-2'").get()).toEqual({ n: 0 });
  });

  it('writes a group of pages as one transaction, committed with the cursor of its last page', async () => {
    const writer = CacheWriter.start({ path, key });
    const rowsHeld = () => db.prepare("select count(*) as n from sync_meta where name like 'row-%'").get();
    await writer.write({ ...page(1, 'a'), commit: false });
    await writer.write({ ...page(2, 'b'), commit: false });
    await writer.drain();
    // Sent and inserted, not committed: another connection sees nothing of the group yet.
    expect(rowsHeld()).toEqual({ n: 0 });
    expect(db.prepare('select count(*) as n from sync_cursor').get()).toEqual({ n: 0 });
    await writer.write({ ...page(3, 'c'), cursor: ['test_stream', '0', '3', 3, new Date().toISOString()] });
    await writer.drain();
    expect(rowsHeld()).toEqual({ n: 3 });
    expect(db.prepare('select last_key, rows_pulled from sync_cursor').get()).toEqual({
      last_key: '3',
      rows_pulled: 3,
    });
    // A group left open when the writer closes is dropped whole, as a killed process's would be.
    await writer.write({ ...page(4, 'd'), commit: false });
    await writer.close();
    expect(rowsHeld()).toEqual({ n: 3 });
  });

  it('rolls back the whole open group when one of its pages fails, and refuses what follows', async () => {
    const writer = CacheWriter.start({ path, key });
    await writer.write(page(1, 'kept'));
    await writer.write({ ...page(2, 'dropped'), commit: false });
    await writer.write({
      ...page(3, 'x'),
      insertSql: 'insert into no_such_table values (?, ?)',
      commit: false,
    });
    await expect(writer.drain()).rejects.toThrow(/could not store a page: no such table/);
    await expect(writer.write(page(4, 'after'))).rejects.toThrow(/no such table/);
    await writer.close();
    expect(db.prepare("select name from sync_meta where name like 'row-%'").all()).toEqual([
      { name: 'row-1' },
    ]);
    expect(db.prepare('select last_key from sync_cursor').get()).toEqual({ last_key: '1' });
  });

  it('fails clearly, and closes without hanging, when the worker cannot open the cache', async () => {
    const writer = CacheWriter.start({ path, key: Buffer.alloc(32, 4) });
    await writer.write(page(1, 'never'));
    await expect(writer.drain()).rejects.toThrow();
    await writer.close();
    expect(db.prepare("select count(*) as n from sync_meta where name = 'row-1'").get()).toEqual({ n: 0 });
  });
});

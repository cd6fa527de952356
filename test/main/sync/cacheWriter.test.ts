// The cache writer worker: pages land in order with their cursors; a page the cache refuses fails
// the sync with a clear error (never silently); a worker that cannot even open the cache fails the
// same way, and closing it afterwards does not hang.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCache } from '../../../src/main/cache/openCache';
import { CacheWriter, manyRows, type PageWrite, rowsInsert } from '../../../src/main/sync/cacheWriter';
import { streamDefinitions } from '../../../src/main/sync/streamDefinitions';

const key = Buffer.alloc(32, 3);
const page = (n: number, value: string): PageWrite => ({
  insertSql: 'insert or replace into sync_meta (name, value) values (?, ?)',
  values: [`row-${n}`, value],
  width: 2,
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

  it('writes every row of a page, in order, whether it goes in with others or alone', async () => {
    const writer = CacheWriter.start({ path, key });
    // Two inserts of manyRows rows, then three rows alone; the same name twice: the later replaces.
    const count = 2 * manyRows + 3;
    const values = Array.from({ length: count }, (_, i) => [`row-${i % (count - 1)}`, `v${i}`]).flat();
    await writer.write({ ...page(1, ''), values, cursor: ['test_stream', '0', '1', count, 'now'] });
    await writer.drain();
    await writer.close();
    const held = db.prepare("select name, value from sync_meta where name like 'row-%'").all() as {
      name: string;
      value: string;
    }[];
    expect(held).toHaveLength(count - 1);
    expect(new Map(held.map((row) => [row.name, row.value]))).toEqual(
      new Map(Array.from({ length: count - 1 }, (_, i) => [`row-${i}`, i === 0 ? `v${count - 1}` : `v${i}`])),
    );
  });

  it("makes every stream's insert one of manyRows rows, which the cache accepts", () => {
    for (const stream of streamDefinitions) {
      const sql = rowsInsert(stream.insertSql, manyRows) as string;
      expect(sql, stream.name).not.toBeNull();
      expect(sql.match(/\?/g)).toHaveLength(manyRows * (stream.insertSql.match(/\?/g) ?? []).length);
      expect(() => db.prepare(sql), stream.name).not.toThrow();
    }
    // Not ending in a values tuple: its rows go one by one.
    expect(rowsInsert('insert into t (a) values (?) on conflict (a) do nothing', manyRows)).toBeNull();
  });

  it('refuses a whole page when one of its rows breaks a rule, in a batch of rows or alone', async () => {
    db.exec('create table strict_rows (k text primary key, v text not null)');
    const insertSql = 'insert into strict_rows (k, v) values (?, ?)';
    const count = 2 * manyRows + 3;
    const rows = (pageNo: number, bad: number) =>
      Array.from({ length: count }, (_, i) => [`p${pageNo}-${i}`, i === bad ? null : `v${i}`]).flat();
    const held = () => db.prepare('select count(*) as n from strict_rows').get();
    // The bad row inside the first batch of rows, then (a new sync) among the rows sent alone.
    for (const [pageNo, bad] of [
      [2, 5],
      [3, count - 2],
    ] as const) {
      const writer = CacheWriter.start({ path, key });
      await writer.write({ ...page(1, ''), insertSql, values: rows(pageNo * 10, -1) });
      await writer.write({ ...page(pageNo, ''), insertSql, values: rows(pageNo, bad) });
      await expect(writer.drain()).rejects.toThrow(/NOT NULL constraint failed: strict_rows.v/);
      await writer.close();
      expect(db.prepare('select count(*) as n from strict_rows where k like ?').get(`p${pageNo}-%`)).toEqual({
        n: 0,
      });
    }
    // Only the good pages landed, whole.
    expect(held()).toEqual({ n: 2 * count });
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
    // A page without rows commits a group too (a first pull whose last rows were already sent).
    await writer.write({ ...page(4, 'e'), commit: false });
    await writer.write({ ...page(5, ''), values: [], width: 0 });
    await writer.drain();
    expect(rowsHeld()).toEqual({ n: 4 });
    expect(db.prepare('select last_key from sync_cursor').get()).toEqual({ last_key: '5' });
    // A group left open when the writer closes is dropped whole, as a killed process's would be.
    await writer.write({ ...page(6, 'd'), commit: false });
    await writer.close();
    expect(rowsHeld()).toEqual({ n: 4 });
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

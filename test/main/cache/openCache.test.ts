// The cache file: encrypted at rest, opened only with its key and only by its owner, migrated by
// user_version, and a cache written by a newer Countersign is refused untouched.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import DatabaseConstructor from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CacheKeyError, CacheOwnerError, CacheTooNewError } from '../../../src/main/cache/cacheErrors';
import { cacheKeyPragmas } from '../../../src/main/cache/cacheKey';
import { FileCacheKeyStore } from '../../../src/main/cache/cacheKeyStore';
import { cacheSchemaVersion } from '../../../src/main/cache/cacheMigrations';
import { openCache } from '../../../src/main/cache/openCache';
import { CacheWriter } from '../../../src/main/sync/cacheWriter';

const alice = '11111111-1111-4111-8111-111111111111';
const bob = '22222222-2222-4222-8222-222222222222';
const backendId = 'aaaaaaaaaaaaaaaa';

describe('openCache [CACHE-ENCRYPTED]', () => {
  let dir: string;
  let path: string;
  let keys: FileCacheKeyStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-open-cache-'));
    path = join(dir, 'cache.sqlite');
    keys = new FileCacheKeyStore(join(dir, 'keys'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates an encrypted cache at the current schema version, in WAL mode with foreign keys on', () => {
    const db = openCache({ path, key: keys.keyFor(alice, backendId), userId: alice, backendId });
    db.prepare(`insert into sync_meta (name, value) values ('probe', 'patient diary text')`).run();
    expect(db.pragma('user_version', { simple: true })).toBe(cacheSchemaVersion);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const bytes = readFileSync(path);
    expect(bytes.subarray(0, 16).toString('latin1')).not.toBe('SQLite format 3\0');
    expect(bytes.includes(Buffer.from('patient diary text'))).toBe(false);
    // Reopens with its key and keeps the data.
    const again = openCache({ path, key: keys.keyFor(alice, backendId), userId: alice, backendId });
    expect(again.prepare(`select value from sync_meta where name = 'probe'`).get()).toEqual({
      value: 'patient diary text',
    });
    again.close();
  });

  it('refuses a wrong key with a clear error, not "file is not a database"', () => {
    openCache({ path, key: keys.keyFor(alice, backendId), userId: alice, backendId }).close();
    const attempt = () => openCache({ path, key: randomBytes(32), userId: alice, backendId });
    expect(attempt).toThrow(CacheKeyError);
    expect(attempt).toThrow(/cannot be opened with this key/);
  });

  it('gives a new cache its key raw, with no key derivation', () => {
    const key = keys.keyFor(alice, backendId);
    openCache({ path, key, userId: alice, backendId }).close();
    const opensWith = (pragma: string) => {
      const db = new DatabaseConstructor(path, { fileMustExist: true });
      try {
        db.pragma(`cipher = 'aegis'`);
        db.pragma(pragma);
        return db.prepare('select user_id from cache_owner').get();
      } catch (error) {
        return (error as { code?: string }).code;
      } finally {
        db.close();
      }
    };
    expect(opensWith(`key = 'raw:${key.toString('hex')}'`)).toEqual({ user_id: alice });
    expect(opensWith(`hexkey = '${key.toString('hex')}'`)).toBe('SQLITE_NOTADB');
  });

  it('still opens a cache keyed through the cipher key derivation (made before raw keys), on every connection', async () => {
    const key = keys.keyFor(alice, backendId);
    const legacy = new DatabaseConstructor(path);
    legacy.pragma(`cipher = 'aegis'`);
    legacy.pragma(`hexkey = '${key.toString('hex')}'`);
    legacy.pragma('page_size = 32768');
    legacy.exec('create table earlier_rows (v text)');
    legacy.close();
    const db = openCache({ path, key, userId: alice, backendId });
    expect(db.prepare('select count(*) as n from earlier_rows').get()).toEqual({ n: 0 });
    // The sync's writer opens its own connection the same way.
    const writer = CacheWriter.start({ path, key });
    await writer.write({
      insertSql: 'insert into earlier_rows (v) values (?)',
      values: ['written by the worker'],
      width: 1,
      quarantine: [],
      cursor: ['probe_stream', '0', '1', 1, new Date().toISOString()],
    });
    await writer.close();
    expect(db.prepare('select v from earlier_rows').all()).toEqual([{ v: 'written by the worker' }]);
    db.close();
    expect(() => openCache({ path, key: randomBytes(32), userId: alice, backendId })).toThrow(CacheKeyError);
  });

  it("refuses to open another user's cache, even with the right key", () => {
    const key = keys.keyFor(alice, backendId);
    openCache({ path, key, userId: alice, backendId }).close();
    expect(() => openCache({ path, key, userId: bob, backendId })).toThrow(CacheOwnerError);
    expect(() => openCache({ path, key, userId: bob, backendId })).toThrow(/belongs to another user/);
    // and the other user's own key does not open it either
    expect(() => openCache({ path, key: keys.keyFor(bob, backendId), userId: bob, backendId })).toThrow(
      CacheKeyError,
    );
    expect(() => openCache({ path, key, userId: alice, backendId: 'bbbbbbbbbbbbbbbb' })).toThrow(
      /another backend/,
    );
  });

  it('refuses a cache written by a newer version and leaves it untouched', () => {
    const key = keys.keyFor(alice, backendId);
    openCache({ path, key, userId: alice, backendId }).close();
    const raw = new DatabaseConstructor(path);
    raw.pragma(`cipher = 'aegis'`);
    raw.pragma(cacheKeyPragmas(key.toString('hex'))[0] as string);
    raw.pragma(`user_version = ${cacheSchemaVersion + 1}`);
    raw.close();
    expect(() => openCache({ path, key, userId: alice, backendId })).toThrow(CacheTooNewError);
    expect(() => openCache({ path, key, userId: alice, backendId })).toThrow(/newer Countersign/);
    const check = new DatabaseConstructor(path);
    check.pragma(`cipher = 'aegis'`);
    check.pragma(cacheKeyPragmas(key.toString('hex'))[0] as string);
    expect(check.pragma('user_version', { simple: true })).toBe(cacheSchemaVersion + 1);
    check.close();
  });

  it('keeps one key per user and backend in a file only its owner can read', () => {
    const first = keys.keyFor(alice, backendId);
    expect(first).toHaveLength(32);
    expect(keys.keyFor(alice, backendId).equals(first)).toBe(true);
    expect(keys.keyFor(bob, backendId).equals(first)).toBe(false);
    const mode = statSync(join(dir, 'keys', `${backendId}.${alice}.key`)).mode & 0o777;
    expect(mode).toBe(0o600);
    expect(() => keys.keyFor('../escape', backendId)).toThrow(/safe characters/);
  });
});

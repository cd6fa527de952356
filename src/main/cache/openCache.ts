// Opens (or creates) one user's encrypted cache. Encryption: SQLite3 Multiple Ciphers with the
// AEGIS cipher (authenticated encryption of every page: a changed byte in the file is detected
// on read, as SQLCipher's HMAC would be; measured 2.2x faster than the SQLCipher scheme's
// AES-CBC + HMAC-SHA512 here, which matters for a 100,000-row initial sync). The key is a random
// 256-bit value from the key store, given raw (cacheKey.ts: older caches, which gave it through the
// cipher's Argon2id, still open).
// WAL and foreign keys on; synchronous=NORMAL (a power cut can lose the last page, never consistency:
// the next sync pulls it again).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import DatabaseConstructor, { type Database } from 'better-sqlite3-multiple-ciphers';
import { CacheKeyError, CacheOwnerError } from './cacheErrors';
import { cacheKeyPragmas, openKeyed } from './cacheKey';
import { cacheSchemaVersion, migrateCache } from './cacheMigrations';

export interface OpenCacheOptions {
  path: string;
  key: Buffer;
  userId: string;
  backendId: string;
}

/** A connection to the file with the key in the first form that opens it (cacheKey.ts). */
function openWithKey(path: string, key: Buffer): Database {
  try {
    return openKeyed(DatabaseConstructor, path, cacheKeyPragmas(key.toString('hex')));
  } catch (error) {
    if ((error as { code?: string }).code !== 'SQLITE_NOTADB') throw error;
    throw new CacheKeyError(
      'The offline cache cannot be opened with this key: it was encrypted with another key (another user or another installation), or the file is not a Countersign cache. ' +
        'Nothing was changed; remove the cache file to sync again from the server.',
    );
  }
}

export function openCache(options: OpenCacheOptions): Database {
  if (options.key.length !== 32) throw new Error('a cache key is 32 bytes');
  mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
  const db = openWithKey(options.path, options.key);
  try {
    // 32 KB pages (set before the first table is created; a no-op on an existing cache): an initial
    // sync writes every page twice (WAL, then checkpoint) and encrypts each, so fewer, larger pages
    // mean fewer writes and cipher calls. Measured on 200,000 rows of about 700 bytes: 1.41 s of
    // SQLite work with 8 KB pages, 1.30 s with 16 KB, 1.24 s with 32 KB.
    db.pragma('page_size = 32768');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const ownerCheck = () => {
      const owner = db.prepare('select user_id, backend_id from cache_owner where id = 1').get() as
        | { user_id: string; backend_id: string }
        | undefined;
      if (owner && (owner.user_id !== options.userId || owner.backend_id !== options.backendId)) {
        throw new CacheOwnerError(
          owner.user_id !== options.userId
            ? 'This offline cache belongs to another user; a cache is opened only by its owner. Sign in as yourself to use your own cache.'
            : 'This offline cache was synced from another backend; it is not used for this one.',
        );
      }
      return owner;
    };
    // Whose cache this is, before anything is written to it (a newer schema is refused first).
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version >= 1 && version <= cacheSchemaVersion) ownerCheck();
    migrateCache(db);
    if (!ownerCheck()) {
      db.prepare('insert into cache_owner (id, user_id, backend_id, created_at) values (1, ?, ?, ?)').run(
        options.userId,
        options.backendId,
        new Date().toISOString(),
      );
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

// A cache file as an older Countersign left it: encrypted with the key as openCache encrypts it, its
// schema brought only to `version` by the migrations of that time. A test fills it, closes it, and
// opens it with openCache to see the later migrations run on it.
import DatabaseConstructor, { type Database } from 'better-sqlite3-multiple-ciphers';
import { cacheKeyPragmas } from '../../../src/main/cache/cacheKey';
import { cacheMigrations } from '../../../src/main/cache/cacheMigrations';

export function cacheAtSchemaVersion(path: string, key: Buffer, version: number): Database {
  const db = new DatabaseConstructor(path);
  db.pragma(`cipher = 'aegis'`);
  db.pragma(cacheKeyPragmas(key.toString('hex'))[0] as string);
  db.transaction(() => {
    for (const update of cacheMigrations.slice(0, version)) update(db);
    db.pragma(`user_version = ${version}`);
  })();
  return db;
}

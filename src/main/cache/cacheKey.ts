// How a cache's 256-bit key is handed to the cipher. The key is random (cacheKeyStore.ts), not a
// password, so it is given raw ('raw:' + hex: no key derivation; an open takes about 0.5 ms).
// Caches made before this gave the same bytes as a passphrase (`hexkey`), which the AEGIS cipher
// stretches with Argon2id on every open (30-45 ms here, on each connection: the app's, each sync's
// writer, each chain-verification worker). Those caches keep opening that way: the raw form is
// tried first, then the derived one. A wrong key fails both.
import type DatabaseConstructor from 'better-sqlite3-multiple-ciphers';
import type { Database, Options } from 'better-sqlite3-multiple-ciphers';

/** The key pragmas to try, in order. */
export function cacheKeyPragmas(keyHex: string): string[] {
  if (!/^[0-9a-f]{64}$/.test(keyHex)) throw new Error('a cache key is 32 bytes');
  return [`key = 'raw:${keyHex}'`, `hexkey = '${keyHex}'`];
}

/**
 * The opening, as CommonJS source, so that the worker threads (run from source with
 * { eval: true }) and this thread share one: defines `openKeyed(Database, path, pragmas, options)`,
 * which returns a connection opened with the first of the pragmas that reads the file, or throws
 * SQLITE_NOTADB when none does.
 */
export const openKeyedSource = `
function openKeyed(Database, path, pragmas, options) {
  for (let i = 0; ; i++) {
    const db = new Database(path, options);
    try {
      db.pragma("cipher = 'aegis'");
      db.pragma(pragmas[i]);
      db.prepare('select count(*) from sqlite_schema').get();
      return db;
    } catch (error) {
      db.close();
      if (error.code !== 'SQLITE_NOTADB' || i === pragmas.length - 1) throw error;
    }
  }
}
`;

/** openKeyedSource's function, for this thread's connections (a constant source, no input in it). */
export const openKeyed = new Function(`${openKeyedSource}\nreturn openKeyed;`)() as (
  Database: typeof DatabaseConstructor,
  path: string,
  pragmas: string[],
  options?: Options,
) => Database;

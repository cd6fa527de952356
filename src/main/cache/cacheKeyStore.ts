// Where the 256-bit key of each user's cache is kept. The workstation is given one of these:
// Electron wraps the key with the operating system's keychain (safeStorageKeyStore.ts); the browser
// host and tests keep it in a file readable by the owner only (mode 0600) in the data folder, which
// protects it no better than the data folder itself (docs/cache-and-sync.md).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface CacheKeyStore {
  /** The key of this user's cache on this backend; created on first use. 32 bytes. */
  keyFor(userId: string, backendId: string): Buffer;
  /** What protects the key, for the status line ("file 0600", "OS keychain"). */
  readonly description: string;
}

const safeName = /^[A-Za-z0-9_.-]{1,128}$/;

export function keyFileName(userId: string, backendId: string): string {
  if (!safeName.test(userId) || !safeName.test(backendId)) {
    throw new Error('a cache key is named by a user id and a backend id of safe characters only');
  }
  return `${backendId}.${userId}.key`;
}

/** Reads a file's contents, or creates it with `create()` (owner-only, exclusive) if it is missing. */
export function readOrCreateSecretFile(path: string, create: () => Buffer): Buffer {
  if (existsSync(path)) return readFileSync(path);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const content = create();
  writeFileSync(path, content, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600); // the umask may have narrowed, never widened, but say it explicitly
  return content;
}

export class FileCacheKeyStore implements CacheKeyStore {
  readonly description = 'a key file readable only by you (mode 0600) in the data folder';

  constructor(private readonly dir: string) {}

  keyFor(userId: string, backendId: string): Buffer {
    const path = join(this.dir, keyFileName(userId, backendId));
    const hex = readOrCreateSecretFile(path, () => Buffer.from(randomBytes(32).toString('hex')))
      .toString('utf8')
      .trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`the cache key file ${path} is damaged`);
    return Buffer.from(hex, 'hex');
  }
}

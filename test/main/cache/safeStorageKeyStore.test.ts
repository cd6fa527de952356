// The Electron key store, against a fake of safeStorage's shape: only the sealed key reaches the
// disk, the same key comes back, and an unavailable keychain is refused rather than bypassed.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SafeStorageCacheKeyStore, type SafeStorageLike } from '../../../src/main/cache/safeStorageKeyStore';

const fakeSafeStorage = (available = true): SafeStorageLike => ({
  isEncryptionAvailable: () => available,
  encryptString: (plain) => Buffer.from(`sealed:${Buffer.from(plain).toString('base64')}`),
  decryptString: (sealed) => Buffer.from(sealed.toString().replace(/^sealed:/, ''), 'base64').toString(),
});

describe('SafeStorageCacheKeyStore [CACHE-ENCRYPTED]', () => {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-safe-keys-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes only the sealed key and returns the same 32 bytes each time', () => {
    const store = new SafeStorageCacheKeyStore(dir, fakeSafeStorage());
    const key = store.keyFor('u1', 'b1');
    expect(key).toHaveLength(32);
    expect(store.keyFor('u1', 'b1').equals(key)).toBe(true);
    const [file] = readdirSync(dir);
    expect(file).toBe('b1.u1.key.safe');
    expect(readFileSync(join(dir, file as string)).includes(Buffer.from(key.toString('hex')))).toBe(false);
  });

  it('refuses to make or read a key when the keychain is unavailable', () => {
    const store = new SafeStorageCacheKeyStore(dir, fakeSafeStorage(false));
    expect(() => store.keyFor('u1', 'b1')).toThrow(/keychain is not available/);
  });
});

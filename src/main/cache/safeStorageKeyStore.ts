// The Electron key store: each cache key is random, encrypted with Electron's safeStorage (the OS
// keychain: Keychain, DPAPI, libsecret/kwallet) and only that ciphertext is written to disk. Written
// against the shape of safeStorage, not the module, so that services never import 'electron'.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type CacheKeyStore, keyFileName, readOrCreateSecretFile } from './cacheKeyStore';

export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

export class SafeStorageCacheKeyStore implements CacheKeyStore {
  readonly description = "a key protected by the operating system's keychain (Electron safeStorage)";

  constructor(
    private readonly dir: string,
    private readonly safeStorage: SafeStorageLike,
  ) {}

  keyFor(userId: string, backendId: string): Buffer {
    if (!this.safeStorage.isEncryptionAvailable()) {
      throw new Error(
        "The operating system's keychain is not available, so the offline cache cannot be opened safely.",
      );
    }
    const path = join(this.dir, `${keyFileName(userId, backendId)}.safe`);
    const sealed = readOrCreateSecretFile(path, () =>
      this.safeStorage.encryptString(randomBytes(32).toString('hex')),
    );
    const hex = this.safeStorage.decryptString(sealed).trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`the sealed cache key ${path} is damaged`);
    return Buffer.from(hex, 'hex');
  }
}

// The workstation's Ed25519 key, one per person and backend, sealed like the cache key: its 32-byte
// seed is a secret of the same CacheKeyStore (a file readable only by the owner in the browser host
// and tests, the OS keychain through Electron's safeStorage in the app), under its own name
// (`<backend>.ed25519.<user>.key`), so the key is exactly as protected as the cache it cosigns from
// and no second sealing scheme exists. The private key never leaves this module except inside a
// KeyObject; neither it nor the seed is ever logged.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { CacheKeyStore } from '../cache/cacheKeyStore';
import type { Ed25519Signer } from './checkpoint';
import { ed25519SignerOf } from './ed25519Signer';

/** PKCS #8 DER of an Ed25519 private key, up to the 32-byte seed (RFC 8410 §7). */
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The key-store name of a workstation key: distinct from the cache key of the same person. */
export function workstationKeyStoreName(backendId: string): string {
  return `${backendId}.ed25519`;
}

/** The private key of this person on this backend (created on first use). */
export function workstationPrivateKey(keyStore: CacheKeyStore, userId: string, backendId: string): KeyObject {
  const seed = keyStore.keyFor(userId, workstationKeyStoreName(backendId));
  if (seed.length !== 32) throw new Error('the workstation key is damaged');
  return createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: 'der', type: 'pkcs8' });
}

/** The signer of this person's workstation key on this backend. */
export function workstationSigner(keyStore: CacheKeyStore, userId: string, backendId: string): Ed25519Signer {
  return ed25519SignerOf(workstationPrivateKey(keyStore, userId, backendId));
}

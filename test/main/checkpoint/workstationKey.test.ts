// The workstation key (issue 24): one Ed25519 key per person and backend, sealed by the same key
// store as the cache key (here the 0600 file store), distinct from the cache key, stable across
// openings.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileCacheKeyStore } from '../../../src/main/cache/cacheKeyStore';
import { verifyEd25519 } from '../../../src/main/checkpoint/ed25519Signer';
import { workstationSigner } from '../../../src/main/checkpoint/workstationKey';

const dir = mkdtempSync(join(tmpdir(), 'countersign-ws-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('workstation key [CKPT-KEY]', () => {
  const user = '0190a3f0-0000-7000-8000-000000000001';
  const backend = '0123456789abcdef';

  it('is one Ed25519 key per person and backend, kept owner-only beside the cache key [CKPT-KEY]', () => {
    const store = new FileCacheKeyStore(dir);
    const cacheKey = store.keyFor(user, backend);
    const first = workstationSigner(store, user, backend);
    const again = workstationSigner(new FileCacheKeyStore(dir), user, backend);
    expect(again.publicKey).toBe(first.publicKey);
    expect(workstationSigner(store, '0190a3f0-0000-7000-8000-000000000002', backend).publicKey).not.toBe(
      first.publicKey,
    );
    expect(workstationSigner(store, user, 'fedcba9876543210').publicKey).not.toBe(first.publicKey);
    expect(Buffer.from(first.publicKey, 'base64')).toHaveLength(32);
    const data = Buffer.from('checkpoint');
    expect(verifyEd25519(first.publicKey, data, first.sign(data))).toBe(true);
    const files = readdirSync(dir);
    expect(files).toContain(`${backend}.ed25519.${user}.key`);
    expect(statSync(join(dir, `${backend}.ed25519.${user}.key`)).mode & 0o777).toBe(0o600);
    // Not the cache key: the seed file is a different secret.
    expect(store.keyFor(user, `${backend}.ed25519`).equals(cacheKey)).toBe(false);
  });
});

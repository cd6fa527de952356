// Rows of audit.checkpoint_cosignature (0062) for tests that need one of the right shape: a fresh
// Ed25519 key (its fingerprint is the SHA-256 of the raw key, as the table checks) and a signature of
// the right length. The server never verifies the signature (PostgreSQL has no Ed25519); clients do.
import { createHash, generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';

export function cosignatureRow(userId: string): Record<string, unknown> {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(12);
  return {
    tree_size: 1 + randomInt(1_000_000_000),
    root_hash: randomBytes(32).toString('hex'),
    subject_root: randomBytes(32).toString('hex'),
    cosigned_at: new Date().toISOString(),
    user_id: userId,
    public_key: raw.toString('base64'),
    key_fingerprint: createHash('sha256').update(raw).digest('hex'),
    signature: randomBytes(64).toString('base64'),
  };
}

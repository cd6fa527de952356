// The check every reader of a cosignature makes (the cosigner over the cache's, the checkpoint file,
// the packet verifier): the server cannot verify Ed25519 (0062), so a client never trusts a
// cosignature it has not verified itself. A cosignature is good when its fingerprint is the SHA-256
// of its key and its Ed25519 signature over cosignatureSigningInput verifies with that key.
import { type Checkpoint, type Cosignature, cosignatureSigningInput } from './checkpoint';
import { keyFingerprintOf, verifyEd25519 } from './ed25519Signer';

/** Why a cosignature is not good, or null when it is. Names the key, never anything else. */
export function cosignatureProblem(c: Cosignature): string | null {
  const raw = Buffer.from(c.publicKey, 'base64');
  if (raw.length !== 32)
    return `cosignature of key ${c.keyFingerprint.slice(0, 16)}: the public key is not 32 bytes`;
  if (keyFingerprintOf(raw) !== c.keyFingerprint)
    return `cosignature of key ${c.keyFingerprint.slice(0, 16)}: the fingerprint is not the key's SHA-256`;
  if (!verifyEd25519(c.publicKey, cosignatureSigningInput(c), c.signature))
    return `cosignature of key ${c.keyFingerprint.slice(0, 16)} at tree size ${c.treeSize}: the Ed25519 signature does not verify`;
  return null;
}

/** Same checkpoint: tree size, root and subject root. */
export function sameCheckpoint(a: Checkpoint, b: Checkpoint): boolean {
  return a.treeSize === b.treeSize && a.rootHash === b.rootHash && a.subjectRoot === b.subjectRoot;
}

/** The checkpoint a cosignature is of. */
export function checkpointOfCosignature(c: Checkpoint): Checkpoint {
  return { treeSize: c.treeSize, rootHash: c.rootHash, subjectRoot: c.subjectRoot };
}

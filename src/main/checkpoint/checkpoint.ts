// A checkpoint of the audit log (issue 24): the RFC 9162 Merkle tree over the audit_log entries in
// seq order (leaf i = the entry hash of seq i + 1) at a tree size, its root, and the root of the
// subject map at the same size (which entries are about which record, so that a packet proves its
// records' histories complete without the rest of the chain). A workstation that has verified the
// chain up to treeSize cosigns the checkpoint with its own Ed25519 key; cosignatures are collected on
// the server (append-only) and travel in packets and in archived checkpoint files.
import { canonicalJson } from '../../shared/canonicalJson';

export interface Checkpoint {
  /** Number of audit entries covered (seq 1 .. treeSize). */
  treeSize: number;
  /** RFC 9162 root hash, lowercase hex. */
  rootHash: string;
  /** Root of the subject map at treeSize, lowercase hex. */
  subjectRoot: string;
}

export interface Cosignature extends Checkpoint {
  /** When this workstation cosigned (ISO 8601 UTC, milliseconds). */
  cosignedAt: string;
  /** The person signed in on the cosigning workstation. */
  userId: string;
  /** Their printed name when known (never a patient). */
  printedName: string | null;
  /** Ed25519 public key, raw 32 bytes, base64. */
  publicKey: string;
  /** SHA-256 of the raw public key, lowercase hex: the key's fingerprint. */
  keyFingerprint: string;
  /** Ed25519 signature over cosignatureSigningInput(...), base64. */
  signature: string;
}

export const cosignatureFormat = 'countersign.checkpoint-cosignature';

/** The exact bytes an Ed25519 cosignature signs (RFC 8785 JSON). */
export function cosignatureSigningInput(c: Omit<Cosignature, 'signature' | 'printedName'>): Buffer {
  return Buffer.from(
    canonicalJson({
      format: cosignatureFormat,
      version: 1,
      treeSize: c.treeSize,
      rootHash: c.rootHash,
      subjectRoot: c.subjectRoot,
      cosignedAt: c.cosignedAt,
      userId: c.userId,
      keyFingerprint: c.keyFingerprint,
    }),
    'utf8',
  );
}

/**
 * A workstation's Ed25519 key as the packet writer and the cosigner use it: the public half and a
 * signing function (the private half never leaves the object; a worker thread builds its own from
 * the KeyObject, which worker_threads can clone).
 */
export interface Ed25519Signer {
  /** Raw 32-byte public key, base64. */
  publicKey: string;
  /** SHA-256 of the raw public key, lowercase hex. */
  keyFingerprint: string;
  /** Ed25519 signature of data, base64. */
  sign(data: Buffer): string;
}

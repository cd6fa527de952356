// The checkpoint file: a small signed JSON for off-site archive (the "daily integrity export" of the
// security posture, issue 24). It holds one checkpoint of the audit log (tree size, RFC 9162 root,
// subject-map root), the cosignatures of it the writer verified, when it was written, and the
// writer's Ed25519 signature over all of that (RFC 8785 JSON without the signature). Anyone holding
// the file can later tell whether a packet's checkpoint is consistent with it (countersign verify
// --checkpoint), without access to the server: a rewrite of the log after the file was written
// shows as a root that no consistency proof can join to the archived one.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { canonicalJson } from '../../shared/canonicalJson';
import type { Checkpoint, Cosignature, Ed25519Signer } from './checkpoint';
import { cosignatureProblem, sameCheckpoint } from './cosignatureCheck';
import { keyFingerprintOf, verifyEd25519 } from './ed25519Signer';

export const checkpointFileFormat = 'countersign.checkpoint-file';

export interface CheckpointFile {
  format: typeof checkpointFileFormat;
  version: 1;
  checkpoint: Checkpoint;
  cosignatures: Cosignature[];
  /** ISO 8601 UTC, milliseconds. */
  writtenAt: string;
  writer: { publicKey: string; keyFingerprint: string };
  /** Ed25519 signature by writer.publicKey over checkpointFileSigningInput(file), base64. */
  signature: string;
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const base64Key = z.string().regex(/^[A-Za-z0-9+/]{43}=$/);
const base64Signature = z.string().regex(/^[A-Za-z0-9+/]{86}==$/);
const isoMs = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
const checkpointShape = { treeSize: z.number().int().positive(), rootHash: hex64, subjectRoot: hex64 };
const fileSchema = z.strictObject({
  format: z.literal(checkpointFileFormat),
  version: z.literal(1),
  checkpoint: z.strictObject(checkpointShape),
  cosignatures: z.array(
    z.strictObject({
      ...checkpointShape,
      cosignedAt: isoMs,
      userId: z.string().min(1).max(64),
      printedName: z.string().max(200).nullable(),
      publicKey: base64Key,
      keyFingerprint: hex64,
      signature: base64Signature,
    }),
  ),
  writtenAt: isoMs,
  writer: z.strictObject({ publicKey: base64Key, keyFingerprint: hex64 }),
  signature: base64Signature,
});

/** The bytes the writer signs: the file without its signature, RFC 8785. */
export function checkpointFileSigningInput(file: Omit<CheckpointFile, 'signature'>): Buffer {
  const { signature: _omit, ...unsigned } = file as CheckpointFile;
  return Buffer.from(canonicalJson(unsigned), 'utf8');
}

/**
 * A checkpoint file of `checkpoint`, with those of `cosignatures` that are of this checkpoint and
 * verify (a bad one is left out, never archived as if good), signed by `writer`.
 */
export function checkpointFileOf(
  checkpoint: Checkpoint,
  cosignatures: readonly Cosignature[],
  writer: Ed25519Signer,
  writtenAt: Date,
): CheckpointFile {
  const good = cosignatures
    .filter((c) => sameCheckpoint(c, checkpoint) && cosignatureProblem(c) === null)
    .sort((a, b) => (a.keyFingerprint < b.keyFingerprint ? -1 : a.keyFingerprint > b.keyFingerprint ? 1 : 0));
  const unsigned: Omit<CheckpointFile, 'signature'> = {
    format: checkpointFileFormat,
    version: 1,
    checkpoint: {
      treeSize: checkpoint.treeSize,
      rootHash: checkpoint.rootHash,
      subjectRoot: checkpoint.subjectRoot,
    },
    cosignatures: good,
    writtenAt: writtenAt.toISOString(),
    writer: { publicKey: writer.publicKey, keyFingerprint: writer.keyFingerprint },
  };
  return { ...unsigned, signature: writer.sign(checkpointFileSigningInput(unsigned)) };
}

/** checkpoint-<YYYY-MM-DD of writtenAt, UTC>-<treeSize>.json */
export function checkpointFileName(file: CheckpointFile): string {
  return `checkpoint-${file.writtenAt.slice(0, 10)}-${file.checkpoint.treeSize}.json`;
}

/** Writes the file into dir (created if missing), whole or not at all; returns its path. */
export function writeCheckpointFile(dir: string, file: CheckpointFile): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, checkpointFileName(file));
  const partial = `${path}.partial`;
  writeFileSync(partial, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o644 });
  renameSync(partial, path);
  return path;
}

export interface CheckpointFileVerification {
  ok: boolean;
  /** The file when its shape is right (even if a signature is bad), else null. */
  file: CheckpointFile | null;
  problems: string[];
}

/** Checks a checkpoint file's shape, the writer's signature and every cosignature in it. */
export function verifyCheckpointFile(text: string): CheckpointFileVerification {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, file: null, problems: ['the checkpoint file is not JSON'] };
  }
  const shaped = fileSchema.safeParse(parsed);
  if (!shaped.success) {
    const first = shaped.error.issues[0];
    return {
      ok: false,
      file: null,
      problems: [
        `the checkpoint file is malformed at ${first?.path.join('.') || '(root)'}: ${first?.message}`,
      ],
    };
  }
  const file = shaped.data as CheckpointFile;
  const problems: string[] = [];
  if (keyFingerprintOf(Buffer.from(file.writer.publicKey, 'base64')) !== file.writer.keyFingerprint)
    problems.push("the writer's fingerprint is not the SHA-256 of the writer's key");
  if (!verifyEd25519(file.writer.publicKey, checkpointFileSigningInput(file), file.signature))
    problems.push("the writer's signature does not verify: the file was changed after it was written");
  for (const c of file.cosignatures) {
    if (!sameCheckpoint(c, file.checkpoint))
      problems.push(`cosignature of key ${c.keyFingerprint.slice(0, 16)} is of another checkpoint`);
    const problem = cosignatureProblem(c);
    if (problem) problems.push(problem);
  }
  return { ok: problems.length === 0, file, problems };
}

/** Reads and verifies a checkpoint file from disk. */
export function readCheckpointFile(path: string): CheckpointFileVerification {
  return verifyCheckpointFile(readFileSync(path, 'utf8'));
}

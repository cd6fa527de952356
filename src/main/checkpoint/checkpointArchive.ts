// Writing the day's checkpoint file (checkpointFile.ts) from a cache: by `countersign checkpoint
// --out DIR` and by the workstation's daily run while the app is open (after a verified sync, once
// per period: default a day, into <dataDir>/checkpoints unless configured). The checkpoint is the
// cache's tree at its verified head; the file carries every good cosignature of it the cache holds
// plus this workstation's own (made here if the key has not cosigned it yet: the file is evidence in
// its own right, even written offline, when nothing can be sent). A cache that found history
// rewritten, or whose cosignatures its own tree contradicts, writes no file: it would archive a
// checkpoint the others disagree with.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { checkpointOf } from '../cache/auditTree';
import { writeMeta } from '../sync/pullEngine';
import { UserFacingError } from '../userFacingError';
import type { Ed25519Signer } from './checkpoint';
import { type CheckpointFile, checkpointFileOf, writeCheckpointFile } from './checkpointFile';
import {
  cachedCosignatures,
  cacheTreeAt,
  contradictedCosignature,
  cosign,
  historyRewritten,
} from './cosigner';

const writtenMeta = 'checkpoint_file_written_at';

export interface ArchiveOptions {
  db: Database;
  signer: Ed25519Signer;
  userId: string;
  printedName: string | null;
  /** The folder the file goes into (created if missing). */
  dir: string;
  now: Date;
}

/** Writes the checkpoint file of the cache's verified head now; its path and content. */
export function writeCheckpointNow(options: ArchiveOptions): { path: string; file: CheckpointFile } {
  const { db, signer, userId, printedName, dir, now } = options;
  const rewritten = historyRewritten(db);
  if (rewritten) throw new UserFacingError(rewritten);
  const checkpoint = checkpointOf(db);
  if (!checkpoint) throw new UserFacingError('No verified audit log in this cache yet: sync first.');
  const contradiction = contradictedCosignature(db, cacheTreeAt(db), checkpoint.treeSize);
  if (contradiction) throw new UserFacingError(contradiction);
  const cosignatures = cachedCosignatures(db, checkpoint);
  if (!cosignatures.some((c) => c.keyFingerprint === signer.keyFingerprint)) {
    cosignatures.push({ ...cosign(checkpoint, signer, userId, now), printedName });
  }
  const file = checkpointFileOf(checkpoint, cosignatures, signer, now);
  const path = writeCheckpointFile(dir, file);
  writeMeta(db, writtenMeta, now.toISOString());
  return { path, file };
}

/** The daily run: writes the file when none was written in the last `everyMs`; its path, or null. */
export function writeCheckpointIfDue(options: ArchiveOptions & { everyMs: number }): string | null {
  const last = options.db.prepare('select value from sync_meta where name = ?').pluck().get(writtenMeta) as
    | string
    | undefined;
  if (last && options.now.getTime() - Date.parse(last) < options.everyMs) return null;
  return writeCheckpointNow(options).path;
}

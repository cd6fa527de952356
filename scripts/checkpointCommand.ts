// `countersign checkpoint` and `countersign verify --checkpoint` (issue 24, docs/checkpoints.md):
//   countersign checkpoint --out DIR [--data-dir D] --email E
//     writes DIR/checkpoint-<date>-<treeSize>.json: the checkpoint of the person's cache at its
//     verified head, the good cosignatures of it the cache holds and this workstation's own, signed
//     with the workstation key. The cache is opened as `export` opens it (offline: the password
//     against the local verifier, the key files of the data folder; a cache sealed by the OS
//     keychain is written from the app's daily run instead). Nothing is sent to the server.
//   countersign verify --checkpoint FILE packet.zip
//     checks the archived file (the writer's signature and every cosignature), then whether the
//     packet's checkpoint is consistent with it (the packet's log extends the archived one, nothing
//     rewritten). Needs no data folder and no network.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { SessionIdentity } from '../src/main/backend/postgres/postgresSession';
import { FileCacheKeyStore } from '../src/main/cache/cacheKeyStore';
import { cacheDir, cacheFilePath } from '../src/main/cache/cacheLocation';
import { checkOfflineVerifier } from '../src/main/cache/offlineSignIn';
import { openCache } from '../src/main/cache/openCache';
import { writeCheckpointNow } from '../src/main/checkpoint/checkpointArchive';
import { readCheckpointFile } from '../src/main/checkpoint/checkpointFile';
import { workstationSigner } from '../src/main/checkpoint/workstationKey';
import { defaultDataDir } from '../src/main/dataDir';
import { checkPacketAgainstCheckpoint } from '../src/main/export/packetConsistency';

export const checkpointUsage = `  countersign checkpoint --out DIR [--data-dir DIR] --email EMAIL
      writes the signed checkpoint file of the cache's verified head into DIR (password as for export)
  countersign verify --checkpoint FILE packet.zip
      is the packet's checkpoint consistent with the archived checkpoint file?`;

class CommandError extends Error {}

/** The person's cache in this data folder, opened with their password (as `export` does). */
async function openPersonCache(dataDir: string, email: string, password: string) {
  let backends: string[] = [];
  try {
    backends = readdirSync(cacheDir(dataDir)).filter((name) => /^[0-9a-f]{16}$/.test(name));
  } catch {
    throw new CommandError(`no offline cache in ${dataDir}`);
  }
  for (const backendId of backends) {
    const userId = await checkOfflineVerifier(dataDir, backendId, email, password);
    if (!userId) continue;
    const keyStore = new FileCacheKeyStore(join(cacheDir(dataDir), 'keys'));
    const db = openCache({
      path: cacheFilePath(dataDir, backendId, userId),
      key: keyStore.keyFor(userId, backendId),
      userId,
      backendId,
    });
    return { db, keyStore, backendId, userId };
  }
  throw new CommandError(
    'these credentials open no cache in this data folder (sign in online in the app once first)',
  );
}

export async function checkpointCommand(args: string[], askPassword: () => Promise<string>): Promise<string> {
  const { values } = parseArgs({
    args,
    options: { out: { type: 'string' }, 'data-dir': { type: 'string' }, email: { type: 'string' } },
  });
  if (!values.out || !values.email) throw new CommandError(checkpointUsage);
  const dataDir = resolve(values['data-dir'] ?? process.env.COUNTERSIGN_DATA_DIR ?? defaultDataDir());
  const password = await askPassword();
  const { db, keyStore, backendId, userId } = await openPersonCache(dataDir, values.email, password);
  try {
    const stored = db.prepare(`select value from sync_meta where name = 'identity'`).pluck().get() as
      | string
      | undefined;
    if (!stored) throw new CommandError('the cache has never been synced');
    const identity = JSON.parse(stored) as SessionIdentity;
    const { path, file } = writeCheckpointNow({
      db,
      signer: workstationSigner(keyStore, userId, backendId),
      userId,
      printedName: identity.printedName,
      dir: resolve(values.out),
      now: new Date(),
    });
    return [
      `wrote ${path}`,
      `checkpoint: tree size ${file.checkpoint.treeSize}, root ${file.checkpoint.rootHash}, subject root ${file.checkpoint.subjectRoot}`,
      `cosigned by ${file.cosignatures.length} key(s): ${file.cosignatures.map((c) => c.keyFingerprint.slice(0, 16)).join(', ')}`,
      `written by key ${file.writer.keyFingerprint}`,
    ].join('\n');
  } finally {
    db.close();
  }
}

/** `verify --checkpoint FILE packet.zip`: the report and whether everything held. */
export async function verifyAgainstCheckpointCommand(
  args: string[],
): Promise<{ ok: boolean; report: string }> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { checkpoint: { type: 'string' } },
  });
  const packetPath = positionals[0];
  if (!values.checkpoint || !packetPath) throw new CommandError(checkpointUsage);
  const archived = readCheckpointFile(values.checkpoint);
  const out = [`checkpoint file ${values.checkpoint}`];
  for (const problem of archived.problems) out.push(`  FAIL checkpoint file: ${problem}`);
  if (!archived.file) return { ok: false, report: [...out, 'NOT VERIFIED.'].join('\n') };
  const { checkpoint, cosignatures } = archived.file;
  out.push(
    `  archived checkpoint: tree size ${checkpoint.treeSize}, root ${checkpoint.rootHash}; ${cosignatures.length} cosignature(s), written ${archived.file.writtenAt}`,
  );
  let zip: Buffer;
  try {
    zip = readFileSync(packetPath);
  } catch {
    throw new CommandError(`cannot read ${packetPath}`);
  }
  // The packet side is the packet verifier's: its signature, cosignatures and consistency proofs.
  const problems = checkPacketAgainstCheckpoint(zip, checkpoint);
  for (const p of problems) out.push(`  FAIL ${p.where}: ${p.what}`);
  const ok = archived.ok && problems.length === 0;
  out.push(
    ok
      ? `CONSISTENT: the packet's audit log extends the archived checkpoint at tree size ${checkpoint.treeSize}; nothing before it was rewritten.`
      : 'NOT CONSISTENT WITH THE ARCHIVED CHECKPOINT.',
  );
  return { ok, report: out.join('\n') };
}

export function isCommandError(error: unknown): error is Error {
  return error instanceof CommandError;
}

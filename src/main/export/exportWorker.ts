// The worker thread that builds or verifies an inspection packet, so that the workstation's main
// thread (its window, its sync, its timers) keeps running while a 10,000-record export takes
// seconds. It opens its own read-only connection to the cache (path and key in workerData), posts
// progress, writes the finished ZIP to the temporary name it was given (the main side renames it
// when the job is complete, or removes it: packetWorker.ts) and writes nothing to the database.
// Started by packetWorker.ts: from TypeScript source through tsx, or as out/main/exportWorker.js.
import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import DatabaseConstructor, { type Database } from 'better-sqlite3-multiple-ciphers';
import type { ExportProgress } from '../../shared/contract';
import { cacheKeyPragmas, openKeyed } from '../cache/cacheKey';
import { cachedCosignatures } from '../checkpoint/cachedCosignatures';
import { ed25519SignerOf } from '../checkpoint/ed25519Signer';
import { UserFacingError } from '../userFacingError';
import { buildPacket, type ExportOptions } from './exportPacket';
import { summariseVerification } from './exportService';
import type { PacketJob, WorkerMessage } from './packetWorker';
import { readPacketFile } from './storedZip';
import { verifyPacketAsync } from './verifyPacket';

const port = parentPort;
if (!port) throw new Error('exportWorker.ts runs in a worker thread');
const post = (message: WorkerMessage) => port.postMessage(message);
post({ type: 'ready' });

/** At most one progress message per this many ms within a stage (gathering reports every record). */
const progressIntervalMs = 50;
let lastProgress = { stage: '', at: 0 };
function postProgress(progress: ExportProgress): void {
  const now = performance.now();
  const news = progress.stage !== lastProgress.stage || progress.done === progress.total;
  if (!news && now - lastProgress.at < progressIntervalMs) return;
  lastProgress = { stage: progress.stage, at: now };
  post({ type: 'progress', progress });
}

/**
 * Tables the export writes as bookkeeping, not data: the verified head (chain_head) and the audit
 * tree's state (its size, the memoised subject-map root). Read-only, a TEMP copy of each (unqualified
 * names find temp first) takes those writes in this connection only.
 */
const bookkeepingTables = ['chain_head', 'audit_tree_state'];

/**
 * A connection to the cache: read-only, with the bookkeeping tables shadowed, unless `writable`.
 * When the cache's verified head and audit tree are current (every sync brings them there) an
 * export writes nothing else; when they are not (a first export after an upgrade, a chain broken
 * since the last sync) the tree must be extended or rebuilt, the read-only run fails with
 * SQLITE_READONLY, and the job runs again writable, as an export in the main thread would.
 */
function openCacheConnection(path: string, key: Uint8Array, writable: boolean): Database {
  const db = openKeyed(DatabaseConstructor, path, cacheKeyPragmas(Buffer.from(key).toString('hex')), {
    readonly: !writable,
    fileMustExist: true,
  });
  db.pragma('busy_timeout = 5000');
  if (writable) return db;
  for (const table of bookkeepingTables) {
    const schema = db
      .prepare("select sql from main.sqlite_schema where type = 'table' and name = ?")
      .pluck()
      .get(table) as string | undefined;
    if (!schema) continue;
    db.exec(schema.replace(/^\s*create\s+table\s+(main\.)?/i, 'create temp table '));
    db.exec(`insert into temp.${table} select * from main.${table}`);
  }
  return db;
}

const isReadOnlyError = (error: unknown) => (error as { code?: unknown })?.code === 'SQLITE_READONLY';

async function run(job: PacketJob): Promise<void> {
  if (job.kind === 'verify') {
    postProgress({ stage: 'checking packet', done: 0, total: 1 });
    const report = await verifyPacketAsync(readPacketFile(job.path));
    post({ type: 'verified', verification: summariseVerification(report) });
    return;
  }
  const options: ExportOptions = {
    scope: job.scope,
    allowBrokenChain: job.allowBrokenChain,
    generatedBy: job.generatedBy,
    now: new Date(job.now),
    timeZone: job.timeZone,
    onProgress: postProgress,
  };
  // The signer is a closure over the private key, which cannot cross a thread: the KeyObject
  // does, and the signer is built again here.
  const signer = job.signingKey ? ed25519SignerOf(job.signingKey) : undefined;
  const build = async (writable: boolean) => {
    const db = openCacheConnection(job.source.path, job.source.key, writable);
    try {
      // The cosignatures this cache holds of the checkpoint travel with it (checkpoints.md).
      return await buildPacket(db, {
        ...options,
        ...(signer ? { signer } : {}),
        knownCosignatures: cachedCosignatures(db),
      });
    } finally {
      db.close();
    }
  };
  const result = await build(false).catch((error: unknown) => {
    if (isReadOnlyError(error)) return build(true);
    throw error;
  });
  writeFileSync(job.tempPath, result.zip, { mode: 0o600 });
  const cover = result.content.cover;
  post({
    type: 'exported',
    exported: {
      bytes: result.zip.length,
      packetSha256: result.packetSha256,
      documentHash: result.documentHash,
      chainHead: { seq: cover.chain.headSeq, hash: cover.chain.headHash },
      chainBrokenAt: cover.chain.broken ? cover.chain.broken.firstBadSeq : null,
      counts: {
        stagingRecords: cover.counts.stagingRecords,
        signatures: cover.counts.signatures,
        diaryRecords: cover.counts.diaryRecords,
        annotations: cover.counts.annotations,
      },
      builds: cover.counts.builds ?? 0,
    },
  });
}

run(workerData as PacketJob).catch((error: unknown) => {
  // A UserFacingError (ExportRefusedError among them) is written for the person and crosses as it
  // is; any other error's message is for the log only (packetWorker.ts decides).
  post({
    type: 'failed',
    name: error instanceof Error ? error.name : 'Error',
    message: error instanceof Error ? error.message : String(error),
    userFacing: error instanceof UserFacingError,
  });
});

// The main thread's side of packet export and verification in a worker thread (exportWorker.ts):
// starts the worker, relays its progress, cancels it by terminating it, and turns its outcome back
// into a result or the same UserFacingError messages the export gave in the main thread. One job at
// a time per workstation: a second export while one runs would only halve both.
//
// Loading the worker: the built app has out/main/exportWorker.js next to the main bundle (a second
// main entry in electron.vite.config.ts); running from TypeScript source (vitest, `npm start`
// through tsx), exportWorker.ts is loaded through tsx's ESM loader, registered in the worker by a
// two-line bootstrap, because Node 20 runs no TypeScript by itself (a worker does not inherit the
// parent's tsx loader either). Measured start (new Worker to its first message, the export code
// loaded) on this 2-core box: 30 ms from the build, 150-170 ms from source under vitest, 250-320 ms
// under tsx (tsx transforms the export code in the worker); the main thread's share is under 1 ms.
// Progress is relayed as the worker throttles it (exportWorker.ts: each stage's start, then at most
// one message per 50 ms).
import type { KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ExportProgress, PacketVerification } from '../../shared/contract';
import { UserFacingError } from '../userFacingError';
import { ExportRefusedError } from './exportPacket';
import type { PacketScope } from './packetScope';

/** The cache file and its key: the worker opens its own read-only connection. */
export interface CacheSource {
  path: string;
  key: Buffer;
}

export type PacketJob =
  | {
      kind: 'export';
      source: CacheSource;
      /** Where the worker writes the finished ZIP (renamed by the caller when the job is complete). */
      tempPath: string;
      scope: PacketScope;
      allowBrokenChain: boolean;
      generatedBy: { userId: string; printedName: string; roles: string[] };
      /** ISO 8601: the packet's generation time. */
      now: string;
      timeZone: string;
      /** The workstation's Ed25519 key, when the packet is signed (a KeyObject crosses threads). */
      signingKey?: KeyObject;
    }
  | { kind: 'verify'; path: string };

export interface ExportedPacket {
  bytes: number;
  packetSha256: string;
  documentHash: string;
  chainHead: { seq: number; hash: string };
  chainBrokenAt: number | null;
  counts: { stagingRecords: number; signatures: number; diaryRecords: number; annotations: number };
  builds: number;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; progress: ExportProgress }
  | { type: 'exported'; exported: ExportedPacket }
  | { type: 'verified'; verification: PacketVerification }
  | { type: 'failed'; name: string; message: string; userFacing: boolean };

export interface JobOutcome<T> {
  value: T;
  /** new Worker() to the worker's first message, ms. */
  startMs: number;
}

export class JobCancelledError extends UserFacingError {
  override name = 'JobCancelledError';
}

export const exportCancelledMessage = 'Export cancelled; nothing was written.';
const verifyCancelledMessage = 'Verification cancelled.';
export const jobRunningMessage =
  'An export or a verification is already running: wait for it to finish, or cancel it.';

function startWorker(job: PacketJob, entry: URL | undefined): Worker {
  const here = import.meta.url;
  if (entry) return new Worker(entry, { workerData: job });
  if (!here.endsWith('.ts')) {
    // The build: exportWorker.js is emitted next to the bundle that holds this code.
    const built = 'exportWorker.js';
    return new Worker(new URL(built, here), { workerData: job });
  }
  const source = new URL('exportWorker.ts', here).href;
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const bootstrap = `import { register } from ${JSON.stringify(tsx)};\nregister();\nawait import(${JSON.stringify(source)});\n`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), { workerData: job });
}

function failureOf(message: Extract<WorkerMessage, { type: 'failed' }>): Error {
  if (!message.userFacing) return new Error(`packet worker: ${message.name}: ${message.message}`);
  return message.name === 'ExportRefusedError'
    ? new ExportRefusedError(message.message)
    : new UserFacingError(message.message);
}

export class PacketJobs {
  private running: { cancel: () => void } | null = null;

  /** entry: the built worker file to run instead of the default (a test of the build's worker). */
  constructor(private readonly options: { entry?: URL } = {}) {}

  get busy(): boolean {
    return this.running !== null;
  }

  /** Stops the running job (if any): its promise rejects with JobCancelledError. */
  cancel(): boolean {
    if (!this.running) return false;
    this.running.cancel();
    return true;
  }

  exportPacket(
    job: Extract<PacketJob, { kind: 'export' }>,
    onProgress: (progress: ExportProgress) => void,
  ): Promise<JobOutcome<ExportedPacket>> {
    return this.run(job, onProgress, exportCancelledMessage, (message) =>
      message.type === 'exported' ? message.exported : undefined,
    );
  }

  verifyPacket(
    path: string,
    onProgress: (progress: ExportProgress) => void,
  ): Promise<JobOutcome<PacketVerification>> {
    return this.run({ kind: 'verify', path }, onProgress, verifyCancelledMessage, (message) =>
      message.type === 'verified' ? message.verification : undefined,
    );
  }

  private run<T>(
    job: PacketJob,
    onProgress: (progress: ExportProgress) => void,
    cancelledMessage: string,
    resultOf: (message: WorkerMessage) => T | undefined,
  ): Promise<JobOutcome<T>> {
    if (this.running) {
      throw new UserFacingError(jobRunningMessage);
    }
    const started = performance.now();
    let startMs: number | null = null;
    const worker = startWorker(job, this.options.entry);
    return new Promise<JobOutcome<T>>((resolve, reject) => {
      let settled = false;
      // Settled only once the thread has stopped: a cancelled worker may be writing the temporary
      // file, and the caller removes it on rejection (a write after that would leave it behind).
      const settle = (outcome: { value: T } | { error: Error }) => {
        if (settled) return;
        settled = true;
        const done = () => {
          this.running = null;
          if ('error' in outcome) reject(outcome.error);
          else resolve({ value: outcome.value, startMs: startMs ?? performance.now() - started });
        };
        worker.terminate().then(done, done);
      };
      this.running = { cancel: () => settle({ error: new JobCancelledError(cancelledMessage) }) };
      worker.on('message', (message: WorkerMessage) => {
        startMs ??= performance.now() - started;
        if (message.type === 'progress') onProgress(message.progress);
        else if (message.type === 'failed') settle({ error: failureOf(message) });
        else {
          const value = resultOf(message);
          if (value !== undefined) settle({ value });
        }
      });
      worker.once('error', (error) => settle({ error }));
      worker.once('exit', (code) =>
        settle({ error: new Error(`the packet worker stopped (exit code ${code}) before it finished`) }),
      );
    });
  }
}

// The byte-level half of verifying a large format 3 packet, in a worker thread while the calling
// thread checks the rest (verifyPacketAsync): the packet's SHA-256, every file's SHA-256 and CRC-32, and every
// chain line's form and hashes (chainLineCheck.ts). Measured on the 10,000-record benchmark packet
// (138 MB, 40,003 carried entries): these are about 0.5 s of a 1.2 s single-thread verify, and the
// calling thread's half is the larger, so two threads finish in about the time of that half. The
// worker is eval'd CommonJS, like parallelChainVerifier's, so it starts in tens of milliseconds under
// Electron, tsx and vitest alike, and needs no bundler entry of its own.
import { Worker } from 'node:worker_threads';
import { entryHashInput } from '../sync/chainVerifier';
import { chainLineProblem } from './chainLineCheck';

export interface PacketBytesCheck {
  packetSha256: string;
  /** SHA-256 of each file, by path. */
  fileSha256: Record<string, string>;
  /** CRC-32 of each file, by path (the ZIP's own check, done here too). */
  fileCrc32: Record<string, number>;
  /** The chain lines that fail, as [0-based line, problem]. */
  badLines: [number, string][];
  lines: number;
}

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
const { crc32 } = require('node:zlib');
const chainLineProblem = ${chainLineProblem.toString()};
const entryHashInput = ${entryHashInput.toString()};
const sha256 = (text) => hash('sha256', text, 'hex');
const bytes = Buffer.from(workerData.bytes.buffer, workerData.bytes.byteOffset, workerData.bytes.byteLength);
const fileSha256 = {};
const fileCrc32 = {};
let chain = null;
for (const [path, offset, length] of workerData.files) {
  const data = bytes.subarray(offset, offset + length);
  fileSha256[path] = hash('sha256', data, 'hex');
  fileCrc32[path] = crc32(data);
  if (path === workerData.chainPath) chain = data.toString('utf8').replace(/\\n$/, '');
}
const badLines = [];
let lines = 0;
if (chain !== null && chain.length > 0) {
  let start = 0;
  for (;;) {
    let end = chain.indexOf('\\n', start);
    if (end < 0) end = chain.length;
    const line = chain.slice(start, end);
    let problem;
    try {
      problem = chainLineProblem(line, JSON.parse(line), Number.MAX_SAFE_INTEGER, sha256, entryHashInput);
    } catch {
      problem = 'is not JSON';
    }
    if (problem !== null) badLines.push([lines, problem]);
    lines++;
    if (end >= chain.length) break;
    start = end + 1;
  }
}
parentPort.postMessage({ packetSha256: hash('sha256', bytes, 'hex'), fileSha256, fileCrc32, badLines, lines });
`;

/**
 * The byte-level checks of a packet in a worker: `files` are [path, offset, length] within bytes (a
 * copy of bytes goes to the worker). Rejects when the worker cannot run.
 */
export function checkPacketBytesInWorker(
  bytes: Buffer,
  files: [string, number, number][],
  chainPath: string,
): Promise<PacketBytesCheck> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerSource, {
      eval: true,
      workerData: { bytes, files, chainPath },
      // A young generation big enough that parsing 40,000 lines is not one scavenge after another.
      resourceLimits: { maxYoungGenerationSizeMb: 64 },
    });
    worker.once('message', (result: PacketBytesCheck) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the packet check stopped (exit ${code})`)));
  });
}

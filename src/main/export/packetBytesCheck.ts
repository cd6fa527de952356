// The byte-level half of verifying a large format 3 packet, in a worker thread while the calling
// thread checks the rest (verifyPacketAsync): the packet's SHA-256, every file's SHA-256 and CRC-32,
// every chain line's form and hashes (chainLineCheck.ts, reading only the fields around each payload)
// and packet.json's content hashes (each proposal's and each signed content's, RFC 8785 by
// canonicalJsonFast's own source). Measured on the 10,000-record benchmark packet (138 MB, 40,003
// carried entries): one thread took 1.0-1.2 s; split so, the calling thread's part is about 0.55 s
// and this one's about 0.5 s, and the two finish together in 0.65-0.8 s on this 2-core machine. The
// worker is eval'd CommonJS, like parallelChainVerifier's, so it starts in tens of milliseconds under
// Electron, tsx and vitest alike, and needs no bundler entry of its own.
import { Worker } from 'node:worker_threads';
import { canonicalJsonFast, loneSurrogatePattern } from '../../shared/canonicalJson';
import { entryHashInput } from '../sync/chainVerifier';
import { chainLineProblem } from './chainLineCheck';

export interface PacketBytesCheck {
  packetSha256: string;
  /** SHA-256 of each file, by path. */
  fileSha256: Record<string, string>;
  /** CRC-32 of each file, by path (the ZIP's own check, done here too). */
  fileCrc32: Record<string, number>;
  /**
   * Whether every staging record's proposed state hashes to its proposedStateSha256 and every
   * signature's signing content to its content hash, in packet.json (false also when it is no JSON).
   */
  contentHashesOk: boolean;
  /** The chain lines that fail, as [0-based line, problem]. */
  badLines: [number, string][];
  lines: number;
}

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
const { crc32 } = require('node:zlib');
// esbuild (tsx, vitest) keeps function names by wrapping inner functions in __name(...).
const __name = (target) => target;
const chainLineProblem = ${chainLineProblem.toString()};
const canonicalJsonFast = ${canonicalJsonFast.toString()};
const lone = ${loneSurrogatePattern.toString()};
const entryHashInput = ${entryHashInput.toString()};
const sha256 = (text) => hash('sha256', text, 'hex');
const bytes = Buffer.from(workerData.bytes.buffer, workerData.bytes.byteOffset, workerData.bytes.byteLength);
const fileSha256 = {};
const fileCrc32 = {};
let chain = null;
let packetJson = null;
for (const [path, offset, length] of workerData.files) {
  const data = bytes.subarray(offset, offset + length);
  fileSha256[path] = hash('sha256', data, 'hex');
  fileCrc32[path] = crc32(data);
  if (path === workerData.chainPath) chain = data.toString('utf8').replace(/\\n$/, '');
  if (path === 'packet.json') packetJson = data.toString('utf8');
}
const badLines = [];
let lines = 0;
if (chain !== null && chain.length > 0) {
  let start = 0;
  for (;;) {
    let end = chain.indexOf('\\n', start);
    if (end < 0) end = chain.length;
    const line = chain.slice(start, end);
    let problem = null;
    problem = chainLineProblem(line, null, Number.MAX_SAFE_INTEGER, sha256, entryHashInput);
    if (problem !== null) badLines.push([lines, problem]);
    lines++;
    if (end >= chain.length) break;
    start = end + 1;
  }
}
// The content hashes of packet.json (the calling thread skips them): a proposal's and a signed content's.
let contentHashesOk = packetJson !== null;
try {
  const content = contentHashesOk ? JSON.parse(packetJson) : {};
  const hashOf = (value) => {
    const text = canonicalJsonFast(value, lone);
    return text === undefined ? null : sha256(text);
  };
  for (const r of content.stagingRecords ?? []) {
    if (hashOf(r.proposedState) !== r.proposedStateSha256) contentHashesOk = false;
    for (const s of r.signatures ?? [])
      if (s.signingContent && hashOf(s.signingContent) !== s.contentHash) contentHashesOk = false;
  }
} catch {
  contentHashesOk = false;
}
parentPort.postMessage({ packetSha256: hash('sha256', bytes, 'hex'), fileSha256, fileCrc32, contentHashesOk, badLines, lines });
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

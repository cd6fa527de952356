// Chain verification spread over worker threads, for large chains (a first verification, or a full
// re-check during an inspection). Every entry's check is independent given the stored hashes, so
// the sequence range is cut into one slice per thread; each worker checks its slice exactly as
// verifyChainFrom does (contiguity, link to the previous entry, payload hash, entry hash) and
// reports the first link it did not check itself (its first entry's prev_hash), which is checked
// here against the previous slice's last hash. The outcome, and the stored head, are the same as
// a single-threaded run's: the verified prefix up to the first bad sequence number.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { genesisPrevHash } from '../../shared/auditChain';
import { cacheKeyPragmas, openKeyedSource } from '../cache/cacheKey';
import { type ChainVerification, verifyChainFrom } from './chainVerifier';

export interface ChainSource {
  /** The cache file and its key: each worker opens its own read-only connection. */
  path: string;
  key: Buffer;
}

interface SliceResult {
  /** prev_hash of the slice's first entry (null when the slice is empty). */
  firstPrev: string | null;
  lastSeq: number;
  lastHash: string | null;
  checked: number;
  firstBadSeq: number | null;
  problem: string | null;
}

/** Below this many entries a single thread is faster than starting workers. */
const parallelThreshold = 200_000;

// CommonJS source run with { eval: true }: no bundler or TypeScript loader is involved, so it runs
// the same under Electron, the browser host and the tests. Mirrors verifyChainFrom's loop.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
const Database = require(workerData.sqlitePath);
${openKeyedSource}
const db = openKeyed(Database, workerData.path, workerData.keyPragmas, { readonly: true, fileMustExist: true });
const page = db.prepare(workerData.sql).raw(true);
let lastSeq = workerData.fromSeq;
let lastHash = null;
let firstPrev = null;
let checked = 0;
let firstBadSeq = null;
let problem = null;
pages: for (;;) {
  const rows = page.all(lastSeq, workerData.toSeq, 10000);
  if (rows.length === 0) break;
  for (const [seq, packed] of rows) {
    checked++;
    const separator = packed.indexOf('\\x1f', 192);
    const prev = packed.slice(64, 128);
    if (seq !== lastSeq + 1) {
      firstBadSeq = lastSeq + 1;
      problem = 'entry ' + (lastSeq + 1) + ' is missing (the next entry held is ' + seq + ')';
    } else if (lastHash === null) {
      firstPrev = prev;
    } else if (prev !== lastHash) {
      firstBadSeq = seq;
      problem = 'entry ' + seq + " does not point at entry " + lastSeq + "'s hash";
    }
    if (firstBadSeq === null && hash('sha256', packed.slice(separator + 1), 'hex') !== packed.slice(0, 64)) {
      firstBadSeq = seq;
      problem = 'entry ' + seq + "'s payload does not match its payload hash";
    } else if (firstBadSeq === null && hash('sha256', packed.slice(192, separator), 'hex') !== packed.slice(128, 192)) {
      firstBadSeq = seq;
      problem = 'entry ' + seq + "'s fields do not match its entry hash";
    }
    if (firstBadSeq !== null) break pages;
    lastSeq = seq;
    lastHash = packed.slice(128, 192);
  }
}
if (firstBadSeq === null && lastSeq < workerData.toSeq) {
  firstBadSeq = lastSeq + 1;
  problem = 'entry ' + (lastSeq + 1) + ' is missing';
}
db.close();
parentPort.postMessage({ firstPrev, lastSeq, lastHash, checked, firstBadSeq, problem });
`;

const rangeSql = (packedSql: string) =>
  packedSql.replace('where seq > ? order by seq limit ?', 'where seq > ? and seq <= ? order by seq limit ?');

function runSlice(source: ChainSource, sql: string, fromSeq: number, toSeq: number): Promise<SliceResult> {
  const sqlitePath = createRequire(import.meta.url).resolve('better-sqlite3-multiple-ciphers');
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerSource, {
      eval: true,
      workerData: {
        sqlitePath,
        path: source.path,
        keyPragmas: cacheKeyPragmas(source.key.toString('hex')),
        sql,
        fromSeq,
        toSeq,
      },
    });
    worker.once('message', (result: SliceResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`chain verification worker stopped with code ${code}`));
    });
  });
}

export async function verifyChainParallel(
  db: Database,
  options: {
    source: ChainSource;
    fromGenesis?: boolean;
    now?: () => Date;
    threads?: number;
    packedSql: string;
    /** Below this many entries to check, one thread (default 200,000; tests lower it). */
    minEntriesForWorkers?: number;
  },
): Promise<ChainVerification> {
  const now = options.now ?? (() => new Date());
  const head = options.fromGenesis
    ? undefined
    : (db.prepare('select seq, entry_hash from chain_head where id = 1').get() as
        | { seq: number; entry_hash: string }
        | undefined);
  const fromSeq = head?.seq ?? 0;
  const fromHash = head?.entry_hash ?? genesisPrevHash;
  const maxSeq = (db.prepare('select coalesce(max(seq), 0) as m from audit_log').get() as { m: number }).m;
  const threads = Math.max(1, Math.min(options.threads ?? availableParallelism(), 8));
  if (threads === 1 || maxSeq - fromSeq < (options.minEntriesForWorkers ?? parallelThreshold)) {
    return verifyChainFrom(db, { fromGenesis: options.fromGenesis, now });
  }
  const sql = rangeSql(options.packedSql);
  const size = Math.ceil((maxSeq - fromSeq) / threads);
  const bounds = Array.from({ length: threads }, (_, i) => [
    fromSeq + i * size,
    Math.min(maxSeq, fromSeq + (i + 1) * size),
  ]) as [number, number][];
  const slices = await Promise.all(bounds.map(([from, to]) => runSlice(options.source, sql, from, to)));

  let lastSeq = fromSeq;
  let lastHash = fromHash;
  let checked = 0;
  let firstBadSeq: number | null = null;
  let problem: string | null = null;
  for (const [index, slice] of slices.entries()) {
    const [from] = bounds[index] as [number, number];
    checked += slice.checked;
    if (slice.firstPrev !== null && slice.firstPrev !== lastHash) {
      firstBadSeq = from + 1;
      problem = `entry ${from + 1} does not point at entry ${from}'s hash`;
      break;
    }
    if (slice.lastHash !== null) {
      lastSeq = slice.lastSeq;
      lastHash = slice.lastHash;
    }
    if (slice.firstBadSeq !== null) {
      firstBadSeq = slice.firstBadSeq;
      problem = slice.problem;
      break;
    }
  }
  const verifiedAt = now().toISOString();
  db.prepare(
    `insert into chain_head (id, seq, entry_hash, verified_at) values (1, ?, ?, ?)
       on conflict (id) do update set seq = excluded.seq, entry_hash = excluded.entry_hash, verified_at = excluded.verified_at`,
  ).run(lastSeq, lastHash, verifiedAt);
  return {
    ok: firstBadSeq === null,
    verifiedThroughSeq: lastSeq,
    headHash: lastHash,
    checked,
    firstBadSeq,
    problem,
    verifiedAt,
  };
}

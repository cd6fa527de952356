// Cosigning checkpoints after a sync whose chain verified (issue 24, docs/checkpoints.md), and
// catching a rewrite of history by a privileged operator (triggers disabled, every hash recomputed
// from a changed row to the head).
//
// After each verified sync, online:
//  1. Every cosignature in the cache (this workstation's and the others') at a tree size up to the
//     verified head is checked: its Ed25519 signature (one that does not verify is ignored, never
//     trusted), then its root against this cache's tree at that size. A good cosignature whose root
//     differs means the log this cache verified is not the log
//     that was cosigned: "history rewritten". The root commits to every entry up to its size; the
//     subject map is a function of those entries, so at an equal root it cannot differ by a rewrite.
//     Measured on a 100,004-entry cache: rootAt 11 ms, subjectRootAt 331 ms (a scan of the map, so
//     about 3 s at 1,000,000), hence the subject root only where it is needed.
//  2. The server's entry hash at the verified head and at the latest sizes this key cosigned is
//     compared with the cache's. The pull is keyed by seq, so a rewrite of rows the cache already
//     holds never arrives by itself; a recomputed chain changes the entry hash of every row from the
//     changed one to the head, so this catches it before (and without) any new entry.
//  3. Unless history was found rewritten (then nothing more is cosigned by this workstation, the
//     status says so and stays, and the log line carries no data), the current checkpoint is
//     cosigned, and so are checkpoints other keys cosigned at smaller sizes that match this cache
//     (root and subject root) and this key has not cosigned, at most two sizes a sync, newest first
//     (each costs a subject-map scan; the head's cosignature vouches for every earlier size anyway,
//     through consistency proofs). The server's write is idempotent: a resend is safe.
// Offline nothing is sent (no server writes); step 1 needs no server and runs at export time too.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { rootAt, subjectRootAt } from '../cache/auditTree';
import { writeMeta } from '../sync/pullEngine';
import { auditLogStream } from '../sync/streamDefinitions';
import type { SyncServer } from '../sync/syncServer';
import { type CosignatureRow, cachedCosignatures, cosignatureOf } from './cachedCosignatures';
import type { Checkpoint, Cosignature, Ed25519Signer } from './checkpoint';
import { cosignatureSigningInput } from './checkpoint';
import { checkpointOfCosignature, cosignatureProblem } from './cosignatureCheck';

export { cachedCosignatures };

/** The cache's Merkle tree at a size up to its verified head. */
export interface TreeAt {
  rootAt(size: number): string;
  subjectRootAt(size: number): string;
  checkpointAt(size: number): Checkpoint | null;
}

/** The cache's own tree (auditTree.ts: stored nodes, O(log n) reads per root), memoised per size. */
export function cacheTreeAt(db: Database): TreeAt {
  const roots = new Map<number, string>();
  const subjectRoots = new Map<number, string>();
  const memo = (map: Map<number, string>, size: number, compute: () => string) => {
    let value = map.get(size);
    if (value === undefined) {
      value = compute();
      map.set(size, value);
    }
    return value;
  };
  const tree: TreeAt = {
    rootAt: (size) => memo(roots, size, () => rootAt(db, size)),
    subjectRootAt: (size) => memo(subjectRoots, size, () => subjectRootAt(db, size)),
    checkpointAt: (size) =>
      size < 1
        ? null
        : { treeSize: size, rootHash: tree.rootAt(size), subjectRoot: tree.subjectRootAt(size) },
  };
  return tree;
}

/** Sizes below the head whose others' checkpoints one sync cosigns (a subject-map scan each). */
const otherSizesPerSync = 2;

export interface CheckpointStatus {
  state: 'none' | 'cosigned' | 'rewritten';
  /** The checkpoint this workstation last cosigned (or found), null when none. */
  treeSize: number | null;
  /** How many distinct keys cosigned that checkpoint (verified). */
  cosigners: number;
  /** Worded for the person; set when history was found rewritten. */
  problem: string | null;
}

const rewrittenMeta = 'checkpoint_history_rewritten';
/** How many of this key's latest cosigned sizes step 2 asks the server about (plus the head). */
const ownSizesChecked = 8;

/** The problem a person sees once history was found rewritten (kept until the cache is rebuilt). */
export function historyRewritten(db: Database): string | null {
  const row = db.prepare('select value from sync_meta where name = ?').get(rewrittenMeta) as
    | { value: string }
    | undefined;
  return row?.value ?? null;
}

/**
 * Step 1 alone (no server): the first good cosignature at a size up to `head` whose root this
 * cache's tree contradicts, as a message naming its tree size and key, or null. With `mark`, only
 * rows not checked before are read, and those found consistent are marked (cache column `checked`):
 * the cache's entries up to a verified head never change, so a cosignature once found consistent
 * stays so until its row or the log is pulled anew.
 */
export function contradictedCosignature(
  db: Database,
  tree: TreeAt,
  head: number,
  mark = false,
): string | null {
  const rows = db
    .prepare(
      `select rowid as row_number, * from checkpoint_cosignature where tree_size <= ? ${mark ? 'and checked = 0' : ''}
        order by tree_size, key_fingerprint`,
    )
    .all(head) as (CosignatureRow & { row_number: number })[];
  const checked: number[] = [];
  for (const row of rows) {
    const c = cosignatureOf(row, null);
    if (cosignatureProblem(c) !== null) continue; // forged or damaged: never trusted, never counted
    if (tree.rootAt(c.treeSize) !== c.rootHash) {
      return (
        'History rewritten: the audit log this workstation verified does not match the checkpoint at tree size ' +
        `${c.treeSize} cosigned by key ${c.keyFingerprint.slice(0, 16)} (the root differs). ` +
        'Nothing more is cosigned here; tell your quality lead.'
      );
    }
    checked.push(row.row_number);
  }
  if (mark) {
    const update = db.prepare('update checkpoint_cosignature set checked = 1 where rowid = ?');
    db.transaction(() => {
      for (const rowid of checked) update.run(rowid);
    })();
  }
  return null;
}

export interface CosignOptions {
  db: Database;
  server: SyncServer;
  /** Default: the cache's own tree (cacheTreeAt). */
  tree?: TreeAt;
  signer: Ed25519Signer;
  userId: string;
  /** The chain verification of this sync: its verified head, and whether it verified to the end. */
  chain: { ok: boolean; verifiedThroughSeq: number };
  now: () => Date;
  log: (line: string) => void;
}

/**
 * Steps 1-3 above; returns the status to show. Steps 1 and 2 run even when the chain did not verify
 * to the end (entries that arrived after a rewrite do not link to the cache's head), so the reason
 * is named; nothing is cosigned then. Throws only what the server's transport throws.
 */
export async function cosignAfterVerifiedSync(
  options: CosignOptions,
): Promise<CheckpointStatus & { sent: number }> {
  const { db, server, signer, userId, chain, now, log } = options;
  const tree = options.tree ?? cacheTreeAt(db);
  const verifiedHead = chain.verifiedThroughSeq;
  const already = historyRewritten(db);
  if (already) return { state: 'rewritten', treeSize: null, cosigners: 0, problem: already, sent: 0 };
  if (verifiedHead < 1) return { state: 'none', treeSize: null, cosigners: 0, problem: null, sent: 0 };

  const rewritten = (problem: string, treeSize: number | null) => {
    writeMeta(db, rewrittenMeta, problem);
    log(`countersign checkpoint: history rewritten (tree size ${treeSize ?? 'unknown'}); cosigning stopped`);
    return { state: 'rewritten' as const, treeSize, cosigners: 0, problem, sent: 0 };
  };

  // 1. The good cosignatures up to the head not checked before, against this cache's tree. Those
  //    checked now are also the candidates of step 3.
  const arrived = db
    .prepare(
      'select * from checkpoint_cosignature where tree_size < ? and checked = 0 order by tree_size desc',
    )
    .all(verifiedHead) as CosignatureRow[];
  const contradiction = contradictedCosignature(db, tree, verifiedHead, true);
  if (contradiction) return rewritten(contradiction, null);

  // 2. The server's entry hashes at the head and at this key's latest cosigned sizes.
  const ownSizes = (
    db
      .prepare(
        `select distinct tree_size from checkpoint_cosignature where key_fingerprint = ? and tree_size <= ?
          order by tree_size desc limit ?`,
      )
      .all(signer.keyFingerprint, verifiedHead, ownSizesChecked) as { tree_size: number }[]
  ).map((r) => r.tree_size);
  const cachedHash = db.prepare('select entry_hash from audit_log where seq = ?').pluck();
  for (const size of [verifiedHead, ...ownSizes.filter((s) => s !== verifiedHead)]) {
    const page = await server.page(
      auditLogStream,
      { lastXid: '0', lastKey: String(size - 1), initialBelow: null },
      1,
    );
    const serverRow = page[0] as { seq?: string; entry_hash?: string } | undefined;
    const cached = cachedHash.get(size) as string | undefined;
    if (!serverRow || Number(serverRow.seq) !== size || serverRow.entry_hash !== cached) {
      return rewritten(
        `History rewritten: the server's audit entry ${size} no longer has the hash this workstation verified` +
          `${ownSizes.includes(size) ? ' and cosigned' : ''}. Nothing more is cosigned here; tell your quality lead.`,
        size,
      );
    }
  }

  if (!chain.ok) return { state: 'none', treeSize: null, cosigners: 0, problem: null, sent: 0 };

  // 3. Cosign the current checkpoint, and others' matching checkpoints (arrived since the last check)
  //    this key has not cosigned, a few sizes a sync.
  const current = tree.checkpointAt(verifiedHead);
  if (!current) return { state: 'none', treeSize: null, cosigners: 0, problem: null, sent: 0 };
  const mineAlready = new Set(
    (
      db
        .prepare(
          'select tree_size, root_hash, subject_root from checkpoint_cosignature where key_fingerprint = ?',
        )
        .all(signer.keyFingerprint) as { tree_size: number; root_hash: string; subject_root: string }[]
    ).map((r) => `${r.tree_size}/${r.root_hash}/${r.subject_root}`),
  );
  const wanted = new Map<string, Checkpoint>();
  const key = (c: Checkpoint) => `${c.treeSize}/${c.rootHash}/${c.subjectRoot}`;
  wanted.set(key(current), current);
  const sizes = new Set<number>();
  for (const row of arrived) {
    const c = cosignatureOf(row, null);
    if (mineAlready.has(key(c)) || cosignatureProblem(c) !== null) continue;
    if (!sizes.has(c.treeSize) && sizes.size >= otherSizesPerSync) continue;
    sizes.add(c.treeSize);
    // The root matched in step 1; the subject map must too before this key vouches for it.
    if (tree.subjectRootAt(c.treeSize) === c.subjectRoot) wanted.set(key(c), checkpointOfCosignature(c));
    else
      log(
        `countersign checkpoint: a cosignature at tree size ${c.treeSize} disagrees on the subject map; not cosigned`,
      );
  }
  let sent = 0;
  for (const [k, checkpoint] of wanted) {
    if (mineAlready.has(k) || !server.submitCosignature) continue;
    const cosignature = cosign(checkpoint, signer, userId, now());
    await server.submitCosignature(cosignature);
    sent++;
  }
  if (sent > 0) log(`countersign checkpoint: ${sent} checkpoint(s) cosigned, head ${verifiedHead}`);
  const cosigners = new Set(cachedCosignatures(db, current).map((c) => c.keyFingerprint));
  cosigners.add(signer.keyFingerprint);
  return { state: 'cosigned', treeSize: current.treeSize, cosigners: cosigners.size, problem: null, sent };
}

/** This workstation's cosignature of a checkpoint. */
export function cosign(checkpoint: Checkpoint, signer: Ed25519Signer, userId: string, at: Date): Cosignature {
  const unsigned = {
    treeSize: checkpoint.treeSize,
    rootHash: checkpoint.rootHash,
    subjectRoot: checkpoint.subjectRoot,
    cosignedAt: at.toISOString(),
    userId,
    publicKey: signer.publicKey,
    keyFingerprint: signer.keyFingerprint,
  };
  return { ...unsigned, printedName: null, signature: signer.sign(cosignatureSigningInput(unsigned)) };
}

// The RFC 9162 tree over the cache's VERIFIED audit_log (leaf i = entry_hash of seq i + 1) and its
// subject map (src/main/checkpoint/auditSubjects.ts), kept in cache tables (migration 0012_audit_tree) and
// advanced incrementally: a sync advances it right after it verifies the chain (SyncService; kept out
// of the verifiers, so that a chain check costs the check alone: with it, chain.verify fell from 0.79
// to 0.06 of raw hashing), and every read here advances first, so the tree always reaches exactly
// the verified head. Perfect
// subtrees of ≥ 256 leaves are stored; smaller ranges are recomputed from one 256-entry block read by
// seq range, so a root or a proof at any size costs O(log n) indexed reads, whatever the chain length.
// A head that moved back (a fromGenesis verification that failed, a reset stream) or an entry hash
// that changed under the tree rebuilds it from entry 1.
//
// Only a cache whose audit_log is contiguous from seq 1 has a tree (QA, inspector and administrator
// caches); anything else is refused with AuditTreeError.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import {
  type AuditSubject,
  auditSubjectsOf,
  mayHaveSubject,
  subjectLeafHashOfList,
} from '../checkpoint/auditSubjects';
import type { Checkpoint } from '../checkpoint/checkpoint';
import {
  consistencyPath,
  inclusionRanges,
  leafHash,
  memoryTree,
  nodeHash,
  rootOf,
  type SubtreeHash,
  type SubtreeRange,
  subtreesFromPerfect,
} from '../checkpoint/merkleTree';

export class AuditTreeError extends Error {
  override name = 'AuditTreeError';
}

/** log2 of the smallest stored subtree: 256 leaves. */
const storedLevel = 8;
const blockSize = 2 ** storedLevel;
/** Leaves read per page while advancing (a multiple of blockSize). */
const pageSize = 64 * blockSize;

interface TreeState {
  size: number;
  head_hash: string;
  subject_root_size: number | null;
  subject_root: string | null;
}

function readState(db: Database): TreeState {
  return (
    (db
      .prepare('select size, head_hash, subject_root_size, subject_root from audit_tree_state where id = 1')
      .get() as TreeState | undefined) ?? {
      size: 0,
      head_hash: '',
      subject_root_size: null,
      subject_root: null,
    }
  );
}

function verifiedHead(db: Database): { seq: number; entryHash: string } {
  const head = db.prepare('select seq, entry_hash from chain_head where id = 1').get() as
    | { seq: number; entry_hash: string }
    | undefined;
  return { seq: head?.seq ?? 0, entryHash: head?.entry_hash ?? '' };
}

function notContiguous(expected: number, found: number | undefined): AuditTreeError {
  return new AuditTreeError(
    found === undefined
      ? `The cached audit log has no entry ${expected}: a checkpoint needs the whole chain from entry 1 (QA, inspector and administrator caches hold it).`
      : `The cached audit log is not contiguous from entry 1 (entry ${expected} is missing, the next held is ${found}); a checkpoint needs the whole chain.`,
  );
}

/** Entry hashes of seqs from+1 .. to, as leaf hashes, refusing a gap. */
function leafHashesBetween(db: Database, from: number, to: number): Buffer[] {
  const rows = db
    .prepare('select seq, entry_hash from audit_log where seq > ? and seq <= ? order by seq')
    .raw(true)
    .all(from, to) as [number, string][];
  const leaves: Buffer[] = [];
  let expected = from + 1;
  for (const [seq, entryHash] of rows) {
    if (seq !== expected) throw notContiguous(expected, seq);
    leaves.push(leafHash(Buffer.from(entryHash, 'hex')));
    expected++;
  }
  if (expected !== to + 1) throw notContiguous(expected, undefined);
  return leaves;
}

function resetTree(db: Database): void {
  db.prepare('delete from audit_tree_node').run();
  db.prepare('delete from audit_subject').run();
  db.prepare('delete from audit_subject_leaf').run();
  db.prepare('delete from audit_tree_state').run();
}

/**
 * Brings the stored tree and subject map to the verified head (chain_head). Cheap when nothing is
 * new (two point reads). Returns the tree size.
 */
export function advanceAuditTree(db: Database): number {
  return db.transaction(() => {
    const head = verifiedHead(db);
    let state = readState(db);
    if (state.size > head.seq || (state.size > 0 && storedHashAt(db, state.size) !== state.head_hash)) {
      resetTree(db);
      state = readState(db);
    }
    if (state.size === head.seq) return state.size;
    extend(db, state.size, head.seq);
    const headHash = storedHashAt(db, head.seq);
    db.prepare(
      `insert into audit_tree_state (id, size, head_hash, subject_root_size, subject_root) values (1, ?, ?, null, null)
         on conflict (id) do update set size = excluded.size, head_hash = excluded.head_hash`,
    ).run(head.seq, headHash);
    return head.seq;
  })();
}

function storedHashAt(db: Database, seq: number): string | undefined {
  return (
    db.prepare('select entry_hash from audit_log where seq = ?').get(seq) as
      | { entry_hash: string }
      | undefined
  )?.entry_hash;
}

function extend(db: Database, from: number, to: number): void {
  const insertNode = db.prepare('insert or replace into audit_tree_node (level, idx, hash) values (?, ?, ?)');
  const getNode = db.prepare('select hash from audit_tree_node where level = ? and idx = ?').pluck();
  const insertSubject = db.prepare('insert or ignore into audit_subject (subject, seq) values (?, ?)');
  const touched = new Set<string>();
  const entries = db
    .prepare(
      'select seq, entry_hash, event_type, payload from audit_log where seq > ? and seq <= ? order by seq',
    )
    .raw(true);

  // Leaves are re-read from the start of the block the old size ended in; subjects only past it.
  const firstBlock = Math.floor(from / blockSize);
  for (let pageStart = firstBlock * blockSize; pageStart < to; pageStart += pageSize) {
    const pageEnd = Math.min(to, pageStart + pageSize);
    const rows = entries.all(pageStart, pageEnd) as [number, string, string, string][];
    const leaves: Buffer[] = [];
    let expected = pageStart + 1;
    for (const [seq, entryHash, eventType, payload] of rows) {
      if (seq !== expected) throw notContiguous(expected, seq);
      expected++;
      leaves.push(leafHash(Buffer.from(entryHash, 'hex')));
      if (seq > from && mayHaveSubject(eventType)) {
        for (const subject of auditSubjectsOf(eventType, JSON.parse(payload) as Record<string, unknown>)) {
          insertSubject.run(subject, seq);
          touched.add(subject);
        }
      }
    }
    if (expected !== pageEnd + 1) throw notContiguous(expected, undefined);
    for (let b = 0; (b + 1) * blockSize <= leaves.length; b++) {
      const block = memoryTree(leaves.slice(b * blockSize, (b + 1) * blockSize));
      insertNode.run(storedLevel, pageStart / blockSize + b, block.root);
    }
  }
  // Each subject with new entries gets its map leaf at the new size.
  const seqsOf = db
    .prepare(`select group_concat(seq, ',' order by seq) from audit_subject where subject = ?`)
    .pluck();
  const insertLeaf = db.prepare('insert or replace into audit_subject_leaf (subject, hash) values (?, ?)');
  for (const subject of touched)
    insertLeaf.run(subject, subjectLeafHashOfList(subject, seqsOf.get(subject) as string));
  // Higher levels from the two children, for every node newly complete.
  for (let level = storedLevel + 1; 2 ** level <= to; level++) {
    const width = 2 ** level;
    for (let idx = Math.floor(from / width); (idx + 1) * width <= to; idx++) {
      const left = getNode.get(level - 1, 2 * idx) as Buffer | undefined;
      const right = getNode.get(level - 1, 2 * idx + 1) as Buffer | undefined;
      if (!left || !right)
        throw new AuditTreeError(`the stored audit tree lacks a node below level ${level}`);
      insertNode.run(level, idx, nodeHash(left, right));
    }
  }
}

/**
 * MTH over any range within the first `size` leaves (size ≤ the tree's size): stored nodes for
 * perfect ranges of ≥ 256 leaves, one block read (memoised) for smaller ones.
 */
export function auditSubtrees(db: Database, size: number): SubtreeHash {
  const getNode = db.prepare('select hash from audit_tree_node where level = ? and idx = ?').pluck();
  const blocks = new Map<number, ReturnType<typeof memoryTree>>();
  const blockOf = (index: number) => {
    let block = blocks.get(index);
    if (!block) {
      if (blocks.size > 64) blocks.clear();
      const start = index * blockSize;
      block = memoryTree(leafHashesBetween(db, start, Math.min(size, start + blockSize)));
      blocks.set(index, block);
    }
    return block;
  };
  return subtreesFromPerfect((start, width) => {
    if (start + width > size)
      throw new AuditTreeError(`subtree [${start}, ${start + width}) beyond tree size ${size}`);
    if (width >= blockSize) {
      const node = getNode.get(Math.log2(width), start / width) as Buffer | undefined;
      if (!node) throw new AuditTreeError(`the stored audit tree lacks subtree [${start}, ${start + width})`);
      return node;
    }
    const block = Math.floor(start / blockSize);
    const offset = start - block * blockSize;
    return blockOf(block).subtree(offset, offset + width);
  });
}

function checkSize(db: Database, size: number, name = 'tree size'): number {
  const treeSize = advanceAuditTree(db);
  if (!Number.isSafeInteger(size) || size < 0 || size > treeSize) {
    throw new AuditTreeError(`${name} ${size} is beyond the verified audit log (${treeSize} entries)`);
  }
  return treeSize;
}

/** The tree size: the verified head (after advancing to it). */
export function auditTreeSize(db: Database): number {
  return advanceAuditTree(db);
}

/** RFC 9162 root at size (≤ the verified head), lowercase hex. */
export function rootAt(db: Database, size: number): string {
  checkSize(db, size);
  return rootOf(size, auditSubtrees(db, size)).toString('hex');
}

export interface InclusionProof {
  /** 0-based leaf index: seq - 1. */
  leafIndex: number;
  treeSize: number;
  /** The subtree ranges of the path, leaf side first, and their hashes (hex). */
  ranges: SubtreeRange[];
  path: string[];
}

/** The inclusion proof of entry seq in the tree of size (seq ≤ size ≤ the verified head). */
export function inclusionProof(db: Database, seq: number, size: number): InclusionProof {
  checkSize(db, size);
  if (!Number.isSafeInteger(seq) || seq < 1 || seq > size) {
    throw new AuditTreeError(`entry ${seq} is not within a tree of ${size} entries`);
  }
  const subtree = auditSubtrees(db, size);
  const ranges = inclusionRanges(seq - 1, size);
  return {
    leafIndex: seq - 1,
    treeSize: size,
    ranges,
    path: ranges.map(([s, e]) => subtree(s, e).toString('hex')),
  };
}

/** The consistency proof from size oldSize to newSize (1 ≤ oldSize ≤ newSize ≤ the verified head), hex. */
export function consistencyProof(db: Database, oldSize: number, newSize: number): string[] {
  checkSize(db, newSize);
  if (!Number.isSafeInteger(oldSize) || oldSize < 1 || oldSize > newSize) {
    throw new AuditTreeError(`no consistency proof from size ${oldSize} to ${newSize}`);
  }
  return consistencyPath(oldSize, newSize, auditSubtrees(db, newSize)).map((h) => h.toString('hex'));
}

export interface SubjectMap {
  treeSize: number;
  /** Root of the subject map, lowercase hex. */
  root: string;
  /** Number of subjects (leaves of the map). */
  count: number;
  /** The map's tree, for inclusion proofs of its leaves. */
  subtree: SubtreeHash;
  /** Leaf index and seqs of the subjects asked for (those with entries up to treeSize). */
  leaves: Map<string, { index: number; seqs: number[] }>;
}

/** The map's tree over its leaf hashes (in subject order), with the leaves asked for. */
function subjectMapOf(
  size: number,
  hashes: Buffer[],
  leaves: Map<string, { index: number; seqs: number[] }>,
): SubjectMap {
  const tree = memoryTree(hashes);
  return {
    treeSize: size,
    root: tree.root.toString('hex'),
    count: hashes.length,
    subtree: tree.subtree,
    leaves,
  };
}

/**
 * The subject map at size: every subject with the sorted seqs ≤ size about it, in subject order, as an
 * RFC 9162 tree (one indexed scan of audit_subject). `wanted` names the subjects whose leaves the
 * caller needs (a packet's scope).
 */
export function subjectMapAt(
  db: Database,
  size: number,
  wanted: ReadonlySet<string> = new Set(),
): SubjectMap {
  const treeSize = checkSize(db, size);
  if (size === treeSize) {
    // At the head: the stored leaf hashes, in subject order; the seqs only of the subjects asked for.
    const stored = db
      .prepare('select subject, hash from audit_subject_leaf order by subject')
      .raw(true)
      .iterate() as IterableIterator<[string, Buffer]>;
    const hashes: Buffer[] = [];
    const leaves = new Map<string, { index: number; seqs: number[] }>();
    for (const [subject, hash] of stored) {
      if (wanted.has(subject))
        leaves.set(subject, { index: hashes.length, seqs: seqsAbout(db, subject as AuditSubject, size) });
      hashes.push(hash);
    }
    return subjectMapOf(size, hashes, leaves);
  }
  // Below the head: one pass over the (subject, seq) index, aggregated by SQLite: a row per subject with its seqs in
  // order, so JavaScript builds each leaf from one string (a quarter of the rows of a per-entry scan).
  const rows = db
    .prepare(
      `select subject, group_concat(seq, ',' order by seq) from audit_subject where seq <= ?
        group by subject order by subject`,
    )
    .raw(true)
    .iterate(size) as IterableIterator<[string, string]>;
  const hashes: Buffer[] = [];
  const leaves = new Map<string, { index: number; seqs: number[] }>();
  for (const [subject, seqs] of rows) {
    if (wanted.has(subject)) leaves.set(subject, { index: hashes.length, seqs: seqs.split(',').map(Number) });
    hashes.push(subjectLeafHashOfList(subject, seqs));
  }
  return subjectMapOf(size, hashes, leaves);
}

/** The subject map's root at size, remembered for the tree's current size. */
export function subjectRootAt(db: Database, size: number): string {
  const treeSize = checkSize(db, size);
  const state = readState(db);
  if (size === treeSize && state.subject_root_size === size && state.subject_root) return state.subject_root;
  const root = subjectMapAt(db, size).root;
  if (size === treeSize) {
    db.prepare('update audit_tree_state set subject_root_size = ?, subject_root = ? where id = 1').run(
      size,
      root,
    );
  }
  return root;
}

/** The seqs ≤ size about one subject (an indexed range read). */
export function seqsAbout(db: Database, subject: AuditSubject, size: number): number[] {
  return db
    .prepare('select seq from audit_subject where subject = ? and seq <= ? order by seq')
    .pluck()
    .all(subject, size) as number[];
}

/** The checkpoint at the verified head, or null while nothing is verified. */
export function checkpointOf(db: Database): Checkpoint | null {
  const treeSize = advanceAuditTree(db);
  if (treeSize === 0) return null;
  return { treeSize, rootHash: rootAt(db, treeSize), subjectRoot: subjectRootAt(db, treeSize) };
}

// chain/proofs.json of a format 3 packet (issue 24): what lets an inspector check the packet's
// entries and their completeness without the rest of the chain:
//  - the checkpoint (tree size, RFC 9162 root of the audit log, root of the subject map);
//  - `tree`: the audit-tree nodes the inclusion proofs of the carried entries need, each once, keyed by
//    the leaf range it covers ("start-end"), so that one record's proofs are read alone
//    (inclusionRanges(seq - 1, treeSize) names the keys);
//  - `subjectMap`: each carried subject's leaf ({subject, seqs}: every entry about it up to the
//    tree size) with its index, and the subject-map nodes their inclusion proofs need, same keys;
//  - `consistency`: an RFC 9162 consistency proof from every earlier checkpoint the exporting cache
//    knows (cosigned ones), so a packet is checked against an older packet or an archived checkpoint.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { auditSubtrees, consistencyProof, type SubjectMap } from '../cache/auditTree';
import type { Checkpoint } from '../checkpoint/checkpoint';
import { inclusionRanges, rangeKey } from '../checkpoint/merkleTree';

export const proofsFormat = 'countersign.inspection-packet.proofs';

export interface SubjectLeaf {
  subject: string;
  /** 0-based leaf index in the subject map (subjects in ascending order). */
  index: number;
  seqs: number[];
}

export interface ConsistencyFrom {
  treeSize: number;
  rootHash: string;
  /** RFC 9162 PROOF(treeSize, D[0:checkpoint.treeSize]), hex. */
  path: string[];
}

export interface PacketProofs {
  format: typeof proofsFormat;
  version: 1;
  checkpoint: Checkpoint;
  tree: Record<string, string>;
  subjectMap: { count: number; leaves: SubjectLeaf[]; nodes: Record<string, string> };
  consistency: ConsistencyFrom[];
}

export function buildPacketProofs(
  db: Database,
  checkpoint: Checkpoint,
  seqs: readonly number[],
  /** The subject map at the checkpoint, with the leaves of the packet's subjects (subjectMapAt). */
  map: SubjectMap,
  earlier: readonly Checkpoint[],
): PacketProofs {
  const size = checkpoint.treeSize;
  const subtree = auditSubtrees(db, size);
  const tree: Record<string, string> = {};
  for (const seq of seqs) {
    for (const range of inclusionRanges(seq - 1, size)) {
      const key = rangeKey(range);
      if (!(key in tree)) tree[key] = subtree(range[0], range[1]).toString('hex');
    }
  }
  if (map.treeSize !== size || map.root !== checkpoint.subjectRoot) {
    throw new Error(`the subject map at size ${size} is not the checkpoint's (${map.root})`);
  }
  const leaves: SubjectLeaf[] = [];
  const nodes: Record<string, string> = {};
  for (const subject of [...map.leaves.keys()].sort()) {
    const leaf = map.leaves.get(subject);
    if (!leaf) continue;
    leaves.push({ subject, index: leaf.index, seqs: leaf.seqs });
    for (const range of inclusionRanges(leaf.index, map.count)) {
      const key = rangeKey(range);
      if (!(key in nodes)) nodes[key] = map.subtree(range[0], range[1]).toString('hex');
    }
  }
  const consistency: ConsistencyFrom[] = [];
  const seen = new Set<number>();
  for (const old of [...earlier].sort((a, b) => a.treeSize - b.treeSize)) {
    if (old.treeSize < 1 || old.treeSize >= size || seen.has(old.treeSize)) continue;
    seen.add(old.treeSize);
    consistency.push({
      treeSize: old.treeSize,
      rootHash: old.rootHash,
      path: consistencyProof(db, old.treeSize, size),
    });
  }
  return {
    format: proofsFormat,
    version: 1,
    checkpoint: { treeSize: size, rootHash: checkpoint.rootHash, subjectRoot: checkpoint.subjectRoot },
    tree,
    subjectMap: { count: map.count, leaves, nodes },
    consistency,
  };
}

// verifyPacket's checks of a format 3 packet's proofs (issue 24), from the packet's bytes alone:
//  - manifest.sig: the exporter's Ed25519 signature of manifest.json, by a key that cosigned the
//    checkpoint; every cosignature of the checkpoint (packet.json cover.checkpoint) verified;
//  - every carried entry (chain/audit_log.jsonl): canonical, its payload and entry hashes recomputed,
//    and included in the checkpoint's tree (RFC 9162) through the nodes of chain/proofs.json; the
//    cover's chain head is a carried entry, so the head seq and hash an inspector compares with the
//    server are bound to the root;
//  - completeness: each record's (and build's) subject-map leaf is in the cosigned subject map, and
//    every seq the leaf lists is carried: an entry removed from the packet is named;
//  - each consistency proof from an earlier checkpoint.
// All carried entries are checked against the root at once (each node hashed once: the union of
// their RFC 9162 inclusion paths); only when that fails is each entry's own path verified, to name
// the ones that fail. Hostile input gives a named problem, never a throw.
import { hash } from 'node:crypto';
import { auditSubjectsOf, subjectLeafHash } from '../checkpoint/auditSubjects';
import { type Checkpoint, type Cosignature, cosignatureSigningInput } from '../checkpoint/checkpoint';
import { verifyEd25519 } from '../checkpoint/ed25519Signer';
import {
  consistencyProblem,
  hashFromHex,
  inclusionProblem,
  inclusionRanges,
  leafHash,
  nodeHash,
  rangeKey,
  splitPoint,
} from '../checkpoint/merkleTree';
import { entryHashInput } from '../sync/chainVerifier';
import { type ChainLineFields, chainLineProblem, sha256Text } from './chainLineCheck';
import type { PacketContent } from './packetContent';
import {
  chainFilePath,
  type ManifestSignature,
  manifestSignatureFormat,
  manifestSignaturePath,
  type PacketManifest,
  proofsFilePath,
} from './packetManifest';
import type { PacketProofs, SubjectLeaf } from './packetProofs';

/** A carried audit entry, as its chain line gives it. */
export type ChainEntry = ChainLineFields;

export interface CosignatureCheck {
  keyFingerprint: string;
  userId: string;
  printedName: string | null;
  cosignedAt: string;
  ok: boolean;
}

export interface ProofsReport {
  checkpoint: Checkpoint | null;
  /** The key that signed the manifest (and, when ok, cosigned the checkpoint). */
  exporterKey: string | null;
  cosignatures: CosignatureCheck[];
  /** Carried entries whose hashes recompute and which are included in the checkpoint's tree. */
  entriesProven: number;
  /** Subject-map leaves proven in the cosigned subject map. */
  subjectsProven: number;
  /** Records (and builds) whose every entry up to the checkpoint is carried. */
  recordsComplete: number;
  consistency: { treeSize: number; rootHash: string; ok: boolean }[];
}

type Problem = (where: string, what: string) => void;

const sha256 = (data: string | Buffer) => hash('sha256', data, 'hex');

const isHex64 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;

function checkpointOfValue(value: unknown): Checkpoint | null {
  if (!value || typeof value !== 'object') return null;
  const c = value as Record<string, unknown>;
  if (!isSize(c.treeSize) || !isHex64(c.rootHash) || !isHex64(c.subjectRoot)) return null;
  return { treeSize: c.treeSize, rootHash: c.rootHash, subjectRoot: c.subjectRoot };
}

function sameCheckpoint(a: Checkpoint, b: Checkpoint): boolean {
  return a.treeSize === b.treeSize && a.rootHash === b.rootHash && a.subjectRoot === b.subjectRoot;
}

function safeVerify(publicKey: unknown, data: Buffer, signature: unknown): boolean {
  if (typeof publicKey !== 'string' || typeof signature !== 'string') return false;
  try {
    return verifyEd25519(publicKey, data, signature);
  } catch {
    return false;
  }
}

function fingerprintOf(publicKey: string): string {
  return sha256(Buffer.from(publicKey, 'base64'));
}

export function parseJson(data: Buffer | undefined): unknown {
  if (!data) return undefined;
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** manifest.sig: who signed the manifest; null (with a problem) when it does not verify. */
export function checkManifestSignature(
  manifestData: Buffer,
  sigData: Buffer | undefined,
  problem: Problem,
): string | null {
  if (!sigData) {
    problem(
      manifestSignaturePath,
      'missing: a format 3 packet is signed by the workstation that exported it',
    );
    return null;
  }
  const sig = parseJson(sigData) as Partial<ManifestSignature> | undefined;
  if (!sig || sig.format !== manifestSignatureFormat || typeof sig.publicKey !== 'string') {
    problem(manifestSignaturePath, 'is not a manifest signature');
    return null;
  }
  if (sig.keyFingerprint !== fingerprintOf(sig.publicKey)) {
    problem(manifestSignaturePath, 'its key fingerprint is not the SHA-256 of its public key');
    return null;
  }
  if (!safeVerify(sig.publicKey, manifestData, sig.signature)) {
    problem(
      manifestSignaturePath,
      `is not a valid Ed25519 signature of manifest.json by key ${sig.keyFingerprint}`,
    );
    return null;
  }
  return sig.keyFingerprint;
}

/** Every cosignature of the checkpoint, each checked; problems name the bad ones. */
export function checkCosignatures(
  checkpoint: Checkpoint,
  cosignatures: unknown,
  problem: Problem,
): CosignatureCheck[] {
  if (!Array.isArray(cosignatures)) {
    problem('packet.json checkpoint', 'has no cosignatures');
    return [];
  }
  return cosignatures.map((value, i) => {
    const c = (value && typeof value === 'object' ? value : {}) as Partial<Cosignature>;
    const where = `packet.json checkpoint cosignature ${i + 1}`;
    const check: CosignatureCheck = {
      keyFingerprint: String(c.keyFingerprint ?? ''),
      userId: String(c.userId ?? ''),
      printedName: typeof c.printedName === 'string' ? c.printedName : null,
      cosignedAt: String(c.cosignedAt ?? ''),
      ok: false,
    };
    const own = checkpointOfValue(c);
    if (!own || !sameCheckpoint(own, checkpoint)) {
      problem(where, 'is of another checkpoint');
      return check;
    }
    if (typeof c.publicKey !== 'string' || c.keyFingerprint !== fingerprintOf(c.publicKey)) {
      problem(where, 'its key fingerprint is not the SHA-256 of its public key');
      return check;
    }
    let input: Buffer;
    try {
      input = cosignatureSigningInput(c as Cosignature);
    } catch {
      problem(where, 'is malformed');
      return check;
    }
    if (!safeVerify(c.publicKey, input, c.signature)) {
      problem(where, `is not a valid Ed25519 signature by key ${c.keyFingerprint}`);
      return check;
    }
    check.ok = true;
    return check;
  });
}

/** The hex node of proofs at range key, as 32 bytes, or null. */
function nodeOf(nodes: Record<string, unknown>, key: string): Buffer | null {
  return Object.hasOwn(nodes, key) ? hashFromHex(nodes[key]) : null;
}

/**
 * The root over `size` leaves, given the leaf hashes at some indices and the proof nodes for the
 * rest: each range with a known leaf in it is recomputed, every other range is read from the nodes.
 * Null when a node is missing. The same hashes as every leaf's RFC 9162 inclusion path, each once.
 */
export function batchRoot(
  size: number,
  leaves: Map<number, Buffer>,
  nodes: Record<string, unknown>,
): Buffer | null {
  const indices = [...leaves.keys()].sort((a, b) => a - b);
  const hasLeafIn = (start: number, end: number) => {
    // binary search for the first index >= start
    let lo = 0;
    let hi = indices.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((indices[mid] as number) < start) lo = mid + 1;
      else hi = mid;
    }
    return lo < indices.length && (indices[lo] as number) < end;
  };
  const hashOf = (start: number, end: number): Buffer | null => {
    if (!hasLeafIn(start, end)) return nodeOf(nodes, rangeKey([start, end]));
    if (end - start === 1) return leaves.get(start) ?? null;
    const k = splitPoint(end - start);
    const left = hashOf(start, start + k);
    const right = left && hashOf(start + k, end);
    return left && right ? nodeHash(left, right) : null;
  };
  return hashOf(0, size);
}

/** One leaf's RFC 9162 inclusion proof read from the nodes: null (and the problem) when it fails. */
export function leafInclusionProblem(
  index: number,
  size: number,
  leaf: Buffer,
  nodes: Record<string, unknown>,
  root: Buffer,
): string | null {
  let ranges: ReturnType<typeof inclusionRanges>;
  try {
    ranges = inclusionRanges(index, size);
  } catch {
    return `leaf ${index} is not within a tree of ${size}`;
  }
  const path: Buffer[] = [];
  for (const range of ranges) {
    const node = nodeOf(nodes, rangeKey(range));
    if (!node) return `the proof lacks node ${rangeKey(range)}`;
    path.push(node);
  }
  return inclusionProblem(index, size, leaf, path, root);
}

/**
 * A chain line parsed and, unless the line checks run in a worker (deferred), its form and hashes
 * checked (chainLineCheck.ts); the problem when it fails. Deferred, only its place in the tree is
 * checked here.
 */
export function parseChainLine(
  line: string,
  treeSize: number,
  deferred = false,
): { entry?: ChainEntry; problem?: string } {
  let entry: ChainEntry;
  try {
    entry = JSON.parse(line) as ChainEntry;
  } catch {
    return { problem: 'is not JSON' };
  }
  if (!entry || typeof entry !== 'object' || !isSize(entry.seq)) return { problem: 'has no valid seq' };
  const bad = deferred
    ? entry.seq > treeSize || entry.leaf_index !== entry.seq - 1 || typeof entry.entry_hash !== 'string'
      ? 'is not where the checkpoint has it'
      : null
    : chainLineProblem(line, entry, treeSize, sha256Text, entryHashInput);
  return bad === null ? { entry } : { entry, problem: bad };
}

export interface ProvenChain {
  /** Entries whose hashes recompute and whose inclusion in the checkpoint verified. */
  entries: Map<number, ChainEntry>;
  /** The checkpoint's size when it holds together, else 0 (nothing is bound). */
  boundSeq: number;
  lines: number;
  proofs: ProofsReport;
}

function wholeStudyScope(content: PacketContent): boolean {
  const scope = content.cover?.scope;
  return scope?.selector?.kind === 'study' && scope.from === null && scope.to === null;
}

function subjectsOfContent(content: PacketContent): { subject: string; where: string }[] {
  return [
    ...(content.stagingRecords ?? []).map((r) => ({
      subject: `staging:${r.id}`,
      where: `packet.json staging record ${r.id}`,
    })),
    ...(content.diaryRecords ?? []).map((d) => ({
      subject: `diary:${d.eventUuid}`,
      where: `packet.json diary record ${d.eventUuid}`,
    })),
    ...(Array.isArray(content.builds) ? content.builds : []).map((b) => ({
      subject: `build:${b.id}`,
      where: `packet.json build ${b.id}`,
    })),
    // A whole study (an unranged study scope): no record of it may be left out.
    ...(wholeStudyScope(content) ? (content.studies ?? []) : []).map((s) => ({
      subject: `study:${s.id}`,
      where: `packet.json study ${s.code}`,
    })),
  ];
}

/**
 * The format 3 checks (see the header). `only`: the subjects to check (verify --record); the whole
 * packet otherwise.
 */
export function checkProvenChain(
  byPath: Map<string, Buffer>,
  manifestData: Buffer,
  manifest: PacketManifest,
  content: PacketContent,
  problem: Problem,
  only?: ReadonlySet<string>,
  /** The lines' forms and hashes are checked by a worker meanwhile (verifyPacketAsync). */
  deferLineChecks = false,
): ProvenChain {
  const proofsReport: ProofsReport = {
    checkpoint: null,
    exporterKey: null,
    cosignatures: [],
    entriesProven: 0,
    subjectsProven: 0,
    recordsComplete: 0,
    consistency: [],
  };
  const result: ProvenChain = { entries: new Map(), boundSeq: 0, lines: 0, proofs: proofsReport };

  const exporterKey = checkManifestSignature(manifestData, byPath.get(manifestSignaturePath), problem);
  proofsReport.exporterKey = exporterKey;

  const checkpoint = checkpointOfValue(content.cover?.checkpoint);
  if (!checkpoint) {
    problem('packet.json checkpoint', 'is missing or malformed (a format 3 packet is proven against one)');
    return result;
  }
  proofsReport.checkpoint = checkpoint;
  const manifestCheckpoint = checkpointOfValue(manifest.checkpoint);
  if (!manifestCheckpoint || !sameCheckpoint(manifestCheckpoint, checkpoint))
    problem('manifest.json', "its checkpoint is not packet.json's");
  proofsReport.cosignatures = checkCosignatures(checkpoint, content.cover.checkpoint?.cosignatures, problem);
  if (exporterKey && !proofsReport.cosignatures.some((c) => c.ok && c.keyFingerprint === exporterKey))
    problem(
      manifestSignaturePath,
      `the key that signed the manifest (${exporterKey}) has not cosigned the checkpoint`,
    );

  const proofs = parseJson(byPath.get(proofsFilePath)) as Partial<PacketProofs> | undefined;
  if (!proofs || typeof proofs !== 'object') {
    problem(proofsFilePath, 'is missing or not JSON');
    return result;
  }
  const proofsCheckpoint = checkpointOfValue(proofs.checkpoint);
  if (!proofsCheckpoint || !sameCheckpoint(proofsCheckpoint, checkpoint))
    problem(proofsFilePath, "its checkpoint is not packet.json's");
  const tree = (proofs.tree && typeof proofs.tree === 'object' ? proofs.tree : {}) as Record<string, unknown>;
  const map = (
    proofs.subjectMap && typeof proofs.subjectMap === 'object' ? proofs.subjectMap : {}
  ) as Partial<PacketProofs['subjectMap']>;
  const root = Buffer.from(checkpoint.rootHash, 'hex');
  const subjectRoot = Buffer.from(checkpoint.subjectRoot, 'hex');

  // The carried entries.
  const text = byPath.get(chainFilePath)?.toString('utf8') ?? '';
  const lines = text.length > 0 ? (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n') : [];
  result.lines = lines.length;
  const parsed = new Map<number, ChainEntry>();
  let lastSeq = 0;
  lines.forEach((line, i) => {
    const { entry, problem: bad } = parseChainLine(line, checkpoint.treeSize, deferLineChecks);
    const at =
      entry && isSize(entry.seq) ? `${chainFilePath} seq ${entry.seq}` : `${chainFilePath} line ${i + 1}`;
    if (entry && isSize(entry.seq)) {
      if (entry.seq <= lastSeq) {
        problem(at, `is out of order (after seq ${lastSeq})`);
        return;
      }
      lastSeq = entry.seq;
    }
    if (bad || !entry) {
      problem(at, bad ?? 'is malformed');
      return;
    }
    if (only && !auditSubjectsOf(entry.event_type, entry.payload ?? {}).some((s) => only.has(s))) {
      if (entry.seq !== checkpoint.treeSize) return;
    }
    parsed.set(entry.seq, entry);
  });
  const leaves = new Map<number, Buffer>();
  for (const [seq, e] of parsed) leaves.set(seq - 1, leafHash(Buffer.from(e.entry_hash, 'hex')));
  const together = leaves.size > 0 ? batchRoot(checkpoint.treeSize, leaves, tree) : null;
  if (together?.equals(root)) {
    for (const [seq, e] of parsed) result.entries.set(seq, e);
  } else {
    for (const [seq, e] of parsed) {
      const bad = leafInclusionProblem(
        seq - 1,
        checkpoint.treeSize,
        leaves.get(seq - 1) as Buffer,
        tree,
        root,
      );
      if (bad) problem(`${chainFilePath} seq ${seq}`, `is not in the checkpoint's audit log: ${bad}`);
      else result.entries.set(seq, e);
    }
  }
  proofsReport.entriesProven = result.entries.size;

  // The head on the cover is a carried entry of the checkpoint's tree.
  const chainState = content.cover.chain;
  const head = result.entries.get(checkpoint.treeSize);
  if (chainState?.headSeq !== checkpoint.treeSize || !head || head.entry_hash !== chainState.headHash) {
    problem(
      chainFilePath,
      `the chain head on the cover (seq ${chainState?.headSeq}) is not the checkpoint's last entry`,
    );
  }

  // The subject map: the carried leaves, proven in the cosigned map.
  const count = map.count;
  const carried = new Map<string, SubjectLeaf>();
  if (!isSize(count) || !Array.isArray(map.leaves)) {
    problem(proofsFilePath, 'has no subject map');
  } else {
    const nodes = (map.nodes && typeof map.nodes === 'object' ? map.nodes : {}) as Record<string, unknown>;
    const hashes = new Map<number, Buffer>();
    const valid: SubjectLeaf[] = [];
    for (const leaf of map.leaves as unknown[]) {
      const l = (leaf && typeof leaf === 'object' ? leaf : {}) as Partial<SubjectLeaf>;
      if (
        typeof l.subject !== 'string' ||
        !Number.isSafeInteger(l.index) ||
        (l.index as number) < 0 ||
        (l.index as number) >= count ||
        !Array.isArray(l.seqs) ||
        !l.seqs.every(
          (s, i, all) => isSize(s) && s <= checkpoint.treeSize && (i === 0 || s > (all[i - 1] as number)),
        ) ||
        hashes.has(l.index as number)
      ) {
        problem(proofsFilePath, `subject-map leaf ${String(l.subject)} is malformed`);
        continue;
      }
      if (only && !only.has(l.subject)) continue;
      const leafValue = l as SubjectLeaf;
      hashes.set(leafValue.index, subjectLeafHash(leafValue.subject, leafValue.seqs));
      valid.push(leafValue);
    }
    const mapRoot = hashes.size > 0 ? batchRoot(count, hashes, nodes) : null;
    for (const leaf of valid) {
      const bad = mapRoot?.equals(subjectRoot)
        ? null
        : leafInclusionProblem(leaf.index, count, hashes.get(leaf.index) as Buffer, nodes, subjectRoot);
      if (bad)
        problem(
          proofsFilePath,
          `subject-map leaf ${leaf.subject} is not in the cosigned subject map: ${bad}`,
        );
      else carried.set(leaf.subject, leaf);
    }
    proofsReport.subjectsProven = carried.size;
  }

  // Completeness: every record's every entry up to the checkpoint is carried.
  for (const { subject, where } of subjectsOfContent(content)) {
    if (only && !only.has(subject)) continue;
    const leaf = carried.get(subject);
    if (!leaf) {
      problem(where, 'has no proven subject-map leaf, so its history cannot be shown complete');
      continue;
    }
    let complete = true;
    for (const seq of leaf.seqs) {
      if (!result.entries.has(seq)) {
        complete = false;
        problem(where, `audit entry seq ${seq} about it (subject map) is missing from the packet`);
      }
    }
    if (complete) proofsReport.recordsComplete++;
  }
  // And every carried entry about a carried subject is in that subject's leaf.
  // (A set per leaf: a whole study's leaf lists every entry of the study.)
  const leafSeqs = new Map<string, Set<number>>();
  for (const [subject, leaf] of carried) leafSeqs.set(subject, new Set(leaf.seqs));
  for (const [seq, e] of result.entries) {
    for (const subject of auditSubjectsOf(e.event_type, e.payload ?? {})) {
      const seqs = leafSeqs.get(subject);
      if (seqs && !seqs.has(seq))
        problem(`${chainFilePath} seq ${seq}`, `is about ${subject} but not in its subject-map leaf`);
    }
  }

  // Consistency from each earlier checkpoint the exporter knew.
  if (!only) {
    const consistency = Array.isArray(proofs.consistency) ? proofs.consistency : [];
    for (const c of consistency) {
      const size = (c as { treeSize?: unknown })?.treeSize;
      const rootHex = hashFromHex((c as { rootHash?: unknown })?.rootHash);
      const path = (c as { path?: unknown })?.path;
      const nodes = Array.isArray(path) ? path.map(hashFromHex) : null;
      const bad =
        !isSize(size) || !rootHex || !nodes || nodes.some((n) => n === null)
          ? 'is malformed'
          : consistencyProblem(size, checkpoint.treeSize, rootHex, root, nodes as Buffer[]);
      proofsReport.consistency.push({
        treeSize: Number(size),
        rootHash: String((c as { rootHash?: unknown })?.rootHash),
        ok: !bad,
      });
      if (bad) problem(`${proofsFilePath} consistency from ${String(size)}`, bad);
    }
  }
  result.boundSeq = checkpoint.treeSize;
  return result;
}

/** The consistency proof NEW carries from `old`; null when it carries none from old's size. */
export function consistencyFrom(
  proofs: Partial<PacketProofs> | undefined,
  old: Checkpoint,
): PacketProofs['consistency'][number] | null {
  const list = Array.isArray(proofs?.consistency) ? proofs.consistency : [];
  return list.find((c) => c && c.treeSize === old.treeSize) ?? null;
}

/** Whether `newer` extends `older` (equal sizes: equal roots), with the proof `newer` carries. */
export function consistencyProblems(
  older: Checkpoint,
  newer: Checkpoint,
  newerProofs: Partial<PacketProofs> | undefined,
  names: { older: string; newer: string },
): { where: string; what: string }[] {
  if (older.treeSize > newer.treeSize) {
    return [
      {
        where: names.older,
        what: `its checkpoint (${older.treeSize} entries) is later than ${names.newer}'s (${newer.treeSize}): give the older one first`,
      },
    ];
  }
  if (older.treeSize === newer.treeSize) {
    return older.rootHash === newer.rootHash
      ? []
      : [
          {
            where: names.newer,
            what: `the audit log was rewritten: at ${older.treeSize} entries its root is ${newer.rootHash}, ${names.older}'s is ${older.rootHash}`,
          },
        ];
  }
  const proof = consistencyFrom(newerProofs, older);
  if (!proof) {
    return [
      {
        where: names.newer,
        what: `carries no consistency proof from ${older.treeSize} entries (the size of ${names.older}'s checkpoint): export it again from a cache that knows that checkpoint`,
      },
    ];
  }
  if (proof.rootHash !== older.rootHash) {
    return [
      {
        where: names.newer,
        what: `the audit log was rewritten: ${names.newer} says the root at ${older.treeSize} entries was ${String(proof.rootHash)}, ${names.older}'s checkpoint says ${older.rootHash}`,
      },
    ];
  }
  const path = Array.isArray(proof.path) ? proof.path.map(hashFromHex) : null;
  const bad =
    !path || path.some((n) => n === null)
      ? 'the consistency proof is malformed'
      : consistencyProblem(
          older.treeSize,
          newer.treeSize,
          Buffer.from(older.rootHash, 'hex'),
          Buffer.from(newer.rootHash, 'hex'),
          path as Buffer[],
        );
  return bad
    ? [{ where: `${names.newer} ${proofsFilePath}`, what: `not consistent with ${names.older}: ${bad}` }]
    : [];
}

export { checkpointOfValue };

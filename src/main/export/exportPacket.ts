// Builds an inspection packet from the user's cache, offline, and finally runs the verifier over
// the result, so that a packet which would not verify is never handed over.
// Format 3 (issue 24): the cache's verified head (verified incrementally as entries arrive, with the
// checkpoint tree, src/main/cache/auditTree.ts) is the basis, not a pass from genesis: the packet
// carries the scope's entries with their inclusion proofs and subject-map leaves against the
// checkpoint at that head, cosigned by this workstation's key (which also signs the manifest) and by
// every workstation whose cosignature of the same checkpoint the cache holds; a known cosignature at a
// smaller size whose root is not this cache's root there means the history was rewritten, and the
// export is refused. A broken chain exported with the break flagged is still format 2: every entry
// from genesis, as before.
import { generateKeyPairSync } from 'node:crypto';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { canonicalJson } from '../../shared/canonicalJson';
import { advanceAuditTree, auditSubtrees, auditTreeSize, rootAt, subjectMapAt } from '../cache/auditTree';
import {
  type Checkpoint,
  type Cosignature,
  cosignatureSigningInput,
  type Ed25519Signer,
} from '../checkpoint/checkpoint';
import { ed25519SignerOf } from '../checkpoint/ed25519Signer';
import { leafHash, type SubtreeHash } from '../checkpoint/merkleTree';
import { type ChainVerification, entryHashInput, sha256Hex, verifyChainFrom } from '../sync/chainVerifier';
import { UserFacingError } from '../userFacingError';
import { pdfRenderer, renderCasebookPdf } from './casebookPdf';
import { renderCsvFiles } from './csvWriter';
import { renderOdm } from './odmWriter';
import {
  chainLines,
  gatherPacketContent,
  type PacketCheckpoint,
  type PacketContent,
  scopeSubjects,
} from './packetContent';
import {
  buildManifest,
  chainFilePath,
  type ManifestFile,
  manifestBytes,
  manifestSignaturePath,
  proofsFilePath,
  sha256OfBytes,
  signManifest,
} from './packetManifest';
import { buildPacketProofs } from './packetProofs';
import type { PacketScope } from './packetScope';
import { renderPdf } from './pdfWriter';
import { writeStoredZip } from './storedZip';
import { type VerifyReport, verifyPacketAsync } from './verifyPacket';

export type ExportStage = 'verifying chain' | 'gathering records' | 'rendering' | 'checking packet' | 'done';

export interface ExportProgress {
  stage: ExportStage;
  done: number;
  total: number;
}

export interface ExportOptions {
  scope: PacketScope;
  allowBrokenChain: boolean;
  generatedBy: { userId: string; printedName: string; roles: string[] };
  now?: Date;
  timeZone?: string;
  onProgress?: (progress: ExportProgress) => void;
  /** Verify the finished packet before returning it (default true). */
  selfCheck?: boolean;
  /**
   * Format 3: the workstation's Ed25519 key; it cosigns the packet's checkpoint and signs the
   * manifest. Without one (tests, tools) a key is made for this packet alone: the packet then proves
   * its integrity but not which workstation made it.
   */
  signer?: Ed25519Signer;
  /** Cosignatures the cache holds (lane CKPT's table): those of this checkpoint travel with it. */
  knownCosignatures?: Cosignature[];
  /** Earlier checkpoints the cache knows: the packet carries a consistency proof from each. */
  knownCheckpoints?: Checkpoint[];
  /**
   * Write format 2 (every entry from genesis, no proofs, no signature), as for a broken chain
   * exported flagged: for tools and tests that need a packet of the earlier format.
   */
  genesisChain?: boolean;
}

export interface ExportResult {
  zip: Buffer;
  documentHash: string;
  packetSha256: string;
  content: PacketContent;
  files: ManifestFile[];
  check: VerifyReport | null;
}

export class ExportRefusedError extends UserFacingError {
  override name = 'ExportRefusedError';
}

/** Paths rendered from packet.json, in packet order (manifest.json comes first in the ZIP). */
export function renderPacketFiles(content: PacketContent, documentHash: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  files.set(
    'packet.pdf',
    (content.formatVersion ?? 1) >= 3
      ? renderCasebookPdf(content, documentHash)
      : renderPdf(content, documentHash),
  );
  files.set('odm/countersign.odm.xml', Buffer.from(renderOdm(content), 'utf8'));
  for (const [path, text] of renderCsvFiles(content)) files.set(path, Buffer.from(text, 'utf8'));
  return files;
}

/** Lets a pushed progress event leave the process between stages (the stages themselves are synchronous). */
const yieldToEvents = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function buildPacket(db: Database, options: ExportOptions): Promise<ExportResult> {
  const report = options.onProgress ?? (() => undefined);
  const progress = async (p: ExportProgress) => {
    report(p);
    await yieldToEvents();
  };
  const now = options.now ?? new Date();
  await progress({ stage: 'verifying chain', done: 0, total: 1 });
  // New entries since the verified head only; the head and the tree follow what verified.
  let chain = verifiedWithTree(db, false, now);
  if (chain.verifiedThroughSeq === 0 && chain.checked === 0) {
    throw new ExportRefusedError(
      'Your cache holds no audit trail, so nothing in a packet could be checked against it. Packets are exported by people who may read the audit trail (QA inspector, administrator), after a sync.',
    );
  }
  // A carried entry that no longer matches its hashes (the cache changed after it was verified):
  // re-check from genesis, so the break is named by its first bad seq, as a break found now is.
  let assembled: Assembled | null = null;
  if (chain.ok && !options.genesisChain) {
    try {
      assembled = await proofPacket(db, options, chain, now, timeZoneOf(options), progress);
    } catch (error) {
      if (!(error instanceof CarriedEntryChanged)) throw error;
      chain = verifiedWithTree(db, true, now);
    }
  }
  if (!chain.ok) chain = verifiedWithTree(db, true, now);
  if (!chain.ok && !options.allowBrokenChain) {
    throw new ExportRefusedError(
      `Export refused: the audit chain in your cache is broken at seq ${chain.firstBadSeq} (${chain.problem}). Sync again from the server and verify the chain; to hand over what the cache holds with the break flagged on every page, export with --allow-broken-chain.`,
    );
  }
  const { zip, content, documentHash, listed } =
    assembled ?? (await genesisPacket(db, options, chain, now, timeZoneOf(options), progress));
  let check: VerifyReport | null = null;
  if (options.selfCheck !== false) {
    await progress({ stage: 'checking packet', done: 0, total: 1 });
    check = await verifyPacketAsync(zip);
    const intact = check.ok || (check.declaredChainBreak !== null && check.problems.length === 0);
    if (!intact) {
      throw new ExportRefusedError(
        `The packet did not pass its own verification, so it was not written: ${check.problems
          .slice(0, 3)
          .map((p) => `${p.where}: ${p.what}`)
          .join('; ')}. Sync again and retry.`,
      );
    }
  }
  report({ stage: 'done', done: 1, total: 1 });
  return { zip, documentHash, packetSha256: sha256OfBytes(zip), content, files: listed, check };
}

type Progress = (p: ExportProgress) => Promise<void>;

const timeZoneOf = (options: ExportOptions) =>
  options.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';

class CarriedEntryChanged extends Error {}
interface Assembled {
  zip: Buffer;
  content: PacketContent;
  documentHash: string;
  listed: ManifestFile[];
}

function listedOf(files: Map<string, Buffer>): ManifestFile[] {
  return [...files].map(([path, data]) => ({ path, sha256: sha256OfBytes(data), bytes: data.length }));
}

/** Format 2: a broken chain exported with the break flagged, every cached entry from genesis. */
async function genesisPacket(
  db: Database,
  options: ExportOptions,
  chain: ChainVerification,
  now: Date,
  timeZone: string,
  progress: Progress,
): Promise<Assembled> {
  const report = options.onProgress ?? (() => undefined);
  await progress({ stage: 'gathering records', done: 0, total: 0 });
  const content = gatherPacketContent(db, {
    scope: options.scope,
    chain,
    generatedBy: options.generatedBy,
    now,
    timeZone,
    onProgress: (done, total) => report({ stage: 'gathering records', done, total }),
  });
  await progress({ stage: 'rendering', done: 0, total: 1 });
  const packetJson = Buffer.from(canonicalJson(content), 'utf8');
  const documentHash = sha256OfBytes(packetJson);
  const lines = chainLines(db, chain.ok ? chain.verifiedThroughSeq : null);
  const files = new Map<string, Buffer>([['packet.json', packetJson]]);
  for (const [path, data] of renderPacketFiles(content, documentHash)) files.set(path, data);
  files.set(chainFilePath, Buffer.from(lines.length > 0 ? `${lines.join('\n')}\n` : '', 'utf8'));
  const listed = listedOf(files);
  const manifest = manifestBytes(buildManifest(content, documentHash, listed));
  const zip = writeStoredZip([
    { path: 'manifest.json', data: manifest },
    ...[...files].map(([path, data]) => ({ path, data })),
  ]);
  return { zip, content, documentHash, listed };
}

/**
 * A study packet without a date range proves the study complete (its study subject's every entry is
 * carried); a ranged one holds only the records active in the range, so it proves those records whole.
 */
export function wholeStudies(scope: PacketScope): boolean {
  return scope.selector.kind === 'study' && scope.from === null && scope.to === null;
}

/** The chain verified (from the head, or from genesis) and the checkpoint tree brought up to it. */
function verifiedWithTree(db: Database, fromGenesis: boolean, now: Date): ChainVerification {
  const chain = verifyChainFrom(db, { fromGenesis, now: () => now });
  advanceAuditTree(db);
  return chain;
}

/** A signer for one packet, when the caller has no workstation key. */
function packetSigner(): Ed25519Signer {
  return ed25519SignerOf(generateKeyPairSync('ed25519').privateKey);
}

function sameCheckpoint(a: Checkpoint, b: Checkpoint): boolean {
  return a.treeSize === b.treeSize && a.rootHash === b.rootHash && a.subjectRoot === b.subjectRoot;
}

/**
 * Every known checkpoint at or below this cache's size must be this cache's own history: a different
 * root at a size means the audit log was rewritten (or this cache is not the server's chain).
 */
function refuseRewrittenHistory(db: Database, checkpoint: Checkpoint, known: readonly Checkpoint[]): void {
  for (const k of known) {
    if (!Number.isSafeInteger(k.treeSize) || k.treeSize < 1 || k.treeSize > checkpoint.treeSize) continue;
    const root = rootAt(db, k.treeSize);
    if (root !== k.rootHash) {
      throw new ExportRefusedError(
        `Export refused: the audit log was rewritten. A checkpoint cosigned at ${k.treeSize} entries has root ${k.rootHash}, but this cache's chain gives ${root} there. Report this to your administrator; do not hand over a packet.`,
      );
    }
  }
}

/** The chain file of a format 3 packet: the carried entries, each with its leaf index. */
function provenLines(db: Database, seqs: readonly number[], subtree: SubtreeHash): string {
  const rows = db
    .prepare(
      `select seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash
         from audit_log where seq in (select value from json_each(?)) order by seq`,
    )
    .raw(true)
    .all(JSON.stringify(seqs)) as [number, string, string, string, string, string, string, string][];
  let text = '';
  for (const [seq, occurredAt, actor, eventType, payload, payloadHash, prevHash, entryHash] of rows) {
    if (
      sha256Hex(payload) !== payloadHash ||
      sha256Hex(entryHashInput(seq, occurredAt, actor, eventType, payloadHash, prevHash)) !== entryHash ||
      leafHash(Buffer.from(entryHash, 'hex')).toString('hex') !== subtree(seq - 1, seq).toString('hex')
    ) {
      throw new CarriedEntryChanged(`entry ${seq}`);
    }
    text += `{"actor":${JSON.stringify(actor)},"entry_hash":${JSON.stringify(entryHash)},"event_type":${JSON.stringify(eventType)},"leaf_index":${seq - 1},"occurred_at":${JSON.stringify(occurredAt)},"payload":${payload},"payload_hash":${JSON.stringify(payloadHash)},"prev_hash":${JSON.stringify(prevHash)},"seq":${seq}}\n`;
  }
  return text;
}

async function proofPacket(
  db: Database,
  options: ExportOptions,
  chain: ChainVerification,
  now: Date,
  timeZone: string,
  progress: Progress,
): Promise<Assembled> {
  const report = options.onProgress ?? (() => undefined);
  const treeSize = auditTreeSize(db);
  if (treeSize !== chain.verifiedThroughSeq) {
    throw new ExportRefusedError(
      'The checkpoint of your cache is not at its verified head; verify the chain again.',
    );
  }
  const rootHash = rootAt(db, treeSize);
  const known = [...(options.knownCheckpoints ?? []), ...(options.knownCosignatures ?? [])];
  refuseRewrittenHistory(db, { treeSize, rootHash, subjectRoot: '' }, known);

  await progress({ stage: 'gathering records', done: 0, total: 0 });
  const content = gatherPacketContent(db, {
    scope: options.scope,
    chain,
    generatedBy: options.generatedBy,
    now,
    timeZone,
    treeSize,
    onProgress: (done, total) => report({ stage: 'gathering records', done, total }),
  });
  // The entries the packet carries: every one up to the checkpoint about its records and the builds,
  // and the head entry, which binds the cover's head seq and hash to the root.
  const subjects = scopeSubjects(
    db,
    content.stagingRecords.map((r) => r.id),
    content.diaryRecords.map((d) => d.eventUuid),
    wholeStudies(options.scope) ? content.studies.map((s) => s.id) : [],
  );
  const seqs = (
    db
      .prepare(
        `select distinct seq from audit_subject where subject in (select value from json_each(?)) and seq <= ?
          union select ? order by 1`,
      )
      .pluck()
      .all(JSON.stringify(subjects), treeSize, treeSize) as number[]
  ).filter((seq) => seq >= 1);
  content.cover.chain.entries = seqs.length;
  // The subject map once (one scan of audit_subject): its root for the checkpoint, its tree for the
  // proofs of the packet's subjects.
  const map = subjectMapAt(db, treeSize, new Set(subjects));
  const checkpoint: Checkpoint = { treeSize, rootHash, subjectRoot: map.root };

  const signer = options.signer ?? packetSigner();
  const cosignedAt = now.toISOString();
  const unsigned = {
    ...checkpoint,
    cosignedAt,
    userId: options.generatedBy.userId,
    keyFingerprint: signer.keyFingerprint,
    publicKey: signer.publicKey,
  };
  const own: Cosignature = {
    ...unsigned,
    printedName: options.generatedBy.printedName,
    signature: signer.sign(cosignatureSigningInput(unsigned)),
  };
  const others = (options.knownCosignatures ?? []).filter(
    (c) => sameCheckpoint(c, checkpoint) && c.keyFingerprint !== signer.keyFingerprint,
  );
  const packetCheckpoint: PacketCheckpoint = { ...checkpoint, cosignatures: [own, ...others] };
  content.cover.checkpoint = packetCheckpoint;

  await progress({ stage: 'rendering', done: 0, total: 1 });
  const packetJson = Buffer.from(canonicalJson(content), 'utf8');
  const documentHash = sha256OfBytes(packetJson);
  const files = new Map<string, Buffer>([['packet.json', packetJson]]);
  for (const [path, data] of renderPacketFiles(content, documentHash)) files.set(path, data);
  files.set(
    chainFilePath,
    Buffer.from(provenLines(db, seqs, auditSubtrees(db, checkpoint.treeSize)), 'utf8'),
  );
  const proofs = buildPacketProofs(db, checkpoint, seqs, map, known);
  files.set(proofsFilePath, Buffer.from(canonicalJson(proofs), 'utf8'));
  const listed = listedOf(files);
  const manifest = manifestBytes(buildManifest(content, documentHash, listed, pdfRenderer));
  const zip = writeStoredZip([
    { path: 'manifest.json', data: manifest },
    { path: manifestSignaturePath, data: signManifest(manifest, signer) },
    ...[...files].map(([path, data]) => ({ path, data })),
  ]);
  return { zip, content, documentHash, listed };
}

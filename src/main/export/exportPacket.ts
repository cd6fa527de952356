// Builds an inspection packet from the user's cache, offline: verifies the whole audit chain from
// genesis, refuses a broken chain unless the break is to be flagged on every page, gathers the
// scope's content, renders the files, writes the manifest and the ZIP, and finally runs the
// verifier over the result, so that a packet which would not verify is never handed over.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { canonicalJson } from '../../shared/canonicalJson';
import { verifyChainFrom } from '../sync/chainVerifier';
import { UserFacingError } from '../userFacingError';
import { renderCsvFiles } from './csvWriter';
import { renderOdm } from './odmWriter';
import { chainLines, gatherPacketContent, type PacketContent } from './packetContent';
import {
  buildManifest,
  chainFilePath,
  type ManifestFile,
  manifestBytes,
  sha256OfBytes,
} from './packetManifest';
import type { PacketScope } from './packetScope';
import { renderPdf } from './pdfWriter';
import { writeStoredZip, type ZipEntry } from './storedZip';
import { type VerifyReport, verifyPacket } from './verifyPacket';

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
  files.set('packet.pdf', renderPdf(content, documentHash));
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
  const chain = verifyChainFrom(db, { fromGenesis: true, now: () => now });
  if (chain.checked === 0) {
    throw new ExportRefusedError(
      'Your cache holds no audit trail, so nothing in a packet could be checked against it. Packets are exported by people who may read the audit trail (QA inspector, administrator), after a sync.',
    );
  }
  if (!chain.ok && !options.allowBrokenChain) {
    throw new ExportRefusedError(
      `Export refused: the audit chain in your cache is broken at seq ${chain.firstBadSeq} (${chain.problem}). Sync again from the server and verify the chain; to hand over what the cache holds with the break flagged on every page, export with --allow-broken-chain.`,
    );
  }
  await progress({ stage: 'gathering records', done: 0, total: 0 });
  const content = gatherPacketContent(db, {
    scope: options.scope,
    chain,
    generatedBy: options.generatedBy,
    now,
    timeZone: options.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC',
    onProgress: (done, total) => report({ stage: 'gathering records', done, total }),
  });
  await progress({ stage: 'rendering', done: 0, total: 1 });
  const packetJson = Buffer.from(canonicalJson(content), 'utf8');
  const documentHash = sha256OfBytes(packetJson);
  const lines = chainLines(db, chain.ok ? chain.verifiedThroughSeq : null);
  const files = new Map<string, Buffer>([['packet.json', packetJson]]);
  for (const [path, data] of renderPacketFiles(content, documentHash)) files.set(path, data);
  files.set(chainFilePath, Buffer.from(lines.length > 0 ? `${lines.join('\n')}\n` : '', 'utf8'));
  const listed: ManifestFile[] = [...files].map(([path, data]) => ({
    path,
    sha256: sha256OfBytes(data),
    bytes: data.length,
  }));
  const manifest = manifestBytes(buildManifest(content, documentHash, listed));
  const entries: ZipEntry[] = [
    { path: 'manifest.json', data: manifest },
    ...[...files].map(([path, data]) => ({ path, data })),
  ];
  const zip = writeStoredZip(entries);
  let check: VerifyReport | null = null;
  if (options.selfCheck !== false) {
    await progress({ stage: 'checking packet', done: 0, total: 1 });
    check = verifyPacket(zip);
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

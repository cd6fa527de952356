// The workstation's side of the packet channels: exports into <data folder>/exports/ (both hosts
// alike: the Electron window and the browser host write to the same place and show the path, so no
// feature exists in only one of them; copy the file from there to the inspector's medium) and
// verifies a packet found there. Logs carry the scope kind, counts and hashes: never a value, a
// patient id, a password or a key.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import type { ExportProgress, PacketVerification, ParsedRequestOf, ResponseOf } from '../../shared/contract';
import type { SessionIdentity } from '../backend/postgres/postgresSession';
import { UserFacingError } from '../userFacingError';
import { buildPacket } from './exportPacket';
import { normaliseBound, type ScopeSelector } from './packetScope';
import { type VerifyReport, verifyPacket } from './verifyPacket';

export function exportsDir(dataDir: string): string {
  return join(dataDir, 'exports');
}

function scopeLabel(selector: ScopeSelector): string {
  if (selector.kind === 'study') return `study-${selector.studyCode.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return selector.kind;
}

export async function exportPacketToDataDir(
  db: Database,
  options: {
    dataDir: string;
    request: ParsedRequestOf<'export.packet'>;
    identity: SessionIdentity;
    log: (line: string) => void;
    onProgress: (progress: ExportProgress) => void;
    now?: Date;
  },
): Promise<ResponseOf<'export.packet'>> {
  const { request, identity } = options;
  const now = options.now ?? new Date();
  const result = await buildPacket(db, {
    scope: {
      selector: request.scope,
      from: normaliseBound(request.from, false),
      to: normaliseBound(request.to, true),
    },
    allowBrokenChain: request.allowBrokenChain,
    generatedBy: { userId: identity.userId, printedName: identity.printedName, roles: identity.roles },
    now,
    onProgress: options.onProgress,
  });
  const dir = exportsDir(options.dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fileName = `packet-${scopeLabel(request.scope)}-${now.toISOString().replace(/[:.]/g, '-')}.zip`;
  const path = join(dir, fileName);
  writeFileSync(path, result.zip, { mode: 0o600 });
  const chain = result.content.cover.chain;
  options.log(
    `countersign export: user ${identity.userId} exported a ${request.scope.kind} packet (${result.content.cover.counts.stagingRecords} staging, ${result.content.cover.counts.diaryRecords} diary records, ${result.content.cover.counts.builds ?? 0} protocol builds; ${result.zip.length} bytes; document ${result.documentHash.slice(0, 16)}; chain head ${chain.headSeq}${chain.broken ? `, BREAK FLAGGED at ${chain.broken.firstBadSeq}` : ''})`,
  );
  return {
    path,
    bytes: result.zip.length,
    packetSha256: result.packetSha256,
    documentHash: result.documentHash,
    chainHead: { seq: chain.headSeq, hash: chain.headHash },
    chainBroken: chain.broken !== null,
    counts: result.content.cover.counts,
  };
}

export function summariseVerification(report: VerifyReport): PacketVerification {
  return {
    ok: report.ok,
    packetSha256: report.packetSha256,
    documentHash: report.documentHash,
    files: report.files,
    chainLinksChecked: report.chain.linksChecked,
    chainHead: { seq: report.chain.headSeq, hash: report.chain.headHash },
    signaturesChecked: report.signatures.length,
    pages: report.pages.count,
    declaredChainBreak: report.declaredChainBreak,
    problems: report.problems,
  };
}

export function verifyExportedPacket(dataDir: string, fileName: string): PacketVerification {
  if (basename(fileName) !== fileName) throw new UserFacingError('Name a packet file in the exports folder.');
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(exportsDir(dataDir), fileName));
  } catch {
    throw new UserFacingError(`There is no packet named ${fileName} in the exports folder.`);
  }
  return summariseVerification(verifyPacket(bytes));
}

// The workstation's side of the packet channels: exports into <data folder>/exports/ (both hosts
// alike: the Electron window and the browser host write to the same place and show the path, so no
// feature exists in only one of them; copy the file from there to the inspector's medium) and
// verifies a packet found there. Both run in a worker thread (packetWorker.ts), so the workstation
// stays responsive and a job can be cancelled. No partial file: the worker writes a temporary name,
// renamed here when the packet is complete and removed on a cancel or a failure (and, left by a
// killed process, at the next export). Logs carry the scope kind, counts and hashes: never a value,
// a patient id, a password or a key.

import type { KeyObject } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ExportProgress, PacketVerification, ParsedRequestOf, ResponseOf } from '../../shared/contract';
import type { SessionIdentity } from '../backend/postgres/postgresSession';
import { UserFacingError } from '../userFacingError';
import { normaliseBound, type ScopeSelector } from './packetScope';
import { type CacheSource, jobRunningMessage, type PacketJobs } from './packetWorker';
import type { VerifyReport } from './verifyPacket';

export function exportsDir(dataDir: string): string {
  return join(dataDir, 'exports');
}

function scopeLabel(selector: ScopeSelector): string {
  if (selector.kind === 'study') return `study-${selector.studyCode.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return selector.kind;
}

/** A packet being written: hidden (a dot file), and not a .zip, so nothing lists or serves it. */
const temporaryPattern = /^\.packet-.*\.partial$/;

/** Temporaries left by a process killed in the middle of an export (one export runs at a time). */
function removeStaleTemporaries(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (temporaryPattern.test(name)) rmSync(join(dir, name), { force: true });
  }
}

export async function exportPacketToDataDir(
  source: CacheSource,
  options: {
    dataDir: string;
    request: ParsedRequestOf<'export.packet'>;
    identity: SessionIdentity;
    jobs: PacketJobs;
    log: (line: string) => void;
    onProgress: (progress: ExportProgress) => void;
    now?: Date;
    /** The workstation's Ed25519 key, when the packet is to be signed with it. */
    signingKey?: KeyObject;
  },
): Promise<ResponseOf<'export.packet'>> {
  const { request, identity } = options;
  const now = options.now ?? new Date();
  const scope = {
    selector: request.scope,
    from: normaliseBound(request.from, false),
    to: normaliseBound(request.to, true),
  };
  if (options.jobs.busy) {
    throw new UserFacingError(jobRunningMessage);
  }
  const dir = exportsDir(options.dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  removeStaleTemporaries(dir);
  const fileName = `packet-${scopeLabel(request.scope)}-${now.toISOString().replace(/[:.]/g, '-')}.zip`;
  const path = join(dir, fileName);
  const tempPath = join(dir, `.${fileName.replace(/\.zip$/, '')}-${randomUUID()}.partial`);
  let exported: Awaited<ReturnType<PacketJobs['exportPacket']>>;
  try {
    exported = await options.jobs.exportPacket(
      {
        kind: 'export',
        source: { path: source.path, key: source.key },
        tempPath,
        scope,
        allowBrokenChain: request.allowBrokenChain,
        generatedBy: { userId: identity.userId, printedName: identity.printedName, roles: identity.roles },
        now: now.toISOString(),
        timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC',
        ...(options.signingKey ? { signingKey: options.signingKey } : {}),
      },
      options.onProgress,
    );
    renameSync(tempPath, path);
  } catch (error) {
    rmSync(tempPath, { force: true });
    if (error instanceof UserFacingError) {
      options.log(`countersign export: ${request.scope.kind} packet not written (${error.name})`);
    }
    throw error;
  }
  const result = exported.value;
  options.log(
    `countersign export: user ${identity.userId} exported a ${request.scope.kind} packet (${result.counts.stagingRecords} staging, ${result.counts.diaryRecords} diary records, ${result.builds} protocol builds; ${result.bytes} bytes; document ${result.documentHash.slice(0, 16)}; chain head ${result.chainHead.seq}${result.chainBrokenAt !== null ? `, BREAK FLAGGED at ${result.chainBrokenAt}` : ''}; worker started in ${Math.round(exported.startMs)} ms)`,
  );
  return {
    path,
    bytes: result.bytes,
    packetSha256: result.packetSha256,
    documentHash: result.documentHash,
    chainHead: result.chainHead,
    chainBroken: result.chainBrokenAt !== null,
    counts: result.counts,
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

export async function verifyExportedPacket(
  dataDir: string,
  fileName: string,
  options: { jobs: PacketJobs; onProgress: (progress: ExportProgress) => void },
): Promise<PacketVerification> {
  if (basename(fileName) !== fileName) throw new UserFacingError('Name a packet file in the exports folder.');
  const path = join(exportsDir(dataDir), fileName);
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
  } catch {
    throw new UserFacingError(`There is no packet named ${fileName} in the exports folder.`);
  }
  return (await options.jobs.verifyPacket(path, options.onProgress)).value;
}

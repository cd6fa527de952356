// countersign verify --record ID packet.zip (issue 24): one record of a format 3 packet checked with
// its own proofs alone: the manifest's signature and the hashes of the files it needs (packet.json,
// the chain file, the proofs), the checkpoint's cosignatures, the record's subject-map leaf and its
// inclusion in the cosigned map, each of its entries' hashes and RFC 9162 inclusion proof, every
// entry the leaf lists present, and the record's events, signatures, versions and annotations in
// packet.json against those entries. Renderings and the other records are not read.
import { createHash } from 'node:crypto';
import { diarySubject, stagingSubject } from '../checkpoint/auditSubjects';
import type { PacketContent } from './packetContent';
import { chainFilePath, manifestFormat, type PacketManifest, proofsFilePath } from './packetManifest';
import { readStoredZip, type ZipEntry } from './storedZip';
import { checkContentAgainstChain, emptyVerifyReport, type VerifyProblem } from './verifyPacket';
import { checkProvenChain, type ProofsReport, parseJson } from './verifyPacketProofs';

export interface RecordVerifyReport {
  ok: boolean;
  recordId: string;
  kind: 'staging' | 'diary' | null;
  /** The record's entries proven against the checkpoint. */
  entries: number;
  proofs: ProofsReport | null;
  problems: VerifyProblem[];
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export function verifyPacketRecord(bytes: Buffer, recordId: string): RecordVerifyReport {
  const result: RecordVerifyReport = {
    ok: false,
    recordId,
    kind: null,
    entries: 0,
    proofs: null,
    problems: [],
  };
  const problem = (where: string, what: string) => {
    if (result.problems.length < 200) result.problems.push({ where, what });
  };
  const finish = () => {
    result.ok = result.problems.length === 0;
    return result;
  };
  let entries: ZipEntry[];
  try {
    entries = readStoredZip(bytes);
  } catch (error) {
    problem('packet.zip', (error as Error).message);
    return finish();
  }
  const byPath = new Map(entries.map((e) => [e.path, e.data]));
  const manifestData = byPath.get('manifest.json');
  const manifest = parseJson(manifestData) as PacketManifest | undefined;
  if (!manifestData || !manifest || manifest.format !== manifestFormat || !Array.isArray(manifest.files)) {
    problem('manifest.json', 'missing or not a Countersign packet manifest');
    return finish();
  }
  for (const path of ['packet.json', chainFilePath, proofsFilePath]) {
    const listed = manifest.files.find((f) => f?.path === path);
    const data = byPath.get(path);
    if (!listed || !data) problem(path, 'missing from the packet or its manifest');
    else if (sha256(data) !== listed.sha256)
      problem(path, `SHA-256 ${sha256(data)} differs from the manifest's ${listed.sha256}`);
  }
  const content = parseJson(byPath.get('packet.json')) as PacketContent | undefined;
  if (!content || typeof content !== 'object' || !content.cover) {
    problem('packet.json', 'is missing or not JSON');
    return finish();
  }
  if ((content.formatVersion ?? 1) < 3) {
    problem(
      'packet.json',
      `is format ${content.formatVersion ?? 1}: a record is verified alone from format 3 on (verify the whole packet)`,
    );
    return finish();
  }
  const staging = (content.stagingRecords ?? []).find((r) => r?.id === recordId);
  const diary = staging ? undefined : (content.diaryRecords ?? []).find((d) => d?.eventUuid === recordId);
  if (!staging && !diary) {
    problem('packet.json', `holds no staging record or diary record ${recordId}`);
    return finish();
  }
  result.kind = staging ? 'staging' : 'diary';
  const subject = staging ? stagingSubject(recordId) : diarySubject(recordId);
  const only: PacketContent = {
    ...content,
    stagingRecords: staging ? [staging] : [],
    diaryRecords: diary ? [diary] : [],
    builds: [],
  };
  const chain = checkProvenChain(byPath, manifestData, manifest, only, problem, new Set([subject]));
  result.proofs = chain.proofs;
  result.entries = chain.proofs.entriesProven;
  const report = emptyVerifyReport('');
  checkContentAgainstChain(
    only,
    chain.entries,
    chain.boundSeq,
    (seq) => (seq !== null && seq <= chain.boundSeq ? chain.entries.get(seq) : undefined),
    report,
    problem,
  );
  return finish();
}

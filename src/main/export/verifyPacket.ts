// Checks an inspection packet offline, from its bytes alone, without trusting whoever made it:
//  1. the ZIP is exactly what the packet writer produces for its entries (no byte outside them);
//  2. every file's SHA-256 matches the manifest, and no file is missing or extra;
//  3. packet.json is canonical and is the document hash the manifest and every PDF page state;
//  4. chain/audit_log.jsonl recomputes from genesis (payload hash, entry hash, link) to the head;
//  5. every event, signature, diary version and annotation in packet.json matches the audit entry
//     that recorded it (hashes of the data, of the change reason, of the text; a signature's
//     content hash, recomputed from what was signed where the packet holds it), and every audit
//     entry about a record of the packet is in the packet (a removed row is found);
//  6. every protocol build matches its audit entries, and every value's build is the one the chain
//     records for it (verifyPacketBuilds.ts);
//  7. the PDF (page by page), the ODM XML and the CSVs are exactly the renderings of packet.json,
//     and the manifest is exactly the one packet.json and the files give.
// Trust anchor: the chain head (seq and hash) on the cover, which the inspector compares with the
// server's audit.audit_log; everything else follows from it by recomputation.
// Format 3 (issue 24) replaces 4 with verifyPacketProofs.ts: the carried entries' inclusion in the
// cosigned checkpoint and each record's completeness against its subject-map leaf, the manifest
// signature and every cosignature. The signed manifest binds the renderings, so re-rendering (7) is
// `render: true` (countersign verify --render); the manifest is still recomputed from packet.json.
import { hash } from 'node:crypto';
import { canonicalJson } from '../../shared/canonicalJson';
import { sameJson } from '../../shared/sameJson';
import { entryHashInput } from '../sync/chainVerifier';
import { comparePdfPages, renderCasebookPdf } from './casebookPdf';

import { renderCsvFiles } from './csvWriter';
import { renderOdm } from './odmWriter';
import { checkPacketBytesInWorker } from './packetBytesCheck';
import { fieldChanges, type PacketContent } from './packetContent';
import {
  buildManifest,
  chainFilePath,
  manifestFormat,
  manifestSignaturePath,
  type PacketManifest,
  proofsFilePath,
} from './packetManifest';
import { readPdfPageObjects } from './pdf/pdfPageObjects';
import { layoutPdfPages, pageLines, readPdfPageLines, renderPdf } from './pdfWriter';
import { readStoredZip, type ZipEntry } from './storedZip';
import { type BuildCheck, verifyPacketBuilds } from './verifyPacketBuilds';
import { type ChainEntry, checkProvenChain, type ProofsReport } from './verifyPacketProofs';

export interface VerifyProblem {
  /** The file (and the place in it) where the packet fails. */
  where: string;
  what: string;
}

export interface VerifyReport {
  ok: boolean;
  packetSha256: string;
  documentHash: string | null;
  files: { path: string; sha256: string; bytes: number; ok: boolean }[];
  chain: {
    entries: number;
    linksChecked: number;
    headSeq: number | null;
    headHash: string | null;
    ok: boolean;
    /** Each link checked, as [seq, entry_hash]. */
    links: [number, string][];
  };
  signatures: {
    id: string;
    stagingId: string;
    contentHash: string;
    chainSeq: number | null;
    recomputed: boolean;
    ok: boolean;
  }[];
  records: {
    staging: number;
    diary: number;
    eventsMatched: number;
    /** Values whose protocol build was compared with the chain. */
    buildsChecked: number;
  };
  /** Each protocol build of the packet, checked against its audit entries. */
  builds: BuildCheck[];
  pages: { count: number; ok: boolean };
  /** The packet says its chain is broken here, and it is: intact, but not a clean chain. */
  declaredChainBreak: { firstBadSeq: number; problem: string } | null;
  /** Format 3: the checkpoint, its cosignatures and the proofs checked. */
  proofs?: ProofsReport;
  /** Whether the PDF, ODM and CSVs were rendered again and compared (always below format 3). */
  rendered?: boolean;
  problems: VerifyProblem[];
}

export interface VerifyOptions {
  /** Format 3: re-render the PDF (page by page), ODM and CSVs and compare them (default false). */
  render?: boolean;
  /**
   * Format 3, verifyPacketAsync only: the packet's and every file's SHA-256 and the chain lines'
   * forms and hashes are computed by a worker; this run takes the manifest's file hashes as claimed
   * and the caller confirms them (packetBytesCheck.ts).
   */
  bytesCheckedElsewhere?: { entries: ZipEntry[] };
}

// One-shot crypto.hash: about three times faster than createHash().update() on a large file.
const sha256 = (data: string | Buffer) => hash('sha256', data, 'hex');

function firstDifferentLine(expected: string, actual: string): number {
  const a = expected.split('\n');
  const b = actual.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i + 1;
  return 0;
}

/** A report before any check (verifyPacket's, and verify --record's). */
export function emptyVerifyReport(packetSha256: string): VerifyReport {
  return {
    ok: false,
    packetSha256,
    documentHash: null,
    files: [],
    chain: { entries: 0, linksChecked: 0, headSeq: null, headHash: null, ok: false, links: [] },
    signatures: [],
    records: { staging: 0, diary: 0, eventsMatched: 0, buildsChecked: 0 },
    builds: [],
    pages: { count: 0, ok: false },
    declaredChainBreak: null,
    problems: [],
  };
}

export function verifyPacket(bytes: Buffer, options: VerifyOptions = {}): VerifyReport {
  const report = emptyVerifyReport(options.bytesCheckedElsewhere ? '' : sha256(bytes));
  const problem = (where: string, what: string) => {
    if (report.problems.length < 200) report.problems.push({ where, what });
  };
  const finish = () => {
    report.ok = report.problems.length === 0 && report.declaredChainBreak === null;
    return report;
  };

  // 1. the container
  let entries: ZipEntry[];
  try {
    entries = options.bytesCheckedElsewhere?.entries ?? readStoredZip(bytes);
  } catch (error) {
    const message = (error as Error).message;
    const colon = message.indexOf(': ');
    problem(
      colon > 0 ? message.slice(0, colon) : 'packet.zip',
      colon > 0 ? message.slice(colon + 2) : message,
    );
    return finish();
  }
  const byPath = new Map(entries.map((e) => [e.path, e.data]));

  // 2. the manifest and every file's hash
  const manifestData = byPath.get('manifest.json');
  if (!manifestData) {
    problem('manifest.json', 'missing from the packet');
    return finish();
  }
  let manifest: PacketManifest;
  try {
    manifest = JSON.parse(manifestData.toString('utf8')) as PacketManifest;
  } catch {
    problem('manifest.json', 'is not JSON');
    return finish();
  }
  if (manifest.format !== manifestFormat || !Array.isArray(manifest.files)) {
    problem('manifest.json', 'is not a Countersign packet manifest');
    return finish();
  }
  if (canonicalJson(manifest) !== manifestData.toString('utf8'))
    problem('manifest.json', 'is not in RFC 8785 canonical form (edited)');
  const listed = new Set<string>();
  for (const file of manifest.files) {
    listed.add(file.path);
    const data = byPath.get(file.path);
    if (!data) {
      problem(file.path, 'listed in the manifest but missing from the packet');
      continue;
    }
    const actual =
      options.bytesCheckedElsewhere && typeof file.sha256 === 'string' ? file.sha256 : sha256(data);
    const ok = actual === file.sha256 && data.length === file.bytes;
    report.files.push({ path: file.path, sha256: actual, bytes: data.length, ok });
    if (!ok) problem(file.path, `SHA-256 ${actual} differs from the manifest's ${file.sha256}`);
  }
  for (const entry of entries) {
    if (entry.path !== 'manifest.json' && entry.path !== manifestSignaturePath && !listed.has(entry.path))
      problem(entry.path, 'is in the packet but not in the manifest');
  }

  // 3. the canonical content and the document hash
  const packetData = byPath.get('packet.json');
  if (!packetData) {
    problem('packet.json', 'missing from the packet');
    return finish();
  }
  let content: PacketContent;
  try {
    content = JSON.parse(packetData.toString('utf8')) as PacketContent;
  } catch {
    problem('packet.json', 'is not JSON');
    return finish();
  }
  const claimed = options.bytesCheckedElsewhere
    ? manifest.files.find((f) => f.path === 'packet.json')?.sha256
    : undefined;
  const documentHash = typeof claimed === 'string' ? claimed : sha256(packetData);
  report.documentHash = documentHash;
  // Format 3 binds packet.json's bytes by the signed manifest; its canonical form (what makes every
  // rendering reproducible) is checked when the renderings are (--render).
  if (
    ((content?.formatVersion ?? 1) < 3 || options.render === true) &&
    canonicalJson(content) !== packetData.toString('utf8')
  )
    problem('packet.json', 'is not in RFC 8785 canonical form (edited)');
  if (manifest.documentHash !== documentHash) {
    problem(
      'manifest.json',
      `document hash ${manifest.documentHash} is not the SHA-256 of packet.json (${documentHash})`,
    );
  }

  // 4. the chain: recomputed from genesis (formats 1-2), or proven entry by entry (format 3)
  const proven = (content.formatVersion ?? 1) >= 3;
  if (!proven && byPath.has(manifestSignaturePath))
    problem(manifestSignaturePath, 'is in the packet but not in the manifest');
  let chainEntries: Map<number, ChainEntry>;
  let boundSeq: number;
  if (proven) {
    const chain = checkProvenChain(
      byPath,
      manifestData,
      manifest,
      content,
      problem,
      undefined,
      options.bytesCheckedElsewhere !== undefined,
    );
    chainEntries = chain.entries;
    boundSeq = chain.boundSeq;
    report.proofs = chain.proofs;
    report.chain.entries = chain.lines;
    report.chain.linksChecked = chain.entries.size;
    report.chain.links = [...chain.entries.values()].map((e) => [e.seq, e.entry_hash]);
    const head = chain.entries.get(boundSeq);
    report.chain.headSeq = head ? head.seq : null;
    report.chain.headHash = head ? head.entry_hash : null;
    report.chain.ok =
      problemsOutside(report.problems, chainFilePath) && problemsOutside(report.problems, proofsFilePath);
  } else {
    ({ chainEntries, boundSeq } = genesisChain(byPath, content, report, problem));
  }
  const verifiedEntry = (seq: number | null): ChainEntry | undefined =>
    seq !== null && seq <= boundSeq ? chainEntries.get(seq) : undefined;

  // 5. content against the chain
  checkContentAgainstChain(
    content,
    chainEntries,
    boundSeq,
    verifiedEntry,
    report,
    problem,
    options.bytesCheckedElsewhere !== undefined,
  );

  // 6. the protocol builds, and the build of every value
  try {
    const builds = verifyPacketBuilds(content, verifiedEntry, boundSeq, problem);
    report.builds = builds.builds;
    report.records.buildsChecked = builds.valuesChecked;
  } catch (error) {
    problem('packet.json', `its protocol builds cannot be checked: ${(error as Error).message}`);
  }

  // 7. the renderings and the manifest
  const expectedFiles = new Map<string, Buffer>();
  const render = !proven || options.render === true;
  report.rendered = render;
  const expectedPaths = ['packet.json', 'packet.pdf', 'odm/countersign.odm.xml', chainFilePath];
  if (proven) expectedPaths.push(proofsFilePath);
  if (render) {
    try {
      for (const [path, text] of renderCsvFiles(content)) expectedFiles.set(path, Buffer.from(text, 'utf8'));
      expectedFiles.set('odm/countersign.odm.xml', Buffer.from(renderOdm(content), 'utf8'));
    } catch (error) {
      problem('packet.json', `cannot be rendered: ${(error as Error).message}`);
      return finish();
    }
    for (const [path, expected] of expectedFiles) {
      const actual = byPath.get(path);
      if (!actual) problem(path, 'missing from the packet');
      else if (!actual.equals(expected)) {
        problem(
          `${path} line ${firstDifferentLine(expected.toString('utf8'), actual.toString('utf8'))}`,
          'differs from the rendering of packet.json',
        );
      }
    }
    if (proven) checkCasebookPdf(content, documentHash, byPath.get('packet.pdf'), report, problem);
    else checkPdf(content, documentHash, byPath.get('packet.pdf'), report, problem);
    expectedPaths.push(...expectedFiles.keys());
  }
  const expectedManifest = canonicalJson(
    buildManifest(content, documentHash, manifest.files, proven ? manifest.pdfRenderer : undefined),
  );
  if (expectedManifest !== manifestData.toString('utf8')) {
    problem('manifest.json', 'its chain head, scope or signature list differs from packet.json');
  }
  for (const path of new Set(expectedPaths))
    if (!listed.has(path)) problem(path, 'is not listed in the manifest');
  return finish();
}

/**
 * Step 5: every event, signature, diary version and annotation of packet.json against the entry that
 * recorded it, and every entry about a record of the packet (or of the scope) in the packet.
 */
export function checkContentAgainstChain(
  content: PacketContent,
  chainEntries: Map<number, ChainEntry>,
  boundSeq: number,
  verifiedEntry: (seq: number | null) => ChainEntry | undefined,
  report: VerifyReport,
  problem: (where: string, what: string) => void,
  /** The proposals' and signed contents' hashes are recomputed by verifyPacketAsync's worker. */
  hashedElsewhere = false,
): void {
  const where = (kind: string, id: string) => `packet.json ${kind} ${id}`;
  const stagingIds = new Set<string>();
  const stagingSeqs = new Map<string, Set<number>>();
  const signatureIds = new Map<string, Set<string>>();
  for (const r of content.stagingRecords ?? []) {
    report.records.staging++;
    stagingIds.add(r.id);
    const seqs = new Set<number>();
    stagingSeqs.set(r.id, seqs);
    // With a second thread (verifyPacketAsync), it recomputes this hash and the signed contents'.
    if (!hashedElsewhere && sha256(canonicalJson(r.proposedState)) !== r.proposedStateSha256)
      problem(where('staging record', r.id), 'proposed_state does not match its SHA-256');
    let lastSeq = 0;
    let lastProposedHash: unknown = null;
    for (const h of r.history) {
      seqs.add(h.seq);
      const e = verifiedEntry(h.seq);
      if (h.seq <= lastSeq)
        problem(where('staging record', r.id), `history entry seq ${h.seq} is out of order`);
      lastSeq = h.seq;
      if (
        !e ||
        e.payload.staging_id !== r.id ||
        e.event_type !== h.eventType ||
        e.occurred_at !== h.occurredAt ||
        e.actor !== h.actor
      ) {
        problem(
          where('staging record', r.id),
          `history entry seq ${h.seq} (${h.eventType}) does not match the audit chain`,
        );
        continue;
      }
      if (typeof e.payload.proposed_state_sha256 === 'string')
        lastProposedHash = e.payload.proposed_state_sha256;
      report.records.eventsMatched++;
    }
    if (lastProposedHash !== null && lastProposedHash !== r.proposedStateSha256) {
      problem(
        where('staging record', r.id),
        'its proposed state is not the one the audit chain last recorded',
      );
    }
    const ids = new Set<string>();
    signatureIds.set(r.id, ids);
    for (const s of r.signatures) {
      ids.add(s.id);
      const e = verifiedEntry(s.chainSeq);
      let ok =
        e !== undefined &&
        e.event_type === 'signature.recorded' &&
        e.payload.signature_id === s.id &&
        e.payload.subject_id === r.id &&
        e.payload.content_hash === s.contentHash &&
        e.payload.meaning_of_signature === s.meaning &&
        e.payload.intent === s.intent &&
        e.payload.user_id === s.userId &&
        e.payload.signed_at === s.signedAtUtc &&
        // A rejection's reason in words and its explanation as SHA-256; neither on an approval.
        (e.payload.rejection_reason ?? null) === (s.rejection?.reason ?? null) &&
        (e.payload.rejection_explanation_sha256 ?? null) ===
          (s.rejection ? sha256(s.rejection.explanation) : null);
      if (!ok)
        problem(
          where('signature', s.id),
          `does not match its signature.recorded audit entry (seq ${s.chainSeq})`,
        );
      let recomputed = false;
      if (s.signingContent) {
        recomputed = true;
        const c = s.signingContent;
        if (!hashedElsewhere && sha256(canonicalJson(c)) !== s.contentHash) {
          ok = false;
          problem(where('signature', s.id), 'its content hash is not the SHA-256 of the content it signs');
        } else if (c.staging_record_id !== r.id || !sameJson(c.proposed_state, r.proposedState)) {
          ok = false;
          problem(where('signature', s.id), "the content it signs is not this record's proposal");
        }
      }
      if (ok) report.records.eventsMatched++;
      report.signatures.push({
        id: s.id,
        stagingId: r.id,
        contentHash: s.contentHash,
        chainSeq: s.chainSeq,
        recomputed,
        ok,
      });
    }
  }
  const diaryIds = new Set<string>();
  const diarySeqs = new Set<number>();
  const annotationSeqs = new Set<number>();
  const recordEventSeqs = new Set<number>();
  for (const d of content.diaryRecords ?? []) {
    report.records.diary++;
    diaryIds.add(d.eventUuid);
    let previous: unknown = null;
    let lastAudit = 0;
    for (const v of d.history) {
      if (v.chainSeq !== null) diarySeqs.add(v.chainSeq);
      const e = verifiedEntry(v.chainSeq);
      const ok =
        e !== undefined &&
        e.event_type === 'diary.event' &&
        Number(e.payload.audit_id) === v.auditId &&
        e.payload.event_uuid === d.eventUuid &&
        e.payload.patient_id === d.patientId &&
        e.payload.site_id === d.siteId &&
        e.payload.operation === v.operation &&
        e.payload.data_sha256 === sha256(canonicalJson(v.data)) &&
        e.payload.change_reason_sha256 === sha256(v.changeReason);
      if (!ok)
        problem(
          where('diary record', d.eventUuid),
          `version audit ${v.auditId} does not match its diary.event audit entry (seq ${v.chainSeq})`,
        );
      else report.records.eventsMatched++;
      if (v.auditId <= lastAudit)
        problem(where('diary record', d.eventUuid), `version audit ${v.auditId} is out of order`);
      lastAudit = v.auditId;
      if (canonicalJson(fieldChanges(previous, v.data)) !== canonicalJson(v.changes)) {
        problem(
          where('diary record', d.eventUuid),
          `the old and new values of version audit ${v.auditId} do not follow from the versions`,
        );
      }
      previous = v.data;
    }
    if (d.history.length > 0 && canonicalJson(d.currentData) !== canonicalJson(d.history.at(-1)?.data)) {
      problem(where('diary record', d.eventUuid), 'its current value is not its last version');
    }
    // Corrections and their review, conflicts and their resolution: each the chain's entry about this record.
    for (const ref of d.recordEvents ?? []) {
      recordEventSeqs.add(ref.seq);
      const e = verifiedEntry(ref.seq);
      if (e === undefined || e.event_type !== ref.eventType || e.payload.event_uuid !== d.eventUuid)
        problem(where('diary record', d.eventUuid), `does not match its audit entry (seq ${ref.seq})`);
      else report.records.eventsMatched++;
    }
    for (const a of d.annotations) {
      let resolved = false;
      a.events.forEach((ref, i) => {
        annotationSeqs.add(ref.seq);
        const e = verifiedEntry(ref.seq);
        const ok =
          e !== undefined &&
          e.payload.annotation_id === a.annotationId &&
          e.event_type === ref.eventType &&
          (i > 0 ||
            (e.event_type === 'diary.annotation' &&
              e.payload.annotation_text_sha256 === sha256(a.text) &&
              e.payload.annotation_kind === a.kind &&
              Number(e.payload.parent_audit_id) === a.parentAuditId));
        if (!ok)
          problem(where('annotation', a.annotationId), `does not match its audit entry (seq ${ref.seq})`);
        else report.records.eventsMatched++;
        if (e?.event_type === 'diary.annotation_resolved') resolved = true;
        if (e?.event_type === 'diary.annotation_reopened') resolved = false;
      });
      if (a.events.length === 0) problem(where('annotation', a.annotationId), 'has no audit entry');
      // Each reason in the packet is its chain entry's, and each reason entry is in the packet (0051).
      if (a.resolutions !== undefined) {
        const reasonEntries = a.events
          .map((ref) => verifiedEntry(ref.seq))
          .filter((e) => e?.event_type === 'diary.annotation_resolution_reason');
        for (const r of a.resolutions) {
          if (r.reasonCode === null) continue;
          const bound = reasonEntries.some(
            (e) =>
              e?.payload.request_id === r.requestId &&
              e.payload.reason_code === r.reasonCode &&
              e.payload.resolved === r.resolved &&
              e.payload.reason_text_sha256 === (r.reasonText === null ? null : sha256(r.reasonText)),
          );
          if (!bound)
            problem(
              where('annotation', a.annotationId),
              `the reason of request ${r.requestId} is not what the audit chain says`,
            );
        }
        for (const e of reasonEntries) {
          if (!a.resolutions.some((r) => r.requestId === e?.payload.request_id))
            problem(
              where('annotation', a.annotationId),
              `the audit chain has a reason (request ${String(e?.payload.request_id)}) that the packet lacks`,
            );
        }
      }
      if (resolved !== a.resolved)
        problem(where('annotation', a.annotationId), 'its resolved flag is not what the audit chain says');
    }
  }
  // Completeness: every verified entry about a record of the packet, or about the scope, is in it.
  const selector = content.cover.scope.selector;
  const range = { from: content.cover.scope.from, to: content.cover.scope.to };
  const inRange = (at: string) => (!range.from || at >= range.from) && (!range.to || at <= range.to);
  const studyIds = new Set(selector.kind === 'study' ? content.studies.map((s) => s.id) : []);
  const scopeSites = new Set(content.sites.filter((s) => studyIds.has(s.studyId)).map((s) => s.siteId));
  const stagingStudy = new Map<string, string>();
  const stagingTouched = new Set<string>();
  const diaryTouched = new Map<string, { site: string; patient: string }>();
  for (let seq = 1; seq <= boundSeq; seq++) {
    const e = chainEntries.get(seq);
    if (!e) continue;
    const p = e.payload;
    if (e.event_type.startsWith('staging.') && typeof p.staging_id === 'string') {
      if (e.event_type === 'staging.proposed' && typeof p.study_id === 'string')
        stagingStudy.set(p.staging_id, p.study_id);
      if (inRange(e.occurred_at)) stagingTouched.add(p.staging_id);
      if (stagingIds.has(p.staging_id) && !stagingSeqs.get(p.staging_id)?.has(seq)) {
        problem(
          where('staging record', p.staging_id),
          `audit entry seq ${seq} (${e.event_type}) is missing from its history`,
        );
      }
    } else if (e.event_type === 'signature.recorded' && typeof p.subject_id === 'string') {
      if (inRange(e.occurred_at)) stagingTouched.add(p.subject_id);
      if (stagingIds.has(p.subject_id) && !signatureIds.get(p.subject_id)?.has(String(p.signature_id))) {
        problem(
          where('staging record', p.subject_id),
          `signature ${String(p.signature_id)} (audit entry seq ${seq}) is missing from the packet`,
        );
      }
    } else if (e.event_type.startsWith('diary.') && typeof p.event_uuid === 'string') {
      if (e.event_type === 'diary.event' && inRange(e.occurred_at)) {
        diaryTouched.set(p.event_uuid, { site: String(p.site_id), patient: String(p.patient_id) });
      }
      if (diaryIds.has(p.event_uuid)) {
        const held =
          e.event_type === 'diary.event'
            ? diarySeqs.has(seq)
            : annotationSeqs.has(seq) || recordEventSeqs.has(seq);
        if (!held)
          problem(
            where('diary record', p.event_uuid),
            `audit entry seq ${seq} (${e.event_type}) is missing from the packet`,
          );
      }
    }
  }
  if (selector.kind === 'study') {
    for (const id of stagingTouched) {
      const study = stagingStudy.get(id);
      if (study && studyIds.has(study) && !stagingIds.has(id))
        problem('packet.json', `staging record ${id} of the scope's study is missing`);
    }
    for (const [id, at] of diaryTouched) {
      if (scopeSites.has(at.site) && !diaryIds.has(id))
        problem('packet.json', `diary record ${id} of the scope's study is missing`);
    }
  } else if (selector.kind === 'patient') {
    for (const [id, at] of diaryTouched) {
      if (at.patient === selector.patientId && !diaryIds.has(id))
        problem('packet.json', `diary record ${id} of the scope's patient is missing`);
    }
  } else if (selector.kind === 'staging') {
    for (const id of selector.stagingIds) {
      if (stagingTouched.has(id) && !stagingIds.has(id))
        problem('packet.json', `staging record ${id} of the scope is missing`);
    }
  }
}

/** Formats 1 and 2: chain/audit_log.jsonl recomputed from genesis to the head. */
function genesisChain(
  byPath: Map<string, Buffer>,
  content: PacketContent,
  report: VerifyReport,
  problem: (where: string, what: string) => void,
): { chainEntries: Map<number, ChainEntry>; boundSeq: number } {
  const chainState = content.cover?.chain;
  const declaredBreak = chainState?.broken ?? null;
  const chainData = byPath.get(chainFilePath)?.toString('utf8') ?? '';
  const chainEntries = new Map<number, ChainEntry>();
  let previousHash = '0'.repeat(64);
  let previousSeq = 0;
  let chainBrokenAt: number | null = null;
  let chainProblem = '';
  const lines = chainData.length > 0 ? chainData.replace(/\n$/, '').split('\n') : [];
  lines.forEach((line, index) => {
    let entry: ChainEntry;
    try {
      entry = JSON.parse(line) as ChainEntry;
    } catch {
      if (chainBrokenAt === null) {
        chainBrokenAt = previousSeq + 1;
        chainProblem = `line ${index + 1} is not JSON`;
      }
      return;
    }
    chainEntries.set(entry.seq, entry);
    if (chainBrokenAt !== null) return;
    let bad = '';
    if (canonicalJson(entry) !== line) bad = `line ${index + 1} is not canonical`;
    else if (entry.seq !== previousSeq + 1)
      bad = `entry ${previousSeq + 1} is missing or out of order (found ${entry.seq})`;
    else if (entry.prev_hash !== previousHash)
      bad = `entry ${entry.seq} does not point at entry ${previousSeq}'s hash`;
    else if (sha256(canonicalJson(entry.payload)) !== entry.payload_hash)
      bad = `entry ${entry.seq}'s payload does not match its payload hash`;
    else if (
      sha256(
        entryHashInput(
          entry.seq,
          entry.occurred_at,
          entry.actor,
          entry.event_type,
          entry.payload_hash,
          entry.prev_hash,
        ),
      ) !== entry.entry_hash
    )
      bad = `entry ${entry.seq}'s fields do not match its entry hash`;
    if (bad) {
      chainBrokenAt = entry.seq === previousSeq + 1 ? entry.seq : previousSeq + 1;
      chainProblem = bad;
      return;
    }
    report.chain.linksChecked++;
    report.chain.links.push([entry.seq, entry.entry_hash]);
    previousSeq = entry.seq;
    previousHash = entry.entry_hash;
  });
  report.chain.entries = lines.length;
  report.chain.headSeq = previousSeq;
  report.chain.headHash = previousSeq > 0 ? previousHash : null;
  const headSeq = chainState?.headSeq ?? -1;
  if (declaredBreak) {
    if (
      chainBrokenAt === declaredBreak.firstBadSeq &&
      previousSeq === headSeq &&
      previousHash === chainState?.headHash
    ) {
      report.declaredChainBreak = declaredBreak;
    } else {
      problem(
        chainFilePath,
        `the packet declares a chain break at seq ${declaredBreak.firstBadSeq}, but the chain ${chainBrokenAt === null ? 'has none' : `breaks at seq ${chainBrokenAt} (${chainProblem})`}`,
      );
    }
  } else if (chainBrokenAt !== null) {
    problem(`${chainFilePath} seq ${chainBrokenAt}`, chainProblem);
  } else if (previousSeq !== headSeq || previousHash !== chainState?.headHash) {
    problem(
      chainFilePath,
      `the chain ends at seq ${previousSeq} (${previousHash}), not at the stated head seq ${headSeq} (${chainState?.headHash})`,
    );
  }
  report.chain.ok = chainBrokenAt === null && problemsOutside(report.problems, chainFilePath);
  // Content is bound to the verified entries; past a declared break, to the entries as they stand
  // (the packet then verifies as intact but never as a clean chain).
  const boundSeq = report.declaredChainBreak ? Math.max(0, ...chainEntries.keys()) : previousSeq;
  return { chainEntries, boundSeq };
}

function problemsOutside(problems: VerifyProblem[], path: string): boolean {
  return !problems.some((p) => p.where.startsWith(path));
}

function checkPdf(
  content: PacketContent,
  documentHash: string,
  actual: Buffer | undefined,
  report: VerifyReport,
  problem: (where: string, what: string) => void,
) {
  if (!actual) {
    problem('packet.pdf', 'missing from the packet');
    return;
  }
  const expectedPages = layoutPdfPages(content, documentHash).map(pageLines);
  let actualPages: string[][];
  try {
    actualPages = readPdfPageLines(actual);
  } catch (error) {
    problem('packet.pdf', `is not the PDF this packet renders (${(error as Error).message})`);
    return;
  }
  report.pages.count = actualPages.length;
  let pagesOk = true;
  const n = expectedPages.length;
  if (actualPages.length !== n) {
    pagesOk = false;
    problem('packet.pdf', `has ${actualPages.length} pages; packet.json renders ${n}`);
  }
  const bodyKey = (lines: string[]) => lines.join('\n');
  const expectedIndex = new Map(expectedPages.map((lines, i) => [bodyKey(lines.slice(0, -2)), i]));
  actualPages.forEach((lines, i) => {
    const expected = expectedPages[i];
    const footer = lines.slice(-2);
    if (!footer[0]?.startsWith(`Page ${i + 1} of ${n} `)) {
      pagesOk = false;
      problem(
        `packet.pdf page ${i + 1}`,
        `does not say "Page ${i + 1} of ${n}" (it says "${footer[0] ?? ''}")`,
      );
    }
    if (footer[1] !== `Document SHA-256 ${documentHash}`) {
      pagesOk = false;
      problem(`packet.pdf page ${i + 1}`, 'does not carry the document hash of packet.json');
    }
    if (!expected || bodyKey(lines) !== bodyKey(expected)) {
      pagesOk = false;
      const other = expectedIndex.get(bodyKey(lines.slice(0, -2)));
      problem(
        `packet.pdf page ${i + 1}`,
        other !== undefined && other !== i
          ? `holds the content of page ${other + 1} (pages swapped or moved)`
          : `its text differs from what packet.json renders${expected ? ` (line ${firstDifferentLine(bodyKey(expected), bodyKey(lines))})` : ''}`,
      );
    }
  });
  if (pagesOk && !renderPdf(content, documentHash).equals(actual)) {
    pagesOk = false;
    problem('packet.pdf', 'its bytes outside the page text differ from the rendering of packet.json');
  }
  report.pages.ok = pagesOk;
}

/** Format 3's casebook PDF, rendered again and compared page by page (--render). */
function checkCasebookPdf(
  content: PacketContent,
  documentHash: string,
  actual: Buffer | undefined,
  report: VerifyReport,
  problem: (where: string, what: string) => void,
) {
  if (!actual) {
    problem('packet.pdf', 'missing from the packet');
    return;
  }
  let expected: Buffer;
  try {
    expected = renderCasebookPdf(content, documentHash);
  } catch (error) {
    problem('packet.json', `cannot be rendered as a PDF: ${(error as Error).message}`);
    return;
  }
  const compared = comparePdfPages(expected, actual);
  report.pages.count = compared.pages;
  report.pages.ok = compared.firstDifferentPage === null && expected.equals(actual);
  if (compared.firstDifferentPage !== null) {
    const at = compared.firstDifferentPage;
    // A page that is another page of the rendering: swapped or moved.
    let moved: number | null = null;
    try {
      const want = readPdfPageObjects(expected).pages;
      const got = readPdfPageObjects(actual).pages;
      const other = want.indexOf(got[at - 1] as string);
      if (other >= 0 && other !== at - 1) moved = other + 1;
    } catch {
      // not readable: named as different below
    }
    problem(
      `packet.pdf page ${at}`,
      moved !== null
        ? `holds the content of page ${moved} (pages swapped or moved)`
        : compared.sharedDiffers
          ? 'its fonts or shared objects differ from the rendering of packet.json'
          : 'differs from the rendering of packet.json',
    );
  } else if (!expected.equals(actual)) {
    problem('packet.pdf', 'its bytes outside the pages differ from the rendering of packet.json');
  }
}

/** Below this, a packet is checked on the calling thread alone: starting a worker costs more. */
const workerThreshold = 4_000_000;

/**
 * verifyPacket with a large format 3 packet's byte-level checks (its SHA-256, every file's, every
 * chain line's form and hashes) in a second thread while this one checks everything else
 * (packetBytesCheck.ts): `countersign verify`, the export's self-check and the workstation use this.
 * When the worker finds anything, or cannot run, the packet is verified again on this thread alone,
 * so the report names every problem in context exactly as verifyPacket does.
 */
export async function verifyPacketAsync(
  bytes: Buffer,
  options: VerifyOptions = {},
  /** Packets smaller than this are verified on this thread alone (tests pass 0). */
  threshold = workerThreshold,
): Promise<VerifyReport> {
  let entries: ZipEntry[] | null = null;
  try {
    const read = readStoredZip(bytes, { skipCrc: true });
    const manifest = read.find((e) => e.path === 'manifest.json');
    const format = manifest
      ? (JSON.parse(manifest.data.toString('utf8')) as { formatVersion?: unknown }).formatVersion
      : 0;
    // Formats 1-2 carry the chain from genesis in another form: verifyPacket checks them alone.
    if (typeof format === 'number' && format >= 3 && bytes.length >= threshold) entries = read;
  } catch {
    // not a packet this can split: the single-thread verify says why
  }
  if (entries === null) return verifyPacket(bytes, options);
  const files = entries.map((e): [string, number, number] => [
    e.path,
    e.data.byteOffset - bytes.byteOffset,
    e.data.length,
  ]);
  const checked = checkPacketBytesInWorker(bytes, files, chainFilePath).catch(() => null);
  const report = verifyPacket(bytes, { ...options, bytesCheckedElsewhere: { entries } });
  const result = await checked;
  if (
    result !== null &&
    result.badLines.length === 0 &&
    result.contentHashesOk &&
    result.lines === report.chain.entries &&
    entries.every((e) => result.fileCrc32[e.path] === e.crc) &&
    report.files.every((f) => result.fileSha256[f.path] === f.sha256)
  ) {
    report.packetSha256 = result.packetSha256;
    return report;
  }
  return verifyPacket(bytes, options);
}

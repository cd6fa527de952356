// The inspection packet on the embedded demo: the QA inspector syncs, goes offline, and exports a
// study from the cache; the packet verifies from its bytes alone; any changed byte, a removed
// signature row, a reordered audit entry and a swapped PDF page are each found and named, even when
// the forger recomputes every hash they can; the PDF's own text (read with pdf.js) shows each
// signature's manifestation; the ODM parses with its key elements; a broken chain is refused, or
// flagged on every page when asked.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAgentId, demoPeople, demoPerson } from '../../src/main/backend/demo/demoPeople';
import { FileCacheKeyStore } from '../../src/main/cache/cacheKeyStore';
import { cacheDir } from '../../src/main/cache/cacheLocation';
import { openCache } from '../../src/main/cache/openCache';
import { auditSubjectsOf } from '../../src/main/checkpoint/auditSubjects';
import { buildPacket, renderPacketFiles } from '../../src/main/export/exportPacket';
import type { PacketContent } from '../../src/main/export/packetContent';
import { buildManifest, manifestBytes, sha256OfBytes } from '../../src/main/export/packetManifest';
import { layoutPdfPages } from '../../src/main/export/pdfWriter';
import { readStoredZip, writeStoredZip, type ZipEntry } from '../../src/main/export/storedZip';
import { verifyPacket } from '../../src/main/export/verifyPacket';
import { dispatchContractCall } from '../../src/main/ipc/dispatchContractCall';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import { canonicalJson } from '../../src/shared/canonicalJson';
import type { Channel, ExportProgress, RequestOf, ResponseOf } from '../../src/shared/contract';
import { queueRowsOf } from '../../src/shared/stagingQueueColumns';
import { forgePacket, forgePacketContent } from './support/forgedPacket';
import { freePort } from './support/freePort';

const run = promisify(execFile);

function chainLinesOf(packet: Buffer): string[] {
  const chain = readStoredZip(packet).find((e) => e.path === 'chain/audit_log.jsonl') as ZipEntry;
  return chain.data.toString('utf8').replace(/\n$/, '').split('\n');
}

function flipByteOf(packet: Buffer, path: string): Buffer {
  const copy = Buffer.from(packet);
  const entry = readStoredZip(packet).find((e) => e.path === path) as ZipEntry;
  const offset = packet.indexOf(entry.data) + Math.floor(entry.data.length / 2);
  copy[offset] = (copy[offset] as number) ^ 0x01;
  return copy;
}

describe('inspection packet on the embedded demo', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-export-'));
  let workstation: Workstation;
  const lines: string[] = [];
  const progress: ExportProgress[] = [];
  let packet: Buffer;
  let packetPath: string;
  let content: PacketContent;
  let inspector: { email: string; password: string; printedName: string };
  let studyCode: string;

  async function call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
    const result = await dispatchContractCall(workstation.handlers, channel, request);
    if (!result.ok) throw result.error;
    return result.response as ResponseOf<C>;
  }

  beforeAll(async () => {
    workstation = await createWorkstation({
      dataDir,
      env: { COUNTERSIGN_PG_PORT: String(await freePort()) },
      log: (line) => lines.push(line),
    });
    await workstation.backendSettled;
    workstation.subscribe((event, payload) => {
      if (event === 'export.progress') progress.push(payload as ExportProgress);
    });
    const status = await call('backend.status', {});
    const qa = status.demoUsers.find((user) => user.roles.includes('inspector'));
    if (!qa) throw new Error('the demo has no inspector');
    inspector = qa;
    expect((await call('session.signIn', { email: qa.email, password: qa.password })).ok).toBe(true);
    const synced = await call('sync.now', {});
    expect(synced.chain?.ok).toBe(true);
    await call('sync.setOffline', { offline: true });
    const signatures = await call('signatures.list', { subjectId: null, limit: 1 });
    const queue = await call('staging.queue', { limit: 1, states: ['signed'] });
    studyCode = queueRowsOf(queue.columns)[0]?.studyCode as string;
    expect(signatures.rows.length).toBe(1);
  });
  afterAll(async () => {
    await workstation?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('exports a study from the cache while offline, with progress, and the packet verifies [CFR-11.10b]', async () => {
    const started = lines.length;
    const exported = await call('export.packet', { scope: { kind: 'study', studyCode } });
    packetPath = exported.path;
    packet = readFileSync(packetPath);
    expect(exported.counts.stagingRecords).toBeGreaterThan(10);
    expect(exported.counts.signatures).toBeGreaterThan(5);
    expect(exported.counts.diaryRecords).toBeGreaterThan(0);
    expect(exported.chainBroken).toBe(false);
    expect(progress.map((p) => p.stage)).toEqual(
      expect.arrayContaining([
        'verifying chain',
        'gathering records',
        'rendering',
        'checking packet',
        'done',
      ]),
    );
    const report = verifyPacket(packet);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.files.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        'packet.json',
        'packet.pdf',
        'odm/countersign.odm.xml',
        'csv/signatures.csv',
        'chain/audit_log.jsonl',
      ]),
    );
    // Format 3 carries the study's entries (and the head), each proven in the checkpoint.
    expect(report.chain.headSeq).toBe(exported.chainHead.seq);
    expect(report.chain.linksChecked).toBe(report.chain.entries);
    expect(report.proofs?.checkpoint?.treeSize).toBe(exported.chainHead.seq);
    expect(report.chain.headHash).toBe(exported.chainHead.hash);
    expect(report.signatures.length).toBe(exported.counts.signatures);
    expect(report.signatures.every((s) => s.ok)).toBe(true);
    expect(report.signatures.some((s) => s.recomputed)).toBe(true);
    content = JSON.parse(
      readStoredZip(packet)
        .find((e) => e.path === 'packet.json')
        ?.data.toString('utf8') ?? '',
    );
    expect(content.cover.generatedBy.printedName).toBe('Ingrid Halvorsen');
    expect(content.stagingRecords.every((r) => r.studyCode === studyCode)).toBe(true);
    // The same report through the channel; and nothing personal or secret in the log.
    expect((await call('export.verify', { fileName: packetPath.split('/').at(-1) as string })).ok).toBe(true);
    const log = lines.slice(started).join('\n');
    expect(log).toMatch(/exported a study packet/);
    expect(log).not.toContain(inspector.password);
    for (const d of content.diaryRecords) expect(log).not.toContain(d.patientId);
  });

  it('fails at the changed file when one byte of any file type is flipped [EXPORT-TAMPER, CFR-11.10a]', () => {
    for (const path of [
      'manifest.json',
      'packet.json',
      'packet.pdf',
      'odm/countersign.odm.xml',
      'csv/signatures.csv',
      'csv/diary_history.csv',
      'chain/audit_log.jsonl',
    ]) {
      const raw = verifyPacket(flipByteOf(packet, path));
      expect(raw.ok, path).toBe(false);
      expect(raw.problems[0]?.where, path).toBe(path);
      // The forger also fixes the ZIP and recomputes the manifest: still caught at that file.
      if (path === 'manifest.json') continue;
      const entries = readStoredZip(packet);
      const forged = forgePacket(entries, (files) => {
        const data = Buffer.from(files.get(path) as Buffer);
        // A letter or digit from the middle on: a flipped quote would leave packet.json unreadable
        // to the forger itself, not just to the verifier.
        let at = Math.floor(data.length / 2);
        while (!/[0-9A-Za-z]/.test(String.fromCharCode(data[at] as number))) at++;
        data[at] = (data[at] as number) ^ 0x01;
        files.set(path, data);
      });
      // The forger re-signs the manifest with their own key; the renderings are compared with --render.
      const report = verifyPacket(forged, { render: true });
      expect(report.ok, path).toBe(false);
      expect(
        report.problems.some(
          (p) => p.where.startsWith(path) || (path === 'packet.json' && p.where.startsWith('packet')),
        ),
        `${path}: ${JSON.stringify(report.problems.slice(0, 3))}`,
      ).toBe(true);
    }
    const appended = verifyPacket(Buffer.concat([packet, Buffer.from('x')]));
    expect(appended.ok).toBe(false);
  });

  it('detects a removed signature row even when every file is rendered again and every hash recomputed [EXPORT-TAMPER]', () => {
    const entries = readStoredZip(packet);
    const signed = content.stagingRecords.find((r) => r.signatures.length > 0);
    if (!signed) throw new Error('no signed record in the packet');
    const removed = signed.signatures[0]?.id as string;
    const forged = forgePacket(
      entries,
      (files) => {
        const forgedContent = JSON.parse(canonicalJson(content)) as PacketContent;
        const record = forgedContent.stagingRecords.find(
          (r) => r.id === signed.id,
        ) as PacketContent['stagingRecords'][number];
        record.signatures = record.signatures.filter((s) => s.id !== removed);
        forgedContent.cover.counts.signatures--;
        files.set('packet.json', Buffer.from(canonicalJson(forgedContent)));
      },
      true,
    );
    const report = verifyPacket(forged);
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual({
      where: `packet.json staging record ${signed.id}`,
      what: expect.stringContaining(`signature ${removed}`),
    });
  });

  it('detects a staging record left out of a study packet with all its entries, every hash recomputed [PROOF-COMPLETE, EXPORT-TAMPER]', () => {
    const left = content.stagingRecords.find((r) => r.signatures.length > 0) ?? content.stagingRecords[0];
    if (!left) throw new Error('no staging record in the packet');
    const forged = forgePacket(
      readStoredZip(packet),
      (files) => {
        const forgedContent = JSON.parse(canonicalJson(content)) as PacketContent;
        forgedContent.stagingRecords = forgedContent.stagingRecords.filter((r) => r.id !== left.id);
        forgedContent.cover.counts.stagingRecords--;
        forgedContent.cover.counts.signatures -= left.signatures.length;
        files.set('packet.json', Buffer.from(canonicalJson(forgedContent)));
        // Its audit entries go too, so that no carried entry names it.
        const lines = (files.get('chain/audit_log.jsonl') as Buffer).toString('utf8').split('\n');
        const kept = lines.filter((line) => {
          if (line === '') return true;
          const entry = JSON.parse(line) as { event_type: string; payload: Record<string, unknown> };
          return !auditSubjectsOf(entry.event_type, entry.payload).includes(`staging:${left.id}`);
        });
        expect(kept.length).toBeLessThan(lines.length);
        files.set('chain/audit_log.jsonl', Buffer.from(kept.join('\n')));
      },
      true,
    );
    const report = verifyPacket(forged);
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual({
      where: `packet.json study ${studyCode}`,
      what: expect.stringMatching(
        /^audit entry seq \d+ about it \(subject map\) is missing from the packet$/,
      ),
    });
  });

  it('detects a reordered audit entry, in the chain file and in a record history [EXPORT-TAMPER]', () => {
    const entries = readStoredZip(packet);
    const chainForged = forgePacket(entries, (files) => {
      const chainLines = (files.get('chain/audit_log.jsonl') as Buffer).toString('utf8').split('\n');
      [chainLines[5], chainLines[6]] = [chainLines[6] as string, chainLines[5] as string];
      files.set('chain/audit_log.jsonl', Buffer.from(chainLines.join('\n')));
    });
    const chainReport = verifyPacket(chainForged);
    expect(chainReport.ok).toBe(false);
    const swappedSeq = (JSON.parse(chainLinesOf(packet)[5] as string) as { seq: number }).seq;
    expect(chainReport.problems).toContainEqual({
      where: `chain/audit_log.jsonl seq ${swappedSeq}`,
      what: expect.stringMatching(/out of order/),
    });

    const record = content.stagingRecords.find(
      (r) => r.history.length >= 2,
    ) as PacketContent['stagingRecords'][number];
    const historyForged = forgePacket(
      entries,
      (files) => {
        const forgedContent = JSON.parse(canonicalJson(content)) as PacketContent;
        const target = forgedContent.stagingRecords.find((r) => r.id === record.id) as typeof record;
        target.history.reverse();
        files.set('packet.json', Buffer.from(canonicalJson(forgedContent)));
      },
      true,
    );
    const historyReport = verifyPacket(historyForged);
    expect(historyReport.ok).toBe(false);
    expect(historyReport.problems.map((p) => p.what).join('\n')).toMatch(/out of order/);
  });

  it('detects a swapped PDF page and names it, even with the manifest recomputed [EXPORT-TAMPER]', () => {
    const entries = readStoredZip(packet);
    const forged = forgePacket(entries, (files) => {
      const pdf = (files.get('packet.pdf') as Buffer).toString('latin1');
      // /Kids [a 0 R b 0 R c 0 R ...]: swap pages 2 and 3 (same length, so no offset moves).
      files.set(
        'packet.pdf',
        Buffer.from(
          pdf.replace(/\/Kids \[(\d+ 0 R) (\d+ 0 R) (\d+ 0 R)/, (_m, a, b, c) =>
            b.length === c.length ? `/Kids [${a} ${c} ${b}` : _m,
          ),
          'latin1',
        ),
      );
    });
    const report = verifyPacket(forged, { render: true });
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual({
      where: 'packet.pdf page 2',
      what: 'holds the content of page 3 (pages swapped or moved)',
    });
  });

  it("shows each signature's printed name, time and meaning in the PDF's own text (pdf.js) [CFR-11.50]", async () => {
    const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
    const pdf = readStoredZip(packet).find((e) => e.path === 'packet.pdf')?.data as Buffer;
    const doc = await pdfjs.getDocument({
      data: new Uint8Array(pdf),
      useSystemFonts: false,
      isEvalSupported: false,
    }).promise;
    const pages: string[] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const text = await (await doc.getPage(n)).getTextContent();
      pages.push(
        text.items.map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : '')).join(''),
      );
    }
    await doc.destroy();
    const all = pages.join('\n');
    const documentHash = verifyPacket(packet).documentHash as string;
    pages.forEach((page, i) => {
      expect(page).toContain(`Page ${i + 1} of ${pages.length}`);
      expect(page).toContain(`Document SHA-256 ${documentHash}`);
    });
    const signatures = content.stagingRecords.flatMap((r) => r.signatures);
    expect(signatures.length).toBeGreaterThan(0);
    for (const s of signatures) {
      expect(all).toContain(`Signed by: ${s.printedName}`);
      expect(all).toContain(`Meaning: ${s.meaning}`);
      expect(all).toContain(`Date and time: ${s.signedAtUtc} UTC / ${s.signedAtLocal}`);
    }
    // The casebook PDF (format 3) writes "Audit chain head seq N, hash H" and the checkpoint.
    expect(all).toMatch(new RegExp(`Audit chain head:? seq ${content.cover.chain.headSeq}\\b`));
    expect(all).toContain(`Tree size ${content.cover.checkpoint?.treeSize}`);
  });

  it('writes well-formed CDISC ODM 1.3.2 with audit records and signatures [CFR-11.10b]', () => {
    const xml = readStoredZip(packet)
      .find((e) => e.path === 'odm/countersign.odm.xml')
      ?.data.toString('utf8') as string;
    const odm = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '@',
      isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
    }).parse(xml, true).ODM[0];
    expect(odm['@FileType']).toBe('Snapshot');
    expect(odm['@ODMVersion']).toBe('1.3.2');
    expect(odm.Study[0].MetaDataVersion[0].ItemDef.length).toBeGreaterThan(0);
    const admin = odm.AdminData[0];
    expect(admin.User.length).toBeGreaterThan(0);
    expect(admin.SignatureDef[0].Meaning[0]).toEqual(expect.any(String));
    expect(admin.SignatureDef[0].LegalReason[0]).toMatch(/21 CFR Part 11/);
    const groups = odm.ReferenceData[0].ItemGroupData;
    const signed = groups.filter((g: { Signature?: unknown[] }) => g.Signature);
    expect(signed.length).toBeGreaterThan(0);
    expect(signed[0].Signature[0].SignatureRef[0]['@SignatureOID']).toMatch(/^SD\./);
    const subjects = odm.ClinicalData[0].SubjectData;
    expect(subjects.length).toBeGreaterThan(0);
    const item = subjects[0].StudyEventData[0].FormData[0].ItemGroupData[0].ItemData[0];
    expect(item.AuditRecord[0].ReasonForChange[0]).toEqual(expect.any(String));
    expect(item.AuditRecord[0].UserRef[0]['@UserOID']).toMatch(/^USR\./);
  });

  it('names every actor by printed name with their id, patients by subject code only, and still verifies [EXPORT-PEOPLE-NAMES, CFR-11.10b]', () => {
    const files = new Map(readStoredZip(packet).map((e) => [e.path, e.data.toString('utf8')]));
    const people = content.people ?? [];
    const byId = new Map(people.map((p) => [p.userId, p]));
    // Signers, the agent and the exporting inspector, each by name and id (and roles).
    for (const s of content.stagingRecords.flatMap((r) => r.signatures))
      expect(byId.get(s.userId)).toMatchObject({ name: s.printedName, roles: ['signer'] });
    const agent = people.find((p) => p.agentId === demoAgentId);
    expect(agent).toMatchObject({ name: demoPerson('agent').printedName, roles: ['agent'] });
    expect(byId.get(content.cover.generatedBy.userId)?.name).toBe(inspector.printedName);
    const agentEvents = content.stagingRecords
      .flatMap((r) => r.provenance)
      .filter((p) => p.actorKind === 'agent');
    expect(agentEvents.length).toBeGreaterThan(0);
    for (const p of agentEvents) expect(p.actorName).toBe(agent?.name);
    // Every staging event by a person names them; diary entries by a patient name the subject code.
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-/;
    for (const h of content.stagingRecords.flatMap((r) => r.history))
      if (uuid.test(h.actor)) expect(h.actorName, `seq ${h.seq}`).toEqual(expect.any(String));
    const patientEntries = content.diaryRecords.flatMap((d) => d.history).filter((v) => v.role === 'USER');
    expect(patientEntries.length).toBeGreaterThan(0);
    for (const v of patientEntries) expect(v.createdByName).toMatch(/^subject [A-Z]+-\d+-\d+$/);
    const patientNames = demoPeople.filter((p) => p.diary?.kind === 'patient').map((p) => p.printedName);
    for (const [path, text] of files) for (const name of patientNames) expect(text, path).not.toContain(name);
    // The renderings: the PDF (as laid out, page text checked by verify), the CSVs and ODM's users.
    const pdfText = layoutPdfPages(content, verifyPacket(packet).documentHash as string)
      .flatMap((page) => page.body.map((line) => line.text))
      .join('\n');
    expect(pdfText).toContain('PEOPLE NAMED IN THIS PACKET');
    // Long lines wrap mid-word: compared without white space.
    const unwrapped = pdfText.replace(/\s+/g, '');
    expect(unwrapped).toContain(`by ${agent?.name} (agent ${demoAgentId})`.replace(/\s+/g, ''));
    expect(unwrapped).toContain(`${agent?.name} (agent): ${agent?.userId}`.replace(/\s+/g, ''));
    expect(files.get('csv/people.csv')).toContain(
      `"${agent?.userId}","${agent?.name}","agent","${demoAgentId}"`,
    );
    expect(files.get('csv/provenance.csv')?.split('\r\n')[0]).toContain('"actor_id","actor_name"');
    const odm = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '@',
      isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
    }).parse(files.get('odm/countersign.odm.xml') as string, true).ODM[0];
    const users = odm.AdminData[0].User as { '@OID': string; FullName: string[] }[];
    for (const user of users) expect(user.FullName[0], user['@OID']).not.toMatch(uuid);
    expect(users.map((u) => u.FullName[0])).toContain(agent?.name);
    expect(verifyPacket(packet).problems).toEqual([]);
  });

  it('still verifies a packet made before people were named (no people, no name fields) [EXPORT-PEOPLE-NAMES]', async () => {
    // Packets before people were named were of format 1-2: the chain from genesis, no proofs.
    const status = await call('backend.status', {});
    const userId = status.session?.userId as string;
    const backendId = (await import('node:fs'))
      .readdirSync(cacheDir(dataDir))
      .find((n) => /^[0-9a-f]{16}$/.test(n)) as string;
    const key = new FileCacheKeyStore(join(cacheDir(dataDir), 'keys')).keyFor(userId, backendId);
    const db = openCache({
      path: join(cacheDir(dataDir), backendId, `${userId}.sqlite`),
      key,
      userId,
      backendId,
    });
    let genesis: Awaited<ReturnType<typeof buildPacket>>;
    try {
      genesis = await buildPacket(db, {
        scope: { selector: { kind: 'study', studyCode }, from: null, to: null },
        allowBrokenChain: false,
        generatedBy: content.cover.generatedBy,
        timeZone: content.cover.timeZone,
        genesisChain: true,
      });
    } finally {
      db.close();
    }
    const old = JSON.parse(canonicalJson(genesis.content)) as PacketContent;
    delete old.people;
    for (const r of old.stagingRecords)
      for (const p of r.provenance) delete (p as { actorName?: unknown }).actorName;
    for (const d of old.diaryRecords) {
      for (const v of d.history) delete (v as { createdByName?: unknown }).createdByName;
      for (const a of d.annotations) delete (a as { investigatorName?: unknown }).investigatorName;
    }
    const packetJson = Buffer.from(canonicalJson(old), 'utf8');
    const documentHash = sha256OfBytes(packetJson);
    const files = new Map<string, Buffer>([['packet.json', packetJson]]);
    for (const [path, data] of renderPacketFiles(old, documentHash)) files.set(path, data);
    const chainFile = readStoredZip(genesis.zip).find((e) => e.path === 'chain/audit_log.jsonl') as ZipEntry;
    files.set(chainFile.path, chainFile.data);
    const listed = [...files].map(([path, data]) => ({
      path,
      sha256: sha256OfBytes(data),
      bytes: data.length,
    }));
    const older = writeStoredZip([
      { path: 'manifest.json', data: manifestBytes(buildManifest(old, documentHash, listed)) },
      ...[...files].map(([path, data]) => ({ path, data })),
    ]);
    expect(verifyPacket(older).problems).toEqual([]);
    expect(files.has('csv/people.csv')).toBe(false);
    expect(files.get('csv/provenance.csv')?.toString('utf8').split('\r\n')[0]).not.toContain('actor_name');
  });

  it('exports by patient, by staging ids and by date range, each verifying', async () => {
    const patient = content.diaryRecords[0]?.patientId as string;
    const byPatient = await call('export.packet', { scope: { kind: 'patient', patientId: patient } });
    expect(byPatient.counts.diaryRecords).toBeGreaterThan(0);
    expect(byPatient.counts.stagingRecords).toBe(0);
    const ids = content.stagingRecords.slice(0, 2).map((r) => r.id);
    const byIds = await call('export.packet', { scope: { kind: 'staging', stagingIds: ids } });
    expect(byIds.counts.stagingRecords).toBe(2);
    const day = content.cover.generatedAt.slice(0, 10);
    const ranged = await call('export.packet', { scope: { kind: 'study', studyCode }, from: day, to: day });
    expect(ranged.counts.stagingRecords).toBeLessThanOrEqual(content.stagingRecords.length);
    for (const exported of [byPatient, byIds, ranged])
      expect(verifyPacket(readFileSync(exported.path)).problems).toEqual([]);
  });

  it('shows who closed each query, when and why, and binds each reason to the chain [DIARY-QUERY-REASON, EXPORT-TAMPER]', async () => {
    const closedQueries = content.diaryRecords.flatMap((d) =>
      d.annotations.filter((a) => (a.resolutions ?? []).some((r) => r.resolved && r.reasonCode !== null)),
    );
    expect(closedQueries.length).toBeGreaterThan(0);
    const query = closedQueries[0] as (typeof closedQueries)[number];
    const close = (query.resolutions ?? []).find((r) => r.resolved) as NonNullable<
      typeof query.resolutions
    >[number];
    expect(close.reasonLabel).toMatch(/\w/);
    expect(close.requestedByName).toMatch(/\w/);
    const entries = readStoredZip(packet);
    const text = (path: string) =>
      (entries.find((e) => e.path === path)?.data ?? Buffer.alloc(0)).toString('latin1');
    expect(text('csv/query_resolutions.csv')).toContain(`"${close.requestId}","${query.annotationId}",`);
    // The PDF as laid out (long lines wrap mid-word: compared without white space).
    const pdfText = layoutPdfPages(content, verifyPacket(packet).documentHash as string)
      .flatMap((page) => page.body.map((line) => line.text))
      .join('')
      .replace(/\s+/g, '');
    expect(pdfText).toContain(
      `Closedby${close.requestedByName}`.replace(/\s+/g, '') +
        `(${close.requestedBy})at${close.requestedAt};`,
    );
    expect(pdfText).toContain(`reason:${close.reasonLabel}(${close.reasonCode})`.replace(/\s+/g, ''));

    const rewritten = (change: (annotation: (typeof closedQueries)[number]) => void) =>
      forgePacketContent(packet, (forgedContent) => {
        for (const d of forgedContent.diaryRecords)
          for (const a of d.annotations) if (a.annotationId === query.annotationId) change(a);
      });
    // Another reason, every hash and rendering recomputed: the chain still says the first one.
    const otherReason = verifyPacket(
      rewritten((a) => {
        const r = (a.resolutions ?? []).find((x) => x.requestId === close.requestId);
        if (r) r.reasonText = 'Closed because the sponsor asked us to.';
      }),
    );
    expect(otherReason.ok).toBe(false);
    expect(otherReason.problems.map((p) => p.what)).toContain(
      `the reason of request ${close.requestId} is not what the audit chain says`,
    );
    // The reason left out: the chain has it, so the packet is incomplete.
    const leftOut = verifyPacket(
      rewritten((a) => {
        a.resolutions = (a.resolutions ?? []).filter((x) => x.requestId !== close.requestId);
      }),
    );
    expect(leftOut.ok).toBe(false);
    expect(leftOut.problems.map((p) => p.what)).toContain(
      `the audit chain has a reason (request ${close.requestId}) that the packet lacks`,
    );
  });

  it('verifies from the command line, offline, with only the packet', async () => {
    const { stdout } = await run('npx', ['countersign', 'verify', packetPath], { cwd: process.cwd() });
    expect(stdout).toMatch(/VERIFIED/);
    expect(stdout).toMatch(/file ok {2}[0-9a-f]{64} packet\.pdf/);
    expect(stdout).toMatch(/signature ok /);
    const broken = join(dataDir, 'broken.zip');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(broken, flipByteOf(packet, 'csv/signatures.csv'));
    const failed = await run('npx', ['countersign', 'verify', broken]).catch(
      (error: { code: number; stdout: string }) => error,
    );
    expect(failed).toMatchObject({ code: 1, stdout: expect.stringMatching(/FAIL csv\/signatures\.csv/) });
  });

  it("carries the demo HHT study's two builds and each value's, and the command line fails at a value whose build was changed [BUILD-PACKET, BUILD-VERIFY]", async () => {
    const exported = await call('export.packet', { scope: { kind: 'study', studyCode: 'AUR-HHT-201' } });
    const hht = readFileSync(exported.path);
    expect(verifyPacket(hht).problems).toEqual([]);
    const hhtContent = JSON.parse(
      readStoredZip(hht)
        .find((e) => e.path === 'packet.json')
        ?.data.toString('utf8') ?? '',
    ) as PacketContent;
    const completed = (hhtContent.builds ?? []).filter((b) => b.completedSequence !== null);
    expect(completed.map((b) => [b.number, b.type, b.superseded])).toEqual([
      ['B1', 'INITIAL', true],
      ['B2', 'AMENDMENT', false],
    ]);
    const [initial, amendment] = completed as [
      NonNullable<PacketContent['builds']>[number],
      NonNullable<PacketContent['builds']>[number],
    ];
    expect(amendment.errorLog.length).toBeGreaterThan(0);
    const versions = hhtContent.diaryRecords.flatMap((d) => d.history);
    expect(new Set(versions.map((v) => v.buildId))).toEqual(new Set([initial.id, amendment.id]));
    const spanning = hhtContent.diaryRecords.find((d) => new Set(d.history.map((v) => v.buildId)).size > 1);
    expect(spanning, 'a record whose history spans both builds').toBeDefined();

    // One version said to be of the other build, every file and hash recomputed: named by the CLI.
    const target = spanning as PacketContent['diaryRecords'][number];
    const version = target.history[0] as PacketContent['diaryRecords'][number]['history'][number];
    const forged = forgePacketContent(hht, (forgedContent) => {
      const record = forgedContent.diaryRecords.find((d) => d.eventUuid === target.eventUuid);
      const first = record?.history[0];
      if (first) first.buildId = first.buildId === initial.id ? amendment.id : initial.id;
    });
    const forgedPath = join(dataDir, 'forged-build.zip');
    (await import('node:fs')).writeFileSync(forgedPath, forged);
    const failed = await run('npx', ['countersign', 'verify', forgedPath]).catch(
      (error: { code: number; stdout: string }) => error,
    );
    expect(failed).toMatchObject({
      code: 1,
      stdout: expect.stringContaining(
        `FAIL packet.json diary record ${target.eventUuid}: version audit ${version.auditId}: its build`,
      ),
    });
    const { stdout } = await run('npx', ['countersign', 'verify', exported.path]);
    expect(stdout).toMatch(/build ok {2}B1 \(1\.0\) of AUR-HHT-201 COMPLETED/);
    expect(stdout).toMatch(/build ok {2}B2 \(2\.0\) of AUR-HHT-201 COMPLETED/);
  });

  it('exports from the command line with the cache opened offline by the password', async () => {
    const out = join(dataDir, 'cli.zip');
    const { stdout } = await run(
      'npx',
      [
        'countersign',
        'export',
        '--data-dir',
        dataDir,
        '--email',
        inspector.email,
        '--scope',
        `study:${studyCode}`,
        '--out',
        out,
      ],
      { env: { ...process.env, COUNTERSIGN_PASSWORD: inspector.password } },
    );
    expect(stdout).toMatch(/wrote .*cli\.zip/);
    expect(stdout).not.toContain(inspector.password);
    expect(verifyPacket(readFileSync(out)).ok).toBe(true);
  });

  it('refuses a broken chain naming the first bad seq, and flags the break on every page when asked [EXPORT-TAMPER]', async () => {
    const status = await call('backend.status', {});
    const userId = status.session?.userId as string;
    const backendId = (await import('node:fs'))
      .readdirSync(cacheDir(dataDir))
      .find((n) => /^[0-9a-f]{16}$/.test(n)) as string;
    const key = new FileCacheKeyStore(join(cacheDir(dataDir), 'keys')).keyFor(userId, backendId);
    const db = openCache({
      path: join(cacheDir(dataDir), backendId, `${userId}.sqlite`),
      key,
      userId,
      backendId,
    });
    const original = db.prepare('select actor from audit_log where seq = 7').get() as { actor: string };
    db.prepare('update audit_log set actor = ? where seq = 7').run('someone else');
    try {
      const refused = await dispatchContractCall(workstation.handlers, 'export.packet', {
        scope: { kind: 'study', studyCode },
      });
      expect(refused.ok).toBe(false);
      if (!refused.ok)
        expect(String(refused.error.cause ?? refused.error.message)).toMatch(/broken at seq 7/);
      const flagged = await call('export.packet', {
        scope: { kind: 'study', studyCode },
        allowBrokenChain: true,
      });
      expect(flagged.chainBroken).toBe(true);
      const report = verifyPacket(readFileSync(flagged.path));
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(false);
      expect(report.declaredChainBreak?.firstBadSeq).toBe(7);
      const pdf = readStoredZip(readFileSync(flagged.path))
        .find((e) => e.path === 'packet.pdf')
        ?.data.toString('latin1') as string;
      const pages = (pdf.match(/\/Type \/Page /g) ?? []).length;
      expect((pdf.match(/AUDIT CHAIN BROKEN AT SEQ 7/g) ?? []).length).toBe(pages);
    } finally {
      db.prepare('update audit_log set actor = ? where seq = 7').run(original.actor);
      db.close();
    }
  });
});

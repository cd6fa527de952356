// A rejection with its reason, end to end on the embedded demo through the contract (as the renderer
// calls it): the dialog's status names the signer and offers the reasons, a wrong code is reported
// as the code's fault, the reason shows on the record, and the inspector's packet carries it in
// packet.json, the PDF's text and the signatures CSV; verify passes, and a packet whose explanation
// was changed (every file rendered again, every hash recomputed) fails at that signature.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import type { PacketContent } from '../../src/main/export/packetContent';
import { readStoredZip } from '../../src/main/export/storedZip';
import { verifyPacket } from '../../src/main/export/verifyPacket';
import { dispatchContractCall } from '../../src/main/ipc/dispatchContractCall';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import type { Channel, RequestOf, ResponseOf } from '../../src/shared/contract';
import { queueRowsOf } from '../../src/shared/stagingQueueColumns';
import { forgePacketContent } from './support/forgedPacket';
import { freePort } from './support/freePort';

const rejection = {
  reason: 'Conflicts with the current record',
  explanation: 'The milestone date is earlier than the site activation it depends on.',
};

function file(packet: Buffer, path: string): Buffer {
  const entry = readStoredZip(packet).find((e) => e.path === path);
  if (!entry) throw new Error(`the packet has no ${path}`);
  return Buffer.from(entry.data);
}

async function pdfText(pdf: Buffer): Promise<string> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
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
  return pages.join('\n');
}

describe('a rejection and its reason, from the dialog to the inspection packet [SIGN-REJECT-REASON]', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-rejection-'));
  let workstation: Workstation;
  let rejected: string[];
  let studyCode: string;
  let packet: Buffer;

  async function call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
    const result = await dispatchContractCall(workstation.handlers, channel, request);
    if (!result.ok) throw result.error;
    return result.response as ResponseOf<C>;
  }

  beforeAll(async () => {
    workstation = await createWorkstation({
      dataDir,
      env: { COUNTERSIGN_PG_PORT: String(await freePort()) },
      log: () => undefined,
    });
    await workstation.backendSettled;
  });
  afterAll(async () => {
    await workstation?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('names the signer, offers the reasons, and rejects two records with one [UI-SIGN-DIALOG]', async () => {
    const signer = demoPerson('signerA');
    expect((await call('session.signIn', { email: signer.email, password: signer.password })).ok).toBe(true);
    const status = await call('signing.status', {});
    expect(status.signer).toEqual({ printedName: signer.printedName, email: signer.email });
    expect(status.rejectionReasons).toContain(rejection.reason);

    const queue = await call('staging.queue', { states: ['proposed'], limit: 2 });
    const rows = queueRowsOf(queue.columns);
    rejected = rows.map((row) => row.id);
    studyCode = rows[0]?.studyCode as string;
    expect((await call('staging.openForReview', { stagingIds: rejected })).opened).toBe(2);
    const manifest = await call('signing.manifest', { stagingIds: rejected });
    const attempt = {
      ceremonyId: manifest.ceremonyId,
      intent: 'reject' as const,
      meaning: 'I reject this change',
      comment: null,
      rejection,
      entries: manifest.entries.map((e) => ({
        stagingRecordId: e.stagingRecordId,
        contentHash: e.contentHash,
      })),
      password: signer.password,
    };

    // A wrong code is the code's fault: the dialog keeps the password and clears only the code.
    const code = (await call('demo.totpCode', {})).code ?? '';
    const wrongCode = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const wrong = await call('signing.sign', { ...attempt, totpCode: wrongCode });
    expect(wrong).toMatchObject({ ok: false, field: 'code' });
    const wrongPassword = await call('signing.sign', {
      ...attempt,
      password: 'not my password',
      totpCode: code,
    });
    expect(wrongPassword).toMatchObject({ ok: false, field: 'password' });

    const outcome = await call('signing.sign', {
      ...attempt,
      totpCode: (await call('demo.totpCode', {})).code ?? '',
    });
    if (!outcome.ok) throw new Error(outcome.error);
    expect(outcome.result.rejection).toEqual(rejection);
    expect(outcome.result.records.map((r) => r.state)).toEqual(['rejected', 'rejected']);

    const detail = await call('staging.detail', { id: rejected[0] as string });
    expect(detail.signatures.at(-1)).toMatchObject({ intent: 'reject', rejection });

    // The demo's own rejections carry reasons too.
    const demo = queueRowsOf((await call('staging.queue', { states: ['rejected'], limit: 50 })).columns).find(
      (row) => !rejected.includes(row.id),
    );
    const demoDetail = await call('staging.detail', { id: demo?.id as string });
    expect(demoDetail.signatures.find((s) => s.intent === 'reject')?.rejection?.reason).toMatch(/\w/);
  }, 120_000);

  it('carries the reason in the inspection packet: packet.json, PDF text and CSV, and verify passes', async () => {
    const inspector = demoPerson('inspector');
    expect((await call('session.signIn', { email: inspector.email, password: inspector.password })).ok).toBe(
      true,
    );
    await call('sync.now', {});
    const trail = await call('record.trail', { stagingId: rejected[0] as string });
    expect(trail.signatures.find((s) => s.intent === 'reject')).toMatchObject({ rejection, inChain: true });

    const exported = await call('export.packet', { scope: { kind: 'study', studyCode } });
    packet = readFileSync(exported.path);
    const report = verifyPacket(packet);
    expect(report.problems).toEqual([]);

    const content = JSON.parse(file(packet, 'packet.json').toString('utf8')) as PacketContent;
    for (const id of rejected) {
      const record = content.stagingRecords.find((r) => r.id === id);
      expect(record?.signatures.find((s) => s.intent === 'reject')?.rejection).toEqual(rejection);
    }
    const csv = file(packet, 'csv/signatures.csv').toString('utf8');
    expect(csv.split('\n')[0]).toContain('"rejection_reason","rejection_explanation"');
    expect(csv).toContain(rejection.explanation);
    const text = await pdfText(file(packet, 'packet.pdf'));
    expect(text).toContain(`Reason for rejection: ${rejection.reason}`);
    expect(text).toContain(`Explanation: ${rejection.explanation}`);
  }, 120_000);

  it('fails verify at the signature whose explanation was changed, even with every file rendered again', () => {
    let signatureId = '';
    const forged = forgePacketContent(packet, (content) => {
      const record = content.stagingRecords.find((r) => r.id === rejected[0]);
      const signature = record?.signatures.find((s) => s.intent === 'reject');
      if (!signature?.rejection) throw new Error('no rejection in the packet');
      signature.rejection.explanation = 'The milestone looked fine to me.';
      signatureId = signature.id;
    });

    const report = verifyPacket(forged);
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual({
      where: expect.stringContaining(`signature ${signatureId}`),
      what: expect.stringContaining('does not match its signature.recorded audit entry'),
    });
  });
});

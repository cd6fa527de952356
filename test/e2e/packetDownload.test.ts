// QA exports an inspection packet in the browser host and downloads it: the fields say what they
// ask for, and the file the browser saves is the packet the export wrote, byte for byte; it names
// both protocol builds of the HHT study (issue 20) and verifies.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import type { PacketContent } from '../../src/main/export/packetContent';
import { readStoredZip } from '../../src/main/export/storedZip';
import { verifyPacket } from '../../src/main/export/verifyPacket';
import { launchChromium } from './support/chromium';
import { e2eServer, openWorkstation, signInAs } from './support/e2ePage';

describe.skipIf(e2eServer() === null)('inspection packet download', () => {
  let browser: Browser;
  let page: Page;
  const saveDir = mkdtempSync(join(tmpdir(), 'countersign-download-'));
  let downloaded: Buffer | null = null;

  beforeAll(async () => {
    browser = await launchChromium();
    ({ page } = await openWorkstation(browser));
  });
  afterAll(async () => {
    const signOut = page?.getByRole('button', { name: 'Sign out' });
    if (signOut && (await signOut.isVisible().catch(() => false))) {
      await signOut.click({ timeout: 5000 }).catch(() => undefined);
    }
    await browser?.close();
    rmSync(saveDir, { recursive: true, force: true });
  });

  it('exports a study packet and downloads exactly that file [EXPORT-DOWNLOAD]', async () => {
    await signInAs(page, demoPerson('inspector').email);
    await page.getByRole('heading', { name: 'Provenance and audit' }).waitFor();
    await expect
      .poll(() => page.locator('.status-bar').innerText(), { timeout: 60_000 })
      .not.toContain('Synced never');
    const panel = page.getByRole('region', { name: 'Inspection packet' });
    await panel.getByLabel('Scope').selectOption('study');
    await panel.getByLabel('Study code').fill('AUR-HHT-201');
    await panel.getByLabel('Events from (optional)').waitFor();
    await panel.getByLabel('Events to (optional)').waitFor();
    await panel.getByRole('button', { name: 'Export packet' }).click();
    const written = panel.getByText(/^Written to /);
    await written.waitFor({ timeout: 60_000 });
    const bytes = Number(/\((\d+) bytes\)/.exec(await written.innerText())?.[1]);

    const link = panel.getByRole('link', { name: /^Download packet-study-.*\.zip$/ });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const saved = join(saveDir, download.suggestedFilename());
    await download.saveAs(saved);
    const content = readFileSync(saved);
    expect(download.suggestedFilename()).toMatch(/^packet-study-.*\.zip$/);
    expect(content.length).toBe(bytes);
    expect(content.subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004');
    downloaded = content;
  });

  it("names both protocol builds of the HHT study, in packet.json and as the ODM's MetaDataVersions, and verifies [BUILD-PACKET, BUILD-ODM]", () => {
    if (!downloaded) throw new Error('no packet was downloaded');
    const file = (path: string) =>
      readStoredZip(downloaded as Buffer)
        .find((e) => e.path === path)
        ?.data.toString('utf8') ?? '';
    const packet = JSON.parse(file('packet.json')) as PacketContent;
    const builds = (packet.builds ?? []).filter((b) => b.studyCode === 'AUR-HHT-201');
    expect(builds.filter((b) => b.status === 'COMPLETED').map((b) => [b.number, b.type])).toEqual([
      ['B1', 'INITIAL'],
      ['B2', 'AMENDMENT'],
    ]);
    const captured = new Set(packet.diaryRecords.flatMap((d) => d.history.map((v) => v.buildId)));
    for (const build of builds.filter((b) => b.status === 'COMPLETED')) expect(captured).toContain(build.id);
    const odm = file('odm/countersign.odm.xml');
    expect(odm).toContain('<MetaDataVersion OID="MDV.AUR-HHT-201.B1"');
    expect(odm).toContain('<MetaDataVersion OID="MDV.AUR-HHT-201.B2"');
    expect(odm).toContain('<ClinicalData StudyOID="ST.AUR-HHT-201" MetaDataVersionOID="MDV.AUR-HHT-201.B2">');
    const report = verifyPacket(downloaded);
    expect(report.problems).toEqual([]);
    expect(report.builds.filter((b) => b.studyCode === 'AUR-HHT-201').every((b) => b.ok)).toBe(true);
  });
});

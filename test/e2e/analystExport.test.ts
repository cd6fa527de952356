// The analyst (issue 22, H4) in the browser host: signs in to the one screen their role reads, the
// de-identified diary data of their sites, filters it, exports it and downloads the ZIP. The test
// checks the manifest's SHA-256 of every file and scans every file of the export for every demo
// patient's email and printed name and for the demo's diary note texts: none may be there.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diaryAwkwardNotes, diaryNotes } from '../../src/main/backend/demo/demoContent';
import { demoPeople, demoPerson } from '../../src/main/backend/demo/demoPeople';
import { sha256OfBytes } from '../../src/main/export/packetManifest';
import { readStoredZip } from '../../src/main/export/storedZip';
import { seriousViolations } from './support/axe';
import { launchChromium } from './support/chromium';
import {
  e2eServer,
  endSession,
  screenshot,
  signInAs,
  waitForFirstSync,
  workstationPage,
} from './support/e2ePage';

describe.skipIf(e2eServer() === null)('the analyst exports de-identified data', () => {
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];
  let closePage: (() => Promise<void>) | undefined;
  const saveDir = mkdtempSync(join(tmpdir(), 'countersign-analysis-'));

  beforeAll(async () => {
    browser = await launchChromium();
    // A context of its own: the accessibility scan needs one.
    ({ page, pageErrors, close: closePage } = await workstationPage(browser));
  });
  afterAll(async () => {
    await endSession(page);
    await closePage?.();
    await browser?.close();
    rmSync(saveDir, { recursive: true, force: true });
  });

  it('sees only the de-identified screen, filters, exports, and the export holds no PII [ANALYST-EXPORT-NO-PII]', async () => {
    await signInAs(page, demoPerson('analyst').email);
    await page.getByRole('heading', { name: 'De-identified data' }).waitFor();
    const tabs = await page.getByRole('navigation', { name: 'Screens' }).getByRole('button').allInnerTexts();
    expect(tabs.map((tab) => tab.replace(/\s*Alt\+\d\s*$/, '').trim())).toEqual([
      'De-identified data',
      'Builds',
    ]);
    await waitForFirstSync(page);

    const status = page.getByRole('form', { name: 'Filter the entries' }).getByRole('status');
    const counts = async () => {
      const match = /^([\d,]+) of ([\d,]+) entries shown$/.exec(await status.innerText());
      return match
        ? { shown: Number(match[1]?.replace(/,/g, '')), total: Number(match[2]?.replace(/,/g, '')) }
        : null;
    };
    await expect.poll(async () => (await counts())?.total ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
    const table = page.getByRole('table', { name: 'De-identified diary entries' });
    await expect.poll(() => table.locator('tbody tr[data-index]').count()).toBeGreaterThan(0);
    const header = await table.locator('thead th').allInnerTexts();
    expect(header).toEqual(
      expect.arrayContaining(['Subject', 'Site', 'Event type', 'Date (study day)', 'Origin']),
    );
    expect(header).not.toContain('Notes');

    // Filter: one event type at the HHT sites' first site.
    const filters = page.getByRole('form', { name: 'Filter the entries' });
    await filters.getByLabel('Site').selectOption('HHT-101');
    await filters.getByLabel('Field').selectOption({ label: 'Event type' });
    await filters.getByLabel('equals').fill('epistaxis');
    await filters.getByRole('button', { name: 'Apply' }).click();
    // Wait for the applied filter itself (the site alone already narrows the rows): every row shown
    // is an epistaxis at HHT-101, and the count says as many.
    const rows = table.locator('tbody tr[data-index]');
    await expect
      .poll(async () => {
        const texts = await rows.allInnerTexts();
        const shown = (await counts())?.shown ?? -1;
        return (
          shown > 0 &&
          texts.length === shown &&
          texts.every((text) => text.includes('HHT-101') && text.includes('epistaxis'))
        );
      })
      .toBe(true);
    const filtered = (await counts()) as { shown: number; total: number };
    expect(filtered.shown).toBeLessThan(filtered.total);
    await screenshot(page, 'analyst-deidentified-data');
    expect(await seriousViolations(page, 'de-identified data')).toEqual([]);

    // Export the filtered rows (the dialog says which) and download the ZIP.
    const exportPanel = page.getByRole('region', { name: 'Export for analysis' });
    await exportPanel.getByRole('radio', { name: `The ${filtered.shown} entries the filter shows` }).check();
    await exportPanel.getByRole('button', { name: 'Export' }).click();
    await exportPanel.getByText(/^Exported /).waitFor({ timeout: 60_000 });
    const link = exportPanel.getByRole('link', { name: /^Download deidentified-.*\.zip$/ });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const saved = join(saveDir, download.suggestedFilename());
    await download.saveAs(saved);
    const files = readStoredZip(readFileSync(saved));

    // The manifest names every other file with its SHA-256 and size.
    const manifestEntry = files.find((file) => file.path === 'manifest.json');
    const manifest = JSON.parse(manifestEntry?.data.toString('utf8') ?? '{}') as {
      rows: string;
      entries: number;
      files: { path: string; sha256: string; bytes: number }[];
    };
    expect(manifest.rows).toBe('filtered');
    expect(manifest.entries).toBe(filtered.shown);
    const others = files.filter((file) => file.path !== 'manifest.json');
    expect(manifest.files.map((file) => file.path).sort()).toEqual(others.map((file) => file.path).sort());
    for (const file of others) {
      expect(manifest.files.find((listed) => listed.path === file.path)).toEqual({
        path: file.path,
        sha256: sha256OfBytes(file.data),
        bytes: file.data.length,
      });
    }
    const csv = others.find((file) => file.path === 'csv/entries.csv')?.data.toString('utf8') ?? '';
    expect(csv.trim().split('\r\n')).toHaveLength(filtered.shown + 1);
    const odm = others.find((file) => file.path === 'odm/diary.xml')?.data.toString('utf8') ?? '';
    expect(odm).toContain('ODMVersion="1.3.2"');
    expect(odm).toMatch(/<SubjectData SubjectKey="HHT-101-\d+">/);

    // No demo patient's email or name, and none of the demo's diary notes, anywhere in the export.
    const patients = demoPeople.filter((person) => person.diary?.kind === 'patient');
    expect(patients.length).toBeGreaterThan(0);
    const forbidden = [
      ...patients.flatMap((person) => [person.email, person.printedName]),
      ...[...diaryNotes, ...diaryAwkwardNotes].filter((text) => text.trim() !== ''),
    ];
    for (const file of files) {
      const text = file.data.toString('utf8');
      for (const value of forbidden) expect(text.includes(value), `${file.path} holds ${value}`).toBe(false);
    }
    expect(pageErrors).toEqual([]);
  });
});

// The demo inspector's packet shows the demo's Hebrew and Arabic diary notes readable in its PDF
// (issue 24): the text pdf.js extracts holds them as the diary holds them, and the cover and the page
// that shows them are kept as pictures (test-results/packet-pdf-cover.png and
// packet-pdf-hebrew-arabic.png), rendered by pdf.js in Chromium.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import type { PacketContent } from '../../src/main/export/packetContent';
import { readStoredZip } from '../../src/main/export/storedZip';
import { launchChromium } from './support/chromium';
import { e2eServer, openWorkstation, signInAs } from './support/e2ePage';
import { picturePdfPages } from './support/pdfPagePictures';

const hebrew = /[\u0590-\u05ff]+(?:[\s\u00b7]+[\u0590-\u05ff]+)*/;
const arabic = /[\u0600-\u06ff]+(?:\s+[\u0600-\u06ff]+)*/;

/** The diary texts of a packet (values of every version, annotations) that hold Hebrew and Arabic. */
function rtlDiaryTexts(content: PacketContent): string[] {
  const texts = content.diaryRecords.flatMap((d) => [
    ...Object.values(d.currentData),
    ...d.history.flatMap((v) => Object.values(v.data)),
    ...d.annotations.map((a) => a.text),
  ]);
  return [
    ...new Set(texts.filter((t): t is string => typeof t === 'string' && hebrew.test(t) && arabic.test(t))),
  ];
}

async function pageTexts(pdf: Buffer): Promise<string[]> {
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
      text.items
        .map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : ''))
        .join('')
        .normalize('NFKC'),
    );
  }
  await doc.destroy();
  return pages;
}

describe.skipIf(e2eServer() === null)('the inspection packet PDF of the demo', () => {
  let browser: Browser;
  let page: Page;

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
  });

  it('shows the Hebrew and Arabic diary notes as the diary holds them, and keeps pictures of them [PDF-DEMO]', async () => {
    await signInAs(page, demoPerson('inspector').email);
    await page.getByRole('heading', { name: 'Provenance and audit' }).waitFor();
    await expect
      .poll(() => page.locator('.status-bar').innerText(), { timeout: 60_000 })
      .not.toContain('Synced never');
    const panel = page.getByRole('region', { name: 'Inspection packet' });
    await panel.getByLabel('Scope').selectOption('study');
    await panel.getByLabel('Study code').fill('AUR-HHT-201');
    await panel.getByRole('button', { name: 'Export packet' }).click();
    await panel.getByText(/^Written to /).waitFor({ timeout: 120_000 });
    const link = panel.getByRole('link', { name: /^Download packet-study-.*\.zip$/ });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const files = readStoredZip(Buffer.concat(chunks));
    const content = JSON.parse(
      files.find((e) => e.path === 'packet.json')?.data.toString('utf8') ?? '{}',
    ) as PacketContent;
    const pdf = files.find((e) => e.path === 'packet.pdf')?.data as Buffer;
    expect(content.formatVersion).toBeGreaterThanOrEqual(3);
    const notes = rtlDiaryTexts(content);
    expect(notes.length, 'the demo packet holds diary text in Hebrew and Arabic').toBeGreaterThan(0);

    const pages = await pageTexts(pdf);
    let shown = -1;
    for (const note of notes) {
      const words = [hebrew.exec(note)?.[0] ?? '', arabic.exec(note)?.[0] ?? ''].map((w) =>
        w.normalize('NFKC'),
      );
      const index = pages.findIndex((text) => words.every((w) => text.includes(w)));
      expect(index, `a page shows "${words.join('" and "')}"`).toBeGreaterThan(0);
      if (shown < 0) shown = index;
    }
    expect(pages[0]).toContain('Inspection packet');
    await picturePdfPages(browser, pdf, [
      { page: 1, name: 'packet-pdf-cover' },
      { page: shown + 1, name: 'packet-pdf-hebrew-arabic' },
    ]);
  });
});

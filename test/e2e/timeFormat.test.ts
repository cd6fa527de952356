// Every date and time on screen is written one way (docs/decisions.md): `2026-12-07 07:10:26 UTC`,
// the reader's local time in the same pattern on hover. Read from every main screen: the status
// bar, the queue, a record, provenance and audit, the diaries, offline included.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { launchChromium } from './support/chromium';
import { e2eServer, signInAs, signOut, workstationPage } from './support/e2ePage';

const utc = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/;
const localTitle = /^Your local time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+$/;
/** Other ways a browser writes a date: 12/7/2026, 7.12.2026, 7:10:34 AM, Dec 7, 2026. */
const otherFormats =
  /\b\d{1,2}\/\d{1,2}\/\d{2,4}\b|\b\d{1,2}\.\d{1,2}\.\d{4}\b|\b\d{1,2}:\d\d(:\d\d)? ?[AP]M\b|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{1,2}, \d{4}/;

interface TimesShown {
  /** The text and hover text of every <time> on the page. */
  times: { text: string; title: string | null }[];
  bodyText: string;
}

// (An expression as a string: the e2e files are compiled without the DOM library.)
const timesShown = `({
  times: [...document.querySelectorAll('time')].map((time) => ({
    text: time.textContent.trim(),
    title: time.getAttribute('title'),
  })),
  bodyText: document.body.innerText,
})`;

describe.skipIf(e2eServer() === null)('dates and times written one way [UI-TIME-FORMAT]', () => {
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  let close: () => Promise<void>;

  beforeAll(async () => {
    browser = await launchChromium();
    ({ page, pageErrors, close } = await workstationPage(browser, { timezoneId: 'Europe/Berlin' }));
  });
  afterAll(async () => {
    await close?.();
    await browser?.close();
  });

  /** Every time on the page in UTC with its local time on hover, and no date written another way. */
  const expectOneWay = async (where: string) => {
    const shown = (await page.evaluate(timesShown)) as TimesShown;
    expect(shown.times.length, `${where}: times shown`).toBeGreaterThan(0);
    for (const time of shown.times) {
      expect(time.text, where).toMatch(utc);
      expect(time.title ?? '', where).toMatch(localTitle);
    }
    expect(shown.bodyText.match(otherFormats)?.[0] ?? null, where).toBeNull();
  };

  it('writes UTC, with local time on hover, on every screen', async () => {
    await signInAs(page, demoPerson('signerA').email);
    await page.getByRole('heading', { name: 'Staging queue' }).waitFor();
    await expect.poll(() => page.locator('.status-bar').innerText()).not.toContain('Synced never');
    await page.locator('.queue-table tbody .badge').first().waitFor();
    // The status bar's last sync, in the queue's Proposed at column alike.
    const synced = page.locator('.status-bar time');
    expect(await synced.innerText()).toMatch(utc);
    expect(await synced.getAttribute('title')).toMatch(/GMT\+1|CET/);
    await expectOneWay('queue');

    await page
      .getByRole('button', { name: /^View record / })
      .first()
      .click();
    await page.locator('.record-detail').getByRole('region', { name: 'Proposed change' }).waitFor();
    await expectOneWay('record');

    await signInAs(page, demoPerson('inspector').email);
    await page.getByRole('heading', { name: 'Provenance and audit' }).waitFor();
    await page
      .getByRole('table', { name: 'Audit log entries' })
      .locator('tbody tr[data-index]')
      .first()
      .waitFor();
    await expectOneWay('audit log');

    await signInAs(page, demoPerson('investigator101').email);
    await page.getByRole('heading', { name: 'Patient diaries' }).waitFor();
    await page
      .getByRole('region', { name: /Patient-entered history/ })
      .getByText('Entry 1', { exact: true })
      .waitFor();
    await expectOneWay('diaries');

    // Offline by choice: "Offline since" in the status bar and on the diary screen.
    await page.getByLabel('Work offline').click();
    await page
      .getByRole('status', { name: 'Connection' })
      .getByText(/Offline since/)
      .waitFor();
    await page.getByText(/you are reading the cache as last synced/).waitFor();
    await expectOneWay('diaries offline');
    await page.getByLabel('Work offline').click();
    await expect.poll(() => page.getByRole('status', { name: 'Connection' }).innerText()).toContain('Online');
    await signOut(page);
    expect(pageErrors).toEqual([]);
  });
});

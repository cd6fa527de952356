// QA starts an inspection packet export and cancels it from the keyboard while it runs (issue 24):
// the labelled Cancel button has the focus as soon as the export starts, the screen then says nothing
// was written, and the exports folder holds no new file, not even a partial one. (A cancel in the
// middle of rendering, with the file system checked, is in test/main/export/packetWorker.test.ts.)
import { readdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { exportsDir } from '../../src/main/export/exportService';
import { launchChromium } from './support/chromium';
import { e2eServer, openWorkstation, signInAs } from './support/e2ePage';

describe.skipIf(e2eServer() === null)('cancelling an inspection packet export', () => {
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

  it('cancels from the keyboard while it runs and leaves no file [WORKER-CANCEL, WORKER-NO-PARTIAL]', async () => {
    const exports = exportsDir(e2eServer()?.dataDir as string);
    const listed = () => {
      try {
        return readdirSync(exports).sort();
      } catch {
        return [];
      }
    };
    await signInAs(page, demoPerson('inspector').email);
    await page.getByRole('heading', { name: 'Provenance and audit' }).waitFor();
    await expect
      .poll(() => page.locator('.status-bar').innerText(), { timeout: 60_000 })
      .not.toContain('Synced never');
    const before = listed();
    const panel = page.getByRole('region', { name: 'Inspection packet' });
    await panel.getByLabel('Scope').selectOption('study');
    await panel.getByLabel('Study code').fill('AUR-HHT-201');
    await panel.getByRole('button', { name: 'Export packet' }).click();

    const cancel = panel.getByRole('button', { name: 'Cancel export' });
    await cancel.waitFor({ timeout: 30_000 });
    await expect
      .poll(() => page.evaluate('document.activeElement && document.activeElement.textContent'))
      .toBe('Cancel export');
    await page.keyboard.press('Enter');

    const status = panel.getByRole('status');
    await status.waitFor({ timeout: 30_000 });
    expect(await status.innerText()).toBe('Export cancelled; nothing was written.');
    expect(await panel.getByText(/^Written to /).count()).toBe(0);
    expect(await panel.getByRole('alert').count()).toBe(0);
    expect(listed()).toEqual(before);
  });
});

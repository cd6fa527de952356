// The keyboard shortcuts are visible, not only known to those who read the code: ? (when not typing
// in a field) or the shell's button opens a sheet listing every key of every screen, Esc closes it
// and gives the focus back; the screens' tabs show their Alt key, and each screen has a line of its
// main keys.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { launchChromium } from './support/chromium';
import { e2eServer, screenshot, signInAs, signOut, workstationPage } from './support/e2ePage';

describe.skipIf(e2eServer() === null)('keyboard shortcuts shown on screen [UI-SHORTCUTS]', () => {
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  let close: () => Promise<void>;

  beforeAll(async () => {
    browser = await launchChromium();
    ({ page, pageErrors, close } = await workstationPage(browser));
  });
  afterAll(async () => {
    await close?.();
    await browser?.close();
  });

  const sheet = () => page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  /** The sheet's text of one group, e.g. "Queue". */
  const group = (title: string) => sheet().getByRole('region', { name: title, exact: true });

  it('lists every key of every screen on ?, and closes with Esc', async () => {
    await signInAs(page, demoPerson('signerA').email);
    await page.getByRole('heading', { name: 'Staging queue' }).waitFor();

    // Typing a question mark in a field is typing, not a shortcut.
    const search = page.getByLabel('Search the queue');
    await search.click();
    await page.keyboard.type('?');
    expect(await search.inputValue()).toBe('?');
    expect(await sheet().count()).toBe(0);
    await search.fill('');
    await page.keyboard.press('Escape');

    await page.locator('body').press('?');
    await sheet().waitFor();
    await screenshot(page, 'shortcuts-sheet');
    const everywhere = await group('Everywhere').innerText();
    expect(everywhere).toMatch(/Alt\+1\s+Go to Queue/);
    expect(everywhere).toMatch(/Alt\+2\s+Go to Provenance and audit/);
    expect(everywhere).toContain('?');
    const queue = await group('Queue').innerText();
    for (const key of ['j', 'k', '↓', '↑', 'Space', 'Enter', 's', '/', 'Esc'])
      expect(queue.split(/\s+/)).toContain(key);
    expect(await group('Signing dialog').innerText()).toContain('Esc');
    const audit = await group('Provenance and audit').innerText();
    for (const key of ['←', '→', 'Home', 'End', 'Enter']) expect(audit.split(/\s+/)).toContain(key);
    const diary = await group('Diaries').innerText();
    for (const key of ['Ctrl+Enter', 'Enter', 'Space']) expect(diary.split(/\s+/)).toContain(key);

    // The sheet is modal: the queue's own keys do not act behind it; Esc closes it, the focus returns.
    await page.keyboard.press('j');
    await page.keyboard.press('Escape');
    await sheet().waitFor({ state: 'detached' });

    await page.getByRole('button', { name: 'Keyboard shortcuts' }).click();
    await sheet().waitFor();
    await sheet().getByRole('button', { name: 'Close' }).click();
    await sheet().waitFor({ state: 'detached' });
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toContain(
      'Keyboard shortcuts',
    );
    expect(pageErrors).toEqual([]);
  });

  it('shows each tab its Alt key and each screen a line of its keys', async () => {
    const tabs = page.getByRole('navigation', { name: 'Screens' });
    const queueTab = tabs.getByRole('button', { name: 'Queue' });
    expect(await queueTab.getAttribute('aria-keyshortcuts')).toBe('Alt+1');
    expect(await queueTab.locator('kbd').innerText()).toBe('Alt+1');
    const hints = page.locator('.key-hints');
    for (const key of ['j', 'k', 'Space', 'Enter', 's', '/', '?'])
      expect(await hints.locator('kbd').allInnerTexts()).toContain(key);

    await page.keyboard.press('Alt+2');
    await page.getByRole('heading', { name: 'Provenance and audit' }).waitFor();
    expect(await hints.innerText()).toMatch(/open the entry/);
    await signOut(page);
    // Signed out, ? still shows the sheet (without screens to switch to).
    await page.locator('body').press('?');
    await sheet().waitFor();
    expect(await group('Everywhere').innerText()).not.toContain('Alt+1');
    await page.keyboard.press('Escape');
    expect(pageErrors).toEqual([]);
  });
});

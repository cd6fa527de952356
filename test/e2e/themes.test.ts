// The colour themes as a person meets them: "System" follows the operating system (dark, more
// contrast, forced colours) live; Light, Dark and High contrast are chosen in the shell, drawn at
// once and remembered by this browser after a reload and a sign-out.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { launchChromium } from './support/chromium';
import { e2eServer, screenshot, signInAs, signOut, workstationPage } from './support/e2ePage';

interface Drawn {
  theme: string | undefined;
  /** Relative luminance (0 black … 1 white) of the page's background and of its text. */
  background: number;
  text: number;
}

// (An expression as a string: the e2e files are compiled without the DOM library.)
const drawn = `(() => {
  const luminance = (colour) => {
    const [r, g, b] = (colour.match(/[\\d.]+/g) || []).slice(0, 3).map((part) => {
      const channel = Number(part) / 255;
      return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const style = getComputedStyle(document.documentElement);
  return {
    theme: document.documentElement.dataset.theme,
    background: luminance(style.backgroundColor),
    text: luminance(style.color),
  };
})()`;

const themeSelect = (page: Page) => page.getByLabel('Theme', { exact: true });

describe.skipIf(e2eServer() === null)('colour themes [UI-THEMES]', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('follows the system while "System" is chosen, and changes with it', async () => {
    const { page, pageErrors, close } = await workstationPage(browser, { colorScheme: 'dark' });
    try {
      await signOut(page);
      expect(await themeSelect(page).inputValue()).toBe('system');
      const dark = (await page.evaluate(drawn)) as Drawn;
      expect(dark.theme).toBe('dark');
      expect(dark.background).toBeLessThan(0.05);
      expect(dark.text).toBeGreaterThan(0.7);

      await page.emulateMedia({ colorScheme: 'light' });
      await expect.poll(async () => ((await page.evaluate(drawn)) as Drawn).theme).toBe('light');
      expect(((await page.evaluate(drawn)) as Drawn).background).toBeGreaterThan(0.85);

      await page.emulateMedia({ contrast: 'more' });
      await expect.poll(async () => ((await page.evaluate(drawn)) as Drawn).theme).toBe('contrast');
      await page.emulateMedia({ contrast: null, forcedColors: 'active' });
      await expect.poll(async () => ((await page.evaluate(drawn)) as Drawn).theme).toBe('contrast');
      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }
  });

  it('draws the theme chosen in the shell at once and remembers it', async () => {
    const { page, pageErrors, close } = await workstationPage(browser, { colorScheme: 'light' });
    try {
      await signOut(page);
      await themeSelect(page).selectOption('dark');
      const dark = (await page.evaluate(drawn)) as Drawn;
      expect(dark.theme).toBe('dark');
      expect(dark.background).toBeLessThan(0.05);

      await themeSelect(page).selectOption('contrast');
      const contrast = (await page.evaluate(drawn)) as Drawn;
      expect(contrast.theme).toBe('contrast');
      // White on black: the most contrast there is.
      expect(contrast.background).toBe(0);
      expect(contrast.text).toBe(1);

      // Remembered by this browser: after a reload, and across a sign-in and sign-out.
      await page.reload();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      expect(await themeSelect(page).inputValue()).toBe('contrast');
      expect(((await page.evaluate(drawn)) as Drawn).theme).toBe('contrast');
      await signInAs(page, demoPerson('signerA').email);
      await page.getByRole('heading', { name: 'Staging queue' }).waitFor();
      await page.locator('.queue-table tbody .badge').first().waitFor();
      expect(await themeSelect(page).inputValue()).toBe('contrast');
      await screenshot(page, 'queue-contrast-chosen');

      await themeSelect(page).selectOption('light');
      expect(((await page.evaluate(drawn)) as Drawn).theme).toBe('light');
      await themeSelect(page).selectOption('system');
      expect(((await page.evaluate(drawn)) as Drawn).theme).toBe('light');
      await signOut(page);
      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }
  });
});

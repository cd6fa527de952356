// The build panel scanned by axe-core in the light, dark and high-contrast themes and under forced
// colours (each reached as a person reaches it: the system's preference), as a monitor sees it with
// the HHT study chosen, build B2's detail open (its failed attempt, forms and fields) and B1 compared
// with B2. No serious or critical violation may remain; pictures in test-results/builds-<theme>.png.
import type { Browser, BrowserContextOptions } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { seriousViolations } from './support/axe';
import { openBuildPanel } from './support/buildPanel';
import { launchChromium } from './support/chromium';
import { e2eServer, screenshot, signInAs, signOut, workstationPage } from './support/e2ePage';

const passes: { name: string; system: BrowserContextOptions; enhancedContrast: boolean }[] = [
  { name: 'light', system: { colorScheme: 'light' }, enhancedContrast: false },
  { name: 'dark', system: { colorScheme: 'dark' }, enhancedContrast: false },
  { name: 'contrast', system: { colorScheme: 'light', contrast: 'more' }, enhancedContrast: true },
  { name: 'forced', system: { colorScheme: 'dark', forcedColors: 'active' }, enhancedContrast: false },
];

describe.skipIf(e2eServer() === null)(
  'the build panel passes axe in every theme [BUILD-UI-PANEL, UI-A11Y]',
  () => {
    let browser: Browser;

    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    for (const pass of passes) {
      it(`${pass.name}: no serious or critical violation on the build panel`, async () => {
        const { page, pageErrors, close } = await workstationPage(browser, pass.system);
        const violations: string[] = [];
        const scan = async (where: string) =>
          violations.push(
            ...(await seriousViolations(page, `${pass.name} ${where}`, {
              enhancedContrast: pass.enhancedContrast,
            })),
          );
        try {
          await signInAs(page, demoPerson('monitor').email);
          await openBuildPanel(page, 'AUR-HHT-201');
          await page.locator('table.builds-table tr[data-build-number="B2"]').waitFor();
          await page.getByRole('button', { name: 'Show build B2 · 2.0' }).click();
          await page.getByRole('region', { name: /Failed attempts/ }).waitFor();
          await scan('build panel with B2 shown');

          const compare = page.getByRole('region', { name: 'Compare builds' });
          await compare.getByRole('button', { name: 'Compare' }).click();
          await compare.getByRole('region', { name: /^Changes from build / }).waitFor();
          await scan('build panel with B1 compared with B2');
          if (pass.name !== 'forced') await screenshot(page, `builds-${pass.name}`);

          await signOut(page);
          expect(violations).toEqual([]);
          expect(pageErrors).toEqual([]);
        } catch (error) {
          await screenshot(page, `builds-accessibility-failed-${pass.name}`);
          throw error;
        } finally {
          await close();
        }
      });
    }
  },
);

// The build panel reached as a person reaches it: the Builds screen from the navigation, once the
// first sync has brought the builds, with one study chosen.
import type { Page } from 'playwright-core';
import { waitForFirstSync } from './e2ePage';

export async function openBuildPanel(page: Page, studyCode: string): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Screens' })
    .getByRole('button', { name: /^Builds/ })
    .click();
  await page.getByRole('heading', { name: 'Protocol builds' }).waitFor();
  await waitForFirstSync(page);
  await page.getByLabel('Study', { exact: true }).selectOption({ label: studyCode });
}

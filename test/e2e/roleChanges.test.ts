// A role change in a real browser (issue 21): the first administrator requests it from the People
// section with a reason, cannot approve it themselves, and the second administrator approves it
// from the Role-change requests section; the person then holds the role.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { seriousViolations } from './support/axe';
import { launchChromium } from './support/chromium';
import { e2eServer, endSession, screenshot, signInAs, workstationPage } from './support/e2ePage';

const admin = demoPerson('admin');
const secondAdmin = demoPerson('admin2');
// No other end-to-end flow signs in as the coordinator, so a new role changes nothing they check.
const person = demoPerson('coordinator');
const summary = `Grant monitor (AUR-HHT-201) to ${person.printedName}`;

async function openAdministration(page: Page, section: 'People' | 'Role-change requests') {
  await page
    .getByRole('navigation', { name: 'Screens' })
    .getByRole('button', { name: 'Administration' })
    .click();
  await page.getByRole('tab', { name: section }).click();
}

describe.skipIf(e2eServer() === null)('role changes need a second administrator [ADMIN-ROLE-CHANGE]', () => {
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  let close: () => Promise<void>;

  beforeAll(async () => {
    browser = await launchChromium();
    // A context of its own: axe opens its own page in it.
    ({ page, pageErrors, close } = await workstationPage(browser));
  });
  afterAll(async () => {
    await endSession(page);
    await close?.();
    await browser?.close();
  });

  it('is requested by one administrator, who cannot approve it', async () => {
    await signInAs(page, admin.email);
    await openAdministration(page, 'People');
    const row = page.getByRole('row').filter({ hasText: person.email });
    await expect.poll(() => row.innerText()).toContain('coordinator (AUR-HHT-201)');
    await screenshot(page, 'admin-people');
    expect(await seriousViolations(page, 'admin people')).toEqual([]);
    await page.getByRole('button', { name: `Request a role change for ${person.printedName}` }).click();
    const dialog = page.getByRole('dialog', { name: 'Request a role change' });
    await dialog.getByLabel('Change').selectOption('grant');
    await dialog.getByLabel('Role').selectOption('monitor');
    await dialog.getByLabel('Study').selectOption({ label: 'AUR-HHT-201' });
    await dialog.getByLabel(/^Reason/).fill('Covers monitoring of site 101 during leave');
    await screenshot(page, 'admin-role-change-request');
    expect(await seriousViolations(page, 'role change dialog')).toEqual([]);
    await dialog.getByRole('button', { name: 'Request' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'another administrator approves or refuses it' })
      .waitFor();
    expect(await row.innerText()).not.toContain('monitor (AUR-HHT-201)');

    await page.getByRole('tab', { name: 'Role-change requests' }).click();
    const pending = page.getByRole('listitem').filter({ hasText: summary });
    await pending.getByText('Your request: another administrator decides it.').waitFor();
    expect(await pending.getByRole('button', { name: /^Approve/ }).count()).toBe(0);
    await screenshot(page, 'admin-role-requests-own');
    expect(await seriousViolations(page, 'role-change requests')).toEqual([]);
  });

  it('is approved by the second administrator, with a reason, and then applies', async () => {
    await signInAs(page, secondAdmin.email);
    await openAdministration(page, 'Role-change requests');
    await page.getByRole('button', { name: `Approve: ${summary}` }).click();
    const dialog = page.getByRole('dialog', { name: 'Approve the role change' });
    await dialog.getByLabel(/^Reason/).fill('Confirmed with the study lead');
    await screenshot(page, 'admin-role-change-approve');
    await dialog.getByRole('button', { name: 'Approve' }).click();
    await page
      .getByRole('listitem')
      .filter({ hasText: `${summary}: approved by ${secondAdmin.printedName}` })
      .waitFor();

    await page.getByRole('tab', { name: 'People' }).click();
    const row = page.getByRole('row').filter({ hasText: person.email });
    await expect.poll(() => row.innerText()).toContain('monitor (AUR-HHT-201)');
    await screenshot(page, 'admin-people-after-approval');
    expect(pageErrors).toEqual([]);
  });
});

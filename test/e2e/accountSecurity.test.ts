// A person's own account in a real browser (issue 17): the sign-in screen says how each backend is
// reached (TLS for a PostgreSQL server elsewhere, or plaintext only when asked, with a warning), and a
// person changes their own password: the server's policy is shown, then they are signed out and sign
// in with the new one.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { launchChromium } from './support/chromium';
import { e2eServer, openWorkstation, screenshot, signInAs } from './support/e2ePage';

// A demo person no other end-to-end flow signs in as.
const person = demoPerson('sponsorNorthwind');
const newPassword = 'Beacon-Harbour-8812';

describe.skipIf(e2eServer() === null)('account security in the browser host', () => {
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    browser = await launchChromium();
    ({ page, pageErrors } = await openWorkstation(browser));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows how a PostgreSQL server is reached, and warns before plaintext', async () => {
    await page.waitForSelector('text=/Sign in|Sign out/');
    const signOut = page.getByRole('button', { name: 'Sign out' });
    if (await signOut.isVisible()) await signOut.click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const chooser = page.locator('details.backend-profile');
    await expect
      .poll(() => chooser.locator('summary').innerText())
      .toMatch(/Embedded demo .*this computer only/);
    await chooser.locator('summary').click();
    await chooser.getByLabel('PostgreSQL server').check();
    const tls = chooser.getByLabel(/Encrypt with TLS and verify the server/);
    expect(await tls.isChecked()).toBe(true);
    await tls.uncheck();
    await chooser.getByText(/cross the network unencrypted/).waitFor();
    await screenshot(page, 'backend-profile-postgres');
    await tls.check();
    await chooser.locator('summary').click();
  });

  it('changes the password under the policy, signs out, and signs in with the new one', async () => {
    await signInAs(page, person.email);
    await page.getByRole('button', { name: 'Change password' }).click();
    const form = page.getByRole('region', { name: 'Change your password' });
    await form.getByLabel('Current password').fill(person.password);
    await form.getByLabel('New password', { exact: true }).fill('short-1');
    await form.getByLabel('New password again').fill('short-1');
    await form.getByRole('button', { name: 'Change password' }).click();
    await form.getByRole('alert').filter({ hasText: 'at least 12 characters' }).waitFor();
    await form.getByLabel('New password', { exact: true }).fill(newPassword);
    await form.getByLabel('New password again').fill(newPassword);
    await screenshot(page, 'change-password');
    await form.getByRole('button', { name: 'Change password' }).click();

    await page.getByText('Your password was changed. Sign in with the new one.').waitFor();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').fill(person.email);
    await page.getByLabel('Password', { exact: true }).fill(person.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /Wrong e-mail address or password/ })
      .waitFor();
    await page.getByLabel('Password', { exact: true }).fill(newPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(pageErrors).toEqual([]);
  });
});

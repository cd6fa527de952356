// Recovery codes in a real browser (issue 21): a signer generates codes in their account view (shown
// once), signs with one in place of the authenticator code, is told the authenticator was retired,
// cannot sign again until a new one is enrolled, enrols it, and signs with it. The demo signer C is
// used by no other end-to-end flow, because this one replaces their authenticator.
import { generateSync } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { launchChromium } from './support/chromium';
import {
  e2eServer,
  endSession,
  openWorkstation,
  screenshot,
  selectOneInReview,
  signInAs,
} from './support/e2ePage';

const signer = demoPerson('signerC');

describe.skipIf(e2eServer() === null)('recovery codes in the browser host', () => {
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    browser = await launchChromium();
    ({ page, pageErrors } = await openWorkstation(browser));
  });
  afterAll(async () => {
    await endSession(page);
    await browser?.close();
  });

  async function openSignDialog() {
    await selectOneInReview(page);
    await page.getByRole('button', { name: 'Sign… (1)' }).click();
    return page.getByRole('dialog');
  }

  it('signs with a recovery code, then asks for a new authenticator before the next signature [RECOVERY-SINGLE-USE, CFR-11.300b]', async () => {
    await signInAs(page, signer.email);
    await page.getByRole('heading', { name: 'Staging queue' }).waitFor();

    // The account view: generate, shown once.
    await page.getByRole('button', { name: /^Details/ }).click();
    await page.getByRole('button', { name: 'Recovery codes' }).click();
    const account = page.getByRole('dialog', { name: 'Recovery codes' });
    await account.getByRole('button', { name: 'Generate recovery codes' }).click();
    const shown = account.locator('.recovery-code-list code');
    await expect.poll(() => shown.count()).toBe(10);
    const codes = await shown.allInnerTexts();
    for (const code of codes) expect(code).toMatch(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    await account.getByText(/Shown once\./).waitFor();
    await screenshot(page, 'recovery-codes');
    await account.getByRole('button', { name: 'Close' }).click();

    // The signing dialog: a recovery code instead of the authenticator code.
    let dialog = await openSignDialog();
    await dialog.getByLabel('Meaning of signature').selectOption({ index: 1 });
    await dialog.getByLabel('Password').fill(signer.password);
    await dialog.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await dialog.getByLabel('Recovery code').fill(codes[0] as string);
    await screenshot(page, 'sign-dialog-recovery-code');
    await dialog.getByRole('button', { name: 'Sign 1 record' }).click();
    await dialog.getByText('1 record signed.').waitFor();
    await dialog.getByText(/Enrol a new authenticator before you sign again/).waitFor();
    await screenshot(page, 'sign-dialog-after-recovery-code');
    await dialog.getByRole('button', { name: 'Close' }).click();

    // The next signature leads to enrolment first; then the new authenticator signs.
    dialog = await openSignDialog();
    await dialog.getByRole('heading', { name: 'Set up your authenticator' }).waitFor();
    expect(await dialog.getByLabel('Password').count()).toBe(0);
    await dialog.getByRole('button', { name: 'Set up authenticator' }).click();
    const secret = (await dialog.locator('code.secret').innerText()).trim();
    await dialog.getByLabel('First code from the app').fill(generateSync({ secret }));
    await screenshot(page, 'sign-dialog-enrol-after-recovery-code');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await dialog.getByLabel('Password').waitFor();
    await dialog.getByLabel('Meaning of signature').selectOption({ index: 1 });
    await dialog.getByLabel('Password').fill(signer.password);
    // The next 30-second step (one step of drift is accepted): the confirming code's step is spent.
    await dialog
      .getByLabel('Authenticator code')
      .fill(generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
    await dialog.getByRole('button', { name: 'Sign 1 record' }).click();
    await dialog.getByText('1 record signed.').waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect(pageErrors).toEqual([]);
  });
});

// An administrator deals with a signing lockout in a real browser (issue 21, 21 CFR 11.300(d)): a
// signer fails re-authentication five times and is locked; the admin sees the alert on the
// Administration screen, acknowledges it with a reason, unlocks with a reason and their own
// password and code, closes the alert; the signer then signs.
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { seriousViolations } from './support/axe';
import { launchChromium } from './support/chromium';
import {
  e2eServer,
  endSession,
  screenshot,
  selectOneInReview,
  signInAs,
  waitForFirstSync,
  workstationPage,
} from './support/e2ePage';

// signer.d: the demo signer of this walkthrough alone (another flow resets signer.b's authenticator),
// left unlocked at the end.
const signer = demoPerson('signerD');
const admin = demoPerson('admin');

describe.skipIf(e2eServer() === null)(
  'an administrator unlocks a locked signer [ADMIN-UNLOCK, ADMIN-ALERTS]',
  () => {
    let browser: Browser;
    let page: Page;
    let pageErrors: string[];

    beforeAll(async () => {
      browser = await launchChromium();
      // A context of its own: axe scans the page through it.
      ({ page, pageErrors } = await workstationPage(browser));
    });
    afterAll(async () => {
      await endSession(page);
      await browser?.close();
    });

    const openSignDialog = async (): Promise<Locator> => {
      await page.getByRole('heading', { name: 'Staging queue' }).waitFor();
      await waitForFirstSync(page);
      await selectOneInReview(page);
      await page.getByRole('button', { name: 'Sign… (1)' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Meaning of signature').selectOption({ index: 1 });
      return dialog;
    };

    it('locks the signer after five wrong codes', async () => {
      await signInAs(page, signer.email);
      const dialog = await openSignDialog();
      const code = dialog.getByLabel('Authenticator code');
      for (let attempt = 1; attempt <= 5; attempt++) {
        await dialog.getByLabel('Password').fill(signer.password);
        await dialog.getByRole('button', { name: 'Demo: fill in the current code' }).click();
        await expect.poll(() => code.inputValue()).toMatch(/^\d{6}$/);
        const right = await code.inputValue();
        await code.fill(right === '000000' ? '111111' : '000000');
        await dialog.getByRole('button', { name: 'Sign 1 record' }).click();
        await dialog
          .getByRole('alert')
          .getByText(attempt < 5 ? /^Wrong authenticator code\./ : /locked for signing/)
          .first()
          .waitFor();
      }
      await screenshot(page, 'admin-signer-locked');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
    });

    it('shows the alert, acknowledges it and unlocks with a reason and re-authentication', async () => {
      await signInAs(page, admin.email);
      await page.getByRole('button', { name: /^Administration/ }).click();
      // The sections are tabs: ← → move between them, as on the audit screen.
      await page.getByRole('tab', { name: 'People' }).focus();
      await page.keyboard.press('ArrowRight');
      await expect
        .poll(() => page.getByRole('tab', { name: 'Security alerts' }).getAttribute('aria-selected'))
        .toBe('true');
      const signing = page.getByRole('region', { name: /^Signing lockouts/ });
      const row = signing.getByRole('row').filter({ hasText: signer.printedName }).first();
      await row.waitFor();
      expect(await row.innerText()).toMatch(/locked[\s\S]*5[\s\S]*127\.0\.0\.1/);
      await page.getByRole('region', { name: /^Sign-in lockouts/ }).waitFor();
      await screenshot(page, 'admin-alerts');
      const violations = await seriousViolations(page, 'security alerts');

      await row.getByRole('button', { name: `Acknowledge the alert about ${signer.printedName}` }).click();
      let dialog = page.getByRole('dialog', { name: 'Acknowledge the alert' });
      await dialog.getByLabel(/^Reason/).fill('Calling the signer to confirm the attempts were theirs');
      await screenshot(page, 'admin-alert-acknowledge-dialog');
      violations.push(...(await seriousViolations(page, 'acknowledge dialog')));
      await dialog.getByRole('button', { name: 'Acknowledge' }).click();
      await page.getByText(/The alert was acknowledged/).waitFor();

      await row.getByRole('button', { name: `Unlock ${signer.printedName}` }).click();
      dialog = page.getByRole('dialog', { name: 'Unlock signing' });
      await dialog.getByLabel('Reason').fill('Confirmed by phone: the signer mistyped their codes');
      await dialog.getByLabel('Your password').fill(admin.password);
      await dialog.getByRole('button', { name: 'Demo: fill in the current code' }).click();
      await expect.poll(() => dialog.getByLabel('Your authenticator code').inputValue()).toMatch(/^\d{6}$/);
      await screenshot(page, 'admin-unlock-dialog');
      violations.push(...(await seriousViolations(page, 'unlock dialog')));
      await dialog.getByRole('button', { name: 'Unlock signing' }).click();
      await page.getByText(`${signer.printedName} is unlocked for signing.`).waitFor();
      await expect.poll(() => row.innerText()).not.toMatch(/\blocked\b/);

      await row.getByRole('button', { name: `Close the alert about ${signer.printedName}` }).click();
      dialog = page.getByRole('dialog', { name: 'Close the alert' });
      await dialog.getByLabel(/^Reason/).fill('Unlocked after the call; nothing suspicious');
      await screenshot(page, 'admin-alert-close-dialog');
      await dialog.getByRole('button', { name: 'Close', exact: true }).click();
      await page.getByText(/The alert was closed/).waitFor();
      await page.getByLabel('State').selectOption('closed');
      await signing.getByRole('row').filter({ hasText: signer.printedName }).first().waitFor();
      await screenshot(page, 'admin-alerts-closed');
      expect(violations).toEqual([]);
    });

    it('lets the unlocked signer sign', async () => {
      await signInAs(page, signer.email);
      const dialog = await openSignDialog();
      await dialog.getByLabel('Password').fill(signer.password);
      await dialog.getByRole('button', { name: 'Demo: fill in the current code' }).click();
      await expect.poll(() => dialog.getByLabel('Authenticator code').inputValue()).toMatch(/^\d{6}$/);
      await dialog.getByRole('button', { name: 'Sign 1 record' }).click();
      await dialog.getByText('1 record signed.').waitFor();
      await dialog.getByRole('button', { name: 'Close' }).click();
      expect(pageErrors).toEqual([]);
    });
  },
);

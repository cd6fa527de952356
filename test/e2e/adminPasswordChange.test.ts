// An administrator requires a password change from the People section (issue 21, V4): a reason is
// required, the table then says the change is owed, and the person's next sign-in shows only the
// change-password step.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { seriousViolations } from './support/axe';
import { launchChromium } from './support/chromium';
import { e2eServer, endSession, screenshot, signInAs, workstationPage } from './support/e2ePage';

const admin = demoPerson('admin');
// No other end-to-end flow signs in as this investigator, so the open demand disturbs none of them.
const person = demoPerson('investigator102');

describe.skipIf(e2eServer() === null)(
  'an administrator requires a password change at the next sign-in [ACCOUNT-FORCED-CHANGE]',
  () => {
    let browser: Browser;
    let page: Page;
    let pageErrors: string[];
    let close: () => Promise<void>;

    beforeAll(async () => {
      browser = await launchChromium();
      ({ page, pageErrors, close } = await workstationPage(browser));
    });
    afterAll(async () => {
      await endSession(page);
      await close?.();
      await browser?.close();
    });

    it('is required from the People section with a reason, and not offered for oneself', async () => {
      await signInAs(page, admin.email);
      await page
        .getByRole('navigation', { name: 'Screens' })
        .getByRole('button', { name: 'Administration' })
        .click();
      await page.getByRole('tab', { name: 'People' }).click();
      const action = page.getByRole('button', {
        name: `Require a password change for ${person.printedName}`,
      });
      await action.waitFor();
      expect(
        await page
          .getByRole('button', { name: `Require a password change for ${admin.printedName}` })
          .count(),
      ).toBe(0);

      expect(await seriousViolations(page, 'admin people with the password action')).toEqual([]);
      await action.click();
      const dialog = page.getByRole('dialog', { name: 'Require a password change' });
      const submit = dialog.getByRole('button', { name: 'Require change' });
      expect(await submit.isDisabled()).toBe(true);
      await dialog.getByLabel(/^Reason/).fill('Password seen on a sticky note at site 102');
      expect(await seriousViolations(page, 'require password change dialog')).toEqual([]);
      await screenshot(page, 'admin-require-password-change');
      await submit.click();
      await page.getByRole('status').filter({ hasText: 'Password change required' }).waitFor();
      const row = page.getByRole('row').filter({ hasText: person.email });
      await expect.poll(() => row.innerText()).toContain('change required');
      expect(await action.count()).toBe(0);
      await screenshot(page, 'admin-people-password-change-required');
    });

    it("shows only the change-password step at the person's next sign-in", async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByText(person.email).first().click();
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Choose a new password to continue' }).waitFor();
      expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
      expect(pageErrors).toEqual([]);
    });
  },
);

// Every screen and dialog scanned by axe-core, in the light, dark and high-contrast themes (each
// reached as a person reaches it: the operating system's preference, which "System" follows) and
// under forced colours: sign-in with the backend profile chooser, the queue, a record, the signing
// dialog and the authenticator set-up, provenance and audit (each tab, an entry, a record's trail,
// the inspection packet), the diaries (patients, history, annotations, outbox), the password change,
// the shortcuts sheet, and the status bar on all of them. No serious or critical violation may
// remain; a failure lists every one (rule, element, what to do).
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { seriousViolations } from './support/axe';
import { launchChromium } from './support/chromium';
import { onServer } from './support/demoPersonQuery';
import {
  e2eServer,
  screenshot,
  selectOneInReview,
  signedInUserId,
  signInAs,
  signOut,
  workstationPage,
} from './support/e2ePage';

interface ThemePass {
  name: 'light' | 'dark' | 'contrast' | 'forced';
  /** How the system asks for it (the theme choice stays "System"). */
  system: BrowserContextOptions;
  /** The theme the stylesheet must draw. */
  theme: 'light' | 'dark' | 'contrast';
  enhancedContrast: boolean;
  /** Pictures of every main screen in this theme (test-results/<screen>-<theme>.png). */
  screenshots: boolean;
}

const passes: ThemePass[] = [
  {
    name: 'light',
    system: { colorScheme: 'light' },
    theme: 'light',
    enhancedContrast: false,
    screenshots: true,
  },
  {
    name: 'dark',
    system: { colorScheme: 'dark' },
    theme: 'dark',
    enhancedContrast: false,
    screenshots: true,
  },
  {
    name: 'contrast',
    system: { colorScheme: 'light', contrast: 'more' },
    theme: 'contrast',
    enhancedContrast: true,
    screenshots: true,
  },
  {
    name: 'forced',
    system: { colorScheme: 'dark', forcedColors: 'active' },
    theme: 'contrast',
    enhancedContrast: false,
    screenshots: false,
  },
];

const signer = demoPerson('signerA');
// No other end-to-end flow signs as signer B: their authenticator is reset to reach the set-up.
const enrollingSigner = demoPerson('signerB');
const inspector = demoPerson('inspector');
const investigator = demoPerson('investigator101');
const admin = demoPerson('admin');

/** As the administrator, on their own login: the person's authenticator is removed (audited). */
async function resetAuthenticator(userId: string): Promise<void> {
  await onServer(admin, 'select public.reset_totp($1, $2)', [
    userId,
    'end-to-end accessibility scan of the set-up',
  ]);
}

describe.skipIf(e2eServer() === null)('every screen passes axe in every theme [UI-A11Y, UI-THEMES]', () => {
  let browser: Browser;
  let authenticatorReset = false;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('reports what it is there to catch: an unlabelled field and faint text', async () => {
    const { page, close } = await workstationPage(browser);
    try {
      await signOut(page);
      // (An expression as a string: the e2e files are compiled without the DOM library.)
      await page.evaluate(`(() => {
        const field = document.createElement('input');
        field.id = 'planted-field';
        const faint = document.createElement('p');
        faint.id = 'planted-text';
        faint.textContent = 'Faint text nobody can read';
        faint.style.color = '#9a9a9a';
        faint.style.background = '#ffffff';
        document.querySelector('main').append(field, faint);
      })()`);
      const found = await seriousViolations(page, 'planted');
      expect(found.some((line) => /critical label: #planted-field/.test(line))).toBe(true);
      expect(found.some((line) => /serious color-contrast: #planted-text/.test(line))).toBe(true);
    } finally {
      await close();
    }
  });

  for (const pass of passes) {
    it(`${pass.name}: no serious or critical violation on any screen or dialog`, async () => {
      const { page, pageErrors, close } = await workstationPage(browser, pass.system);
      const violations: string[] = [];
      const scan = async (where: string, picture?: string) => {
        violations.push(
          ...(await seriousViolations(page, `${pass.name} ${where}`, {
            enhancedContrast: pass.enhancedContrast,
          })),
        );
        if (picture && pass.screenshots) await screenshot(page, `${picture}-${pass.name}`);
      };
      try {
        await signOut(page);
        // "System" follows the operating system's preference.
        expect(await page.evaluate('document.documentElement.dataset.theme')).toBe(pass.theme);

        await scan('sign-in', 'sign-in');
        const chooser = page.locator('details.backend-profile');
        await chooser.locator('summary').click();
        await chooser.getByLabel('PostgreSQL server').check();
        await chooser.getByLabel(/Encrypt with TLS/).uncheck();
        await scan('backend profile: PostgreSQL server');
        await chooser.getByLabel('Supabase project').check();
        await scan('backend profile: Supabase project');
        await chooser.getByLabel('Embedded demo').check();
        await chooser.locator('summary').click();

        await signInAs(page, signer.email);
        await page.getByRole('heading', { name: 'Staging queue' }).waitFor();
        await page.locator('.queue-table tbody .badge').first().waitFor();
        await scan('queue', 'queue');

        await page.locator('body').press('?');
        const sheet = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
        await sheet.waitFor();
        await scan('shortcuts sheet', 'shortcuts');
        await page.keyboard.press('Escape');
        await sheet.waitFor({ state: 'detached' });

        await page.getByRole('button', { name: 'Details' }).click();
        await page.getByRole('region', { name: 'Status details' }).waitFor();
        await scan('status bar details');
        await page.getByRole('button', { name: 'Details' }).click();

        await page
          .getByRole('button', { name: /^View record / })
          .first()
          .click();
        const detail = page.locator('.record-detail');
        await detail.getByText('Loading…').waitFor({ state: 'detached' });
        await detail.getByRole('region', { name: 'Proposed change' }).waitFor();
        await scan('record detail', 'record');
        await detail.getByRole('button', { name: 'Close the record' }).click();

        await openSignDialog(page);
        const dialog = page.getByRole('dialog');
        await dialog.getByLabel('Password').waitFor();
        await scan('sign dialog', 'sign-dialog');
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        await dialog.waitFor({ state: 'detached' });

        await page.getByRole('button', { name: 'Change password' }).click();
        const form = page.getByRole('region', { name: 'Change your password' });
        await form.getByLabel('Current password').fill('not the password');
        await form.getByLabel('New password', { exact: true }).fill('short');
        await form.getByLabel('New password again').fill('different');
        await form.getByRole('button', { name: 'Change password' }).click();
        await form.getByRole('alert').waitFor();
        await scan('change password', 'change-password');
        await form.getByRole('button', { name: 'Cancel' }).click();

        // The authenticator set-up, as a signer without one meets it at their first signature.
        await signInAs(page, enrollingSigner.email);
        if (!authenticatorReset) {
          await resetAuthenticator(await signedInUserId(page));
          authenticatorReset = true;
        }
        await page.getByRole('heading', { name: 'Staging queue' }).waitFor();
        await page.locator('.queue-table tbody .badge').first().waitFor();
        await openSignDialog(page);
        const enrolment = page.getByRole('dialog').getByRole('region', { name: 'Set up your authenticator' });
        await enrolment.waitFor();
        await scan('authenticator set-up');
        await enrolment.getByRole('button', { name: 'Set up authenticator' }).click();
        await enrolment.getByRole('img', { name: /QR code/ }).waitFor();
        await scan('authenticator set-up with its QR code', 'totp-enrolment');
        await page.keyboard.press('Escape');
        await page.getByRole('dialog').waitFor({ state: 'detached' });

        await signInAs(page, inspector.email);
        await page.getByRole('heading', { name: 'Provenance and audit' }).waitFor();
        await expect
          .poll(() => page.locator('.status-bar').innerText(), { timeout: 60_000 })
          .not.toContain('Synced never');
        const chain = page.getByRole('region', { name: 'Audit chain' });
        await expect.poll(() => chain.innerText()).toMatch(/Chain verified through entry/);
        const auditTable = page.getByRole('table', { name: 'Audit log entries' });
        await auditTable.locator('tbody tr[data-index]').first().waitFor();
        await page.getByLabel('Study code').fill('AUR-HHT-201');
        await scan('audit log', 'audit');

        await auditTable.locator('tbody tr[data-index]').first().focus();
        await page.keyboard.press('Enter');
        await page.getByRole('heading', { name: /^Audit entry / }).waitFor();
        await scan('audit entry', 'audit-entry');
        await page.getByRole('button', { name: 'Close the audit entry' }).click();

        await page.getByRole('tab', { name: 'Provenance' }).click();
        const provenance = page.getByRole('table', { name: 'Provenance events' });
        await provenance.locator('tbody tr[data-index]').first().waitFor();
        await scan('provenance', 'provenance');

        await page.getByRole('tab', { name: 'Signatures' }).click();
        const signatures = page.getByRole('table', { name: 'Signatures' });
        await signatures.locator('tbody tr[data-index]').first().waitFor();
        await scan('signatures', 'signatures');
        await signatures
          .getByRole('button', { name: /^Trail of record/ })
          .first()
          .click();
        const trail = page.getByRole('complementary', { name: /^Record trail/ });
        await trail.getByRole('table', { name: 'Audit entries of this record' }).waitFor();
        await scan('record trail', 'record-trail');
        await page.keyboard.press('Escape');

        await signInAs(page, investigator.email);
        await page.getByRole('heading', { name: 'Patient diaries' }).waitFor();
        await expect
          .poll(() => page.locator('.status-bar').innerText(), { timeout: 60_000 })
          .not.toContain('Synced never');
        await page
          .getByRole('region', { name: /Patient-entered history/ })
          .getByText('Entry 1', { exact: true })
          .waitFor();
        await page
          .getByRole('region', { name: /Annotations and queries/ })
          .getByLabel('Annotation text')
          .waitFor();
        await scan('diaries', 'diary');
        const outbox = page.getByRole('region', { name: /Outbox/ });
        await outbox.getByRole('checkbox').first().check();
        await scan('diaries with the whole outbox');

        await signOut(page);
        expect(violations).toEqual([]);
        expect(pageErrors).toEqual([]);
      } catch (error) {
        await screenshot(page, `accessibility-failed-${pass.name}`);
        throw error;
      } finally {
        await close();
      }
    });
  }
});

/** Selects one record in review (opening one for review first if none is) and opens the signing dialog. */
async function openSignDialog(page: Page): Promise<void> {
  await selectOneInReview(page);
  await page.getByRole('button', { name: /^Sign… \(1\)/ }).click();
  await page.getByRole('dialog').waitFor();
}

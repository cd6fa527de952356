// The signer's day in a real browser, through the browser host on the embedded demo: sign in, read
// the queue, open a diff, open 20 records for review, sign them in one ceremony with a meaning,
// see the manifestation, promote them. Then the ceremony's details: who signs, a meaning chosen, a
// wrong code that keeps the password, a rejection with its reason, the hashes at 1024 px. (A ceremony
// of 10,000 records runs on a workstation of its own: signingAtScale.test.ts.)
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { launchChromium } from './support/chromium';
import { e2eServer, openWorkstation, screenshot, signInAs } from './support/e2ePage';

const signer = demoPerson('signerA');

/** A code of the demo signer's authenticator that is not the current one. */
function notTheCode(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}

// (Expressions as strings: the e2e files are compiled without the DOM library.)
/** Whether every content hash shown in the dialog is whole and unclipped (no text cut off sideways). */
const hashesReadable = `[...document.querySelectorAll('dialog .manifest-hash')].every((code) => {
  const cell = code.closest('td');
  const dialogBox = code.closest('dialog').getBoundingClientRect();
  const box = code.getBoundingClientRect();
  return /^[0-9a-f]{64}$/.test(code.textContent || '') && code.getAttribute('title') === code.textContent &&
    cell.scrollWidth <= cell.clientWidth && box.left >= dialogBox.left && box.right <= dialogBox.right;
})`;

const focusedId = 'document.activeElement && document.activeElement.id';

/** Waits for the next 30-second authenticator step: a code works once, and a ceremony just spent this one. */
function nextCodeStep(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 30_000 - (Date.now() % 30_000) + 500));
}

describe.skipIf(e2eServer() === null)('signer in the browser host', () => {
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

  const filter = async (state: string) => {
    await page.getByLabel('Filter by state').selectOption(state);
    await expect
      .poll(async () => {
        const badges = await page.locator('.queue-table tbody .badge').allInnerTexts();
        return badges.length > 0 && badges.every((badge) => badge === state);
      })
      .toBe(true);
  };

  it('signs 20 records in one ceremony and promotes them', async () => {
    // The workstation is shared by the run's test files: start from the sign-in screen.
    await page.waitForSelector('text=/Sign in|Staging queue/');
    const signOut = page.getByRole('button', { name: 'Sign out' });
    if (await signOut.isVisible()) await signOut.click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screenshot(page, 'sign-in');
    await signInAs(page, signer.email);
    await page.getByRole('heading', { name: 'Staging queue' }).waitFor();
    await screenshot(page, 'queue');

    await filter('proposed');
    // Keyboard only: space selects the row under the cursor, j moves down, Enter opens it.
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Space');
      if (i < 19) await page.keyboard.press('j');
    }
    const checked = page.getByRole('checkbox', { name: /^Select record /, checked: true });
    await expect.poll(() => checked.count()).toBe(20);
    await page.keyboard.press('Enter');
    await page.getByRole('region', { name: 'Proposed change' }).waitFor();
    await screenshot(page, 'review');
    // Reading a record changes nothing on the server (decision 34): the 20 are opened for review together.
    await page.getByText('Not in review yet.').waitFor();
    await page.getByRole('button', { name: 'Open for review (20)' }).click();
    await page.getByText('20 records opened for review.').waitFor();

    // The selection stays with the records, now in reviewing: s opens the signature dialog.
    await page.getByRole('button', { name: 'Sign… (20)' }).waitFor();
    await page.keyboard.press('s');
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('table', { name: /Manifest: what you are signing \(20 records\)/ }).waitFor();
    expect(await dialog.locator('.manifest-table').getAttribute('aria-rowcount')).toBe('21');
    // The dialog names who signs, beside the attestation [UI-SIGN-DIALOG].
    const signingAs = dialog.getByRole('region', { name: 'Who is signing' });
    await expect.poll(() => signingAs.innerText()).toContain(signer.printedName);
    expect(await signingAs.innerText()).toContain(signer.email);
    // The meaning starts unchosen, and the Sign button says what it waits for.
    expect(await dialog.getByLabel('Meaning of signature').inputValue()).toBe('');
    const signButton = dialog.getByRole('button', { name: 'Sign 20 records' });
    expect(await signButton.isDisabled()).toBe(true);
    await dialog.getByText('Choose the meaning of your signature.').waitFor();

    await dialog.getByLabel('Meaning of signature').selectOption({ index: 1 });
    const meaning = await dialog.getByLabel('Meaning of signature').inputValue();
    await dialog.getByLabel('Password').fill(signer.password);
    await dialog.getByRole('button', { name: 'Demo: fill in the current code' }).click();
    await expect.poll(() => dialog.getByLabel('Authenticator code').inputValue()).toMatch(/^\d{6}$/);
    await screenshot(page, 'sign-dialog');
    await dialog.getByRole('button', { name: 'Sign 20 records' }).click();
    await dialog.getByText('20 records signed.').waitFor();
    await expect.poll(() => dialog.locator('.manifestation').innerText()).toContain(meaning);
    await screenshot(page, 'signed');
    await dialog.getByRole('button', { name: 'Close' }).click();

    const manifestation = page.locator('.record-detail .manifestation').first();
    await manifestation.waitFor();
    const shown = await manifestation.innerText();
    expect(shown).toContain(signer.printedName);
    expect(shown).toContain(meaning);
    expect(shown).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(shown).toContain('local');
    // A sync may read the record again meanwhile; the picture shows it read.
    await manifestation.waitFor();
    await screenshot(page, 'record-signed');

    await page.getByRole('button', { name: 'Promote (20)' }).click();
    const report = page.locator('.queue [role=status]');
    await report.getByText(/of 20 records promoted\./).waitFor();
    // Two proposals for the same live row: promoting the first changes the row the second was
    // signed against, so the second is reported as a conflict, never applied over it.
    const lines = (await report.innerText()).split('\n').filter(Boolean);
    const promoted = Number(/^(\d+) of 20/.exec(lines[0] as string)?.[1]);
    expect(promoted).toBeGreaterThan(0);
    expect(lines.slice(1)).toHaveLength(20 - promoted);
    for (const line of lines.slice(1))
      expect(line).toMatch(/changed after it was signed; nothing was overwritten/);
    await screenshot(page, 'promoted');
    expect(pageErrors).toEqual([]);
  });

  /** Selects `count` proposals, opens them for review, and opens the dialog to sign or reject them. */
  async function openCeremony(count: number, verb: 'Sign' | 'Reject'): Promise<Locator> {
    const clear = page.getByRole('button', { name: 'Clear', exact: true });
    if (await clear.isVisible()) await clear.click();
    await page.getByLabel('Search the queue').fill('');
    // A record left open from an earlier step is closed (Esc), so it covers nothing.
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    if (await page.locator('.record-detail').isVisible()) await page.keyboard.press('Escape');
    await filter('proposed');
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    for (let i = 0; i < count; i++) {
      await page.keyboard.press('Space');
      if (i < count - 1) await page.keyboard.press('j');
    }
    await page.getByRole('button', { name: `Open for review (${count})` }).click();
    await page
      .getByText(
        count === 1 ? /^Record [0-9a-f]{8} is now in review\.$/ : `${count} records opened for review.`,
      )
      .waitFor();
    await page.getByRole('button', { name: `${verb}… (${count})` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Password').waitFor();
    return dialog;
  }

  it('keeps the password after a wrong code, and the code after a wrong password [UI-SIGN-DIALOG]', async () => {
    await signInAs(page, signer.email);
    const dialog = await openCeremony(1, 'Sign');
    await dialog.getByLabel('Meaning of signature').selectOption({ index: 1 });
    const password = dialog.getByLabel('Password');
    const code = dialog.getByLabel('Authenticator code');
    await password.fill(signer.password);
    await dialog.getByRole('button', { name: 'Demo: fill in the current code' }).click();
    await expect.poll(() => code.inputValue()).toMatch(/^\d{6}$/);
    await code.fill(notTheCode(await code.inputValue()));
    await dialog.getByRole('button', { name: 'Sign 1 record' }).click();
    await dialog
      .getByRole('alert')
      .getByText(/^Wrong authenticator code\./)
      .waitFor();
    // Only the code is cleared, and it has the focus; the password stays typed.
    expect(await password.inputValue()).toBe(signer.password);
    expect(await code.inputValue()).toBe('');
    await expect.poll(() => page.evaluate(focusedId)).toBe('sign-totp');

    // A wrong password clears the password (and focuses it); the code typed stays.
    await password.fill('not the password at all');
    await dialog.getByRole('button', { name: 'Demo: fill in the current code' }).click();
    await expect.poll(() => code.inputValue()).toMatch(/^\d{6}$/);
    const typedCode = await code.inputValue();
    await dialog.getByRole('button', { name: 'Sign 1 record' }).click();
    await dialog
      .getByRole('alert')
      .getByText(/^Wrong password\./)
      .waitFor();
    expect(await password.inputValue()).toBe('');
    expect(await code.inputValue()).toBe(typedCode);
    await expect.poll(() => page.evaluate(focusedId)).toBe('sign-password');
    await screenshot(page, 'sign-dialog-wrong-password');

    // Then the right password and a code no ceremony has spent: signed (a success ends the run of failures).
    await nextCodeStep();
    await password.fill(signer.password);
    await dialog.getByRole('button', { name: 'Demo: fill in the current code' }).click();
    await dialog.getByRole('button', { name: 'Sign 1 record' }).click();
    await dialog.getByText('1 record signed.').waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect(pageErrors).toEqual([]);
  });

  it('rejects with a reason from the list and an explanation, shown with the signature [SIGN-REJECT-REASON]', async () => {
    const dialog = await openCeremony(2, 'Reject');
    const rejectButton = dialog.getByRole('button', { name: 'Reject 2 records' });
    await dialog.getByLabel('Meaning of signature').selectOption({ index: 1 });
    // Without a reason and an explanation the rejection cannot be sent, and the dialog says why.
    expect(await rejectButton.isDisabled()).toBe(true);
    await dialog.getByText('Choose the reason for the rejection.').waitFor();
    await dialog.getByLabel('Reason for rejection').selectOption('Duplicate of another proposal');
    await dialog.getByText('Explain the reason for the rejection.').waitFor();
    const explanation = 'Both repeat the change already signed in this ceremony series.';
    await dialog.getByLabel('Explanation (required)').fill(explanation);
    await dialog.getByLabel('Password').fill(signer.password);
    await nextCodeStep();
    await dialog.getByRole('button', { name: 'Demo: fill in the current code' }).click();
    await expect.poll(() => rejectButton.isDisabled()).toBe(false);
    await screenshot(page, 'reject-dialog');
    await rejectButton.click();
    await dialog.getByText('2 records rejected.').waitFor();
    const result = dialog.locator('.manifestation');
    await expect
      .poll(() => result.innerText())
      .toContain('Reason for rejection: Duplicate of another proposal');
    expect(await result.innerText()).toContain(explanation);
    const rejectedId = (await dialog.locator('tbody code[title]').first().getAttribute('title')) as string;
    await dialog.getByRole('button', { name: 'Close' }).click();

    // The record's own signatures show it too (read from the cache after the sync).
    await filter('rejected');
    await page.getByLabel('Search the queue').fill(rejectedId);
    await page.getByRole('button', { name: `View record ${rejectedId.slice(0, 8)}` }).click();
    const manifestation = page.locator('.record-detail .manifestation.intent-reject').first();
    await manifestation.waitFor();
    await expect.poll(() => manifestation.innerText()).toContain(explanation);
    await screenshot(page, 'record-rejected');
    expect(pageErrors).toEqual([]);
  });

  it('shows every content hash whole and readable at 1024×768 [UI-SIGN-DIALOG]', async () => {
    await page.setViewportSize({ width: 1024, height: 768 });
    try {
      const dialog = await openCeremony(3, 'Sign');
      await dialog.getByRole('table', { name: /Manifest/ }).waitFor();
      expect(await dialog.locator('.manifest-hash').count()).toBe(3);
      expect(await page.evaluate(hashesReadable)).toBe(true);
      await screenshot(page, 'sign-dialog-1024');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
    } finally {
      await page.setViewportSize({ width: 1400, height: 950 });
    }
  });
});

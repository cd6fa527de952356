// What the screen says can be trusted: offline, the actions that need the server are refused with a
// way to go online (and nothing is sent); a window that loses its workstation says so at once; each
// role is offered only the screens it can use, and an empty audit log is not shown as a verified one.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { launchChromium } from './support/chromium';
import { e2eServer, openWorkstation, screenshot, signInAs } from './support/e2ePage';

describe.skipIf(e2eServer() === null)('a status the person can trust', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
    ({ page } = await openWorkstation(browser));
  });
  afterAll(async () => {
    await page?.unrouteAll().catch(() => undefined);
    const signOut = page?.getByRole('button', { name: 'Sign out' });
    if (signOut && (await signOut.isVisible().catch(() => false))) {
      await signOut.click({ timeout: 5000 }).catch(() => undefined);
    }
    await browser?.close();
  });

  const connection = () => page.getByRole('status', { name: 'Connection' });
  // The tab names, without their key hints (Alt+1…).
  const tabs = async () =>
    (await page.getByRole('navigation', { name: 'Screens' }).getByRole('button').allInnerTexts()).map(
      (text) => text.replace(/\s*Alt\+\d\s*$/, ''),
    );

  it('refuses review offline, says why, and goes online in one click [OFFLINE-NO-SERVER-WRITES]', async () => {
    await signInAs(page, demoPerson('signerB').email);
    await page.getByRole('heading', { name: 'Staging queue' }).waitFor();
    await expect.poll(() => connection().innerText(), { timeout: 30_000 }).toContain('Online');
    expect(await tabs()).toEqual(['Queue', 'Provenance and audit', 'Builds']);

    await page.getByLabel('Work offline').click();
    await expect.poll(() => connection().innerText()).toMatch(/Offline since/);
    const notice = page.locator('.offline-write-notice');
    await expect
      .poll(() => notice.innerText())
      .toMatch(/working offline: opening for review, signing and promotion/);

    await page.getByLabel('Filter by state').selectOption('proposed');
    await expect
      .poll(() => page.getByRole('checkbox', { name: /^Select record / }).count())
      .toBeGreaterThan(0);
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Space');
    const proposedBefore = await page.locator('.state-count.state-proposed .state-number').innerText();
    await page.getByRole('button', { name: 'Open for review (1)' }).click();
    await page.getByText(/working offline: opening records for review needs the server/).waitFor();
    await screenshot(page, 'queue-offline-refused');
    expect(await page.locator('.state-count.state-proposed .state-number').innerText()).toBe(proposedBefore);

    await notice.getByRole('button', { name: 'Go online' }).click();
    await expect.poll(() => connection().innerText(), { timeout: 30_000 }).toContain('Online');
    await expect.poll(() => notice.count()).toBe(0);

    // A signer reads no audit log: its chain is not shown as verified over nothing.
    await page.getByRole('button', { name: 'Provenance and audit' }).click();
    await page.getByRole('button', { name: 'Verify new entries' }).click();
    await page.getByText(/Nothing to verify: your cache holds no audit log entries/).waitFor();
    expect(await page.getByText('Chain verified').count()).toBe(0);
  });

  it('says at once when the window loses the workstation, and what failed [OFFLINE-NO-SERVER-WRITES]', async () => {
    // The workstation stops answering this window (connection refused), as when Countersign quits.
    await page.route('**/api/**', (route) => route.abort('connectionrefused'));
    await page.getByRole('button', { name: 'Sync now' }).click();
    const alert = page.locator('.link-failure');
    await expect
      .poll(() => alert.innerText())
      // Names the first call that got no answer: Sync now, or the idle lock's poll or activity report.
      .toMatch(
        /Disconnected: Countersign cannot be reached from this window \((sync\.now|session\.lockState|session\.activity) got no answer\)/,
      );
    expect(await connection().count()).toBe(0);
    await screenshot(page, 'link-failure');

    // Restarted with a new per-launch token: every call is refused as unauthorised.
    await page.unrouteAll();
    await page.route('**/api/**', (route) =>
      route.fulfill({ status: 401, contentType: 'application/json', body: '{"error":"unauthorised"}' }),
    );
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => alert.innerText()).toMatch(/no longer authorised \(session\.signOut: 401\)/);

    // Back: the next answered request clears it.
    await page.unrouteAll();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await alert.count()).toBe(0);
  });

  it('offers each role only the screens it can use [UI-ROLE-SCREENS]', async () => {
    await signInAs(page, demoPerson('investigator101').email);
    await page.getByRole('navigation', { name: 'Patients by site' }).waitFor();
    expect(await tabs()).toEqual(['Diaries', 'Builds']);
    await signInAs(page, demoPerson('inspector').email);
    await page.getByRole('heading', { name: 'Provenance and audit' }).waitFor();
    expect(await tabs()).toEqual(['Queue', 'Provenance and audit', 'Diaries', 'Builds']);
    await signInAs(page, demoPerson('sponsorAurelia').email);
    await page.getByRole('heading', { name: 'Nothing to work on here yet' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Screens' }).count()).toBe(0);
  });
});

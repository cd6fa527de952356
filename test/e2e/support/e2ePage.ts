// Helpers for driving the workstation in Chromium: sign in as a demo person, keep screenshots of
// each main screen under test-results/, and fail on any error the page logs.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { expect, inject } from 'vitest';
import { demoPeople } from '../../../src/main/backend/demo/demoPeople';
import type { E2eServer } from '../globalSetup';

export const screenshotDir = fileURLToPath(new URL('../../../test-results', import.meta.url));

export function e2eServer(): E2eServer | null {
  return inject('e2e');
}

/** A page on the embedded workstation, or on `server` (the hosted one, support/e2eTarget.ts). */
export async function openWorkstation(
  browser: Browser,
  server: Pick<E2eServer, 'url'> | null = e2eServer(),
): Promise<{ page: Page; pageErrors: string[] }> {
  if (!server) throw new Error('no e2e server');
  const page = await browser.newPage({ viewport: { width: 1400, height: 950 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(server.url);
  return { page, pageErrors };
}

/**
 * A page in a browser context of its own: emulated system preferences (colour scheme, contrast,
 * forced colours), another window size, and a localStorage of its own. `close` ends the context.
 */
export async function workstationPage(
  browser: Browser,
  options: BrowserContextOptions = {},
): Promise<{ page: Page; pageErrors: string[]; close: () => Promise<void> }> {
  const server = e2eServer();
  if (!server) throw new Error('no e2e server');
  const context = await browser.newContext({ viewport: { width: 1400, height: 950 }, ...options });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(server.url);
  return { page, pageErrors, close: () => context.close() };
}

/** Ends any session, and waits for the sign-in screen. */
export async function signOut(page: Page): Promise<void> {
  await page.waitForSelector('text=/Sign in|Sign out/');
  const button = page.getByRole('button', { name: 'Sign out' });
  if (await button.isVisible()) await button.click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
}

/** The signed-in person's id, as the workstation knows it. */
export async function signedInUserId(page: Page): Promise<string> {
  // (An expression as a string: the e2e files are compiled without the DOM library.)
  return String(
    await page.evaluate(
      `fetch('/api/backend.status', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
         .then((response) => response.json()).then((status) => status.session.userId)`,
    ),
  );
}

/** The backend mode the workstation reports ('embedded', 'postgres' or 'supabase'). */
export async function backendMode(page: Page): Promise<string> {
  return String(
    await page.evaluate(
      `fetch('/api/backend.status', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
         .then((response) => response.json()).then((status) => status.mode)`,
    ),
  );
}

/**
 * Signs in as a demo person: from the demo-user list where the workstation shows one (embedded
 * demo), else by typing the person's e-mail address and password (hosted mode has no such list).
 */
export async function signInAs(page: Page, email: string): Promise<void> {
  const signOut = page.getByRole('button', { name: 'Sign out' });
  // Signed out (the sign-in screen), or signed in on any screen (a Sign out button).
  await page.waitForSelector('text=/Sign in|Sign out/');
  if (await signOut.isVisible()) await signOut.click();
  // Only on the sign-in screen: the signed-in person's address is also in the status bar.
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  if (await page.getByRole('heading', { name: 'Demo users' }).isVisible()) {
    await page.getByText(email).first().click();
  } else {
    const person = demoPeople.find((candidate) => candidate.email === email);
    if (!person) throw new Error(`no demo person ${email}`);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(person.password);
  }
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Ends the session through the API whatever the page shows: a test file's cleanup, so that later files start from the sign-in screen. */
export async function endSession(page: Page | undefined): Promise<void> {
  await page
    ?.evaluate(
      "fetch('/api/session.signOut', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })",
    )
    .catch(() => undefined);
}

/** Waits until the signed-in person's first sync has run (the status bar no longer says "Synced never"). */
export async function waitForFirstSync(page: Page): Promise<void> {
  await expect
    .poll(() => page.locator('.status-bar').innerText(), { timeout: 60_000 })
    .not.toContain('Synced never');
}

/** In the queue: ticks one record in review, opening one for review first if none is. */
export async function selectOneInReview(page: Page): Promise<void> {
  const stateFilter = page.getByLabel('Filter by state');
  const firstCheckbox = page.getByRole('checkbox', { name: /^Select record / }).first();
  await stateFilter.selectOption('reviewing');
  const reviewing = await firstCheckbox.waitFor({ timeout: 3_000 }).then(
    () => true,
    () => false,
  );
  if (!reviewing) {
    await stateFilter.selectOption('proposed');
    await firstCheckbox.check();
    await page.getByRole('button', { name: /^Open for review \(1\)/ }).click();
    await page.getByText(/^1 record opened for review\.$/).waitFor();
    await stateFilter.selectOption('reviewing');
  }
  await firstCheckbox.check();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: false });
}

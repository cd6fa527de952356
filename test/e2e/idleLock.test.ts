// The idle lock in a real browser: a workstation of its own (the run's embedded PostgreSQL, reached in
// postgres mode, so the shared workstation keeps its ten minutes) with COUNTERSIGN_IDLE_LOCK_SECONDS
// shortened. Left alone, the queue is removed from the page and a password prompt takes its place;
// a reload keeps the lock (its state is in the main process); the password brings the queue back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { type BrowserHost, startBrowserHost } from '../../src/main/host/browserHost';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import { seriousViolations } from './support/axe';
import { launchChromium } from './support/chromium';
import { e2eServer, screenshot } from './support/e2ePage';

const rendererDir = fileURLToPath(new URL('../../out/renderer', import.meta.url));
const signer = demoPerson('signerB');
const idleSeconds = 5;

describe.skipIf(e2eServer() === null)(
  'the idle lock in the browser host [SESSION-IDLE-LOCK, CFR-11.10d]',
  () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'countersign-e2e-idle-'));
    let workstation: Workstation | null = null;
    let host: BrowserHost | null = null;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      const server = e2eServer();
      if (!server) throw new Error('no e2e server');
      workstation = await createWorkstation({
        dataDir,
        env: {
          COUNTERSIGN_BACKEND: 'postgres',
          COUNTERSIGN_PG_HOST: '127.0.0.1',
          COUNTERSIGN_PG_PORT: String(server.pgPort),
          COUNTERSIGN_IDLE_LOCK_SECONDS: String(idleSeconds),
        },
        log: () => undefined,
      });
      await workstation.backendSettled;
      host = await startBrowserHost({
        handlers: workstation.handlers,
        subscribe: workstation.subscribe,
        rendererDir,
        port: 0,
        log: () => undefined,
      });
      browser = await launchChromium();
      // A context of its own: the accessibility scan opens a page beside this one.
      page = await (await browser.newContext({ viewport: { width: 1400, height: 950 } })).newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(host.url);
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      await host?.close();
      await workstation?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('hides the queue when idle, keeps the lock across a reload, and comes back with the password', async () => {
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByLabel('Email').fill(signer.email);
      await page.getByLabel('Password').fill(signer.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const queueHeading = page.getByRole('heading', { name: 'Staging queue' });
      await queueHeading.waitFor({ timeout: 30_000 });

      // Left alone: the lock screen replaces the workspace (the queue is gone from the page, not covered).
      const lockHeading = page.getByRole('heading', { name: 'Workstation locked' });
      await lockHeading.waitFor({ timeout: (idleSeconds + 10) * 1000 });
      expect(await page.locator('.queue-table').count()).toBe(0);
      expect(await queueHeading.count()).toBe(0);
      // The main process refuses the queue while locked, whatever a page asks.
      const refused = await page.evaluate(
        `fetch('/api/signing.status', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
         .then((response) => response.text())`,
      );
      expect(String(refused)).toMatch(/locked: enter your password/);
      // Keyboard: the password field has the focus.
      expect(await page.evaluate('document.activeElement && document.activeElement.type')).toBe('password');
      expect(await seriousViolations(page, 'lock screen')).toEqual([]);
      await screenshot(page, 'idle-lock');

      // A reload keeps it locked: the state is in the main process.
      await page.reload();
      await lockHeading.waitFor();
      expect(await page.locator('.queue-table').count()).toBe(0);

      // A wrong password is refused and counted; the right one brings the queue back.
      await page.keyboard.type('Not-My-Password-1');
      await page.keyboard.press('Enter');
      await page
        .getByRole('alert')
        .filter({ hasText: /not your password/ })
        .waitFor();
      await screenshot(page, 'idle-lock-wrong-password');
      await page.getByLabel('Password').fill(signer.password);
      await page.getByRole('button', { name: 'Unlock' }).click();
      await queueHeading.waitFor();
      expect(await lockHeading.count()).toBe(0);
      expect(pageErrors).toEqual([]);
    }, 90_000);
  },
);

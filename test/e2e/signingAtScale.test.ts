// One signing ceremony of 10,000 records in the browser host, end to end: the queue selects them,
// the dialog draws only the manifest rows in view and answers each keystroke at once, the request
// crosses the host, and the server signs all of them. It runs on a workstation of its own (its own
// embedded PostgreSQL and browser host), so its 10,000 signatures and 20,000 audit entries stay out
// of the shared workstation the other e2e files read.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSecret, generateSync } from 'otplib';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedDatabase } from '../../src/main/backend/backendConfig';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { provisionPerson } from '../../src/main/backend/provisioning';
import { type BrowserHost, startBrowserHost } from '../../src/main/host/browserHost';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import { freePort } from '../db/support/freePort';
import { launchChromium } from './support/chromium';
import { e2eServer, screenshot } from './support/e2ePage';

const records = 10_000;
const rendererDir = fileURLToPath(new URL('../../out/renderer', import.meta.url));
const scaleSigner = {
  email: 'signer.scale@countersign.test',
  password: 'Scale-Signer-Ledger-2026',
  printedName: 'Dr. Ines Castellano',
  secret: generateSecret(),
};

// (An expression as a string: the e2e files are compiled without the DOM library.)
/** The slowest of the keystrokes typing `text` into the password field, each to the frame that shows it. */
const slowestKeystrokeMs = (text: string) => `(async () => {
  const input = document.getElementById('sign-password');
  const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  let slowest = 0;
  for (const ch of ${JSON.stringify(text)}) {
    const started = performance.now();
    setValue.call(input, input.value + ch);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    slowest = Math.max(slowest, performance.now() - started);
  }
  return slowest;
})()`;

/** A study with `records` proposals in review, its signer and its agent, through the server's own rules. */
async function seedScaleStudy(dataDir: string, pgPort: number): Promise<void> {
  const owner = new pg.Client({
    host: '127.0.0.1',
    port: pgPort,
    user: 'countersign_owner',
    password: readFileSync(join(dataDir, 'backend', 'postgres-owner.secret'), 'utf8').trim(),
    database: embeddedDatabase,
  });
  await owner.connect();
  try {
    const actAs = async (userId: string, sql: string, params: unknown[]) => {
      await owner.query('begin');
      await owner.query(
        `select set_config('request.jwt.claims', json_build_object('sub', $1::text)::text, true)`,
        [userId],
      );
      await owner.query(`set local countersign.bootstrap = 'on'`);
      const result = await owner.query<{ id: string }>(sql, params);
      await owner.query('commit');
      return result.rows;
    };
    const admin = (
      await owner.query<{ id: string }>('select id from auth.users where email = $1', [
        demoPerson('admin').email,
      ])
    ).rows[0]?.id as string;
    const [study] = await actAs(
      admin,
      `insert into cro.study (code, sponsor, phase, therapeutic_area, indication, status, health, executive_summary,
         goals, start_date, planned_end_date, current_forecast_end_date, contracted_budget, ebv_spent, eac_budget,
         currency, created_by)
       values ('SCALE-10K', 'Scale Sponsor', 'III', 'Cardiology', 'Heart failure', 'active', 'green',
               'A study with many proposals', '[]', '2026-01-01', '2027-01-01', '2027-01-01', 1, 0, 1, 'EUR', $1)
       returning id`,
      [admin],
    );
    const studyId = study?.id as string;
    // A study accepts proposals only under a completed protocol build (migration 0054).
    await actAs(admin, `select cs_private.complete_initial_build($1, $2, 'Scale INITIAL build')`, [
      studyId,
      admin,
    ]);
    await owner.query('begin');
    await provisionPerson(owner, {
      email: scaleSigner.email,
      printedName: scaleSigner.printedName,
      password: scaleSigner.password,
      roles: [{ role: 'signer', studyId }],
      totpSecretBase32: scaleSigner.secret,
    });
    const agent = await provisionPerson(owner, {
      email: 'agent.scale@countersign.test',
      printedName: 'Scale Agent',
      password: 'Scale-Agent-Ledger-2026',
      roles: [{ role: 'agent', studyId }],
      agentId: 'agent:scale',
    });
    await owner.query('commit');
    const proposals = await actAs(
      agent,
      `insert into cro.staging_record (entity_kind, entity_id, study_id, agent_id, proposed_state, created_by)
       select 'study_kpi', null, $1, 'agent:scale',
              jsonb_build_object('label', 'Site ' || g || ' enrolment', 'value', (g % 100) || '%', 'position', g), $2
         from generate_series(1, $3::int) g
       returning id`,
      [studyId, agent, records],
    );
    await actAs(admin, `update cro.staging_record set state = 'reviewing' where id = any ($1::uuid[])`, [
      proposals.map((row) => row.id),
    ]);
  } finally {
    await owner.end();
  }
}

describe.skipIf(e2eServer() === null)(
  'a signing ceremony of 10,000 records in the browser host [SIGN-SCALE]',
  () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'countersign-e2e-scale-'));
    let workstation: Workstation | null = null;
    let host: BrowserHost | null = null;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      const pgPort = await freePort();
      workstation = await createWorkstation({
        dataDir,
        env: { COUNTERSIGN_PG_PORT: String(pgPort) },
        log: () => undefined,
      });
      await workstation.backendSettled;
      await seedScaleStudy(dataDir, pgPort);
      host = await startBrowserHost({
        handlers: workstation.handlers,
        subscribe: workstation.subscribe,
        rendererDir,
        port: 0,
        log: () => undefined,
      });
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1400, height: 950 } });
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') pageErrors.push(message.text());
      });
      await page.goto(host.url);
    }, 240_000);
    afterAll(async () => {
      await browser?.close();
      await host?.close();
      await workstation?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('selects them in the queue, draws only the manifest rows in view, stays responsive, and signs all', async () => {
      // Signed in by e-mail and password, like anyone outside the demo list.
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByLabel('Email').fill(scaleSigner.email);
      await page.getByLabel('Password').fill(scaleSigner.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Staging queue' }).waitFor();
      // Every record loaded (the queue reads pages of 5,000 behind the first screenful), then all selected.
      await page.getByText('10,000 shown of 10,000').waitFor({ timeout: 60_000 });
      await page.getByRole('checkbox', { name: 'Select every record shown' }).check();
      await page.getByRole('button', { name: 'Sign… (10000)' }).click({ timeout: 60_000 });
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('table', { name: /Manifest: what you are signing \(10,000 records\)/ }).waitFor({
        timeout: 60_000,
      });
      // Only the rows in view are in the page.
      expect(await dialog.locator('.manifest-table tbody tr').count()).toBeLessThan(60);
      expect(await dialog.locator('.manifest-table').getAttribute('aria-rowcount')).toBe(String(records + 1));

      // The dialog answers at once while it holds 10,000 records: each keystroke is drawn within a frame.
      const password = dialog.getByLabel('Password');
      await password.click();
      const keystrokeMs = (await page.evaluate(slowestKeystrokeMs(scaleSigner.password))) as number;
      expect(await password.inputValue()).toBe(scaleSigner.password);
      expect(keystrokeMs).toBeLessThan(100);

      // The end of the manifest is reached by scrolling, and its last record is there.
      await dialog.locator('.manifest-scroll').evaluate((scroller) => {
        scroller.scrollTop = scroller.scrollHeight;
      });
      await expect
        .poll(() => dialog.locator(`.manifest-table tbody tr[aria-rowindex="${records + 1}"]`).count())
        .toBe(1);

      await dialog.getByLabel('Meaning of signature').selectOption({ index: 1 });
      await dialog
        .getByLabel('Authenticator code')
        .fill(generateSync({ secret: scaleSigner.secret, epoch: Math.floor(Date.now() / 1000) }));
      await screenshot(page, 'sign-dialog-10000');
      await dialog.getByRole('button', { name: 'Sign 10,000 records' }).click();
      await dialog.getByText('10,000 records signed.').waitFor({ timeout: 90_000 });
      expect(await dialog.locator('table tbody tr').count()).toBeLessThan(60);
      await screenshot(page, 'signed-10000');
      await dialog.getByRole('button', { name: 'Close' }).click();
      await expect
        .poll(() => page.locator('.state-count.state-signed .state-number').innerText())
        .toBe('10000');
      expect(pageErrors).toEqual([]);
    }, 300_000);
  },
);

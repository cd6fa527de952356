// An administrator requires a new password at the next sign-in: the person signs in and sees only the
// change-password step (the current password, checked by the server, and the new one twice), then signs
// in with the new password.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedDatabase } from '../../src/main/backend/backendConfig';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { provisionPerson } from '../../src/main/backend/provisioning';
import { seriousViolations } from './support/axe';
import { launchChromium } from './support/chromium';
import { e2eServer, endSession, screenshot, workstationPage } from './support/e2ePage';

const person = {
  email: 'forced.change@countersign.test',
  password: 'Granite-Harbour-5521',
  printedName: 'Noor Haddad',
};
const newPassword = 'Willow-Compass-8830';

/** A person of their own, and the demo administrator's demand that they change their password. */
async function requireChangeOfNewPerson(dataDir: string, pgPort: number): Promise<void> {
  const owner = new pg.Client({
    host: '127.0.0.1',
    port: pgPort,
    user: 'countersign_owner',
    password: readFileSync(join(dataDir, 'backend', 'postgres-owner.secret'), 'utf8').trim(),
    database: embeddedDatabase,
  });
  await owner.connect();
  try {
    const personId = await provisionPerson(owner, { ...person, roles: [] });
    const adminId = (
      await owner.query<{ id: string }>('select id from auth.users where email = $1', [
        demoPerson('admin').email,
      ])
    ).rows[0]?.id as string;
    await owner.query('begin');
    await owner.query(
      `select set_config('request.jwt.claims', json_build_object('sub', $1::text)::text, true)`,
      [adminId],
    );
    await owner.query('select public.require_password_change($1, $2)', [
      personId,
      'Password written on a note',
    ]);
    await owner.query('commit');
  } finally {
    await owner.end();
  }
}

describe.skipIf(e2eServer() === null)('a password change required at sign-in [ACCOUNT-FORCED-CHANGE]', () => {
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  let close: () => Promise<void>;

  beforeAll(async () => {
    const server = e2eServer();
    if (!server) throw new Error('no e2e server');
    await requireChangeOfNewPerson(server.dataDir, server.pgPort);
    browser = await launchChromium();
    ({ page, pageErrors, close } = await workstationPage(browser));
  });
  afterAll(async () => {
    await endSession(page);
    await close?.();
    await browser?.close();
  });

  const signIn = async (password: string) => {
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').fill(person.email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  it('shows only the change-password step, then signs in with the new password', async () => {
    await page.waitForSelector('text=/Sign in|Sign out/');
    if (await page.getByRole('button', { name: 'Sign out' }).isVisible()) {
      await page.getByRole('button', { name: 'Sign out' }).click();
    }
    await signIn(person.password);
    await page.getByRole('heading', { name: 'Choose a new password to continue' }).waitFor();
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
    expect(await seriousViolations(page, 'forced password change')).toEqual([]);
    await screenshot(page, 'forced-password-change');

    // The current password is checked by the server.
    await page.getByLabel('Current password').fill('Not-The-Password-9');
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('New password again').fill(newPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('alert').filter({ hasText: 'Your current password is wrong.' }).waitFor();

    await page.getByLabel('Current password').fill(person.password);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password was changed. Sign in with the new one.').waitFor();
    await signIn(newPassword);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});

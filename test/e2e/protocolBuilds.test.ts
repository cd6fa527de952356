// Protocol builds on screen, through the browser host on the embedded demo (issue 20): the HHT study
// has its INITIAL build B1 (1.0) and protocol amendment 3 as build B2 (2.0), whose first run failed
// and was retried. An investigator opens a diary record whose history spans both builds and sees
// both named, the older one marked superseded; a monitor reads the build panel (B2's failed attempt,
// its forms and fields) and compares B1 with B2 (the added field, the tightened range); a signer
// narrows the queue by build and sees each record's build in the signing dialog, with a warning for
// a record written under the superseded build.
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { openBuildPanel } from './support/buildPanel';
import { launchChromium } from './support/chromium';
import {
  e2eServer,
  endSession,
  openWorkstation,
  screenshot,
  selectOneInReview,
  signInAs,
  waitForFirstSync,
} from './support/e2ePage';

const hhtStudy = 'AUR-HHT-201';

describe.skipIf(e2eServer() === null)('protocol builds on screen', () => {
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    browser = await launchChromium();
    ({ page, pageErrors } = await openWorkstation(browser));
  });
  afterAll(async () => {
    // Later test files start from the sign-in screen.
    await endSession(page);
    await browser?.close();
  });

  it('shows an investigator both builds of a record whose history spans them [BUILD-UI-HISTORY]', async () => {
    await signInAs(page, demoPerson('investigator101').email);
    await page.getByRole('heading', { name: 'Patient diaries' }).waitFor();
    await waitForFirstSync(page);

    // The records list says which record's history spans builds; find it patient by patient.
    const patients = page.getByRole('navigation', { name: 'Patients by site' });
    const records = page.getByRole('list', { name: 'Diary records' });
    const patientButtons = patients.getByRole('button');
    await patientButtons.first().waitFor();
    let spanning: Locator | null = null;
    for (let index = 0; index < (await patientButtons.count()) && spanning === null; index++) {
      await patientButtons.nth(index).click();
      await records.getByRole('button').first().waitFor();
      const found = records.getByRole('button').filter({ hasText: 'spans builds' });
      if ((await found.count()) > 0) spanning = found.first();
    }
    if (spanning === null)
      throw new Error('no diary record of site HHT-101 shows that its history spans builds');
    await spanning.click();

    const detail = page.locator('article.diary-detail');
    await expect
      .poll(() => detail.locator('.build-span').innerText())
      .toContain('History spans 2 builds: B1 (1.0), B2 (2.0)');
    const history = page.getByRole('region', { name: /Patient-entered history/ });
    const chips = await history.locator('.diary-entry .build-chip').allInnerTexts();
    const under = (number: string) => chips.filter((text) => text.includes(`${number} · `));
    // Each entry names its build; the ones captured before the amendment are marked superseded.
    expect(chips.length).toBe(await history.locator('.diary-entry').count());
    expect(under('B1').length).toBeGreaterThan(0);
    expect(under('B2').length).toBeGreaterThan(0);
    expect(under('B1').every((text) => text.includes('B1 · 1.0 · superseded build'))).toBe(true);
    expect(under('B2').every((text) => !text.includes('superseded'))).toBe(true);
    // The newest entry (the correction under the amendment) is under B2, the first under B1.
    expect(await history.locator('.diary-entry').first().locator('.build-chip').innerText()).toContain(
      'B2 · 2.0',
    );
    expect(await history.locator('.diary-entry').last().locator('.build-chip').innerText()).toContain(
      'B1 · 1.0 · superseded build',
    );
    await screenshot(page, 'diary-two-builds');
    expect(pageErrors).toEqual([]);
  });

  it('narrows the diary to the records with entries under one build [BUILD-UI-FILTER]', async () => {
    const records = page.getByRole('list', { name: 'Diary records' });
    const filter = page.getByLabel('Show patients and records with entries under the build');
    const rowsNow = () => records.getByRole('button').count();
    const patientsNow = () =>
      page.getByRole('navigation', { name: 'Patients by site' }).getByRole('button').count();
    const allPatients = await patientsNow();
    await filter.selectOption({ label: 'B2 (2.0) · current' });
    // Every record listed has an entry under B2, the latest one (B2 is the current build).
    await expect
      .poll(async () => {
        const rows = await records.getByRole('button').allInnerTexts();
        return rows.length > 0 && rows.every((text) => /· B2\b/.test(text));
      })
      .toBe(true);
    expect(await rowsNow()).toBeGreaterThan(0);
    const underB2 = await patientsNow();
    expect(underB2).toBeLessThanOrEqual(allPatients);
    await filter.selectOption({ label: 'all builds' });
    await expect.poll(patientsNow).toBe(allPatients);
  });

  it('shows a monitor the study’s builds, B2’s failed attempt, its fields, and B1 compared with B2 [BUILD-UI-PANEL]', async () => {
    await signInAs(page, demoPerson('monitor').email);
    await openBuildPanel(page, hhtStudy);

    const table = page.locator('table.builds-table');
    const row = (number: string) => table.locator(`tr[data-build-number="${number}"]`);
    await row('B2').waitFor();
    expect(await table.locator('tbody tr').count()).toBe(2);
    const b2 = await row('B2').innerText();
    expect(b2).toMatch(/B2 · 2\.0\s*current/);
    expect(b2).toMatch(/amendment/);
    expect(b2).toContain('Protocol amendment 3');
    expect(b2).toContain('1 failed attempt');
    expect(b2).toMatch(/Started: \d{4}-\d\d-\d\d/);
    expect(await row('B1').innerText()).toMatch(/B1 · 1\.0\s*superseded/);
    expect(await row('B1').innerText()).toMatch(/initial/);
    // The configuration's hash, short, its whole value on hover.
    const hash = row('B2').locator('.copyable-hash code');
    expect(await hash.innerText()).toMatch(/^[0-9a-f]{12}$/);
    expect(await hash.getAttribute('title')).toMatch(/^[0-9a-f]{64}$/);

    // From the keyboard: the build's number is a button; Enter shows its detail and moves there.
    const focused = () => page.evaluate('document.activeElement && document.activeElement.id');
    await row('B1').getByRole('button', { name: 'Show build B1 · 1.0' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('region', { name: /^Build B1 \(1\.0\)/ }).waitFor();
    await expect.poll(focused).toBe('build-detail-heading');
    expect(
      await page
        .getByRole('region', { name: /^Build B1 / })
        .getByRole('region', { name: /Failed attempts/ })
        .innerText(),
    ).toContain('No attempt of this build failed.');
    await row('B2').getByRole('button', { name: 'Show build B2 · 2.0' }).focus();
    await page.keyboard.press('Enter');
    const detail = page.getByRole('region', { name: /^Build B2 \(2\.0\)/ });
    await detail.waitFor();
    await expect.poll(focused).toBe('build-detail-heading');
    const errors = detail.getByRole('region', { name: /Failed attempts/ });
    const errorLog = await errors.innerText();
    expect(errorLog).toContain('Attempt 1');
    expect(errorLog).toContain('rescue_treatment');
    expect(errorLog).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    const fields = detail.getByRole('region', { name: /Forms and fields/ });
    expect(await fields.locator('tr[data-field="rescue_treatment"]').innerText()).toMatch(
      /choice\s+optional/,
    );
    expect(await fields.locator('tr[data-field="duration_minutes"]').first().innerText()).toContain(
      '1 to 240',
    );

    // Compare: B1 to B2 is offered first (what the amendment changed).
    const compare = page.getByRole('region', { name: 'Compare builds' });
    await compare.getByRole('button', { name: 'Compare' }).click();
    const diff = compare.getByRole('region', { name: 'Changes from build B1 (1.0) to B2 (2.0)' });
    await diff.waitFor();
    const added = diff.locator('li.build-diff-field[data-field="rescue_treatment"]');
    expect(await added.locator('.diff-marker').innerText()).toMatch(/\+\s*added/);
    expect(
      await added.evaluate((element) => (element as unknown as { className: string }).className),
    ).toContain('diff-added');
    const tightened = diff.locator('li.build-diff-field[data-field="duration_minutes"]');
    expect(await tightened.locator('.diff-marker').innerText()).toMatch(/changed/);
    const rules = await tightened.locator('.build-diff-rules li').allInnerTexts();
    expect(rules).toContain('max: 1440 → 240');
    expect(rules).toContain('min: 0 → 1');
    await screenshot(page, 'builds');
    // The chosen build's error log and definitions, further down.
    await page.evaluate("document.getElementById('build-detail-heading').scrollIntoView()");
    await screenshot(page, 'builds-detail');
    expect(pageErrors).toEqual([]);
  });

  it('narrows the queue to one build, and names each record’s build [BUILD-UI-FILTER]', async () => {
    await signInAs(page, demoPerson('signerA').email);
    await page.getByRole('heading', { name: 'Staging queue' }).waitFor();
    const footer = page.locator('.queue-footer');
    await expect.poll(() => footer.innerText(), { timeout: 30_000 }).toMatch(/^[\d,]+ shown of [\d,]+$/);
    const counts = async () => {
      const [shown, total] = ((await footer.innerText()).match(/[\d,]+/g) ?? []).map((n) =>
        Number(n.replace(/,/g, '')),
      );
      return { shown: shown ?? 0, total: total ?? 0 };
    };
    const all = await counts();
    await page.getByLabel('Filter by study').selectOption({ label: hhtStudy });
    const build = page.getByLabel('Filter by protocol build');
    const buildCells = page.locator('.queue-table tbody td[data-column="build"]');
    const shownUnder = async (number: string, label: string) => {
      await build.selectOption({ label });
      await expect
        .poll(async () => {
          const cells = await buildCells.allInnerTexts();
          return cells.length > 0 && cells.every((text) => text.includes(`${number} · `));
        })
        .toBe(true);
      return counts();
    };
    const underB1 = await shownUnder('B1', 'B1 (1.0) · superseded');
    const b1Cells = await buildCells.allInnerTexts();
    const underB2 = await shownUnder('B2', 'B2 (2.0) · current');
    const b2Cells = await buildCells.allInnerTexts();
    // Each build narrows the queue, and together they are the study's records.
    expect(underB1.shown).toBeGreaterThan(0);
    expect(underB2.shown).toBeGreaterThan(0);
    expect(underB1.shown).toBeLessThan(all.total);
    expect(underB2.shown).toBeLessThan(all.total);
    expect(b1Cells.length).toBeGreaterThan(0);
    expect(b1Cells.every((text) => text.includes('B1 · 1.0'))).toBe(true);
    expect(b2Cells.every((text) => text.includes('B2 · 2.0'))).toBe(true);
    await build.selectOption({ label: 'all builds' });
    await page.getByLabel('Filter by study').selectOption({ label: 'all studies' });
    await expect.poll(async () => (await counts()).shown).toBe(all.total);
    expect(pageErrors).toEqual([]);
  });

  it('shows each record’s build in the signing dialog and warns of a superseded one [BUILD-UI-SIGNING]', async () => {
    // A record under the superseded build B1, in review (opened for review first if none is).
    await page.getByLabel('Filter by study').selectOption({ label: hhtStudy });
    await page.getByLabel('Filter by protocol build').selectOption({ label: 'B1 (1.0) · superseded' });
    await selectOneInReview(page);
    const firstCheckbox = page.getByRole('checkbox', { name: /^Select record / }).first();
    // And one under the current build B2, so the manifest names both.
    await page.getByLabel('Filter by protocol build').selectOption({ label: 'B2 (2.0) · current' });
    const b2Reviewing = await firstCheckbox.waitFor({ timeout: 3_000 }).then(
      () => true,
      () => false,
    );
    if (b2Reviewing) await firstCheckbox.check();
    await page.getByRole('button', { name: /^Sign… \(\d\)/ }).click();
    const dialog = page.getByRole('dialog');
    const manifest = dialog.getByRole('table', { name: /Manifest/ });
    await manifest.waitFor();
    expect(await manifest.locator('thead').innerText()).toMatch(/Build/);
    const builds = await manifest.locator('td.manifest-build-cell').allInnerTexts();
    expect(builds.some((text) => text.includes('B1 · 1.0 · superseded build'))).toBe(true);
    if (b2Reviewing) expect(builds.some((text) => /B2 · 2\.0$/.test(text.trim()))).toBe(true);
    const warning = dialog.locator('.build-superseded-warning');
    expect(await warning.innerText()).toMatch(/^1 record was written under a superseded build/);
    // Signing stays allowed: the ceremony's fields are there and the warning does not disable Sign.
    await dialog.getByLabel('Password').waitFor();
    await screenshot(page, 'sign-dialog-builds');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(pageErrors).toEqual([]);
  });

  it('names the build of a staging record, of its provenance and of its trail [BUILD-UI-HISTORY]', async () => {
    // The signer's record detail, of a record under the superseded build B1.
    await page.getByLabel('Filter by state').selectOption('');
    await page.getByLabel('Filter by protocol build').selectOption({ label: 'B1 (1.0) · superseded' });
    await page
      .getByRole('button', { name: /^View record / })
      .first()
      .click();
    const detail = page.locator('.record-detail');
    await detail.getByRole('region', { name: 'Proposed change' }).waitFor();
    expect(await detail.innerText()).toMatch(
      /written under\s+(protocol build\s+)?B1 · 1\.0 · superseded build/,
    );
    expect(await detail.innerText()).toContain('Written under build B1 (1.0), which a later build');
    expect(await detail.locator('.provenance-list .build-chip').count()).toBeGreaterThan(0);
    await detail.getByRole('button', { name: 'Close the record' }).click();

    // The inspector's provenance table and a record's trail.
    await signInAs(page, demoPerson('inspector').email);
    await page.getByRole('heading', { name: 'Provenance and audit' }).waitFor();
    await waitForFirstSync(page);
    await page.getByRole('tab', { name: 'Provenance' }).click();
    const provenance = page.getByRole('table', { name: 'Provenance events' });
    await provenance.locator('tbody tr[data-index]').first().waitFor();
    const chips = await provenance.locator('tbody .build-chip').allInnerTexts();
    expect(chips.length).toBeGreaterThan(0);
    expect(chips.every((text) => /B\d · \d\.\d/.test(text))).toBe(true);
    await provenance
      .getByRole('button', { name: /^Trail of record/ })
      .first()
      .click();
    const trail = page.getByRole('complementary', { name: /^Record trail/ });
    await trail.getByRole('table', { name: 'Audit entries of this record' }).waitFor();
    expect(await trail.innerText()).toMatch(/written under\s+(protocol build\s+)?B\d · \d\.\d/);
    expect(await trail.locator('.trail-provenance .build-chip').count()).toBeGreaterThan(0);
    await page.keyboard.press('Escape');
    expect(pageErrors).toEqual([]);
  });
});

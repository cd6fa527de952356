// The layout at 1024×768, the smallest screen a workstation is set up with: on every main screen
// and with the panels beside the tables open, the page never scrolls sideways, the status bar stays
// one line, every column of the key tables is in view, and no text is cut short without its whole
// text on hover (a title).
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { launchChromium } from './support/chromium';
import { e2eServer, screenshot, signInAs, signOut, workstationPage } from './support/e2ePage';

const viewport = { width: 1024, height: 768 };
/** One line of the status bar: its text and buttons with their padding. */
const statusBarMaxHeight = 44;

interface LayoutReport {
  pageWidth: number;
  viewportWidth: number;
  statusBarHeight: number;
  /** Text cut short (ellipsis or clipped) that has no title on it or around it. */
  cutWithoutTitle: string[];
  /** Boxes whose content is wider than they are: something in them is pushed out of view. */
  scrollsSideways: string[];
}

// (Expressions as strings: the e2e files are compiled without the DOM library.)
const measure = `(() => {
  const describe = (element) => element.tagName.toLowerCase() +
    (element.tagName === 'TD' || element.tagName === 'TH' ? ':nth-child(' + (element.cellIndex + 1) + ')' : '') +
    (element.className && typeof element.className === 'string' ? '.' + element.className.trim().split(/\\s+/).join('.') : '') +
    ' "' + (element.textContent || '').trim().slice(0, 40) + '"';
  const cut = [];
  const sideways = [];
  for (const element of document.querySelectorAll('body *')) {
    const style = getComputedStyle(element);
    if ((style.overflowX === 'auto' || style.overflowX === 'scroll') && element.scrollWidth > element.clientWidth + 1)
      sideways.push(describe(element));
    if (style.textOverflow !== 'ellipsis' && style.overflowX !== 'hidden') continue;
    if (element.scrollWidth <= element.clientWidth + 1 || element.clientWidth === 0) continue;
    if ((element.textContent || '').trim() === '') continue;
    if (element.closest('[title]') !== null) continue;
    // A cell whose whole text is one element with a title (a hash prefix, a code) has it on hover.
    const text = (element.textContent || '').trim();
    if ([...element.querySelectorAll('[title]')].some((titled) => (titled.textContent || '').trim() === text)) continue;
    if (element.closest('.visually-hidden') !== null) continue;
    cut.push(describe(element));
  }
  const bar = document.querySelector('.status-bar');
  return {
    pageWidth: document.documentElement.scrollWidth,
    viewportWidth: window.innerWidth,
    statusBarHeight: bar ? bar.getBoundingClientRect().height : 0,
    cutWithoutTitle: cut,
    scrollsSideways: sideways,
  };
})()`;

/** The little of the DOM the column check reads (the e2e files are compiled without the DOM library). */
interface Box {
  getBoundingClientRect(): { left: number; right: number; width: number };
  closest(selector: string): Box | null;
  parentElement: Box | null;
  querySelectorAll(selector: string): Iterable<Box>;
  textContent: string | null;
  getAttribute(name: string): string | null;
}

/** The header cells of a table that lie outside its scroll box (pushed out of view). */
async function columnsOutOfView(table: Locator): Promise<string[]> {
  return table.evaluate((element) => {
    const tableBox = element as unknown as Box;
    const scroller = tableBox.closest('.table-scroll') ?? tableBox.parentElement ?? tableBox;
    const box = scroller.getBoundingClientRect();
    return [...tableBox.querySelectorAll('thead th')]
      .filter((th) => {
        const cell = th.getBoundingClientRect();
        return cell.width > 0 && (cell.left < box.left - 1 || cell.right > box.right + 1);
      })
      .map((th) => (th.textContent ?? '').trim() || '(no header text)');
  });
}

describe.skipIf(e2eServer() === null)('the layout holds at 1024×768 [UI-LAYOUT-1024]', () => {
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  let close: () => Promise<void>;
  const problems: string[] = [];

  /** Checks the page as it is now and keeps a picture of it (test-results/<name>-<size>.png). */
  const check = async (name: string, tables: Locator[] = [], size = '1024') => {
    const report = (await page.evaluate(measure)) as LayoutReport;
    if (report.pageWidth > report.viewportWidth)
      problems.push(`${name}: the page is ${report.pageWidth}px wide in a ${report.viewportWidth}px window`);
    if (report.statusBarHeight > statusBarMaxHeight)
      problems.push(`${name}: the status bar is ${report.statusBarHeight}px high (more than one line)`);
    // One line per kind of element (a column's cells are alike), with the first text cut.
    const cutByKind = new Map<string, { example: string; count: number }>();
    for (const cut of report.cutWithoutTitle) {
      const kind = cut.slice(0, cut.indexOf(' "'));
      const seen = cutByKind.get(kind);
      cutByKind.set(kind, { example: seen?.example ?? cut, count: (seen?.count ?? 0) + 1 });
    }
    for (const box of report.scrollsSideways) problems.push(`${name}: scrolls sideways: ${box}`);
    for (const { example, count } of cutByKind.values())
      problems.push(`${name}: text cut without a title (${count}×): ${example}`);
    for (const table of tables) {
      const hidden = await columnsOutOfView(table);
      if (hidden.length > 0)
        problems.push(
          `${name}: columns out of view in ${await table.evaluate((element) => (element as unknown as Box).getAttribute('aria-label') ?? (element as unknown as Box).getAttribute('class'))}: ${hidden.join(', ')}`,
        );
    }
    await screenshot(page, `${name}-${size}`);
  };

  beforeAll(async () => {
    browser = await launchChromium();
    ({ page, pageErrors, close } = await workstationPage(browser, { viewport }));
  });
  afterAll(async () => {
    await close?.();
    await browser?.close();
  });

  it('keeps every screen within the window, the status bar on one line, every column in view', async () => {
    await signOut(page);
    await check('sign-in');

    await signInAs(page, demoPerson('signerA').email);
    await page.getByRole('heading', { name: 'Staging queue' }).waitFor();
    const queue = page.locator('table.queue-table');
    await queue.locator('tbody .badge').first().waitFor();
    await check('queue', [queue]);

    await page
      .getByRole('button', { name: /^View record / })
      .first()
      .click();
    const detail = page.locator('.record-detail');
    await detail.getByRole('region', { name: 'Proposed change' }).waitFor();
    await check('record', [queue]);
    await detail.getByRole('button', { name: 'Close the record' }).click();

    await page.getByLabel('Filter by state').selectOption('reviewing');
    await page
      .getByRole('checkbox', { name: /^Select record / })
      .first()
      .check();
    await page.getByRole('button', { name: /^Sign… \(1\)/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('table', { name: /Manifest/ }).waitFor();
    await check('sign-dialog', [dialog.getByRole('table', { name: /Manifest/ })]);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });

    await signInAs(page, demoPerson('inspector').email);
    await page.getByRole('heading', { name: 'Provenance and audit' }).waitFor();
    await expect
      .poll(() => page.locator('.status-bar').innerText(), { timeout: 60_000 })
      .not.toContain('Synced never');
    const auditLog = page.getByRole('table', { name: 'Audit log entries' });
    await auditLog.locator('tbody tr[data-index]').first().waitFor();
    await check('audit', [auditLog]);
    await auditLog.locator('tbody tr[data-index]').first().focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^Audit entry / }).waitFor();
    await check('audit-entry', [auditLog]);
    await page.getByRole('button', { name: 'Close the audit entry' }).click();
    await page.getByRole('tab', { name: 'Provenance' }).click();
    const provenance = page.getByRole('table', { name: 'Provenance events' });
    await provenance.locator('tbody tr[data-index]').first().waitFor();
    await check('provenance', [provenance]);
    await page.getByRole('tab', { name: 'Signatures' }).click();
    const signatures = page.getByRole('table', { name: 'Signatures' });
    await signatures.locator('tbody tr[data-index]').first().waitFor();
    await check('signatures', [signatures]);
    await signatures
      .getByRole('button', { name: /^Trail of record/ })
      .first()
      .click();
    const trail = page.getByRole('complementary', { name: /^Record trail/ });
    await trail.getByRole('table', { name: 'Audit entries of this record' }).waitFor();
    await check('record-trail', [
      signatures,
      trail.getByRole('table', { name: 'Audit entries of this record' }),
    ]);
    await page.keyboard.press('Escape');

    await signInAs(page, demoPerson('investigator101').email);
    await page.getByRole('heading', { name: 'Patient diaries' }).waitFor();
    await page
      .getByRole('region', { name: /Patient-entered history/ })
      .getByText('Entry 1', { exact: true })
      .waitFor();
    await check('diary');

    // Under 1200 pixels the status bar keeps the rest behind Details.
    await page.getByRole('button', { name: 'Details' }).click();
    const details = page.getByRole('region', { name: 'Status details' });
    await details.waitFor();
    await check('status-details');
    await details.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('region', { name: 'Change your password' }).waitFor();
    await check('change-password');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await signOut(page);

    expect(problems).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('keeps every column in view at 1440×900 too, with a record or an entry open beside the table', async () => {
    problems.length = 0;
    await page.setViewportSize({ width: 1440, height: 900 });
    try {
      await signInAs(page, demoPerson('signerA').email);
      const queue = page.locator('table.queue-table');
      await queue.locator('tbody .badge').first().waitFor();
      await check('queue', [queue], '1440');
      await page
        .getByRole('button', { name: /^View record / })
        .first()
        .click();
      await page.locator('.record-detail').getByRole('region', { name: 'Proposed change' }).waitFor();
      await check('record', [queue], '1440');

      await signInAs(page, demoPerson('inspector').email);
      const auditLog = page.getByRole('table', { name: 'Audit log entries' });
      await auditLog.locator('tbody tr[data-index]').first().waitFor();
      await auditLog.locator('tbody tr[data-index]').first().focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: /^Audit entry / }).waitFor();
      await check('audit-entry', [auditLog], '1440');
      await signOut(page);
    } finally {
      await page.setViewportSize(viewport);
    }
    expect(problems).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

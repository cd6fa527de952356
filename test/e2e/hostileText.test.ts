// Proposals are written by AI agents and are untrusted: markup, script, endless lines and
// bidirectional or zero-width characters must reach the screen as inert text, and the layout must
// hold. The hostile proposal is filed the way an agent files one, on the agent's own login.
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedDatabase } from '../../src/main/backend/backendConfig';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { launchChromium } from './support/chromium';
import { e2eServer, openWorkstation, screenshot, signInAs } from './support/e2ePage';

const hostile = {
  title: '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>',
  longLine: 'A'.repeat(6000),
  bidi: '\u202eevil\u202c \u05e9\u05dc\u05d5\u05dd zero\u200bwidth\u200d joiner \ufeff',
};

describe.skipIf(e2eServer() === null)('untrusted text in the browser host [UI-UNTRUSTED-TEXT]', () => {
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  let stagingId: string;
  const dialogs: string[] = [];

  beforeAll(async () => {
    const server = e2eServer();
    if (!server) return;
    const agent = demoPerson('agent');
    const client = new pg.Client({
      host: '127.0.0.1',
      port: server.pgPort,
      database: embeddedDatabase,
      user: agent.email,
      password: agent.password,
    });
    await client.connect();
    const { rows } = await client.query<{ id: string; study_id: string }>(
      `select s.id as study_id from cro.study s order by s.code limit 1`,
    );
    const inserted = await client.query<{ id: string }>(
      `insert into cro.staging_record (entity_kind, entity_id, study_id, agent_id, proposed_state, created_by)
       values ('live_essential_document', null, $1, 'agent:protocol-digest', $2, auth.uid()) returning id`,
      [
        rows[0]?.study_id,
        JSON.stringify({
          document_type: hostile.bidi,
          document_title: hostile.title,
          storage_uri: `s3://tmf/${hostile.longLine}`,
          metadata: { note: hostile.title, nested: { line: hostile.longLine, bidi: hostile.bidi } },
        }),
      ],
    );
    stagingId = inserted.rows[0]?.id as string;
    await client.end();

    browser = await launchChromium();
    ({ page, pageErrors } = await openWorkstation(browser));
    page.on('dialog', async (dialog) => {
      dialogs.push(dialog.message());
      await dialog.dismiss();
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows markup and script as text, runs nothing, and keeps the layout', async () => {
    await signInAs(page, demoPerson('signerA').email);
    await page.getByLabel('Filter by state').selectOption('proposed');
    // The queue is virtualised: search brings the record into view.
    await page.getByLabel('Search the queue').fill(stagingId.slice(0, 8));
    const view = page.getByRole('button', { name: `View record ${stagingId.slice(0, 8)}` });
    await view.waitFor();
    await view.click();
    const detail = page.locator('.record-detail');
    await detail.getByRole('region', { name: 'Proposed change' }).waitFor();
    await screenshot(page, 'hostile-text');

    const shown = await detail.innerText();
    expect(shown).toContain('<script>window.__pwned=2</script>');
    // Bidirectional and zero-width characters are made visible: "evil" cannot pass for "live".
    expect(shown).toContain('⟦U+202E⟧evil⟦U+202C⟧');
    expect(shown).toContain('zero⟦U+200B⟧width');
    expect(await detail.locator('img, script').count()).toBe(0);
    // (Expressions as strings: this file is compiled without the DOM library.)
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(dialogs).toEqual([]);
    // The 6,000-character line wraps inside the panel instead of widening the page.
    const widths = (await page.evaluate(
      '({ page: document.documentElement.scrollWidth, viewport: window.innerWidth })',
    )) as { page: number; viewport: number };
    expect(widths.page).toBeLessThanOrEqual(widths.viewport);
    const panel = await detail.boundingBox();
    expect(panel && panel.x + panel.width).toBeLessThanOrEqual(widths.viewport);
    expect(pageErrors).toEqual([]);
  });
});

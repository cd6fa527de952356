// What the signer needs to decide, in Chromium through the browser host on the embedded demo: the
// queue says what each proposal changes and names its target (searchable); a record shows the
// agent's rationale, model and citations, marked when a citation does not resolve; opening it
// changes nothing, starting the review is its own step (button or r); the record stays on screen
// while it is read again; a banner clears when the next action starts; a promoted record shows its
// field history and what each signature covered. The proposal is filed the way the agent files
// one, on the agent's own login, with one citation quoting its source and one that does not.
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedDatabase } from '../../src/main/backend/backendConfig';
import { demoAgentId, demoPerson } from '../../src/main/backend/demo/demoPeople';
import { launchChromium } from './support/chromium';
import { e2eServer, openWorkstation, screenshot, signInAs } from './support/e2ePage';

interface Filed {
  stagingId: string;
  riskTitle: string;
  riskStatus: string;
  proposedStatus: string;
  sourceUri: string;
  groundedQuote: string;
  inventedQuote: string;
  promptHash: string;
}

/** As the demo agent: provenance with two citations (one quoting its source, one not), then the proposal. */
async function fileProposal(pgPort: number): Promise<Filed> {
  const agent = demoPerson('agent');
  const client = new pg.Client({
    host: '127.0.0.1',
    port: pgPort,
    database: embeddedDatabase,
    user: agent.email,
    password: agent.password,
  });
  await client.connect();
  try {
    const { rows: risks } = await client.query<{
      id: string;
      study_id: string;
      title: string;
      status: string;
    }>(
      `select r.id, r.study_id, r.title, r.status from cro.study_risk r join cro.study s on s.id = r.study_id
        where s.code = 'AUR-HHT-201' order by r.created_at, r.id limit 1`,
    );
    const risk = risks[0];
    if (!risk) throw new Error('the demo has no risk in AUR-HHT-201');
    const { rows: chunks } = await client.query<{ source_uri: string; chunk_index: number; content: string }>(
      `select source_uri, chunk_index, content from cro.vector_document
        where metadata ->> 'study_code' = 'AUR-HHT-201' order by source_uri, chunk_index limit 1`,
    );
    const chunk = chunks[0];
    if (!chunk) throw new Error('the demo has no knowledge chunk for AUR-HHT-201');
    const { rows: models } = await client.query<{ id: string; prompt_hash: string }>(
      `select id, prompt_hash from cro.model_registry_version where retired_at is null
        and prompt_version like 'protocol-digest/%' order by registered_at desc limit 1`,
    );
    const model = models[0];
    if (!model) throw new Error('the demo has no current protocol-digest model');
    const groundedQuote = chunk.content.slice(0, 40);
    const inventedQuote = 'The sponsor waived every monitoring visit for this site.';
    const proposedStatus = risk.status === 'closed' ? 'open' : 'closed';
    const { rows: ids } = await client.query<{ id: string }>('select gen_random_uuid() as id');
    const stagingId = ids[0]?.id as string;
    await client.query('begin');
    const { rows: provenance } = await client.query<{ id: string }>(
      `select public.record_agent_provenance($1, 'propose', 'staging_record', $2, $3, $4::jsonb, $5::jsonb) as id`,
      [
        risk.study_id,
        stagingId,
        model.id,
        JSON.stringify([
          {
            source_uri: chunk.source_uri,
            chunk_index: chunk.chunk_index,
            quote: groundedQuote,
            retrieved_at: new Date().toISOString(),
          },
          {
            source_uri: chunk.source_uri,
            chunk_index: chunk.chunk_index,
            quote: inventedQuote,
            retrieved_at: new Date().toISOString(),
          },
        ]),
        JSON.stringify({ rationale: 'The weekly minutes say the courier strike is over.', confidence: 0.71 }),
      ],
    );
    await client.query(
      `insert into cro.staging_record (id, entity_kind, entity_id, study_id, agent_id, model_version_id, provenance_id,
         state, proposed_state, created_by)
       values ($1, 'study_risk', $2, $3, $4, $5, $6, 'proposed', $7, auth.uid())`,
      [
        stagingId,
        risk.id,
        risk.study_id,
        demoAgentId,
        model.id,
        provenance[0]?.id,
        JSON.stringify({ status: proposedStatus, mitigation: 'Courier contract renewed; no action needed.' }),
      ],
    );
    await client.query('commit');
    return {
      stagingId,
      riskTitle: risk.title,
      riskStatus: risk.status,
      proposedStatus,
      sourceUri: chunk.source_uri,
      groundedQuote,
      inventedQuote,
      promptHash: model.prompt_hash,
    };
  } finally {
    await client.end();
  }
}

describe.skipIf(e2eServer() === null)('the record detail and the queue, for the signer', () => {
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  let filed: Filed;

  beforeAll(async () => {
    const server = e2eServer();
    if (!server) return;
    filed = await fileProposal(server.pgPort);
    browser = await launchChromium();
    ({ page, pageErrors } = await openWorkstation(browser));
  });
  afterAll(async () => {
    await browser?.close();
  });

  const short = () => filed.stagingId.slice(0, 8);
  const detail = () => page.locator('.record-detail');
  const row = () =>
    page.locator('.queue-table tbody tr', {
      has: page.getByRole('checkbox', { name: `Select record ${short()}` }),
    });
  const search = async (text: string) => {
    await page.getByLabel('Search the queue').fill(text);
    await page.getByLabel('Search the queue').blur();
  };

  it('says in the queue what a proposal changes and names its target, and finds it by either [UI-QUEUE-CHANGE-SUMMARY]', async () => {
    await signInAs(page, demoPerson('signerA').email);
    await page.getByRole('heading', { name: 'Staging queue' }).waitFor();
    // The proposal arrives with the sign-in's sync; its summary is computed as it is cached.
    await search(`${filed.riskStatus} ${filed.proposedStatus} ${filed.riskTitle}`);
    await row().waitFor();
    const cells = await row().locator('td').allInnerTexts();
    expect(cells).toContain(filed.riskTitle);
    expect(cells).toContain(`status: ${filed.riskStatus} → ${filed.proposedStatus}; +1 field`);
    await search(`+1 field ${filed.stagingId.slice(-8)}`);
    await row().waitFor();
    await search('no such change anywhere');
    await page.getByText('Nothing matches the filter.').waitFor();
    await search(short());
    await row().waitFor();
    await screenshot(page, 'queue-change-summary');
  });

  it("shows the agent's rationale, model and citations beside the diff, marking a citation that does not resolve [UI-AGENT-REASONS]", async () => {
    await page.getByRole('button', { name: `View record ${short()}` }).click();
    await detail().getByRole('region', { name: 'Proposed change' }).waitFor();
    const reasons = detail().locator('.agent-reasons');
    await reasons.waitFor();
    expect(await reasons.innerText()).toContain('The weekly minutes say the courier strike is over.');
    expect(await reasons.innerText()).toContain('confidence 71%');
    expect(await reasons.locator('.model-registry').innerText()).toContain(filed.promptHash);
    const citations = reasons.getByRole('list', { name: 'Citations' }).locator('li');
    expect(await citations.count()).toBe(2);
    const [grounded, invented] = [await citations.nth(0).innerText(), await citations.nth(1).innerText()];
    expect(grounded).toContain(filed.sourceUri);
    expect(grounded).toContain(filed.groundedQuote.trim());
    expect(grounded).toMatch(/✓\s+resolves/);
    expect(invented).toContain(filed.inventedQuote);
    expect(invented).toContain('does not resolve: the quote does not appear in the source');
    expect(await detail().locator('.grounding-marked').innerText()).toContain(
      'Not grounded: 1 of 2 citations does not resolve in the knowledge index.',
    );
    await screenshot(page, 'record-agent-reasons');
  });

  it('changes nothing on the server by opening a record; r starts the review and says so, the record staying on screen [UI-REVIEW-STEP, UI-DETAIL-REFRESH]', async () => {
    expect(await detail().locator('.badge').first().innerText()).toBe('proposed');
    await detail().getByText('Not in review yet.').waitFor();
    expect(await page.getByText(/is now in review/).count()).toBe(0);
    expect(await row().locator('.badge').innerText()).toBe('proposed');

    // The record stays on screen while it is read again (Refresh reloads the queue and the record).
    await page.evaluate(`(() => {
      window.__detailWatch = { loading: false, emptied: false };
      const watch = new MutationObserver(() => {
        const panel = document.querySelector('.record-detail');
        if (!panel) return;
        if (/Loading…/.test(panel.textContent || '')) window.__detailWatch.loading = true;
        if (!panel.querySelector('.diff')) window.__detailWatch.emptied = true;
      });
      watch.observe(document.body, { childList: true, subtree: true, characterData: true });
      window.__detailWatchStop = () => watch.disconnect();
    })()`);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Refresh' }).isEnabled()).toBe(true);
    await expect.poll(() => detail().getAttribute('aria-busy')).toBe('false');
    expect(await page.evaluate('(window.__detailWatchStop(), window.__detailWatch)')).toEqual({
      loading: false,
      emptied: false,
    });

    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('r');
    await page.getByText(`Record ${short()} is now in review.`).waitFor();
    await detail()
      .getByText(/^In review since /)
      .waitFor();
    await expect.poll(() => row().locator('.badge').innerText()).toBe('reviewing');
    await screenshot(page, 'record-in-review');
  });

  it('clears the banner of the last action when the next action starts [UI-ACTION-BANNERS]', async () => {
    await row().getByRole('checkbox').check();
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('s');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await page.getByText(`Record ${short()} is now in review.`).count()).toBe(0);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.getByText(`Record ${short()} is now in review.`).count()).toBe(0);
    await row().getByRole('checkbox').uncheck();
  });

  it('shows a promoted record field by field, and what each signature covered [UI-FIELD-HISTORY, UI-SIGNED-CONTENT]', async () => {
    await search('');
    await page.getByLabel('Filter by state').selectOption('promoted');
    await expect
      .poll(async () => {
        const badges = await page.locator('.queue-table tbody .badge').allInnerTexts();
        return badges.length > 0 && badges.every((badge) => badge === 'promoted');
      })
      .toBe(true);
    await page
      .locator('.queue-table tbody tr')
      .first()
      .getByRole('button', { name: /^View record / })
      .click();
    const history = detail().getByRole('table', { name: /live value before promotion/ });
    await history.waitFor();
    expect(await history.locator('thead th').allInnerTexts()).toEqual([
      'Field',
      'Live before',
      'Proposed (promoted)',
      'Live now',
    ]);
    expect(await history.locator('tbody tr').count()).toBeGreaterThan(0);
    // The diff is against the row the promotion replaced: a promoted record never reads "0 changes".
    expect(await detail().locator('.diff-summary').innerText()).not.toMatch(/^0 changes/);
    const signed = detail().locator('.signed-content').first();
    const text = await signed.innerText();
    expect(text).toMatch(/Signed content [0-9a-f]{64}/);
    expect(text).toContain('Proposed fields');
    expect(text).toMatch(
      /Recomputed from the record: the same hash \((the live row as it was just before promotion|a new record: no live row was replaced)\)/,
    );
    await screenshot(page, 'record-promoted-history');
    expect(pageErrors).toEqual([]);
  });
});

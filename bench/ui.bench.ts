// ui.interactive, ui.filter, ui.diff, ui.heap: the signer's queue in the system Chromium, served by
// the browser host exactly as `npm start` serves it without Electron (the renderer is built first
// with `electron-vite build`; COUNTERSIGN_BENCH_UI_BUILD=0 reuses an existing out/renderer).
//
// Setup (not timed): a workstation on its own embedded demo PostgreSQL in a temp folder; the
// database owner grants signer.a the second demo study too and adds staging records to both (and
// 60 live risks that a fifth of them change) so that the signer sees exactly 100,000, bulk-inserted in a bootstrap session with row triggers
// off (as bench/sync.bench.ts); one of them is a ~50 KB proposal against a live essential document
// it changes. The signer signs in through the `session.signIn` handler and the workstation's initial
// sync fills their encrypted cache; only then does Chromium open the page. The periodic background
// sync is set to an hour so that no sync lands (and reloads the queue) during the measurements.
// Every time is taken inside the page with performance.now() and the event's own timeStamp, so
// Playwright's round trips are not in any figure. "Painted" means: the first animation frame after
// the DOM shows the result, plus a zero-delay task after that frame's callbacks (a task only runs
// once the frame has been produced; a keystroke arriving then is handled at once).
//
// - ui.interactive: ms from navigation start (the page's time origin) to the queue painted with all
//   100,000 rows loaded: rows in the table and the footer reading "100,000 shown of 100,000". The
//   queue loads in pages of 5,000 (queueLoader.ts) and shows the first rows earlier ("Loading… 5,000
//   of 100,000"), but until the last page is in, search, sort and counts act on part of the queue,
//   so that is not yet interactive with 100,000 rows; the first rows' time is in `detail`, and so
//   are the `staging.queue` calls of each load and the sum of their durations (the time the page
//   waits on the host, which reads each page from the encrypted cache). Median of 5 page loads
//   (the first one included), each run in `detail`.
// - ui.filter: ms from a keystroke in the queue's search box (its keydown's timeStamp) to the frame
//   painted with the footer's count of the filtered rows. The searches are what a signer types: a
//   change ("status: mitigating", "severity: low", "new study kpi": the change summaries), a record's
//   title, an agent, a study and a piece of an id, each typed key by key and cleared again (so half
//   of the keystrokes end with up to all 100,000 rows shown). A fifth of the proposals change live
//   risks of either demo study (the signer signs for both here); the rest create records. Only the
//   keystrokes that change the count are timed (the count, computed beforehand with the renderer's
//   own rowMatches, is what the figure waits for, so it cannot stop at a frame painted before the
//   filter); the others are typed all the same. Median over at least 24 timed keystrokes.
// - ui.diff: ms from Enter on the 50 KB proposal's row (keydown timeStamp) to the frame painted
//   with its diff (the first entry of the diff tree). This includes the `staging.detail` call
//   (HTTP to the browser host, read from the cache; its resource timing is in `detail`), the
//   structural and word diff, and React's render. Esc closes it between opens. Median of 7 opens.
// - ui.heap: the renderer's JS heap in MB after all of the above, from the Chrome DevTools Protocol
//   (Runtime.getHeapUsage usedSize), as found, without forcing a collection; the size after a forced
//   collection (HeapProfiler.collectGarbage) is in `detail`.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { embeddedDatabase } from '../src/main/backend/backendConfig';
import { demoAgentId, demoPerson, demoStudyCodes } from '../src/main/backend/demo/demoPeople';
import { createRng } from '../src/main/backend/demo/prng';
import { type BrowserHost, startBrowserHost } from '../src/main/host/browserHost';
import { createWorkstation, type Workstation } from '../src/main/workstation';
import { rowMatches } from '../src/renderer/src/queue/queueRows';
import type { QueueRow } from '../src/shared/contract';
import { queueRowsOf } from '../src/shared/stagingQueueColumns';
import { freePort } from '../test/db/support/freePort';
import { chromiumPath, launchChromium, missingChromiumMessage } from '../test/e2e/support/chromium';
import type { Benchmark } from './support/benchmark';
import { benchSize } from './support/benchScale';
import type { Figure } from './support/figure';

const queueSize = benchSize(100_000, 400); // at the smallest, more than the demo (both studies)
const pageLoads = 5;
const diffOpens = 7;
const filterKeystrokes = 24;
const proposalBytes = 50_000;

const root = fileURLToPath(new URL('..', import.meta.url));
const rendererDir = join(root, 'out', 'renderer');
const signer = demoPerson('signerA');
const agents = [demoAgentId, 'agent:safety-narrative', 'agent:tmf-intake', 'agent:budget-forecast'];
const kinds = ['study_risk', 'study_kpi', 'study_milestone', 'study_resource', 'live_essential_document'];
const riskTitles = [
  'Courier strike delays IMP resupply',
  'Competing trial at site 101',
  'Haemoglobin assay change at central lab',
  'Imaging vendor capacity in APAC',
  'Contrast media shortage',
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/** `electron-vite build`, its output to stderr (stdout carries only the figures). */
async function buildRenderer(log: (line: string) => void): Promise<void> {
  if (process.env.COUNTERSIGN_BENCH_UI_BUILD === '0') {
    if (!existsSync(join(rendererDir, 'index.html'))) {
      throw new Error(
        `${rendererDir}/index.html is missing: run \`npx electron-vite build\` (or unset COUNTERSIGN_BENCH_UI_BUILD)`,
      );
    }
    log('ui: using the existing out/renderer (COUNTERSIGN_BENCH_UI_BUILD=0)');
    return;
  }
  log('ui: building the renderer (electron-vite build)');
  const binary = join(root, 'node_modules', '.bin', 'electron-vite');
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(binary, ['build'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(process.stderr, { end: false });
    child.stderr.pipe(process.stderr, { end: false });
    child.once('error', reject);
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
  if (code !== 0 || !existsSync(join(rendererDir, 'index.html'))) {
    throw new Error(`electron-vite build failed (exit ${code}); out/renderer is needed for the ui benchmark`);
  }
}

// ── the 50 KB proposal ──────────────────────────────────────────────────────────────────────────

const vocabulary = (
  'the site monitor reviewed source documents against the case report forms and found that informed ' +
  'consent was obtained before screening procedures for every subject enrolled during the period ' +
  'deviation protocol amendment investigator delegation log training records were current except ' +
  'for one sub-investigator whose certificate expired in March laboratory reference ranges updated ' +
  'storage temperature excursion pharmacy dispensing reconciled visit window missed safety report ' +
  'serious adverse event narrative follow-up query resolved pending sponsor review corrective action'
).split(' ');

/** A live essential document's metadata (nested objects, arrays, long text) and a proposal that edits it. */
function reviewDocuments(): { live: Record<string, unknown>; proposed: Record<string, unknown> } {
  const rng = createRng(20_260_501);
  const sentence = () => {
    const words = Array.from({ length: rng.int(9, 22) }, () => rng.pick(vocabulary));
    const text = words.join(' ');
    return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
  };
  const paragraph = (sentences: number) => Array.from({ length: sentences }, sentence).join(' ');
  /** Replaces about one word in `every` and inserts a sentence: what a reviewer reads as a word diff. */
  const edit = (text: string, every: number) => {
    const words = text.split(' ');
    for (let i = rng.int(0, every - 1); i < words.length; i += every) words[i] = rng.pick(vocabulary);
    words.splice(Math.floor(words.length / 2), 0, sentence());
    return words.join(' ');
  };
  const sites = Object.fromEntries(
    Array.from({ length: 12 }, (_, i) => [
      `HHT-${101 + i}`,
      {
        status: rng.pick(['active', 'active', 'on hold', 'closed to enrolment']),
        enrolled: rng.int(0, 40),
        contacts: Array.from({ length: 3 }, (_, j) => ({
          id: `c-${i}-${j}`,
          role: rng.pick(['principal investigator', 'study coordinator', 'pharmacist']),
          trained: rng.chance(0.8),
        })),
        notes: paragraph(2),
      },
    ]),
  );
  const live: Record<string, unknown> = {
    version: '3.1',
    effective_date: '2026-02-01',
    language: 'en',
    summary: paragraph(24),
    narrative: paragraph(60),
    checklist: Array.from({ length: 40 }, (_, i) => `${i + 1}. ${sentence()}`),
    sites,
    references: Array.from({ length: 16 }, (_, i) => ({
      source: `sop://monitoring-plan/${i + 1}`,
      chunk: rng.int(1, 90),
      excerpt: paragraph(1),
    })),
    sections: [] as unknown[],
  };
  const sections = live.sections as Record<string, unknown>[];
  const proposed = (): Record<string, unknown> => {
    const next = structuredClone(live);
    next.version = '3.2';
    next.effective_date = '2026-05-01';
    next.summary = edit(String(live.summary), 40);
    next.narrative = edit(String(live.narrative), 60);
    const checklist = next.checklist as string[];
    for (const i of [3, 11, 19, 27, 35]) checklist[i] = `${i + 1}. ${sentence()}`;
    checklist.push(`${checklist.length + 1}. ${sentence()}`, `${checklist.length + 2}. ${sentence()}`);
    const nextSites = next.sites as Record<string, { enrolled: number; contacts: { trained: boolean }[] }>;
    for (const code of ['HHT-102', 'HHT-105', 'HHT-109']) {
      const site = nextSites[code];
      if (site) {
        site.enrolled += 2;
        if (site.contacts[1]) site.contacts[1].trained = !site.contacts[1].trained;
      }
    }
    nextSites['HHT-113'] = { enrolled: 0, contacts: [] };
    (next.references as unknown[]).push({ source: 'sop://safety-plan/4', chunk: 12, excerpt: paragraph(1) });
    const nextSections = next.sections as Record<string, unknown>[];
    for (let i = 0; i < nextSections.length; i += 7) {
      const section = nextSections[i] as Record<string, unknown>;
      section.body = edit(String(section.body), 25);
      section.reviewed = !section.reviewed;
    }
    nextSections.splice(5, 1);
    nextSections.push({ id: 'sec-new-1', title: sentence(), body: paragraph(4), reviewed: false, tags: [] });
    return next;
  };
  // Sections until the proposal's document reaches the size asked for.
  for (let i = 1; Buffer.byteLength(JSON.stringify(proposed())) < proposalBytes; i++) {
    sections.push({
      id: `sec-${i}`,
      title: sentence(),
      body: paragraph(5),
      reviewed: rng.chance(0.5),
      tags: Array.from({ length: rng.int(1, 4) }, () => rng.pick(['gcp', 'safety', 'pharmacy', 'consent'])),
    });
  }
  return {
    live: {
      document_type: 'monitoring_plan',
      document_title: 'Monitoring plan, AUR-HHT-201',
      storage_uri: 'tmf://AUR-HHT-201/monitoring-plan',
      metadata: live,
    },
    proposed: {
      document_type: 'monitoring_plan',
      document_title: 'Monitoring plan, AUR-HHT-201 (amendment 2)',
      storage_uri: 'tmf://AUR-HHT-201/monitoring-plan',
      metadata: proposed(),
    },
  };
}

// ── seeding as the database owner ───────────────────────────────────────────────────────────────

interface Seeded {
  demoRows: number;
  bulkRows: number;
  diffRecordId: string;
  proposalBytes: number;
  liveBytes: number;
}

async function seed(owner: pg.Client): Promise<Seeded> {
  const id = async (sql: string, params: unknown[]) => {
    const { rows } = await owner.query<{ id: string }>(sql, params);
    if (!rows[0]) throw new Error(`ui bench: nothing found for ${sql}`);
    return rows[0].id;
  };
  const studyId = await id('select id from cro.study where code = $1', [demoStudyCodes.hht]);
  const otherStudyId = await id('select id from cro.study where code = $1', [demoStudyCodes.onc]);
  const agentUser = await id('select id from auth.users where email = $1', [demoPerson('agent').email]);
  const signerUser = await id('select id from auth.users where email = $1', [signer.email]);
  const model = await id('select id from cro.model_registry_version order by registered_at desc limit 1', []);
  // The signer signs for both demo studies here, so that searching a study narrows the queue.
  await owner.query(
    `insert into cro.role_assignment (user_id, role, study_id) values ($1, 'signer', $2) on conflict do nothing`,
    [signerUser, otherStudyId],
  );
  const { rows: counted } = await owner.query<{ n: number }>(
    'select count(*)::int as n from cro.staging_record where study_id = any ($1::uuid[])',
    [[studyId, otherStudyId]],
  );
  const demoRows = counted[0]?.n ?? 0;
  const bulkRows = queueSize - demoRows - 1;
  const documents = reviewDocuments();

  // Bulk SQL in a bootstrap session with row triggers off (session_replication_role): the benchmark
  // measures the UI, not 100,000 audited proposals; sync_xid still gets its column default, and the
  // protocol build the triggers would stamp is set here (the study's current one, migration 0054). The
  // live row is written the same way (live tables otherwise change only by promotion).
  await owner.query('begin');
  await owner.query(`set local countersign.bootstrap = 'on'`);
  await owner.query('set local session_replication_role = replica');
  // Live risks that a fifth of the proposals change (status, severity, mitigation), so their change
  // summaries read "status: open → mitigating; +2 fields"; the other proposals create records.
  const { rows: risks } = await owner.query<{ id: string }>(
    `insert into cro.study_risk (study_id, title, owner, severity, mitigation, status, created_by)
     select case when r % 3 = 0 then $2::uuid else $1::uuid end, ($3::text[])[1 + r % cardinality($3::text[])] || ' #' || r,
            'Clinical operations', (array['low', 'medium', 'high'])[1 + r % 3], 'Weekly review.',
            (array['open', 'mitigating', 'closed'])[1 + r % 3], $4
       from generate_series(1, 60) as r
     returning id`,
    [studyId, otherStudyId, riskTitles, agentUser],
  );
  await owner.query(
    `insert into cro.staging_record (entity_kind, entity_id, study_id, agent_id, model_version_id, state,
       proposed_state, created_at, updated_at, created_by, build_id)
     select k.kind, case when k.kind = 'study_risk' then r.id end, coalesce(r.study_id, b.study), b.agent, $3,
            (case when n % 6 = 0 then 'reviewing' else 'proposed' end)::cro.staging_state,
            case k.kind
              when 'study_risk' then jsonb_build_object(
                'status', (array['open', 'mitigating', 'closed'])[1 + (n / 5) % 3],
                'severity', (array['low', 'medium', 'high', 'critical'])[1 + (n / 3) % 4],
                'mitigation', repeat('Add a second monitoring visit and retrain the site staff. ', 2))
              when 'study_kpi' then jsonb_build_object('label', 'Bench KPI ' || n, 'value', (n % 97)::text,
                'position', n % 9)
              when 'study_milestone' then jsonb_build_object('name', 'Bench milestone ' || n, 'status', 'planned',
                'planned_date', (current_date + (n % 400))::text, 'position', n % 9)
              when 'study_resource' then jsonb_build_object('role', (array['CRA', 'Data manager', 'Medical monitor'])[1 + n % 3],
                'headcount', 1 + n % 4, 'fte', 0.5)
              else jsonb_build_object('document_title', 'Bench document ' || n, 'document_type', 'monitoring_report',
                'storage_uri', 'tmf://bench/' || n, 'metadata', '{}'::jsonb)
            end,
            now() - make_interval(secs => n * 61), now() - make_interval(secs => n * 61), $2,
            cs_private.current_build(coalesce(r.study_id, b.study))
       from generate_series(1, $6::int) as n
      cross join lateral (select ($5::text[])[1 + n % 5] as kind) k
      cross join lateral (select ($4::text[])[1 + (n / 7) % 4] as agent,
                                 case when n % 10 < 3 then $7::uuid else $1::uuid end as study) b
       left join lateral (select x.id, x.study_id from cro.study_risk x
                           where k.kind = 'study_risk' and x.id = ($8::uuid[])[1 + (n / 5) % cardinality($8::uuid[])]) r
         on true`,
    [studyId, agentUser, model, agents, kinds, bulkRows, otherStudyId, risks.map((risk) => risk.id)],
  );
  const liveId = await id(
    `insert into cro.live_essential_document (study_id, document_type, document_title, storage_uri, metadata,
       created_at, updated_at, created_by)
     values ($1, $2, $3, $4, $5, now() - interval '30 days', now() - interval '30 days', $6) returning id`,
    [
      studyId,
      documents.live.document_type,
      documents.live.document_title,
      documents.live.storage_uri,
      JSON.stringify(documents.live.metadata),
      agentUser,
    ],
  );
  const provenanceId = await id(
    `insert into cro.provenance_event (study_id, actor_kind, actor_id, model_provider, model_id, model_version_id,
       action, subject_kind, subject_id, retrieved_context, occurred_at, payload, build_id)
     select $1, 'agent', $2, m.provider, m.model_id, m.id, 'propose', 'live_essential_document', $4::text,
            '[]'::jsonb, now() - interval '1 hour', '{"proposal": "update"}'::jsonb, cs_private.current_build($1)
       from cro.model_registry_version m where m.id = $3 returning id`,
    [studyId, demoAgentId, model, liveId],
  );
  const diffRecordId = await id(
    `insert into cro.staging_record (entity_kind, entity_id, study_id, agent_id, model_version_id, provenance_id,
       state, proposed_state, created_at, updated_at, created_by, build_id)
     values ('live_essential_document', $1, $2, $3, $4, $5, 'proposed', $6, now() - interval '1 hour',
             now() - interval '1 hour', $7, cs_private.current_build($2)) returning id`,
    [liveId, studyId, demoAgentId, model, provenanceId, JSON.stringify(documents.proposed), agentUser],
  );
  // Already in review (the insert trigger files every proposal as proposed; row triggers are off for
  // this one update): opening a proposal marks it reviewing on the server, and the sync and queue
  // reload that follow are not what ui.diff measures.
  await owner.query('set local session_replication_role = replica');
  await owner.query(`update cro.staging_record set state = 'reviewing' where id = $1`, [diffRecordId]);
  await owner.query('commit');
  await owner.query('vacuum analyze cro.staging_record');
  return {
    demoRows,
    bulkRows,
    diffRecordId,
    proposalBytes: Buffer.byteLength(JSON.stringify(documents.proposed)),
    liveBytes: Buffer.byteLength(JSON.stringify(documents.live)),
  };
}

// ── measuring inside the page ───────────────────────────────────────────────────────────────────

/**
 * Installed in every document before the renderer runs. `window.__uiBench` records when the queue
 * first shows rows and when it is painted with every row loaded, and `arm(kind, expected)` times the
 * next keydown to the frame painted with its result (`pending` resolves to the milliseconds).
 */
const probeScript = `(() => {
  const total = ${queueSize};
  const digits = (text) => Number(String(text).replace(/[^0-9]/g, ''));
  const footer = () => {
    const element = document.querySelector('.queue-footer [aria-live]');
    const match = element && /^(.+) shown of (.+)$/.exec((element.textContent || '').trim());
    return match ? { shown: digits(match[1]), total: digits(match[2]) } : null;
  };
  const hasRows = () => document.querySelector('.queue-table tbody .badge') !== null;
  const afterPaint = (callback) => requestAnimationFrame(() => setTimeout(callback, 0));
  const bench = { firstRowsAt: null, loadedAt: null, interactiveAt: null, pending: null, errors: [] };
  window.__uiBench = bench;
  const watch = new MutationObserver(() => {
    if (bench.firstRowsAt === null && hasRows()) bench.firstRowsAt = performance.now();
    const counts = footer();
    if (counts && counts.total === total && counts.shown === total && hasRows()) {
      bench.loadedAt = performance.now();
      watch.disconnect();
      afterPaint(() => { bench.interactiveAt = performance.now(); });
    }
  });
  watch.observe(document, { childList: true, subtree: true, characterData: true });
  bench.footer = footer;
  bench.arm = (kind, expected) => {
    bench.pending = new Promise((resolve, reject) => {
      let start = 0;
      let handledAt = 0;
      const done = () =>
        kind === 'filter'
          ? (footer() || {}).shown === expected
          : document.querySelector('.record-detail .diff .diff-tree > li') !== null;
      const poll = () => afterPaint(() => {
        if (done()) resolve({ ms: performance.now() - start, inputDelayMs: handledAt - start });
        else if (performance.now() - start > 60000) reject(new Error(kind + ': no result within 60 s'));
        else poll();
      });
      const onKey = (event) => {
        window.removeEventListener('keydown', onKey, true);
        handledAt = performance.now();
        start = event.timeStamp > 0 && event.timeStamp <= handledAt ? event.timeStamp : handledAt;
        poll();
      };
      window.addEventListener('keydown', onKey, true);
    });
    return true;
  };
})();`;

interface Timed {
  ms: number;
  inputDelayMs: number;
}

async function timedKey(page: Page, kind: 'filter' | 'diff', expected: number, key: string): Promise<Timed> {
  await page.evaluate(`window.__uiBench.arm(${JSON.stringify(kind)}, ${expected})`);
  await page.keyboard.press(key);
  return (await page.evaluate('window.__uiBench.pending')) as Timed;
}

/** Polls an expression in the page from Node (waitForFunction evaluates strings, which the CSP refuses). */
async function until(page: Page, expression: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline)
      throw new Error(`ui bench: still not true after ${timeoutMs} ms: ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface PageLoad {
  interactive: number;
  firstRows: number;
  /** The `staging.queue` calls of the load: how many, and the sum of their durations (waiting on the host). */
  queueRequests: number;
  queueFetchMs: number;
}

async function pageLoad(page: Page, url: string): Promise<PageLoad> {
  await page.goto(url, { waitUntil: 'commit' });
  await until(page, 'window.__uiBench !== undefined && window.__uiBench.interactiveAt !== null');
  return (await page.evaluate(`(() => {
    const queue = performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/api/staging.queue'));
    return {
      interactive: window.__uiBench.interactiveAt,
      firstRows: window.__uiBench.firstRowsAt,
      queueRequests: queue.length,
      queueFetchMs: queue.reduce((sum, e) => sum + e.duration, 0),
    };
  })()`)) as PageLoad;
}

interface FilterStep {
  key: string;
  search: string;
  shown: number;
  /** The keystroke changes the count shown, so the painted frame can be told from the one before. */
  timed: boolean;
}

/**
 * What a signer types to find records, each phrase typed key by key and cleared again: a change
 * (summary text), a record's title, an agent, a study, a kind of change and a piece of an id (its
 * last group: version 7 keys begin with their time, so their first characters narrow nothing).
 * Only keystrokes that change the count shown are timed (the figure waits for that count);
 * the others are typed all the same, so each search is typed as a person types it.
 */
function filterPhrases(rows: QueueRow[]): string[] {
  const idPiece = (rows[Math.floor(rows.length / 2)] as QueueRow).id.slice(-8);
  return [
    'status: mitigating',
    'courier strike',
    'tmf-intake',
    demoStudyCodes.onc.toLowerCase(),
    'severity: low',
    'new study kpi',
    idPiece,
  ];
}

function filterPlan(rows: QueueRow[], phrases: string[], minimumTimed: number): FilterStep[] {
  const shownFor = (search: string) => rows.reduce((n, row) => n + (rowMatches(row, search) ? 1 : 0), 0);
  const plan: FilterStep[] = [];
  for (const phrase of phrases) {
    let previous = rows.length;
    const step = (key: string, search: string) => {
      const shown = shownFor(search);
      plan.push({ key, search, shown, timed: shown !== previous });
      previous = shown;
    };
    for (let length = 1; length <= phrase.length; length++) {
      const typed = phrase.charAt(length - 1);
      step(typed === ' ' ? 'Space' : typed, phrase.slice(0, length));
    }
    for (let length = phrase.length - 1; length >= 0; length--) step('Backspace', phrase.slice(0, length));
  }
  const timed = plan.filter((step) => step.timed).length;
  if (timed < minimumTimed) {
    throw new Error(
      `ui bench: the searches change the count on ${timed} keystrokes, fewer than ${minimumTimed}`,
    );
  }
  return plan;
}

async function waitForSync(workstation: Workstation, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + 15 * 60_000;
  let lastLog = 0;
  for (;;) {
    const status = await workstation.handlers['sync.status']({});
    if (status.lastSyncedAt !== null && !status.syncing) {
      if (status.lastError) throw new Error(`ui bench: the initial sync reported: ${status.lastError}`);
      return;
    }
    if (Date.now() > deadline) throw new Error('ui bench: the initial sync did not finish within 15 minutes');
    if (Date.now() - lastLog > 5_000 && status.progress) {
      lastLog = Date.now();
      log(`ui: syncing ${status.progress.stream}: ${status.progress.rowsDone} rows`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function cachedQueue(workstation: Workstation): Promise<QueueRow[]> {
  const rows: QueueRow[] = [];
  let after: { createdAt: string; id: string } | null = null;
  do {
    const page = await workstation.handlers['staging.queue']({
      limit: 5000,
      after,
      states: [],
      studyId: null,
    });
    rows.push(...queueRowsOf(page.columns));
    after = page.nextCursor;
  } while (after !== null);
  return rows;
}

export const benchmark: Benchmark = {
  name: 'ui',
  figures: ['ui.interactive', 'ui.filter', 'ui.diff', 'ui.heap'],
  async run({ log }) {
    if (!chromiumPath) throw new Error(missingChromiumMessage);
    await buildRenderer(log);

    const dataDir = mkdtempSync(join(tmpdir(), 'countersign-bench-ui-'));
    let workstation: Workstation | null = null;
    let owner: pg.Client | null = null;
    let host: BrowserHost | null = null;
    let browser: Browser | null = null;
    try {
      const pgPort = await freePort();
      log(`ui: starting a workstation on its own embedded demo PostgreSQL (port ${pgPort}, data ${dataDir})`);
      workstation = await createWorkstation({
        dataDir,
        env: { COUNTERSIGN_PG_PORT: String(pgPort) },
        log: () => undefined,
        syncIntervalMs: 60 * 60_000,
      });
      await workstation.backendSettled;
      const backend = await workstation.handlers['backend.status']({});
      if (backend.state !== 'ready') throw new Error(`ui bench: backend not ready: ${backend.message}`);

      owner = new pg.Client({
        host: '127.0.0.1',
        port: pgPort,
        user: 'countersign_owner',
        password: readFileSync(join(dataDir, 'backend', 'postgres-owner.secret'), 'utf8').trim(),
        database: embeddedDatabase,
      });
      await owner.connect();
      log(`ui: seeding staging records so that ${signer.email} sees ${queueSize}`);
      const seeded = await seed(owner);
      await owner.end();
      owner = null;
      log(
        `ui: ${seeded.demoRows} demo + ${seeded.bulkRows} bulk + 1 review proposal ` +
          `(${seeded.proposalBytes} bytes, live row ${seeded.liveBytes} bytes)`,
      );

      const signIn = await workstation.handlers['session.signIn']({
        email: signer.email,
        password: signer.password,
      });
      if (!signIn.ok) throw new Error(`ui bench: sign-in failed: ${signIn.error}`);
      log('ui: signed in; waiting for the initial sync to fill the cache');
      const syncStarted = performance.now();
      await waitForSync(workstation, log);
      const rows = await cachedQueue(workstation);
      log(
        `ui: cache holds ${rows.length} staging records (sync ${((performance.now() - syncStarted) / 1000).toFixed(1)} s)`,
      );
      if (rows.length !== queueSize)
        throw new Error(`ui bench: the cache holds ${rows.length} staging records, not ${queueSize}`);

      host = await startBrowserHost({
        handlers: workstation.handlers,
        rendererDir,
        port: 0,
        log: (line) => log(`ui host: ${line}`),
        subscribe: workstation.subscribe,
      });
      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1400, height: 950 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') pageErrors.push(message.text());
      });
      await page.addInitScript(probeScript);

      // ui.interactive
      const loads: PageLoad[] = [];
      for (let i = 0; i < pageLoads; i++) {
        const load = await pageLoad(page, host.url);
        log(
          `ui: load ${i + 1}: first rows ${load.firstRows.toFixed(0)} ms, interactive ${load.interactive.toFixed(0)} ms ` +
            `(${load.queueRequests} staging.queue calls, ${load.queueFetchMs.toFixed(0)} ms waiting on the host)`,
        );
        loads.push(load);
      }

      // ui.filter
      const phrases = filterPhrases(rows);
      const plan = filterPlan(rows, phrases, benchSize(filterKeystrokes, 4));
      await page.keyboard.press('/');
      await page.getByLabel('Search the queue').waitFor();
      if (
        !(await page.evaluate('document.activeElement?.getAttribute("aria-label") === "Search the queue"'))
      ) {
        throw new Error('ui bench: "/" did not focus the search box');
      }
      const filters: (Timed & { key: string; shown: number })[] = [];
      for (const step of plan) {
        if (step.timed) {
          const timed = await timedKey(page, 'filter', step.shown, step.key);
          filters.push({ ...timed, key: step.key, shown: step.shown });
        } else {
          await page.keyboard.press(step.key);
        }
        await page.waitForTimeout(100);
      }
      // Every search ended at the count it should: nothing typed was lost or ran ahead.
      if (!(await page.evaluate(`window.__uiBench.footer()?.shown === ${rows.length}`))) {
        throw new Error('ui bench: the queue does not show every row again after the searches');
      }
      const searchValue = await page.getByLabel('Search the queue').inputValue();
      if (searchValue !== '')
        throw new Error(`ui bench: the search box ends with "${searchValue}", not empty`);
      log(`ui: filter keystrokes: ${filters.map((f) => f.ms.toFixed(0)).join(' ')} ms`);

      // ui.diff: the review proposal alone in the queue, the cursor on it, Enter opens it, Esc closes.
      await page.getByLabel('Search the queue').fill(seeded.diffRecordId);
      await until(page, 'window.__uiBench.footer()?.shown === 1');
      // Leave the search box with the filter kept (Escape in a search box clears it, and Enter would
      // then open whichever record the unfiltered queue shows first).
      await page.evaluate('document.activeElement.blur()');
      if (!(await page.evaluate('window.__uiBench.footer()?.shown === 1'))) {
        throw new Error('ui bench: the queue lost its filter on the review proposal');
      }
      const opens: (Timed & { fetchMs: number | null })[] = [];
      for (let i = 0; i < diffOpens; i++) {
        await page.evaluate('performance.clearResourceTimings()');
        const timed = await timedKey(page, 'diff', 0, 'Enter');
        const fetchMs = (await page.evaluate(
          `(performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/api/staging.detail')).at(-1) || { duration: null }).duration`,
        )) as number | null;
        const heading = (await page.evaluate(
          "document.getElementById('detail-heading')?.textContent ?? ''",
        )) as string;
        if (!heading.includes(seeded.diffRecordId.slice(0, 8))) {
          throw new Error(`ui bench: Enter opened "${heading}", not the review proposal`);
        }
        opens.push({ ...timed, fetchMs });
        await page.keyboard.press('Escape');
        await page.locator('.record-detail').waitFor({ state: 'detached' });
        await page.waitForTimeout(100);
      }
      log(`ui: diff opens: ${opens.map((o) => o.ms.toFixed(0)).join(' ')} ms`);

      // ui.heap
      const cdp = await page.context().newCDPSession(page);
      const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
      await cdp.send('HeapProfiler.collectGarbage');
      const afterGc = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
      await cdp.detach();
      if (pageErrors.length > 0) log(`ui: the page logged errors: ${pageErrors.join(' | ')}`);

      const mb = (bytes: number) => bytes / 2 ** 20;
      const figures: Figure[] = [
        {
          bench: 'ui.interactive',
          value: median(loads.map((load) => load.interactive)),
          unit: 'ms',
          target: 1000,
          better: 'lower',
          detail: {
            rows: queueSize,
            page_sizes: 'first 5,000, then 20,000',
            runs_ms: loads.map((load) => round1(load.interactive)),
            first_rows_ms: loads.map((load) => round1(load.firstRows)),
            queue_requests: loads.map((load) => load.queueRequests),
            queue_fetch_ms: loads.map((load) => round1(load.queueFetchMs)),
          },
        },
        {
          bench: 'ui.filter',
          value: median(filters.map((step) => step.ms)),
          unit: 'ms',
          target: 50,
          better: 'lower',
          detail: {
            rows: queueSize,
            keystrokes: filters.length,
            typed_untimed: plan.length - filters.length,
            searches: phrases,
            max_ms: round1(Math.max(...filters.map((step) => step.ms))),
            runs_ms: filters.map((step) => round1(step.ms)),
            shown: filters.map((step) => step.shown),
            median_input_delay_ms: round1(median(filters.map((step) => step.inputDelayMs))),
          },
        },
        {
          bench: 'ui.diff',
          value: median(opens.map((open) => open.ms)),
          unit: 'ms',
          target: 50,
          better: 'lower',
          detail: {
            proposal_bytes: seeded.proposalBytes,
            live_row_bytes: seeded.liveBytes,
            runs_ms: opens.map((open) => round1(open.ms)),
            detail_fetch_ms: opens.map((open) => (open.fetchMs === null ? null : round1(open.fetchMs))),
          },
        },
        {
          bench: 'ui.heap',
          value: mb(heap.usedSize),
          unit: 'MB',
          target: 300,
          better: 'lower',
          detail: {
            source: 'CDP Runtime.getHeapUsage usedSize, after the loads, filter and diff runs',
            total_mb: round1(mb(heap.totalSize)),
            after_forced_gc_mb: round1(mb(afterGc.usedSize)),
            page_errors: pageErrors.length,
          },
        },
      ];
      return figures;
    } finally {
      await browser?.close().catch(() => undefined);
      await host?.close().catch(() => undefined);
      await owner?.end().catch(() => undefined);
      await workstation?.close().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};

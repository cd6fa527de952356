// The investigator's day, shared by the embedded run (investigator.test.ts) and the hosted one
// (hostedInvestigator.test.ts), in a real browser through the browser host: the patients of their
// site, a record's patient-entered history beside its annotations; then the backend goes away for
// real (PostgreSQL stopped), the workstation says it is offline, and a note, a query and the
// closing of that query are made offline and shown pending; the backend comes back, the workstation
// reconnects, and each reaches the server exactly once and shows as sent.
import { randomUUID } from 'node:crypto';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPeople, demoPerson } from '../../../src/main/backend/demo/demoPeople';
import { setBackendRunning } from './backendControl';
import { launchChromium } from './chromium';
import { onServer } from './demoPersonQuery';
import { backendMode, endSession, openWorkstation, screenshot, signInAs } from './e2ePage';
import type { E2eTarget } from './e2eTarget';

const investigator = demoPerson('investigator101');
const siteId = 'HHT-101';
const subjectCodes = (site: string) =>
  demoPeople.flatMap((person) =>
    person.diary?.kind === 'patient' && person.diary.siteId === site ? [person.diary.subjectCode] : [],
  );

/**
 * The investigator flow on `target` (skipped without one): `title` names it with its requirement
 * tags; `textPrefix` begins every annotation it writes, so that two runs on the same records (one
 * database behind both workstations) never find each other's notes.
 */
export function describeInvestigatorFlow(target: E2eTarget | null, title: string, textPrefix: string): void {
  describe.skipIf(target === null)(title, () => {
    let browser: Browser;
    let page: Page;
    let pageErrors: string[];
    let backendStopped = false;

    beforeAll(async () => {
      browser = await launchChromium();
      ({ page, pageErrors } = await openWorkstation(browser, target));
    });
    afterAll(async () => {
      // Later test files need a backend and the sign-in screen (they start from it), whatever happened here.
      if (target && backendStopped) await setBackendRunning(target.backendControl, true);
      await endSession(page);
      await browser?.close();
    });

    /** Rows on the server, read as the investigator over their own login (RLS: their site only). */
    const asInvestigator = (sql: string, values: unknown[]) => onServer(investigator, sql, values);
    const connection = () => page.getByRole('status', { name: 'Connection' });
    const annotationItem = (text: string): Locator =>
      page.locator('.diary-annotations li.diary-annotation').filter({ hasText: text });

    it('annotates offline, reconnects, and sends each annotation exactly once', async () => {
      const server = target;
      if (!server) return;
      const shot = (name: string) => screenshot(page, `${server.screenshotPrefix}${name}`);
      await signInAs(page, investigator.email);
      expect(await backendMode(page)).toBe(server.mode);
      await page.getByRole('heading', { name: 'Patient diaries' }).waitFor();

      // Patients of the investigator's site, under their study identifiers; no other site's.
      const patients = page.getByRole('navigation', { name: 'Patients by site' });
      for (const code of subjectCodes(siteId))
        await patients.getByRole('button', { name: new RegExp(code) }).waitFor();
      expect(await patients.innerText()).not.toMatch(/HHT-102-|ONC-301-/);
      // Keyboard: the list is one tab stop; arrows (or j/k) move, Enter opens.
      const [firstCode, secondCode] = subjectCodes(siteId) as [string, string];
      const first = patients.getByRole('button', { name: new RegExp(firstCode) });
      const second = patients.getByRole('button', { name: new RegExp(secondCode) });
      await first.focus();
      await page.keyboard.press('ArrowDown');
      // (Expressions as strings: this file is compiled without the DOM library.)
      const focused = () =>
        page.evaluate('document.activeElement ? document.activeElement.textContent : null');
      await expect.poll(focused).toContain(secondCode);
      await page.keyboard.press('Enter');
      await expect.poll(() => second.getAttribute('aria-current')).toBe('true');
      await page.keyboard.press('k');
      await expect.poll(focused).toContain(firstCode);
      await page.keyboard.press('Enter');
      await expect.poll(() => first.getAttribute('aria-current')).toBe('true');

      // The newest record opens: its history on the left, its annotations on the right.
      const history = page.getByRole('region', { name: /Patient-entered history/ });
      const annotations = page.getByRole('region', { name: /Annotations and queries/ });
      await history.getByText('Entry 1', { exact: true }).waitFor();
      await annotations.getByLabel('Annotation text').waitFor();
      const [left, right] = [await history.boundingBox(), await annotations.boundingBox()];
      expect(left && right && left.x + left.width <= right.x).toBe(true);
      expect(left && right && Math.abs(left.y - right.y) < 5).toBe(true);
      const firstEntry = history.getByRole('listitem', { name: 'Entry 1' });
      expect(await firstEntry.innerText()).toMatch(/Reason:\s*New diary entry/);
      expect(await firstEntry.innerText()).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
      expect(await firstEntry.getByRole('table').count()).toBe(1);
      // Who wrote it (issue 19): the patient by their subject code, never by name; the id on hover.
      const entryAuthor = firstEntry.locator('.diary-entry-head .person-name');
      expect(await entryAuthor.innerText()).toMatch(
        new RegExp(`^subject (${subjectCodes(siteId).join('|')})`),
      );
      expect(await entryAuthor.getAttribute('title')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
      const patientNames = demoPeople.filter((p) => p.diary?.kind === 'patient').map((p) => p.printedName);
      for (const name of patientNames) expect(await history.innerText()).not.toContain(name);
      await expect.poll(() => connection().innerText()).toContain('Online');
      await shot('investigator-diary');

      // The backend goes away for real: the status bar says offline (no sign-in needed to come back).
      backendStopped = true;
      await setBackendRunning(server.backendControl, false);
      await expect.poll(() => connection().innerText(), { timeout: 20_000 }).toMatch(/Offline since/);
      await page.getByText(/you are reading the cache as last synced/).waitFor();

      // Offline: a note, a query, a reply to it and its closing, each pending in the outbox.
      const tag = randomUUID().slice(0, 8);
      const noteText = `${textPrefix} note ${tag}: reviewed with the patient on the ward.`;
      const queryText = `${textPrefix} query ${tag}: please confirm the start time.`;
      const replyText = `${textPrefix} reply ${tag}: patient confirmed 07:40 by phone.`;
      await annotations.getByLabel('Annotation text').fill(noteText);
      await annotations.getByRole('button', { name: 'Add note' }).click();
      await annotationItem(noteText).getByText('Pending: waits in the outbox').waitFor();
      await annotations.getByLabel('Kind').selectOption('query');
      await annotations.getByLabel('Annotation text').fill(queryText);
      await annotations.getByRole('button', { name: 'Add query' }).click();
      const query = annotationItem(queryText);
      await query.getByText('Pending: waits in the outbox').waitFor();
      await query.getByRole('button', { name: 'Reply' }).click();
      await query.getByLabel('Reply to query').fill(replyText);
      await query.getByRole('button', { name: 'Add reply' }).click();
      // The reply form closes once the reply is in the outbox (until then the query's item holds its text).
      await query.getByLabel('Reply to query').waitFor({ state: 'detached' });
      const reply = annotationItem(replyText);
      await reply.getByText('Pending: waits in the outbox').waitFor();
      expect(await reply.getAttribute('class')).toContain('is-reply');
      // Closing asks why: not without a reason [DIARY-QUERY-REASON].
      await query.getByRole('button', { name: 'Close query…' }).click();
      const closeForm = query.getByRole('form', { name: 'Close the query' });
      await closeForm.getByRole('button', { name: 'Close query' }).click();
      await closeForm.getByRole('alert').getByText('Choose why the query is closed.').waitFor();
      expect(await query.getByText('✓ Closed').count()).toBe(0);
      await closeForm.getByLabel('Reason (required)').selectOption('confirmed_as_entered');
      await closeForm.getByLabel('Details (optional)').fill(`Confirmed by phone ${tag}.`);
      await closeForm.getByRole('button', { name: 'Close query' }).click();
      await query.getByText('✓ Closed (not sent yet)').waitFor();
      await query.locator('.diary-resolution').getByText('Pending: waits in the outbox').waitFor();
      const outbox = page.getByRole('region', { name: /Outbox/ });
      await expect.poll(() => outbox.getByRole('heading').innerText()).toMatch(/4 waiting/);
      expect(await annotationItem(noteText).innerText()).toContain('Not on the server yet');
      // Made by the signed-in investigator: their name, with "you" beside it (never instead of it).
      expect(await annotationItem(noteText).locator('.diary-annotation-head').innerText()).toContain(
        `${investigator.printedName} (you)`,
      );
      await shot('investigator-offline');

      // The backend comes back: Sync now reconnects, and the outbox is sent in order.
      await setBackendRunning(server.backendControl, true);
      backendStopped = false;
      await page.getByRole('button', { name: 'Sync now' }).click();
      await expect.poll(() => connection().innerText(), { timeout: 30_000 }).toContain('Online');
      const sent = '[data-outbox-state="sent"]';
      await annotationItem(noteText).locator(sent).waitFor({ timeout: 30_000 });
      expect(await annotationItem(noteText).locator(sent).innerText()).toMatch(
        /✓ Sent \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/,
      );
      // The close, as the server recorded it: who, when and why.
      const closedLine = query.getByRole('list', { name: 'Closed and reopened' }).getByRole('listitem');
      await expect
        .poll(() => closedLine.innerText(), { timeout: 30_000 })
        .toMatch(
          new RegExp(
            `^Closed by ${investigator.printedName}.* · Value confirmed as entered: Confirmed by phone ${tag}\\.$`,
          ),
        );
      await query.getByText('Made (server)').waitFor();
      await query.getByText('✓ Closed', { exact: true }).waitFor();
      // Pulled back from the server, the annotation still names its author (and the id on hover).
      const author = annotationItem(noteText).locator('.diary-annotation-head .person-name');
      expect(await author.innerText()).toMatch(new RegExp(`^${investigator.printedName} \\(you\\)`));
      expect(await author.getAttribute('title')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
      await expect.poll(() => outbox.getByRole('heading').innerText()).toMatch(/0 waiting/);

      // On the server: each exactly once, the query closed by the investigator; a second sync sends nothing more.
      const count = (text: string) =>
        asInvestigator(
          'select count(*)::int as n from diary.investigator_annotations where annotation_text = $1',
          [text],
        );
      await page.getByRole('button', { name: 'Sync now' }).click();
      await expect.poll(() => connection().innerText()).toContain('Online');
      expect(await count(noteText)).toEqual([{ n: 1 }]);
      expect(await count(queryText)).toEqual([{ n: 1 }]);
      expect(await count(replyText)).toEqual([{ n: 1 }]);
      const answered = await asInvestigator(
        `select r.in_reply_to = q.annotation_id as answers_the_query
         from diary.investigator_annotations r, diary.investigator_annotations q
         where r.annotation_text = $1 and q.annotation_text = $2`,
        [replyText, queryText],
      );
      expect(answered).toEqual([{ answers_the_query: true }]);
      const closed = await asInvestigator(
        `select a.resolved, a.resolved_by = auth.uid() as by_me,
              (select count(*)::int from diary.annotation_resolutions r where r.annotation_id = a.annotation_id) as requests,
              (select r.reason_code from diary.annotation_resolutions r where r.annotation_id = a.annotation_id) as reason
       from diary.investigator_annotations a where a.annotation_text = $1`,
        [queryText],
      );
      expect(closed).toEqual([{ resolved: true, by_me: true, requests: 1, reason: 'confirmed_as_entered' }]);
      await shot('investigator-synced');
      expect(pageErrors).toEqual([]);
    });
  });
}

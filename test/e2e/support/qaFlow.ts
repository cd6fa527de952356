// The QA flow in an inspection room, shared by the embedded run (qa.test.ts) and the hosted one
// (hostedQa.test.ts), in a real browser through the browser host: the inspector opens provenance
// and audit, then the backend is stopped for real (its PostgreSQL shut down); the workstation says
// it is offline, and the audit log, provenance, signatures with their manifestation and a record's
// trail still show, from the cache; the chain verifies from genesis with its head shown, and a
// changed cached entry is named as the first bad one. The backend is started again, and after a
// sync the workstation is online.
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPeople, demoPerson } from '../../../src/main/backend/demo/demoPeople';
import { FileCacheKeyStore } from '../../../src/main/cache/cacheKeyStore';
import { backendIdFor, cacheDir, cacheFilePath } from '../../../src/main/cache/cacheLocation';
import { openCache } from '../../../src/main/cache/openCache';
import { setBackendRunning } from './backendControl';
import { launchChromium } from './chromium';
import { backendMode, openWorkstation, screenshot, signInAs } from './e2ePage';
import type { E2eTarget } from './e2eTarget';

const inspector = demoPerson('inspector');
const utcTime = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/;
/** A person's full id (shown on hover and in detail views, never as the name). */
const fullId = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
/** How the inspector sees people: staff by printed name, patients by subject code (never their names). */
const staffOrSubject = new RegExp(
  [
    ...demoPeople
      .filter((p) => p.diary?.kind !== 'patient')
      .map((p) => p.printedName.replace(/[.()]/g, '\\$&')),
    'subject [A-Z]+-\\d+-\\d+',
  ].join('|'),
);
const patientNames = demoPeople.filter((p) => p.diary?.kind === 'patient').map((p) => p.printedName);

/** Changes one signature entry's payload in the inspector's own cache; returns how to put it back. */
function tamperWithCachedEntry(server: E2eTarget, userId: string): { seq: number; restore: () => void } {
  const backendId = backendIdFor(server.cacheBackend);
  const db = openCache({
    path: cacheFilePath(server.dataDir, backendId, userId),
    key: new FileCacheKeyStore(join(cacheDir(server.dataDir), 'keys')).keyFor(userId, backendId),
    userId,
    backendId,
  });
  db.pragma('busy_timeout = 5000');
  const entry = db
    .prepare(
      `select seq, payload from audit_log where event_type = 'signature.recorded' order by seq limit 1`,
    )
    .get() as { seq: number; payload: string };
  db.prepare('update audit_log set payload = ? where seq = ?').run(
    entry.payload.replace(/"intent":"(approve|reject)"/, '"intent":"approve_release"'),
    entry.seq,
  );
  return {
    seq: entry.seq,
    restore: () => {
      db.prepare('update audit_log set payload = ? where seq = ?').run(entry.payload, entry.seq);
      db.close();
    },
  };
}

/**
 * The QA flow on `target` (skipped without one): `title` names it with its requirement tags. The
 * steps are the same in every mode; only the sign-in form and the cache's backend address differ.
 */
export function describeQaFlow(target: E2eTarget | null, title: string): void {
  describe.skipIf(target === null)(title, () => {
    let browser: Browser;
    let page: Page;
    let pageErrors: string[];

    beforeAll(async () => {
      browser = await launchChromium();
      ({ page, pageErrors } = await openWorkstation(browser, target));
    });
    afterAll(async () => {
      // Later test files share this workstation: its backend must be running and nobody signed in,
      // whatever happened here.
      if (target) await setBackendRunning(target.backendControl, true);
      const signOut = page?.getByRole('button', { name: 'Sign out' });
      if (signOut && (await signOut.isVisible().catch(() => false))) {
        await signOut.click();
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      }
      await browser?.close();
    });

    const connection = () => page.getByRole('status', { name: 'Connection' });
    const bodyRows = (table: Locator) => table.locator('tbody tr:not(.spacer-row)');
    const showTab = async (name: string) => {
      await page.getByRole('tab', { name }).click();
      await page.getByRole('tabpanel', { name }).waitFor();
    };

    it('reads provenance, signatures, audit entries and a trail offline, and verifies the chain', async () => {
      const server = target;
      if (!server) return;
      const shot = (name: string) => screenshot(page, `${server.screenshotPrefix}${name}`);
      await signInAs(page, inspector.email);
      expect(await backendMode(page)).toBe(server.mode);
      await page.getByRole('heading', { name: 'Provenance and audit' }).waitFor();
      await expect.poll(() => connection().innerText()).toContain('Online');
      const userId = String(
        await page.evaluate(
          `fetch('/api/backend.status', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
           .then((response) => response.json()).then((status) => status.session.userId)`,
        ),
      );
      // A first sign-in on this computer: the first, full sync runs in the background.
      await expect
        .poll(() => page.locator('.status-bar').innerText(), { timeout: 60_000 })
        .not.toContain('Synced never');

      const chain = page.getByRole('region', { name: 'Audit chain' });
      await expect.poll(() => chain.innerText()).toMatch(/Chain verified through entry [\d,]+/);
      const auditTable = page.getByRole('table', { name: 'Audit log entries' });
      await expect.poll(() => bodyRows(auditTable).count()).toBeGreaterThan(0);
      // Virtualised: a full page of entries is loaded, a screenful is in the document.
      await expect
        .poll(() => page.getByText(/^[\d,]+ entries shown/).innerText())
        .toMatch(/^200 entries shown/);
      expect(await bodyRows(auditTable).count()).toBeLessThan(80);
      // People by name (issue 19): the Actor column names each person, the id on hover only.
      const actorCells = bodyRows(auditTable).locator('td:nth-child(4)');
      await expect.poll(async () => (await actorCells.allInnerTexts()).join('\n')).toMatch(staffOrSubject);
      const actorTexts = (await actorCells.allInnerTexts()).join('\n');
      expect(actorTexts).not.toMatch(fullId);
      for (const name of patientNames) expect(actorTexts).not.toContain(name);
      const namedActor = actorCells.locator('.person-label').first();
      expect(await namedActor.innerText()).toMatch(staffOrSubject);
      // (The newest entries may be an operator's, named as such; a person's name carries their id.)
      const person = actorCells
        .locator('.person-name')
        .filter({ has: page.locator('.person-label') })
        .first();
      expect(await person.getAttribute('title')).toMatch(fullId);
      await shot('qa-audit');

      // Keyboard: the table is one tab stop; j/k or the arrows move, End and Home jump (the row is
      // rendered on arrival), Enter opens the entry.
      const focusedRow = () =>
        page.evaluate('document.activeElement ? document.activeElement.getAttribute("aria-rowindex") : null');
      await bodyRows(auditTable).first().focus();
      expect(await auditTable.locator('tbody tr[tabindex="0"]').count()).toBe(1);
      await page.keyboard.press('j');
      await expect.poll(focusedRow).toBe('3');
      await page.keyboard.press('End');
      await expect.poll(focusedRow).toBe('201');
      await page.keyboard.press('Home');
      await expect.poll(focusedRow).toBe('2');
      await page.keyboard.press('ArrowDown');
      const secondSeq = (await bodyRows(auditTable).nth(1).innerText()).match(/^[\d,]+/)?.[0];
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: `Audit entry ${secondSeq}` }).waitFor();
      // The entry in full gives the actor's whole id beside the name.
      const actorField = page.locator('.entry-fields dd').nth(2);
      const actorId = await actorField.locator('.person-name').getAttribute('title');
      expect(await actorField.locator('.person-full-id').innerText()).toBe(actorId);
      await page.getByRole('button', { name: 'Close the audit entry' }).click();

      try {
        await setBackendRunning(server.backendControl, false);
        // The workstation notices the dropped connection; a sync attempt settles it either way.
        await page.getByRole('button', { name: 'Sync now' }).click();
        await expect.poll(() => connection().innerText()).toMatch(/Offline since/);

        // One study, read again from the cache with the backend gone.
        await page.getByRole('combobox', { name: /^Study/ }).selectOption({ label: 'AUR-HHT-201' });
        await expect.poll(() => bodyRows(auditTable).first().innerText()).toMatch(utcTime);
        const firstEntry = bodyRows(auditTable).first();
        expect(await firstEntry.innerText()).toMatch(utcTime);
        expect(await firstEntry.innerText()).toContain('local');

        await showTab('Provenance');
        const provenance = page.getByRole('table', { name: 'Provenance events' });
        // Until the first page lands the table may say that nothing matches: wait for an event.
        await expect.poll(() => bodyRows(provenance).first().innerText()).toMatch(utcTime);
        const firstEvent = await bodyRows(provenance).first().innerText();
        expect(firstEvent).toMatch(utcTime);
        expect(firstEvent).toMatch(staffOrSubject); // a name with its role, not "human 2ec653b6-…"
        expect(await bodyRows(provenance).first().locator('td:nth-child(3)').innerText()).not.toMatch(fullId);
        // (The agent's own events may lie below the newest ones other test files made; the trail
        // below names the agent in a record's provenance.)

        await showTab('Signatures');
        const signatures = page.getByRole('table', { name: 'Signatures' });
        await expect.poll(() => bodyRows(signatures).locator('.manifestation').count()).toBeGreaterThan(0);
        const manifestation = await bodyRows(signatures).first().locator('.manifestation').innerText();
        expect(manifestation).toMatch(utcTime);
        expect(manifestation).toContain('local');
        expect(manifestation).toMatch(/\S — \S/); // printed name — meaning

        // A signed record's trail: its signature manifested and found in the chain, its entries re-hashed.
        await bodyRows(signatures)
          .first()
          .getByRole('button', { name: /^Trail of record/ })
          .click();
        const trail = page.getByRole('complementary', { name: /^Record trail/ });
        await trail.getByRole('table', { name: 'Audit entries of this record' }).waitFor();
        const trailText = await trail.innerText();
        expect(trailText).toContain('Trail holds together');
        expect(trailText).toContain('✓ recorded in the audit chain with this content hash');
        expect(trailText).toMatch(utcTime);
        // Who did what on this record, by name: the signer in its audit entries, the agent in its provenance.
        await expect.poll(() => trail.innerText()).toContain(`by ${demoPerson('signerA').printedName}`);
        const namedTrail = await trail.innerText();
        expect(namedTrail).toContain(`by ${demoPerson('agent').printedName}`);
        expect(namedTrail).not.toMatch(/by (human|agent) [0-9a-f]{8}/);

        await page.getByRole('button', { name: 'Re-verify from genesis' }).click();
        await expect.poll(() => chain.innerText()).toMatch(/entries re-checked from genesis/);
        const verified = await chain.innerText();
        expect(verified).toMatch(/Chain verified through entry [\d,]+ · head hash [0-9a-f]{16}…/);
        expect(verified).toMatch(utcTime);
        await expect.poll(() => connection().innerText()).toMatch(/Offline since/);
        await shot('qa-audit-offline');

        // A changed entry in the cache: the break is named by its sequence number, prominently.
        const tampered = tamperWithCachedEntry(server, userId);
        const seqText = tampered.seq.toLocaleString('en-US');
        try {
          await page.getByRole('button', { name: 'Re-verify from genesis' }).click();
          const alert = chain.getByRole('alert');
          await expect.poll(() => alert.innerText()).toContain(`AUDIT CHAIN BROKEN at entry ${seqText}`);
          expect(await alert.innerText()).toContain(
            `entry ${tampered.seq}'s payload does not match its payload hash`,
          );
          await chain.getByRole('button', { name: `Show entry ${seqText}` }).click();
          await page.getByRole('tabpanel', { name: 'Audit log' }).waitFor();
          const bad = bodyRows(auditTable).filter({ hasText: '✗ hash mismatch' });
          await expect.poll(() => bad.count()).toBe(1);
          await shot('qa-audit-break');
        } finally {
          tampered.restore();
        }
        await page.getByRole('button', { name: 'Re-verify from genesis' }).click();
        await expect.poll(() => chain.innerText()).toMatch(/Chain verified through entry/);
      } finally {
        await setBackendRunning(server.backendControl, true);
      }

      await page.getByRole('button', { name: 'Sync now' }).click();
      await expect.poll(() => connection().innerText(), { timeout: 30_000 }).toContain('Online');
      expect(pageErrors).toEqual([]);
    });
  });
}

// An administrator corrects a diary entry and the site's investigator reviews it, in a real browser
// through the browser host on the embedded demo (issue 22, seed 003): the admin opens a record at
// HHT-101, corrects a value with a justification and their own password and code; the correction
// is on the server as an ADMIN_CORRECTION with the old value kept; the investigator of HHT-101 sees
// it pending with old → new, acknowledges it, and disputes the demo's own pending correction with a
// comment; the server holds both decisions.
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCorrectionJustification } from '../../src/main/backend/demo/demoCorrection';
import { demoPeople, demoPerson } from '../../src/main/backend/demo/demoPeople';
import { seriousViolations } from './support/axe';
import { launchChromium } from './support/chromium';
import { onServer } from './support/demoPersonQuery';
import {
  e2eServer,
  endSession,
  screenshot,
  signInAs,
  waitForFirstSync,
  workstationPage,
} from './support/e2ePage';

// The second administrator: the first one's codes are spent by adminUnlock.test.ts, maybe within the same step.
const admin = demoPerson('admin2');
const investigator = demoPerson('investigator101');
const siteId = 'HHT-101';
const subjectCode = demoPeople.flatMap((person) =>
  person.diary?.kind === 'patient' && person.diary.siteId === siteId ? [person.diary.subjectCode] : [],
)[1] as string;

describe.skipIf(e2eServer() === null)(
  'an administrator corrects a diary entry and the investigator reviews it [UI-DIARY-CORRECTION, DIARY-ADMIN-CORRECTION, DIARY-CORRECTION-REVIEW]',
  () => {
    let browser: Browser;
    let page: Page;
    let pageErrors: string[];
    const justification = `Source document checked ${randomUUID().slice(0, 8)}: the patient timed the nosebleed in seconds`;
    let eventUuid = '';
    let oldDuration = '';
    let newDuration = '';

    beforeAll(async () => {
      browser = await launchChromium();
      ({ page, pageErrors } = await workstationPage(browser));
    });
    afterAll(async () => {
      await endSession(page);
      await browser?.close();
    });

    it('corrects a value with a justification and the administrator’s re-authentication', async () => {
      await signInAs(page, admin.email);
      await page.getByRole('button', { name: /^Diaries/ }).click();
      await page.getByRole('heading', { name: 'Patient diaries' }).waitFor();
      await waitForFirstSync(page);
      const patients = page.getByRole('navigation', { name: 'Patients by site' });
      await patients.getByRole('button', { name: new RegExp(subjectCode) }).click();
      const history = page.getByRole('region', { name: /Patient-entered history/ });
      await history.getByText('Entry 1', { exact: true }).waitFor();
      eventUuid = String(await page.locator('.diary-id').getAttribute('title'));
      expect(eventUuid).toMatch(/^[0-9a-f]{8}-/);

      await page.getByRole('button', { name: 'Correct entry…' }).click();
      const dialog = page.getByRole('dialog', { name: 'Correct diary entry' });
      const duration = dialog.getByLabel('Duration (minutes)');
      oldDuration = await duration.inputValue();
      expect(oldDuration).toMatch(/^\d+$/);
      newDuration = String(Number(oldDuration) + 7);
      // Nothing changes yet, and the button says what is missing.
      await dialog.getByText('Nothing yet: change a value above.').waitFor();
      expect(await dialog.getByRole('button', { name: 'Correct entry' }).isDisabled()).toBe(true);
      await duration.fill(newDuration);
      const preview = dialog.getByRole('region', { name: 'What changes' });
      const row = preview.getByRole('row', { name: /Duration \(minutes\)/ });
      expect(await row.innerText()).toMatch(new RegExp(`changed\\s+${oldDuration}\\s+${newDuration}`));
      await dialog.getByLabel(/^Justification/).fill(justification);
      await dialog.getByLabel('Your password').fill(admin.password);
      await dialog.getByRole('button', { name: 'Demo: fill in the current code' }).click();
      await expect.poll(() => dialog.getByLabel('Your authenticator code').inputValue()).toMatch(/^\d{6}$/);
      await screenshot(page, 'diary-correction-dialog');
      const violations = await seriousViolations(page, 'correction dialog');
      // The administrator's current code may have been spent by an earlier e2e file within this
      // 30-second step (the server refuses a used code): then wait for the next code and submit again.
      for (let attempt = 1; ; attempt++) {
        await dialog.getByRole('button', { name: 'Correct entry' }).click();
        const used = dialog
          .getByRole('alert')
          .getByText(/already used/)
          .first();
        const outcome = await Promise.race([
          dialog.waitFor({ state: 'hidden' }).then(() => 'done' as const),
          used.waitFor().then(() => 'used' as const),
        ]);
        if (outcome === 'done') break;
        expect(attempt).toBeLessThan(3);
        await page.waitForTimeout(30_000 - (Date.now() % 30_000) + 500);
        await dialog.getByLabel('Your password').fill(admin.password);
        await dialog.getByRole('button', { name: 'Demo: fill in the current code' }).click();
        await expect.poll(() => dialog.getByLabel('Your authenticator code').inputValue()).toMatch(/^\d{6}$/);
      }

      // The record's history shows the correction, by the administrator, with the justification.
      const entry = history
        .getByRole('listitem')
        .filter({ hasText: 'ADMIN_CORRECTION' })
        .filter({ hasText: justification });
      await entry.waitFor({ timeout: 20_000 });
      expect(await entry.innerText()).toContain(admin.printedName);

      const rows = await onServer(
        admin,
        `select a.operation, a.role, a.previous_data ->> 'duration_minutes' as old, a.data ->> 'duration_minutes' as new,
                r.status from diary.record_audit a join diary.correction_review r on r.audit_id = a.audit_id
          where a.event_uuid = $1 and a.change_reason = $2`,
        [eventUuid, justification],
      );
      expect(rows).toEqual([
        {
          operation: 'ADMIN_CORRECTION',
          role: 'ADMIN',
          old: oldDuration,
          new: newDuration,
          status: 'pending',
        },
      ]);
      expect(violations).toEqual([]);
    });

    it('shows the investigator the correction pending, old → new, to acknowledge; disputes another with a comment', async () => {
      await signInAs(page, investigator.email);
      await page.getByRole('heading', { name: 'Patient diaries' }).waitFor();
      await waitForFirstSync(page);
      const reviews = page.locator('details.correction-reviews');
      await reviews.getByText(/^Corrections to review \(2\)$/).click();
      const item = reviews.getByRole('listitem').filter({ hasText: justification });
      await item.waitFor();
      const text = await item.innerText();
      expect(text).toContain(subjectCode);
      expect(text).toContain('pending review');
      expect(text).toMatch(/Duration|duration_minutes/);
      expect(text).toMatch(new RegExp(`changed\\s+${oldDuration}\\s+${newDuration}`));
      expect(text).toContain(`Corrected by ${admin.printedName}`);
      // The demo's own correction waits too, pending first.
      const demoItem = reviews.getByRole('listitem').filter({ hasText: demoCorrectionJustification });
      await demoItem.waitFor();
      await screenshot(page, 'diary-correction-reviews');
      const violations = await seriousViolations(page, 'corrections to review');

      await item.getByRole('button', { name: 'Acknowledge…' }).click();
      let dialog = page.getByRole('dialog', { name: 'Acknowledge the correction' });
      await dialog.getByLabel(/^Comment/).fill('Checked against the source document');
      await dialog.getByRole('button', { name: 'Acknowledge' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await item.waitFor({ state: 'detached', timeout: 20_000 });

      await demoItem.getByRole('button', { name: 'Dispute…' }).click();
      dialog = page.getByRole('dialog', { name: 'Dispute the correction' });
      // A dispute needs its comment: the button waits for one.
      expect(await dialog.getByRole('button', { name: 'Dispute' }).isDisabled()).toBe(true);
      await dialog
        .getByLabel(/^Comment/)
        .fill('The paper diary page says 8 minutes; please check with the site');
      await screenshot(page, 'diary-correction-dispute-dialog');
      violations.push(...(await seriousViolations(page, 'dispute dialog')));
      await dialog.getByRole('button', { name: 'Dispute' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await reviews.getByText(/^Corrections to review \(0\)$/).waitFor({ timeout: 20_000 });

      const decided = await onServer(
        investigator,
        `select r.justification, r.status, r.decision_comment, u.email as decided_by
           from diary.correction_review r join auth.users u on u.id = r.decided_by
          where r.justification in ($1, $2) order by r.status`,
        [justification, demoCorrectionJustification],
      ).catch(async () =>
        // auth.users may not be readable by an investigator: compare ids instead.
        onServer(
          investigator,
          `select r.justification, r.status, r.decision_comment, r.decided_by = auth.uid() as decided_by
             from diary.correction_review r where r.justification in ($1, $2) order by r.status`,
          [justification, demoCorrectionJustification],
        ),
      );
      expect(decided).toHaveLength(2);
      expect(decided[0]).toMatchObject({
        justification,
        status: 'acknowledged',
        decision_comment: 'Checked against the source document',
      });
      expect(decided[1]).toMatchObject({
        justification: demoCorrectionJustification,
        status: 'disputed',
        decision_comment: 'The paper diary page says 8 minutes; please check with the site',
      });
      for (const row of decided) expect([investigator.email, true]).toContain(row.decided_by);
      expect(violations).toEqual([]);
      expect(pageErrors).toEqual([]);
    });
  },
);

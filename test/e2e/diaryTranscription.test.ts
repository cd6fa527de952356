// Paper transcription and a diary conflict in a real browser, through the browser host on the
// embedded demo (issue 22, seed 003): the investigator of HHT-101 works offline, transcribes a paper
// entry for a patient (the form's problems named by field first), goes online, and the outbox sends
// it: the server holds exactly one event for it, and it shows in the record list marked "from paper"
// with its page. Then a conflict made from two places on that record: the investigator amends it
// from paper offline on this workstation while the patient changes another field on her phone (her
// own login); back online the amendment is kept as a conflict, shown field by field, and a field
// merge resolves it with both changes on the server.
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoPerson, demoPeople, demoPerson } from '../../src/main/backend/demo/demoPeople';
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

const investigator = demoPerson('investigator101');
const siteId = 'HHT-101';
// The site's second patient: the demo's own transcription and conflict are the first patient's.
const patientPerson = demoPeople.filter(
  (person) => person.diary?.kind === 'patient' && person.diary.siteId === siteId,
)[1] as DemoPerson;
const subjectCode = patientPerson.diary?.kind === 'patient' ? patientPerson.diary.subjectCode : '';

describe.skipIf(e2eServer() === null)(
  'an investigator transcribes a paper entry offline and resolves a conflict by field merge [UI-DIARY-TRANSCRIBE, DIARY-OUTBOX, DIARY-CONFLICT]',
  () => {
    let browser: Browser;
    let page: Page;
    let pageErrors: string[];
    const pageId = `E2E-${randomUUID().slice(0, 8)} p. 3`;
    const paperDate = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
    let eventUuid = '';

    beforeAll(async () => {
      browser = await launchChromium();
      ({ page, pageErrors } = await workstationPage(browser));
    });
    afterAll(async () => {
      // Later files start from an online workstation.
      if (
        page &&
        (await page
          .getByLabel('Work offline')
          .isChecked()
          .catch(() => false))
      ) {
        await page.getByLabel('Work offline').click();
      }
      await endSession(page);
      await browser?.close();
    });

    const connection = () => page.getByRole('status', { name: 'Connection' });
    const transcriptions = () => page.getByRole('region', { name: 'Paper transcriptions and conflicts' });
    const setOffline = async (offline: boolean) => {
      await page.getByLabel('Work offline').click();
      await expect
        .poll(() => connection().innerText(), { timeout: 30_000 })
        .toMatch(offline ? /Offline since/ : /Online/);
    };

    it('transcribes offline, and the entry reaches the server exactly once', async () => {
      await signInAs(page, investigator.email);
      await page.getByRole('heading', { name: 'Patient diaries' }).waitFor();
      await waitForFirstSync(page);
      await page
        .getByRole('navigation', { name: 'Patients by site' })
        .getByRole('button', { name: new RegExp(subjectCode) })
        .click();
      await setOffline(true);

      await page.getByRole('button', { name: 'Transcribe paper entry' }).click();
      const dialog = page.getByRole('dialog', { name: 'Transcribe paper entry' });
      // Nothing filled in: every problem named by its field, the first field focused.
      await dialog.getByRole('button', { name: 'Save to outbox' }).click();
      const problems = dialog.getByRole('alert');
      await problems.waitFor();
      for (const text of [
        'Event type is required',
        'Date is required',
        'paper page id is required',
        'Say why',
      ])
        expect(await problems.innerText()).toContain(text);
      expect(await dialog.getByLabel('Event type').getAttribute('aria-invalid')).toBe('true');

      // Filled in by keyboard: typed, then Tab to the next field.
      await dialog.getByLabel('Paper page id').fill(pageId);
      await dialog.getByLabel('Date of the paper entry').fill(paperDate);
      await dialog.getByLabel('Event type').selectOption('nausea');
      await dialog.locator('#transcribe-date').fill(paperDate);
      await dialog.getByLabel('Time').fill('08:15');
      await dialog.getByLabel('Duration (minutes)').fill('20');
      await dialog.getByLabel('Intensity').selectOption('mild');
      await dialog.getByLabel('Notes').fill('Written on the paper diary: after breakfast.');
      await dialog.getByLabel('Reason (required)').fill('Paper diary handed in at the visit.');
      expect(await dialog.getByRole('alert').count()).toBe(0);
      await screenshot(page, 'diary-transcribe-dialog');
      expect(await seriousViolations(page, 'transcription dialog')).toEqual([]);
      await dialog.getByLabel('Reason (required)').press('Tab');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await dialog.waitFor({ state: 'detached' });

      const item = transcriptions().getByRole('listitem').filter({ hasText: pageId });
      await item.getByText('waiting to be sent').waitFor();
      expect(
        await onServer(
          investigator,
          "select 1 from diary.record_audit where source_reference ->> 'page_id' = $1",
          [pageId],
        ),
      ).toEqual([]);

      // Sent items stay on record, shown on request.
      await page.getByLabel('Show sent and discarded').check();
      await setOffline(false);
      await item.getByText('sent', { exact: true }).waitFor({ timeout: 30_000 });
      const rows = await onServer(
        investigator,
        `select event_uuid::text, operation, created_by = auth.uid() as by_me, source_reference
           from diary.record_audit where source_reference ->> 'page_id' = $1`,
        [pageId],
      );
      expect(rows).toEqual([
        {
          event_uuid: expect.any(String),
          operation: 'INVESTIGATOR_TRANSCRIPTION',
          by_me: true,
          source_reference: { page_id: pageId, entry_date: paperDate },
        },
      ]);
      eventUuid = rows[0].event_uuid;

      // In the record list after the sync, marked as from paper; its history names the source.
      const records = page.getByRole('region', { name: /Diary records of/ });
      const row = records.getByText(`from paper, page ${pageId}`);
      await row.waitFor({ timeout: 30_000 });
      await row.click();
      const history = page.getByRole('region', { name: /Patient-entered history/ });
      await history.getByText('INVESTIGATOR_TRANSCRIPTION').first().waitFor();
      expect(await history.innerText()).toContain(`page ${pageId}, dated ${paperDate}`);
      // A second sync sends nothing more.
      await page.getByRole('button', { name: 'Sync now' }).click();
      await expect.poll(() => connection().innerText()).toContain('Online');
      expect(
        await onServer(investigator, 'select 1 from diary.record_audit where event_uuid = $1', [eventUuid]),
      ).toHaveLength(1);
    });

    it('shows a conflict with the patient’s change field by field, and a field merge keeps both', async () => {
      expect(eventUuid).not.toBe('');
      // This workstation, offline: the investigator amends the entry from the paper (the intensity).
      await setOffline(true);
      await page.getByRole('button', { name: 'Amend transcription from paper' }).click();
      const dialog = page.getByRole('dialog', { name: 'Amend transcription from paper' });
      expect(await dialog.getByLabel('Duration (minutes)').inputValue()).toBe('20');
      await dialog.getByLabel('Intensity').selectOption('severe');
      await dialog.getByLabel('Paper page id').fill(pageId);
      await dialog.getByLabel('Date of the paper entry').fill(paperDate);
      await dialog.getByLabel('Reason (required)').fill('The paper marks the intensity severe.');
      await dialog.getByRole('button', { name: 'Save to outbox' }).click();
      await dialog.waitFor({ state: 'detached' });

      // Meanwhile the patient, on her phone (her own login), changes the duration of the same entry.
      const [head] = await onServer(
        patientPerson,
        'select last_audit_id::int as id, current_data from diary.record_state where event_uuid = $1',
        [eventUuid],
      );
      await onServer(patientPerson, 'select public.submit_diary_events($1::jsonb)', [
        JSON.stringify([
          {
            client_request_id: randomUUID(),
            event_uuid: eventUuid,
            patient_id: (await onServer(patientPerson, 'select auth.uid()::text as id', []))[0].id,
            operation: 'USER_UPDATE',
            data: { ...head.current_data, duration_minutes: 35 },
            parent_audit_id: head.id,
            change_reason: 'It lasted longer',
          },
        ]),
      ]);

      // Back online: the amendment conflicts, is kept, and is shown field by field.
      await setOffline(false);
      const conflictItem = transcriptions()
        .getByRole('listitem')
        .filter({ hasText: /Conflict \d+/ })
        .filter({ hasText: pageId });
      await conflictItem.getByRole('button', { name: 'Resolve conflict…' }).click({ timeout: 30_000 });
      const panel = conflictItem.getByRole('region', { name: /Conflict \d+/ });
      const fields = panel.getByRole('table');
      const rowOf = (field: string) =>
        fields.getByRole('row').filter({ has: page.getByRole('rowheader', { name: field }) });
      expect(await rowOf('intensity').innerText()).toMatch(/mild\s+mild\s+severe \(you changed\)/);
      expect(await rowOf('duration_minutes').innerText()).toMatch(/20\s+35 \(they changed\)\s+20/);
      expect(await panel.getByRole('button', { name: 'Field merge' }).isEnabled()).toBe(true);
      await panel.scrollIntoViewIfNeeded();
      await screenshot(page, 'diary-conflict-panel');
      expect(await seriousViolations(page, 'conflict panel')).toEqual([]);
      await panel.getByRole('button', { name: 'Field merge' }).click();
      await conflictItem.waitFor({ state: 'detached', timeout: 30_000 });

      const [state] = await onServer(
        investigator,
        `select current_data, (select conflict_resolution ->> 'strategy' from diary.record_audit a
                                 where a.audit_id = s.last_audit_id) as strategy
           from diary.record_state s where event_uuid = $1`,
        [eventUuid],
      );
      expect(state).toMatchObject({
        current_data: { intensity: 'severe', duration_minutes: 35 },
        strategy: 'field_merge',
      });
      // The outbox item is kept, marked with how its conflict was resolved.
      await transcriptions()
        .getByRole('listitem')
        .filter({ hasText: 'resolved: field merge' })
        .filter({ hasText: pageId })
        .waitFor({ timeout: 30_000 });
      expect(pageErrors).toEqual([]);
    });
  },
);

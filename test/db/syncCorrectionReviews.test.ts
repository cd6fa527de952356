// The investigators' review list in the cache (issue 22, H3): a sync as an investigator brings the
// correction reviews of their sites (diary.correction_review, RLS) into the cache and no other
// site's; the list reads each correction old → new from the correction's own record_audit row, with
// the patient's subject code, pending first; a decision made on the server shows at the next sync.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cachedCorrectionReviews } from '../../src/main/cache/cachedCorrectionReviews';
import { postgresSyncServer } from '../../src/main/sync/postgresSyncServer';
import { pullAll } from '../../src/main/sync/pullEngine';
import { streamNamed } from '../../src/main/sync/streamDefinitions';
import { operatorTransaction } from './support/accessWorld';
import { cachedKeys, serverKeys } from './support/syncCache';
import { syncWorld } from './support/syncWorld';

describe('the review list of admin corrections in the investigator cache [DIARY-CORRECTION-REVIEW]', () => {
  const setup = syncWorld();

  it('syncs the corrections of the investigator sites only, each old → new, pending first', async () => {
    const { db, world } = setup;
    const admin = world.people.admin;
    const record = world.records.in;
    const justification = `Checked against the source ${randomUUID().slice(0, 8)}`;
    // An administrator's correction of P1's record at A1, as correct_diary_record writes it (the
    // re-authentication is the function's own test: diaryCorrections.test.ts).
    const reviewId = await operatorTransaction(db.operator, { sub: admin.id, bootstrap: true }, async () => {
      const state = await db.operator.query(
        'select last_audit_id, current_data from diary.record_state where event_uuid = $1',
        [record.eventUuid],
      );
      const { last_audit_id: head, current_data: current } = state.rows[0];
      const event = await db.operator.query(
        `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, created_by, role,
                                         client_timestamp, parent_audit_id, change_reason)
         values ($1, $2, 'A1', 'ADMIN_CORRECTION', $3, $4, 'ADMIN', now(), $5, $6) returning audit_id`,
        [
          record.eventUuid,
          world.people.patient.id,
          JSON.stringify({ ...current, intensity: 'severe' }),
          admin.id,
          head,
          justification,
        ],
      );
      const review = await db.operator.query(
        `insert into diary.correction_review (audit_id, event_uuid, patient_id, site_id, corrected_by, corrected_at,
                                              justification, changed_fields)
         values ($1, $2, $3, 'A1', $4, now(), $5, '{intensity}') returning review_id`,
        [event.rows[0].audit_id, record.eventUuid, world.people.patient.id, admin.id, justification],
      );
      return review.rows[0].review_id as string;
    });

    const stream = streamNamed('correction_review');
    const investigator = world.clients.investigator;
    const cache = setup.cacheOf(world.people.investigator.id);
    await pullAll(cache, postgresSyncServer(investigator));
    const onServer = await serverKeys(investigator, stream);
    expect(onServer).toContain(reviewId);
    expect(onServer).toContain(world.rows.correctionReview.in);
    expect(onServer).not.toContain(world.rows.correctionReview.out);
    expect(cachedKeys(cache, stream)).toEqual(onServer);

    const list = cachedCorrectionReviews(cache);
    const item = list.reviews.find((review) => review.reviewId === reviewId);
    expect(item).toMatchObject({
      eventUuid: record.eventUuid,
      subjectCode: 'A1-001',
      siteId: 'A1',
      correctedBy: admin.id,
      justification,
      status: 'pending',
      decidedBy: null,
      changes: [{ field: 'intensity', change: 'changed', before: 'moderate', after: 'severe' }],
    });
    expect(item?.correctedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(list.pending).toBe(list.reviews.length);

    // The investigator of B1 gets B1's correction only.
    const elsewhere = await world.connect(world.counterparts.investigator);
    try {
      const otherCache = setup.cacheOf(world.counterparts.investigator.id);
      await pullAll(otherCache, postgresSyncServer(elsewhere));
      expect(cachedKeys(otherCache, stream)).toEqual([world.rows.correctionReview.out]);
    } finally {
      await elsewhere.end();
    }

    // Acknowledged on the server: the next sync shows it decided, after the pending ones.
    await investigator.query('select public.review_diary_correction($1, $2, $3)', [
      reviewId,
      'acknowledged',
      'Matches the source document',
    ]);
    await pullAll(cache, postgresSyncServer(investigator));
    const after = cachedCorrectionReviews(cache);
    expect(after.reviews.at(-1)).toMatchObject({
      reviewId,
      status: 'acknowledged',
      decidedBy: world.people.investigator.id,
      decisionComment: 'Matches the source document',
    });
    expect(after.reviews.at(-1)?.decidedAt).toMatch(/Z$/);
    expect(after.pending).toBe(list.pending - 1);
  });
});

// The workstation's diary event outbox against the real server (0059): a paper transcription made
// in the cache is checked against the study build's diary form there and then, sent through
// public.submit_diary_events as the investigator, and lands exactly once even when the reply to the
// first send is lost; a transcription against an entry that moved on is kept as a conflict with its
// conflict_id (never dropped, never re-sent), the conflict arrives through the diary_conflict stream,
// and a field merge resolves it with both changes on the server.
import { describe, expect, it } from 'vitest';
import {
  diaryConflictView,
  enqueueTranscription,
  flushDiaryEvents,
  listDiaryEvents,
  openDiaryConflicts,
  resolveDiaryConflict,
} from '../../src/main/sync/diaryEventOutbox';
import { postgresSyncServer } from '../../src/main/sync/postgresSyncServer';
import { pullAll } from '../../src/main/sync/pullEngine';
import type { SyncServer } from '../../src/main/sync/syncServer';
import { operatorTransaction } from './support/accessWorld';
import { syncWorld } from './support/syncWorld';

describe('diary event outbox', () => {
  const setup = syncWorld();
  const entry = { event_type: 'epistaxis', date: '2026-03-04', intensity: 'mild' };
  const paper = { pageId: 'PAPER-17', entryDate: '2026-03-04', reason: 'Paper diary handed in at the visit' };
  const serverEvents = async (eventUuid: string) =>
    (
      await setup.db.operator.query(
        `select audit_id::int, operation, created_by::text, source_reference, data from diary.record_audit
          where event_uuid = $1 order by audit_id`,
        [eventUuid],
      )
    ).rows;

  it('checks the form locally, and a transcription whose reply was lost lands exactly once on the next flush [DIARY-OUTBOX]', async () => {
    const { investigator, patient } = setup.world.people;
    const cache = setup.cacheOf(investigator.id);
    const server = postgresSyncServer(setup.world.clients.investigator);
    await pullAll(cache, server);

    // The build's form, from the cache: refused by field before anything is queued.
    expect(() =>
      enqueueTranscription(cache, {
        patientId: patient.id,
        eventUuid: null,
        data: { ...entry, event_type: 'sneezing', duration_minutes: 2000 },
        ...paper,
        reason: ' ',
      }),
    ).toThrow(/Event type must be one of.*Duration \(minutes\) must be at most 1440.*reason is required/);
    expect(listDiaryEvents(cache)).toEqual([]);

    const item = enqueueTranscription(cache, {
      patientId: patient.id,
      eventUuid: null,
      data: entry,
      ...paper,
    });
    expect(item).toMatchObject({ state: 'pending', parentAuditId: null, pageId: 'PAPER-17' });

    // The server commits, the reply is lost on the way back.
    let lostOnce = false;
    const losingReply: SyncServer = {
      ...server,
      submitDiaryEvents: async (events) => {
        const result = await server.submitDiaryEvents(events);
        if (!lostOnce) {
          lostOnce = true;
          throw new Error('Connection terminated unexpectedly');
        }
        return result;
      },
    };
    expect(await flushDiaryEvents(cache, losingReply)).toEqual({
      sent: 0,
      conflicts: 0,
      failed: 0,
      unreachable: true,
    });
    expect(listDiaryEvents(cache).map((pending) => pending.state)).toEqual(['pending']);
    expect(await serverEvents(item.eventUuid)).toHaveLength(1);

    expect(await flushDiaryEvents(cache, server)).toEqual({
      sent: 1,
      conflicts: 0,
      failed: 0,
      unreachable: false,
    });
    const events = await serverEvents(item.eventUuid);
    expect(events).toEqual([
      {
        audit_id: expect.any(Number),
        operation: 'INVESTIGATOR_TRANSCRIPTION',
        created_by: investigator.id,
        source_reference: { page_id: 'PAPER-17', entry_date: '2026-03-04' },
        data: entry,
      },
    ]);
    expect(listDiaryEvents(cache, { includeSent: true })).toMatchObject([
      { id: item.id, state: 'sent', auditId: events[0]?.audit_id },
    ]);
    expect(await flushDiaryEvents(cache, server)).toMatchObject({ sent: 0 });
    expect(await serverEvents(item.eventUuid)).toHaveLength(1);
  });

  it('keeps a conflict with its conflict_id, pulls it, and a field merge puts both changes on the server [DIARY-OUTBOX]', async () => {
    const { investigator, patient } = setup.world.people;
    const cache = setup.cacheOf(investigator.id);
    const server = postgresSyncServer(setup.world.clients.investigator);
    const created = enqueueTranscription(cache, {
      patientId: patient.id,
      eventUuid: null,
      data: entry,
      ...paper,
    });
    await flushDiaryEvents(cache, server);
    await pullAll(cache, server);
    const createdAt = listDiaryEvents(cache, { includeSent: true }).find((i) => i.id === created.id)?.auditId;

    // The investigator amends it offline against page 2; meanwhile the patient updates it.
    const amendment = enqueueTranscription(cache, {
      patientId: patient.id,
      eventUuid: created.eventUuid,
      data: { ...entry, intensity: 'severe' },
      ...paper,
      pageId: 'PAPER-18',
    });
    expect(amendment.parentAuditId).toBe(createdAt);
    const theirsAt = await operatorTransaction(setup.db.operator, { sub: patient.id }, async () => {
      const { rows } = await setup.db.operator.query<{ audit_id: string }>(
        `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp, parent_audit_id, change_reason)
         values ($1, $2, 'A1', 'USER_UPDATE', $3, now(), $4, 'it lasted ten minutes') returning audit_id::text`,
        [created.eventUuid, patient.id, JSON.stringify({ ...entry, duration_minutes: 10 }), createdAt],
      );
      return Number(rows[0]?.audit_id);
    });

    expect(await flushDiaryEvents(cache, server)).toEqual({
      sent: 0,
      conflicts: 1,
      failed: 0,
      unreachable: false,
    });
    const [conflict] = listDiaryEvents(cache);
    expect(conflict).toMatchObject({
      id: amendment.id,
      state: 'conflict',
      conflictId: expect.any(Number),
      currentAuditId: theirsAt,
      currentData: { ...entry, duration_minutes: 10 },
    });
    // Flushing again neither drops nor re-sends it.
    expect(await flushDiaryEvents(cache, server)).toMatchObject({ sent: 0, conflicts: 0 });
    expect(listDiaryEvents(cache)).toHaveLength(1);

    await pullAll(cache, server);
    const pulled = cache
      .prepare('select submitted_by, resolved_at from diary_conflict where conflict_id = ?')
      .get(conflict?.conflictId);
    expect(pulled).toEqual({ submitted_by: investigator.id, resolved_at: null });

    const view = diaryConflictView(cache, conflict?.conflictId as number);
    expect(view).toMatchObject({
      outboxId: amendment.id,
      pageId: 'PAPER-18',
      base: entry,
      theirs: { ...entry, duration_minutes: 10 },
      theirsAuditId: theirsAt,
      fieldsMine: ['intensity'],
      fieldsTheirs: ['duration_minutes'],
      overlapping: [],
    });
    const { auditId } = await resolveDiaryConflict(
      cache,
      server,
      view.conflictId,
      'field_merge',
      view.theirsAuditId,
    );
    const resolved = listDiaryEvents(cache, { includeSent: true }).find((i) => i.id === amendment.id);
    expect(resolved).toMatchObject({ state: 'sent', resolution: 'field_merge', resolutionAuditId: auditId });
    const events = await serverEvents(created.eventUuid);
    expect(events.at(-1)).toMatchObject({
      audit_id: auditId,
      operation: 'INVESTIGATOR_TRANSCRIPTION',
      data: { ...entry, intensity: 'severe', duration_minutes: 10 },
      source_reference: { page_id: 'PAPER-18' },
    });
    await pullAll(cache, server);
    expect(openDiaryConflicts(cache)).toEqual([]);
    expect(
      cache
        .prepare('select resolved_at is not null as closed from diary_conflict where conflict_id = ?')
        .get(conflict?.conflictId),
    ).toEqual({ closed: 1 });
  });
});

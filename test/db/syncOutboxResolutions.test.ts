// The workstation's outbox closing and reopening queries against the real server (0041), offline
// too: a query, a reply to it and its closing made before any was sent, a reopen whose reply was
// lost, a close that someone else beat, and a reply and a close that wait for the annotation they
// refer to.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { beforeAll, describe, expect, it } from 'vitest';
import { cachedDiaryHistory } from '../../src/main/cache/diaryReads';
import {
  enqueueAnnotation,
  enqueueResolution,
  flushOutbox,
  listOutbox,
  resolveOutboxItem,
} from '../../src/main/sync/outbox';
import { postgresSyncServer } from '../../src/main/sync/postgresSyncServer';
import { pullAll } from '../../src/main/sync/pullEngine';
import type { SyncServer } from '../../src/main/sync/syncServer';
import { operatorTransaction } from './support/accessWorld';
import { syncWorld } from './support/syncWorld';

const setup = syncWorld();

const annotationState = async (annotationId: string) =>
  (
    await setup.db.operator.query<{ resolved: boolean }>(
      'select resolved from diary.investigator_annotations where annotation_id = $1',
      [annotationId],
    )
  ).rows[0];
const auditCount = async (eventType: string, annotationId: string) =>
  Number(
    (
      await setup.db.operator.query<{ n: string }>(
        `select count(*) as n from audit.audit_log where event_type = $1 and payload->>'annotation_id' = $2`,
        [eventType, annotationId],
      )
    ).rows[0]?.n,
  );

describe('the outbox closes and reopens queries, offline too [SYNC-OUTBOX]', () => {
  let cache: Database;
  let server: SyncServer;

  beforeAll(async () => {
    cache = setup.cacheOf(setup.world.people.investigator.id);
    server = postgresSyncServer(setup.world.clients.investigator);
    await pullAll(cache, server);
  });

  it('sends a query, a reply to it and its closing, all made before any was sent, in order', async () => {
    const record = setup.world.records.patient2;
    const query = enqueueAnnotation(cache, {
      eventUuid: record.eventUuid,
      kind: 'query',
      text: 'Was the episode on the left side?',
      requiresResponse: true,
    });
    const reply = enqueueAnnotation(cache, {
      eventUuid: record.eventUuid,
      kind: 'note',
      text: 'Patient answered at the visit: left.',
      requiresResponse: false,
      inReplyTo: query.annotationId,
    });
    const close = enqueueResolution(cache, {
      annotationId: query.annotationId as string,
      resolved: true,
      reasonCode: 'answered',
      reasonText: null,
    });
    expect(await flushOutbox(cache, server)).toEqual({
      sent: 3,
      conflicts: 0,
      failed: 0,
      unreachable: false,
    });

    const { rows } = await setup.db.operator.query(
      `select annotation_id::text, annotation_kind, in_reply_to::text, resolved, resolved_by::text
       from diary.investigator_annotations where event_uuid = $1 and client_request_id = any ($2::uuid[])
       order by created_at, annotation_kind desc`,
      [record.eventUuid, [query.clientRequestId, reply.clientRequestId]],
    );
    expect(rows).toEqual([
      {
        annotation_id: query.annotationId,
        annotation_kind: 'query',
        in_reply_to: null,
        resolved: true,
        resolved_by: setup.world.people.investigator.id,
      },
      {
        annotation_id: reply.annotationId,
        annotation_kind: 'note',
        in_reply_to: query.annotationId,
        resolved: false,
        resolved_by: null,
      },
    ]);
    expect(listOutbox(cache, { includeSent: true }).find((item) => item.id === close.id)).toMatchObject({
      state: 'sent',
      kind: 'close',
      annotationId: query.annotationId,
    });

    await pullAll(cache, server);
    const history = cachedDiaryHistory(cache, record.eventUuid);
    const shown = history.annotations.filter((a) =>
      [query.annotationId, reply.annotationId].includes(a.annotationId),
    );
    expect(shown.map((a) => [a.kind, a.resolved, a.fromServer, a.inReplyTo])).toEqual([
      ['query', true, true, null],
      ['note', false, true, query.annotationId],
    ]);
  });

  it('reopens once when the reply to the first send was lost', async () => {
    const [closed] = listOutbox(cache, { includeSent: true }).filter((item) => item.kind === 'close');
    const queryId = closed?.annotationId as string;
    const reopen = enqueueResolution(cache, {
      annotationId: queryId,
      resolved: false,
      reasonCode: null,
      reasonText: null,
    });
    const reopenedBefore = await auditCount('diary.annotation_reopened', queryId);
    let lost = false;
    const losingReply: SyncServer = {
      ...server,
      resolveAnnotation: async (write) => {
        const result = await server.resolveAnnotation(write);
        if (!lost) {
          lost = true;
          throw new Error('Connection terminated unexpectedly');
        }
        return result;
      },
    };
    expect(await flushOutbox(cache, losingReply)).toMatchObject({ sent: 0, unreachable: true });
    expect(listOutbox(cache).map((item) => [item.id, item.state])).toEqual([[reopen.id, 'pending']]);
    expect(await flushOutbox(cache, server)).toEqual({
      sent: 1,
      conflicts: 0,
      failed: 0,
      unreachable: false,
    });
    expect(await annotationState(queryId)).toMatchObject({ resolved: false });
    expect(await auditCount('diary.annotation_reopened', queryId)).toBe(reopenedBefore + 1);
    const requests = await setup.db.operator.query(
      'select 1 from diary.annotation_resolutions where request_id = $1',
      [reopen.clientRequestId],
    );
    expect(requests.rows).toHaveLength(1);
  });

  it('keeps a close that someone else beat as a conflict, never resends it, and records a discard', async () => {
    await pullAll(cache, server);
    const query = setup.world.rows.annotation.in;
    const close = enqueueResolution(cache, {
      annotationId: query,
      resolved: true,
      reasonCode: 'answered',
      reasonText: null,
    });
    // Meanwhile another session of the investigator closes it on the server.
    await operatorTransaction(setup.db.operator, { sub: setup.world.people.investigator.id }, () =>
      setup.db.operator.query(
        'update diary.investigator_annotations set resolved = true where annotation_id = $1',
        [query],
      ),
    );
    expect(await flushOutbox(cache, server)).toEqual({
      sent: 0,
      conflicts: 1,
      failed: 0,
      unreachable: false,
    });
    expect(listOutbox(cache)).toMatchObject([
      {
        id: close.id,
        state: 'conflict',
        problem: expect.stringMatching(/already closed.*someone else closed it first/),
      },
    ]);
    expect(await flushOutbox(cache, server)).toEqual({
      sent: 0,
      conflicts: 0,
      failed: 0,
      unreachable: false,
    });
    expect(resolveOutboxItem(cache, close.id, 'discard')).toMatchObject({ state: 'discarded' });
    expect(listOutbox(cache)).toEqual([]);
    expect(listOutbox(cache, { includeSent: true }).find((item) => item.id === close.id)?.state).toBe(
      'discarded',
    );
  });

  it('holds a reply and a close until the annotation they refer to is on the server', async () => {
    await pullAll(cache, server);
    const record = setup.world.records.in;
    const head = (
      await setup.db.operator.query<{ last: string }>(
        'select last_audit_id::text as last from diary.record_state where event_uuid = $1',
        [record.eventUuid],
      )
    ).rows[0]?.last as string;
    const first = enqueueAnnotation(cache, {
      eventUuid: record.eventUuid,
      kind: 'query',
      text: 'Is the intensity right?',
      requiresResponse: true,
    });
    const reply = enqueueAnnotation(cache, {
      eventUuid: record.eventUuid,
      kind: 'note',
      text: 'Answer for the record.',
      requiresResponse: false,
      inReplyTo: first.annotationId,
    });
    const close = enqueueResolution(cache, {
      annotationId: first.annotationId as string,
      resolved: true,
      reasonCode: 'answered',
      reasonText: null,
    });
    // The patient changes the record on the server before any of them is sent.
    await operatorTransaction(setup.db.operator, { sub: setup.world.people.patient.id }, () =>
      setup.db.operator.query(
        `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp, parent_audit_id, change_reason)
         values ($1, $2, 'A1', 'USER_UPDATE', '{"event_type":"headache","date":"2026-03-02","intensity":"severe"}', now(), $3, 'felt worse')`,
        [record.eventUuid, setup.world.people.patient.id, head],
      ),
    );
    expect(await flushOutbox(cache, server)).toEqual({
      sent: 0,
      conflicts: 1,
      failed: 0,
      unreachable: false,
    });
    expect(listOutbox(cache).map((item) => [item.id, item.state, item.problem])).toEqual([
      [first.id, 'conflict', expect.stringMatching(/moved on/)],
      [reply.id, 'pending', `Waits for outbox item ${first.id} (conflict) to reach the server.`],
      [close.id, 'pending', `Waits for outbox item ${first.id} (conflict) to reach the server.`],
    ]);

    // The investigator reads the new entry and sends the query against it: the reply, made on the
    // old entry, is a conflict in turn; the close goes through.
    await pullAll(cache, server);
    resolveOutboxItem(cache, first.id, 'rebase');
    expect(await flushOutbox(cache, server)).toEqual({
      sent: 2,
      conflicts: 1,
      failed: 0,
      unreachable: false,
    });
    resolveOutboxItem(cache, reply.id, 'rebase');
    expect(await flushOutbox(cache, server)).toEqual({
      sent: 1,
      conflicts: 0,
      failed: 0,
      unreachable: false,
    });
    const { rows } = await setup.db.operator.query(
      `select annotation_id::text, in_reply_to::text, resolved from diary.investigator_annotations
       where annotation_id = any ($1::uuid[]) order by in_reply_to nulls first`,
      [[first.annotationId, reply.annotationId]],
    );
    expect(rows).toEqual([
      { annotation_id: first.annotationId, in_reply_to: null, resolved: true },
      { annotation_id: reply.annotationId, in_reply_to: first.annotationId, resolved: false },
    ]);
  });
});

// Offline writes and the audit chain against the real server: annotations made in the cache reach
// the server in order and exactly once (a resend after a lost reply included); an annotation on a
// record that moved on is kept as a conflict, then re-sent once resolved; the chain verifies, and a
// tampered server row and a tampered cached row are each reported by their sequence number.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cachedRecordTrail } from '../../src/main/cache/cacheReads';
import { verifyChainFrom } from '../../src/main/sync/chainVerifier';
import { enqueueAnnotation, flushOutbox, listOutbox, resolveOutboxItem } from '../../src/main/sync/outbox';
import { postgresSyncServer } from '../../src/main/sync/postgresSyncServer';
import { pullAll } from '../../src/main/sync/pullEngine';
import type { SyncServer } from '../../src/main/sync/syncServer';
import { operatorTransaction } from './support/accessWorld';
import { syncWorld } from './support/syncWorld';

describe('outbox and audit chain', () => {
  const setup = syncWorld();
  const patientUpdates = (eventUuid: string, parentAuditId: string) =>
    operatorTransaction(setup.db.operator, { sub: setup.world.people.patient.id }, async () => {
      const { rows } = await setup.db.operator.query<{ audit_id: string }>(
        `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp, parent_audit_id, change_reason)
         values ($1, $2, 'A1', 'USER_UPDATE', '{"event_type":"headache","date":"2026-03-02","intensity":"severe"}', now(), $3, 'worse today')
         returning audit_id::text`,
        [eventUuid, setup.world.people.patient.id, parentAuditId],
      );
      return rows[0]?.audit_id as string;
    });

  it('sends offline annotations in order, each exactly once, and keeps a conflict until it is resolved [SYNC-OUTBOX]', async () => {
    const investigator = setup.world.people.investigator;
    const cache = setup.cacheOf(investigator.id);
    const server = postgresSyncServer(setup.world.clients.investigator);
    await pullAll(cache, server);
    const record = setup.world.records.in;
    const other = setup.world.records.patient2;

    // Offline: three annotations, while the patient updates one of the records on the server.
    const first = enqueueAnnotation(cache, {
      eventUuid: other.eventUuid,
      kind: 'query',
      text: 'Confirm the dose?',
      requiresResponse: true,
    });
    const stale = enqueueAnnotation(cache, {
      eventUuid: record.eventUuid,
      kind: 'note',
      text: 'Looks consistent.',
      requiresResponse: false,
    });
    const third = enqueueAnnotation(cache, {
      eventUuid: other.eventUuid,
      kind: 'note',
      text: 'Second note.',
      requiresResponse: false,
    });
    expect(stale.parentAuditId).toBe(Number(record.auditId));
    const newHead = await patientUpdates(record.eventUuid, record.auditId);

    // The first send lands on the server but its reply is lost.
    let lostOnce = false;
    const losingReply: SyncServer = {
      ...server,
      annotate: async (write) => {
        const result = await server.annotate(write);
        if (!lostOnce) {
          lostOnce = true;
          throw Object.assign(new Error('Connection terminated unexpectedly'), {});
        }
        return result;
      },
    };
    const interrupted = await flushOutbox(cache, losingReply);
    expect(interrupted).toEqual({ sent: 0, conflicts: 0, failed: 0, unreachable: true });
    expect(listOutbox(cache).map((item) => item.state)).toEqual(['pending', 'pending', 'pending']);

    const flushed = await flushOutbox(cache, server);
    expect(flushed).toEqual({ sent: 2, conflicts: 1, failed: 0, unreachable: false });
    const onServer = await setup.db.operator.query<{ client_request_id: string; annotation_text: string }>(
      `select client_request_id::text, annotation_text from diary.investigator_annotations
       where client_request_id is not null order by created_at, annotation_id`,
    );
    expect(onServer.rows).toEqual([
      { client_request_id: first.clientRequestId, annotation_text: 'Confirm the dose?' },
      { client_request_id: third.clientRequestId, annotation_text: 'Second note.' },
    ]);

    const [conflict] = listOutbox(cache);
    expect(conflict).toMatchObject({
      id: stale.id,
      state: 'conflict',
      currentAuditId: Number(newHead),
      problem: expect.stringMatching(/moved on/),
    });
    // Flushing again neither drops nor re-sends the conflict.
    expect(await flushOutbox(cache, server)).toEqual({
      sent: 0,
      conflicts: 0,
      failed: 0,
      unreachable: false,
    });
    expect(listOutbox(cache)).toHaveLength(1);

    await pullAll(cache, server);
    expect(resolveOutboxItem(cache, stale.id, 'rebase')).toMatchObject({
      state: 'pending',
      parentAuditId: Number(newHead),
    });
    expect(await flushOutbox(cache, server)).toMatchObject({ sent: 1 });
    const rebased = await setup.db.operator.query(
      'select parent_audit_id::text from diary.investigator_annotations where client_request_id = $1',
      [stale.clientRequestId],
    );
    expect(rebased.rows).toEqual([{ parent_audit_id: newHead }]);
    expect(listOutbox(cache)).toEqual([]);
    expect(listOutbox(cache, { includeSent: true }).map((item) => item.state)).toEqual([
      'sent',
      'sent',
      'sent',
    ]);

    // The next sync brings the investigator's own annotations into the cache.
    await pullAll(cache, server);
    const cachedIds = cache
      .prepare('select client_request_id from annotation where client_request_id is not null')
      .all();
    expect(cachedIds).toHaveLength(3);
  });

  it('answers a resend of an annotation that already landed with the same row, even if the record moved on [SYNC-OUTBOX]', async () => {
    const requestId = randomUUID();
    const record = setup.world.records.patient2;
    const { rows: head } = await setup.db.operator.query<{ last: string }>(
      'select last_audit_id::text as last from diary.record_state where event_uuid = $1',
      [record.eventUuid],
    );
    const send = () =>
      setup.world.clients.investigator.query(
        `insert into diary.investigator_annotations (event_uuid, parent_audit_id, patient_id, investigator_id, site_id,
           annotation_kind, annotation_text, client_request_id)
         values ($1, $2, auth.uid(), auth.uid(), 'A1', 'note', 'once', $3)`,
        [record.eventUuid, head[0]?.last, requestId],
      );
    await send();
    await expect(send()).rejects.toMatchObject({
      code: '23505',
      constraint: 'investigator_annotations_client_request_id_key',
    });
  });

  it('verifies the chain and names the first bad entry of a tampered server row and of a tampered cached row [SYNC-CHAIN-VERIFY, CFR-11.10a]', async () => {
    const inspector = setup.world.people.inspector;
    const cache = setup.cacheOf(inspector.id);
    const server = postgresSyncServer(setup.world.clients.inspector);
    await pullAll(cache, server);
    const clean = verifyChainFrom(cache);
    const { rows: max } = await setup.db.operator.query<{ seq: string }>(
      'select max(seq)::text as seq from audit.audit_log',
    );
    expect(clean).toMatchObject({ ok: true, firstBadSeq: null, verifiedThroughSeq: Number(max[0]?.seq) });
    expect(verifyChainFrom(cache)).toMatchObject({ ok: true, checked: 0 }); // incremental: nothing new

    // New entries on the server; one of them is then altered by a superuser, bypassing the triggers.
    const newHead = await patientUpdates(
      setup.world.records.in.eventUuid,
      (
        await setup.db.operator.query<{ last: string }>(
          'select last_audit_id::text as last from diary.record_state where event_uuid = $1',
          [setup.world.records.in.eventUuid],
        )
      ).rows[0]?.last as string,
    );
    expect(newHead).toBeTruthy();
    const { rows: tail } = await setup.db.operator.query<{ seq: string }>(
      'select max(seq)::text as seq from audit.audit_log',
    );
    const tampered = Number(tail[0]?.seq);
    await setup.db.operator.query('begin');
    await setup.db.operator.query('set local session_replication_role = replica');
    await setup.db.operator.query(
      `update audit.audit_log set payload = payload || '{"operation":"USER_DELETE"}' where seq = $1`,
      [tampered],
    );
    await setup.db.operator.query('commit');

    await pullAll(cache, server);
    expect(verifyChainFrom(cache)).toMatchObject({
      ok: false,
      firstBadSeq: tampered,
      verifiedThroughSeq: tampered - 1,
      problem: expect.stringMatching(/payload/),
    });
    // A fresh cache of another reader (the admin) sees the same break from genesis.
    const adminCache = setup.cacheOf(setup.world.people.admin.id);
    await pullAll(adminCache, postgresSyncServer(setup.world.clients.admin));
    expect(verifyChainFrom(adminCache)).toMatchObject({ ok: false, firstBadSeq: tampered });

    // A cached row edited in the (decrypted) cache: a full verification finds it.
    const cachedVictim = 5;
    adminCache.prepare(`update audit_log set actor = 'someone-else' where seq = ?`).run(cachedVictim);
    expect(verifyChainFrom(adminCache, { fromGenesis: true })).toMatchObject({
      ok: false,
      firstBadSeq: cachedVictim,
      problem: expect.stringMatching(/entry hash/),
    });
  });

  it('verifies one record trail: its events, its signatures and their place in the chain [SYNC-CHAIN-VERIFY]', async () => {
    const cache = setup.cacheOf(`${setup.world.people.admin.id}-cache-9`);
    await pullAll(cache, postgresSyncServer(setup.world.clients.admin));
    verifyChainFrom(cache);
    const trail = cachedRecordTrail(cache, setup.world.rows.staging.in);
    expect(trail.found).toBe(true);
    expect(trail.chain.map((entry) => entry.eventType)).toContain('staging.proposed');
    expect(trail.chain.every((entry) => entry.hashesOk)).toBe(true);
    expect(trail.signatures).toHaveLength(1);
    expect(trail.signatures[0]).toMatchObject({ id: setup.world.rows.signature.in, inChain: true });

    cache
      .prepare(`update signature_event set doc = json_set(doc, '$.content_hash', ?) where id = ?`)
      .run('f'.repeat(64), setup.world.rows.signature.in);
    const broken = cachedRecordTrail(cache, setup.world.rows.staging.in);
    expect(broken.ok).toBe(false);
    expect(broken.problems).toContain(
      `signature ${setup.world.rows.signature.in} has no matching entry in the audit chain`,
    );
  });
});

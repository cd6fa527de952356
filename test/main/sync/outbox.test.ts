// The outbox's close / reopen items and what it checks in the cache, against a scripted server:
// what is sent (and in which terms), how each answer is recorded (a resend that already landed is
// sent; a conflict is kept and not resent; a lost connection leaves everything pending in order),
// and an upgrade of a version 1 cache that keeps every outbox row as it was.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import DatabaseConstructor, { type Database } from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheSchemaVersion } from '../../../src/main/cache/cacheMigrations';
import { updateToSchemaVersion1 } from '../../../src/main/cache/migrations/0001_initial';
import { openCache } from '../../../src/main/cache/openCache';
import {
  enqueueAnnotation,
  enqueueResolution,
  flushOutbox,
  listOutbox,
  outboxItem,
  resolveOutboxItem,
} from '../../../src/main/sync/outbox';
import type { AnnotationWrite, ResolutionWrite, SyncServer } from '../../../src/main/sync/syncServer';

const me = '11111111-1111-4111-8111-111111111111';
const backendId = 'abcdefabcdefabcd';
const key = Buffer.alloc(32, 9);
const record = 'bbbbbbbb-0000-4000-8000-000000000001';
const openQuery = 'cccccccc-0000-4000-8000-000000000001';
const closedQuery = 'cccccccc-0000-4000-8000-000000000002';

function seed(db: Database) {
  db.prepare(
    `insert into record_state (event_uuid, patient_id, site_id, current_data, version, last_audit_id, is_deleted, sync_xid)
     values (?, ?, 'S1', '{}', 1, 10, 0, 1)`,
  ).run(record, me);
  const annotation = db.prepare(
    'insert into annotation (annotation_id, event_uuid, parent_audit_id, client_request_id, doc, sync_xid) values (?, ?, 10, null, ?, 1)',
  );
  annotation.run(openQuery, record, JSON.stringify({ annotation_kind: 'query', resolved: false }));
  annotation.run(closedQuery, record, JSON.stringify({ annotation_kind: 'query', resolved: true }));
}

/** A server that answers each write with the next scripted outcome, and records what it got. */
function scriptedServer(outcomes: (Error | { replayed: boolean })[]) {
  const sent: { method: string; write: AnnotationWrite | ResolutionWrite }[] = [];
  const answer = async (method: string, write: AnnotationWrite | ResolutionWrite) => {
    sent.push({ method, write });
    const outcome = outcomes.shift() ?? { replayed: false };
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  const unused = async (): Promise<never> => {
    throw new Error('not a call the outbox makes');
  };
  const server: SyncServer = {
    transport: 'postgres',
    start: unused,
    count: unused,
    page: unused,
    keys: unused,
    people: unused,
    annotate: async (write) => ({
      ...(await answer('annotate', write)),
      annotationId: write.annotationId ?? 'dddddddd-0000-4000-8000-000000000001',
    }),
    resolveAnnotation: (write) => answer('resolveAnnotation', write),
    submitDiaryEvents: unused,
    resolveDiaryConflict: unused,
  };
  return { server, sent };
}
const pgError = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(extra.message ? String(extra.message) : code), { code, ...extra });

describe('outbox: close and reopen [SYNC-OUTBOX]', () => {
  let dir: string;
  let db: Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-outbox-'));
    db = openCache({ path: join(dir, 'c.sqlite'), key, userId: me, backendId });
    seed(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses what cannot be right in the cache: unknown annotations, a state already asked for', () => {
    expect(() =>
      enqueueResolution(db, {
        annotationId: '99999999-0000-4000-8000-000000000009',
        resolved: true,
        reasonCode: 'answered',
        reasonText: null,
      }),
    ).toThrow(/not in your cache/);
    expect(() =>
      enqueueResolution(db, {
        annotationId: closedQuery,
        resolved: true,
        reasonCode: 'answered',
        reasonText: null,
      }),
    ).toThrow(/already closed/);
    expect(() =>
      enqueueResolution(db, { annotationId: openQuery, resolved: false, reasonCode: null, reasonText: null }),
    ).toThrow(/already open/);
    enqueueResolution(db, {
      annotationId: openQuery,
      resolved: true,
      reasonCode: 'answered',
      reasonText: null,
    });
    expect(() =>
      enqueueResolution(db, {
        annotationId: openQuery,
        resolved: true,
        reasonCode: 'answered',
        reasonText: null,
      }),
    ).toThrow(/already closed/);
    // ...but reopening what waits to be closed is a new decision, kept in order.
    expect(
      enqueueResolution(db, { annotationId: openQuery, resolved: false, reasonCode: null, reasonText: null }),
    ).toMatchObject({
      kind: 'reopen',
    });
    expect(() =>
      enqueueAnnotation(db, {
        eventUuid: record,
        kind: 'note',
        text: 'reply',
        requiresResponse: false,
        inReplyTo: '99999999-0000-4000-8000-000000000009',
      }),
    ).toThrow(/same diary record/);
  });

  it('picks the annotation id when it is made, so it can be answered and closed before it is sent', () => {
    const query = enqueueAnnotation(db, {
      eventUuid: record,
      kind: 'query',
      text: 'Q?',
      requiresResponse: true,
    });
    expect(query.annotationId).toMatch(/^[0-9a-f-]{36}$/);
    const reply = enqueueAnnotation(db, {
      eventUuid: record,
      kind: 'note',
      text: 'A.',
      requiresResponse: false,
      inReplyTo: query.annotationId,
    });
    const close = enqueueResolution(db, {
      annotationId: query.annotationId as string,
      resolved: true,
      reasonCode: 'answered',
      reasonText: null,
    });
    expect([reply.inReplyTo, close.annotationId, close.eventUuid, close.text]).toEqual([
      query.annotationId,
      query.annotationId,
      record,
      '',
    ]);
  });

  it('sends a close as a request keyed by its request id, and records each answer', async () => {
    const landed = enqueueResolution(db, {
      annotationId: openQuery,
      resolved: true,
      reasonCode: 'answered',
      reasonText: null,
    });
    const resent = enqueueResolution(db, {
      annotationId: openQuery,
      resolved: false,
      reasonCode: null,
      reasonText: null,
    });
    const beaten = enqueueResolution(db, {
      annotationId: closedQuery,
      resolved: false,
      reasonCode: null,
      reasonText: null,
    });
    const refused = enqueueResolution(db, {
      annotationId: closedQuery,
      resolved: true,
      reasonCode: 'answered',
      reasonText: null,
    });
    const { server, sent } = scriptedServer([
      { replayed: false },
      // Landed before, its reply lost: the server answers the resend as a replay.
      { replayed: true },
      pgError('CS409', {
        message: `annotation ${closedQuery} is already open`,
        detail: '{"current_resolved":false}',
      }),
      pgError('42501', {
        message: 'only an investigator with full access at site S1 may close or reopen its queries',
      }),
    ]);
    expect(await flushOutbox(db, server, () => new Date('2025-02-01T10:00:00Z'))).toEqual({
      sent: 2,
      conflicts: 1,
      failed: 1,
      unreachable: false,
    });
    expect(sent.map((call) => call.method)).toEqual([
      'resolveAnnotation',
      'resolveAnnotation',
      'resolveAnnotation',
      'resolveAnnotation',
    ]);
    // The reason goes with the request (0051): the close's, and none for this reopen.
    expect(sent[0]?.write).toEqual({
      requestId: landed.clientRequestId,
      annotationId: openQuery,
      eventUuid: record,
      siteId: 'S1',
      resolved: true,
      reasonCode: 'answered',
      reasonText: null,
    });
    expect(sent[1]?.write).toEqual({
      requestId: resent.clientRequestId,
      annotationId: openQuery,
      eventUuid: record,
      siteId: 'S1',
      resolved: false,
      reasonCode: null,
      reasonText: null,
    });
    expect(outboxItem(db, landed.id)).toMatchObject({
      state: 'sent',
      sentAt: '2025-02-01T10:00:00.000Z',
      attempts: 1,
    });
    expect(outboxItem(db, resent.id)).toMatchObject({ state: 'sent', annotationId: openQuery });
    expect(outboxItem(db, beaten.id)).toMatchObject({
      state: 'conflict',
      problem: expect.stringMatching(/already open: someone else reopened it first/),
    });
    expect(outboxItem(db, refused.id)).toMatchObject({
      state: 'failed',
      problem: expect.stringMatching(/full access/),
    });

    // Kept, not resent: the next flush sends nothing.
    const again = scriptedServer([]);
    expect(await flushOutbox(db, again.server)).toEqual({
      sent: 0,
      conflicts: 0,
      failed: 0,
      unreachable: false,
    });
    expect(again.sent).toEqual([]);
    expect(resolveOutboxItem(db, beaten.id, 'rebase')).toMatchObject({ state: 'pending', problem: null });
    expect(resolveOutboxItem(db, refused.id, 'discard')).toMatchObject({ state: 'discarded' });
    expect(listOutbox(db).map((item) => item.id)).toEqual([beaten.id]);
  });

  it('stops at a lost connection and keeps the rest pending, in order', async () => {
    const first = enqueueResolution(db, {
      annotationId: openQuery,
      resolved: true,
      reasonCode: 'answered',
      reasonText: null,
    });
    const second = enqueueAnnotation(db, {
      eventUuid: record,
      kind: 'note',
      text: 'n',
      requiresResponse: false,
    });
    const { server, sent } = scriptedServer([pgError('ECONNREFUSED')]);
    expect(await flushOutbox(db, server)).toMatchObject({ sent: 0, unreachable: true });
    expect(sent).toHaveLength(1);
    expect(listOutbox(db).map((item) => [item.id, item.state])).toEqual([
      [first.id, 'pending'],
      [second.id, 'pending'],
    ]);
  });

  it('fails a reply whose annotation was discarded, and says which one', async () => {
    const query = enqueueAnnotation(db, {
      eventUuid: record,
      kind: 'query',
      text: 'Q?',
      requiresResponse: true,
    });
    const close = enqueueResolution(db, {
      annotationId: query.annotationId as string,
      resolved: true,
      reasonCode: 'answered',
      reasonText: null,
    });
    db.prepare(`update outbox set state = 'discarded' where id = ?`).run(query.id);
    const { server, sent } = scriptedServer([]);
    expect(await flushOutbox(db, server)).toMatchObject({ failed: 1 });
    expect(sent).toEqual([]);
    expect(outboxItem(db, close.id)).toMatchObject({
      state: 'failed',
      problem: `It refers to outbox item ${query.id}, which was discarded.`,
    });
  });
});

describe('cache schema 2 [SYNC-OUTBOX]', () => {
  it('upgrades a version 1 cache and keeps every outbox row as it was', () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-outbox-v1-'));
    const path = join(dir, 'c.sqlite');
    try {
      const raw = new DatabaseConstructor(path);
      raw.pragma(`cipher = 'aegis'`);
      raw.pragma(`hexkey = '${key.toString('hex')}'`);
      raw.transaction(() => {
        updateToSchemaVersion1(raw);
        raw.pragma('user_version = 1');
      })();
      raw
        .prepare('insert into cache_owner (id, user_id, backend_id, created_at) values (1, ?, ?, ?)')
        .run(me, backendId, '2025-01-01T00:00:00Z');
      raw
        .prepare(
          `insert into outbox (client_request_id, kind, event_uuid, parent_audit_id, in_reply_to, annotation_text,
             requires_response, state, created_at, attempts)
           values ('dddddddd-0000-4000-8000-000000000001', 'query', ?, 10, null, 'made in version 1', 1, 'conflict', '2025-01-02T00:00:00Z', 2)`,
        )
        .run(record);
      raw.close();

      const db = openCache({ path, key, userId: me, backendId });
      try {
        expect(db.pragma('user_version', { simple: true })).toBe(cacheSchemaVersion);
        expect(listOutbox(db)).toMatchObject([
          {
            id: 1,
            kind: 'query',
            text: 'made in version 1',
            state: 'conflict',
            annotationId: null,
            attempts: 2,
            createdAt: '2025-01-02T00:00:00Z',
          },
        ]);
        expect(db.prepare('select count(*) as n from enrolment').get()).toEqual({ n: 0 });
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

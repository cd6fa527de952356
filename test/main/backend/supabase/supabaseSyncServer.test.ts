// The hosted SyncServer against a fake Supabase: what each method sends (one RPC of 0061, 0052 or
// 0059, the cursor as its arguments), that a page out of cursor order or longer than asked is never
// handed on, that failures keep the direct mode's shape (a CS409's code and JSON detail, a 23505's
// constraint, no answer as a connection error), and that a token refused in flight is renewed once
// and the same request sent again, while a renewal that fails ends the sync without a retry loop.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SupabaseSession } from '../../../../src/main/backend/supabase/supabaseSession';
import { HostedRequestError } from '../../../../src/main/backend/supabase/supabaseSyncServer';
import { openCache } from '../../../../src/main/cache/openCache';
import { pullAll } from '../../../../src/main/sync/pullEngine';
import { isConnectionError } from '../../../../src/main/sync/serverReader';
import { type StreamDefinition, streamDefinitions } from '../../../../src/main/sync/streamDefinitions';
import { type SyncCursor, SyncSessionExpiredError } from '../../../../src/main/sync/syncServer';
import {
  FakeSupabase,
  fakeAnonKey,
  fakeUrl,
  postgrestDetailedReply,
  postgrestErrorReply,
} from './fakeSupabase';

const project = { url: fakeUrl, anonKey: fakeAnonKey };
const sessions: SupabaseSession[] = [];

async function hosted(fake: FakeSupabase) {
  const session = await SupabaseSession.signIn(project, fake.email, fake.password, fake.totpCode, {
    fetch: fake.fetch,
    autoRefreshToken: false,
  });
  sessions.push(session);
  return session.syncServer();
}

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
});

function stream(name: string): StreamDefinition {
  const found = streamDefinitions.find((s) => s.name === name);
  if (!found) throw new Error(`no stream ${name}`);
  return found;
}
const staging = stream('staging_record'); // uuid key
const site = stream('site'); // text key
const auditLog = stream('audit_log'); // seq

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const cursorAt = (lastXid: string, lastKey: string, initialBelow: string | null = null): SyncCursor => ({
  lastXid,
  lastKey,
  initialBelow,
});

describe('hosted sync server: requests [HOSTED-SYNC-RPC]', () => {
  it('sends each method as its RPC with the cursor as arguments, and reads the answers', async () => {
    const fake = new FakeSupabase()
      .onRpc('sync_start', () => ({ status: 200, body: { horizon: '812', fingerprint: 'role:qa:*' } }))
      .onRpc('sync_counts', () => ({
        status: 200,
        body: { staging_record: { rows: 3, all: null }, enrolment: { rows: 0, all: 7 } },
      }))
      .onRpc('sync_page', () => ({
        status: 200,
        body: [
          { sync_xid: '700', id: uuid(2) },
          { sync_xid: '701', id: uuid(1) },
        ],
      }))
      .onRpc('sync_keys', () => ({ status: 200, body: ['S1', 'S2'] }))
      .onRpc('people_directory', () => ({ status: 200, body: [{ user_id: uuid(9), printed_name: 'Q A' }] }))
      .onRpc('submit_annotation', () => ({ status: 200, body: { annotation_id: uuid(5), replayed: true } }))
      .onRpc('submit_annotation_resolution', () => ({ status: 200, body: { replayed: false } }))
      .onRpc('submit_diary_events', () => ({ status: 200, body: { accepted: 1 } }))
      .onRpc('resolve_diary_conflict', () => ({ status: 200, body: { audit_id: 44 } }));
    const server = await hosted(fake);
    expect(server.transport).toBe('hosted');

    expect(await server.start()).toEqual({ horizon: '812', fingerprint: 'role:qa:*' });

    const enrolment = stream('enrolment');
    const counts = await server.count(
      [staging, enrolment],
      new Map([
        ['staging_record', cursorAt('600', uuid(1))],
        ['enrolment', cursorAt('0', uuid(0), '812')],
      ]),
    );
    expect(fake.rpcCalls('sync_counts').at(-1)?.body).toEqual({
      cursors: [
        { stream: 'staging_record', after_xid: '600', after_key: uuid(1), below: null },
        { stream: 'enrolment', after_xid: '0', after_key: uuid(0), below: '812' },
      ],
    });
    expect(counts).toEqual(
      new Map([
        ['staging_record', { rows: 3, all: null }],
        ['enrolment', { rows: 0, all: 7 }],
      ]),
    );

    const rows = await server.page(staging, cursorAt('600', uuid(9)), 500);
    expect(rows.map((row) => row.id)).toEqual([uuid(2), uuid(1)]);
    expect(fake.rpcCalls('sync_page').at(-1)?.body).toEqual({
      stream: 'staging_record',
      after_xid: '600',
      after_key: uuid(9),
      below: null,
      page_size: 500,
    });

    expect(await server.keys(site)).toEqual(['S1', 'S2']);
    expect(fake.rpcCalls('sync_keys').at(-1)?.body).toEqual({ stream: 'site' });
    expect(await server.people()).toEqual([{ user_id: uuid(9), printed_name: 'Q A' }]);

    expect(
      await server.annotate({
        clientRequestId: uuid(20),
        annotationId: uuid(5),
        eventUuid: uuid(21),
        parentAuditId: 17,
        siteId: 'S1',
        kind: 'query',
        text: 'Please check the dose',
        requiresResponse: true,
        inReplyTo: null,
      }),
    ).toEqual({ annotationId: uuid(5), replayed: true });
    expect(fake.rpcCalls('submit_annotation').at(-1)?.body).toEqual({
      request_id: uuid(20),
      chosen_id: uuid(5),
      record_uuid: uuid(21),
      parent_audit: 17,
      site: 'S1',
      kind: 'query',
      note: 'Please check the dose',
      needs_response: true,
      reply_to: null,
    });

    expect(
      await server.resolveAnnotation({
        requestId: uuid(30),
        annotationId: uuid(5),
        eventUuid: uuid(21),
        siteId: 'S1',
        resolved: true,
        reasonCode: 'answered',
        reasonText: null,
      }),
    ).toEqual({ replayed: false });
    expect(fake.rpcCalls('submit_annotation_resolution').at(-1)?.body).toEqual({
      request_id: uuid(30),
      annotation: uuid(5),
      record_uuid: uuid(21),
      site: 'S1',
      resolved: true,
      reason_code: 'answered',
      reason_text: null,
    });

    const events = [{ client_request_id: uuid(40), op: 'create' }];
    expect(await server.submitDiaryEvents(events)).toEqual({ accepted: 1 });
    expect(fake.rpcCalls('submit_diary_events').at(-1)?.body).toEqual({ events });
    expect(await server.resolveDiaryConflict(12, 'keep_mine', 40)).toEqual({ audit_id: 44 });
    expect(fake.rpcCalls('resolve_diary_conflict').at(-1)?.body).toEqual({
      conflict_id: 12,
      strategy: 'keep_mine',
      seen_audit_id: 40,
    });
    // The person's token on every call, never the anon key alone.
    expect(
      fake.rpcCalls().every((call) => call.headers.authorization === `Bearer ${fake.tokens.at(-1)}`),
    ).toBe(true);
  });

  it('sends a first pull with its horizon, and reads an audit_log page by seq', async () => {
    const fake = new FakeSupabase().onRpc('sync_page', (args) => ({
      status: 200,
      body:
        args.stream === 'audit_log'
          ? [{ seq: '11' }, { seq: '12' }]
          : [
              { sync_xid: '90', id: uuid(3) },
              { sync_xid: '12', id: uuid(4) },
            ],
    }));
    const server = await hosted(fake);
    const first = await server.page(staging, cursorAt('0', uuid(2), '100'), 2);
    expect(first).toHaveLength(2);
    expect(fake.rpcCalls('sync_page').at(-1)?.body).toMatchObject({ after_key: uuid(2), below: '100' });
    expect(await server.page(auditLog, cursorAt('0', '10'), 2)).toEqual([{ seq: '11' }, { seq: '12' }]);
  });
});

describe('hosted sync server: a page is a list no longer than asked [HOSTED-SYNC-PAGE-ORDER]', () => {
  async function served(body: unknown) {
    const fake = new FakeSupabase().onRpc('sync_page', () => ({ status: 200, body }));
    return hosted(fake);
  }

  it('refuses a page longer than asked and an answer that is not a list of rows', async () => {
    // (The rows' cursor order is the engine's to check, whichever transport: pullPageOrder.test.ts.)
    const long = await served([
      { sync_xid: '700', id: uuid(1) },
      { sync_xid: '701', id: uuid(2) },
      { sync_xid: '702', id: uuid(3) },
    ]);
    await expect(long.page(staging, cursorAt('600', uuid(0)), 2)).rejects.toThrow(
      /3 rows where 2 were asked/,
    );
    const notRows = await served({ rows: [] });
    await expect(notRows.page(staging, cursorAt('600', uuid(0)), 10)).rejects.toThrow(/not a list of rows/);
  });
});

describe('hosted sync server: errors in the direct mode shape [HOSTED-SYNC-ERRORS]', () => {
  it('keeps a CS409 as code and JSON detail for the outbox, not as a message for the person', async () => {
    const detail = JSON.stringify({ current_audit_id: 41, current_data: { dose: 2 } });
    const fake = new FakeSupabase().onRpc('resolve_diary_conflict', () =>
      postgrestDetailedReply(409, 'CS409', 'the record changed since you saw it', detail, 'sync first'),
    );
    const server = await hosted(fake);
    const failure = await server.resolveDiaryConflict(3, 'keep_mine', 40).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HostedRequestError);
    expect(failure).toMatchObject({
      code: 'CS409',
      detail,
      hint: 'sync first',
      message: 'the record changed since you saw it',
    });
    expect(JSON.parse((failure as HostedRequestError).detail ?? '')).toMatchObject({ current_audit_id: 41 });
    expect(isConnectionError(failure)).toBe(false);
  });

  it('names the unique constraint of a 23505, and keeps a refusal (42501) as its code', async () => {
    const fake = new FakeSupabase()
      .onRpc('submit_annotation', () =>
        postgrestDetailedReply(
          409,
          '23505',
          'duplicate key value violates unique constraint "investigator_annotations_client_request_id_key"',
          'Key (client_request_id)=(x) already exists.',
        ),
      )
      .onRpc('submit_annotation_resolution', () =>
        postgrestErrorReply(403, '42501', 'new row violates row-level security policy'),
      );
    const server = await hosted(fake);
    const write = {
      clientRequestId: uuid(1),
      annotationId: null,
      eventUuid: uuid(2),
      parentAuditId: 1,
      siteId: 'S1',
      kind: 'note',
      text: 'n',
      requiresResponse: false,
      inReplyTo: null,
    };
    await expect(server.annotate(write)).rejects.toMatchObject({
      code: '23505',
      constraint: 'investigator_annotations_client_request_id_key',
    });
    await expect(
      server.resolveAnnotation({
        requestId: uuid(3),
        annotationId: uuid(4),
        eventUuid: uuid(2),
        siteId: 'S1',
        resolved: true,
        reasonCode: null,
        reasonText: null,
      }),
    ).rejects.toMatchObject({ code: '42501', status: 403 });
  });

  it('reports a request without an answer, or a gateway without its database, as a connection error', async () => {
    const fake = new FakeSupabase()
      .onRpc('sync_page', () => ({ status: 200, body: [] }))
      .onRpc('sync_keys', () => ({ status: 503, body: { message: 'upstream unavailable' } }));
    const server = await hosted(fake);
    fake.failNetwork('/rest/v1/rpc/sync_page');
    const lost = await server.page(staging, cursorAt('1', uuid(0)), 10).catch((error: unknown) => error);
    expect(lost).toMatchObject({ code: 'ECONNRESET', status: 0 });
    expect(isConnectionError(lost)).toBe(true);
    // Nothing of the request (URL, token, stack) in what is shown.
    expect(String((lost as Error).message)).not.toMatch(/eyJ|supabase\.co|at /);
    const gateway = await server.keys(site).catch((error: unknown) => error);
    expect(gateway).toMatchObject({ code: 'ECONNRESET' });
    expect(isConnectionError(gateway)).toBe(true);
    // The page after the lost one goes through.
    expect(await server.page(staging, cursorAt('1', uuid(0)), 10)).toEqual([]);
  });

  it('takes a server without people_directory as no directory, and other failures as failures', async () => {
    const missing = new FakeSupabase().onRpc('people_directory', () =>
      postgrestErrorReply(404, 'PGRST202', 'Could not find the function public.people_directory'),
    );
    expect(await (await hosted(missing)).people()).toBeNull();
    const broken = new FakeSupabase().onRpc('people_directory', () =>
      postgrestErrorReply(500, 'XX000', 'internal error'),
    );
    await expect((await hosted(broken)).people()).rejects.toMatchObject({ code: 'XX000' });
  });
});

describe('hosted sync server: token lifetime [HOSTED-SYNC-TOKEN]', () => {
  const pageBody = [{ sync_xid: '700', id: uuid(1) }];

  it('renews a token PostgREST refuses once, and sends the same page again with the new token', async () => {
    const fake = new FakeSupabase().onRpc('sync_page', () => ({ status: 200, body: pageBody }));
    const server = await hosted(fake);
    const before = fake.tokens.at(-1);
    fake.expireToken(1);
    expect(await server.page(staging, cursorAt('600', uuid(0)), 250)).toEqual(pageBody);
    expect(fake.refreshCalls()).toHaveLength(1);
    const sent = fake.rpcCalls('sync_page');
    expect(sent).toHaveLength(2);
    expect(sent[1]?.body).toEqual(sent[0]?.body);
    expect(sent[1]?.body).toMatchObject({ after_xid: '600', after_key: uuid(0), page_size: 250 });
    expect(sent[0]?.headers.authorization).toBe(`Bearer ${before}`);
    expect(sent[1]?.headers.authorization).toBe(`Bearer ${fake.tokens.at(-1)}`);
    expect(fake.tokens.at(-1)).not.toBe(before);
  });

  it('renews once for pages refused together, however their refusals and the renewal interleave', async () => {
    let calls = 0;
    const fake = new FakeSupabase().onRpc('sync_page', async () => {
      const call = calls++;
      if (call >= 3) return { status: 200, body: pageBody };
      // The three pages sent with the old token are refused one after another, the later two after
      // the renewal the first one started has ended.
      await new Promise((resolve) => setTimeout(resolve, 40 * call));
      return postgrestErrorReply(401, 'PGRST303', 'JWT expired');
    });
    const server = await hosted(fake);
    const pages = await Promise.all([0, 1, 2].map(() => server.page(staging, cursorAt('600', uuid(0)), 250)));
    expect(pages).toEqual([pageBody, pageBody, pageBody]);
    expect(fake.refreshCalls()).toHaveLength(1);
    expect(fake.rpcCalls('sync_page')).toHaveLength(6);
  });

  it('stops with SyncSessionExpiredError when the renewal is refused, without sending again', async () => {
    const fake = new FakeSupabase().onRpc('sync_page', () => ({ status: 200, body: pageBody }));
    const server = await hosted(fake);
    fake.expireToken(5).failRefresh();
    const failure = await server
      .page(staging, cursorAt('600', uuid(0)), 250)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SyncSessionExpiredError);
    expect((failure as Error).message).toMatch(/sign in again/);
    expect(fake.refreshCalls()).toHaveLength(1);
    expect(fake.rpcCalls('sync_page')).toHaveLength(1);
    expect(isConnectionError(failure)).toBe(false);
  });

  it('stops with SyncSessionExpiredError when the renewed token is refused too (no loop)', async () => {
    const fake = new FakeSupabase().onRpc('sync_page', () => ({ status: 200, body: pageBody }));
    const server = await hosted(fake);
    fake.expireToken(5);
    await expect(server.page(staging, cursorAt('600', uuid(0)), 250)).rejects.toBeInstanceOf(
      SyncSessionExpiredError,
    );
    expect(fake.refreshCalls()).toHaveLength(1);
    expect(fake.rpcCalls('sync_page')).toHaveLength(2);
  });
});

describe('hosted sync server: the pull engine over it [HOSTED-SYNC-RPC]', () => {
  let dir: string | null = null;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it('pulls a stream page by page into the cache through the RPCs', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cs-hosted-pull-'));
    const study = uuid(77);
    const sites = ['S1', 'S2', 'S3'].map((id, i) => ({
      sync_xid: String(500 + i),
      site_id: id,
      study_id: study,
      doc: JSON.stringify({ site_id: id }),
    }));
    const fake = new FakeSupabase()
      .onRpc('sync_start', () => ({ status: 200, body: { horizon: '900', fingerprint: 'role:qa:*' } }))
      .onRpc('sync_counts', () => ({ status: 200, body: { site: { rows: 3, all: null } } }))
      .onRpc('sync_page', (args) => {
        const start = sites.findIndex((row) =>
          args.below === null
            ? BigInt(row.sync_xid) > BigInt(String(args.after_xid))
            : row.site_id > String(args.after_key),
        );
        const rest = start < 0 ? [] : sites.slice(start);
        return { status: 200, body: rest.slice(0, Number(args.page_size)) };
      })
      .onRpc('sync_keys', () => ({ status: 200, body: sites.map((row) => row.site_id) }));
    const server = await hosted(fake);
    const db = openCache({
      path: join(dir, 'cache.db'),
      key: Buffer.alloc(32, 3),
      userId: fake.userId,
      backendId: 'abcdefabcdefabcd',
    });
    try {
      const report = await pullAll(db, server, { streams: [site], pageSize: 2, countFirst: true });
      expect(report.rows).toBe(3);
      expect(report.quarantined).toBe(0);
      const cached = db.prepare('select site_id from site order by site_id').all() as { site_id: string }[];
      expect(cached.map((row) => row.site_id)).toEqual(['S1', 'S2', 'S3']);
      // Pages of at most two rows, each from where the last ended.
      expect(
        fake.rpcCalls('sync_page').every((call) => (call.body as { page_size: number }).page_size === 2),
      ).toBe(true);
      expect(fake.rpcCalls('sync_page').length).toBeGreaterThanOrEqual(2);
    } finally {
      db.close();
    }
  });
});

describe('hosted sync server: a first pull reads several pages at once, in key order [HOSTED-SYNC-FIRST-PULL]', () => {
  /** A stream of `n` rows below the horizon; the server answers ranges out of order (later ones first). */
  function rowsServer(n: number, delays: (from: string) => number = () => 0) {
    const rows = Array.from({ length: n }, (_, i) => ({ sync_xid: String(10 + (i % 7)), id: uuid(i + 1) }));
    let inFlight = 0;
    let mostInFlight = 0;
    const fake = new FakeSupabase()
      .onRpc('sync_first_pull_bounds', (args) => {
        const after = rows.filter((row) => row.id > String(args.after_key));
        const size = Number(args.page_size);
        return { status: 200, body: after.filter((_, i) => (i + 1) % size === 0).map((row) => row.id) };
      })
      .onRpc('sync_page', async (args) => {
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, delays(String(args.after_key))));
        inFlight--;
        const upto = args.upto === null || args.upto === undefined ? null : String(args.upto);
        const page = rows
          .filter((row) => row.id > String(args.after_key) && (upto === null || row.id <= upto))
          .slice(0, Number(args.page_size));
        return { status: 200, body: page };
      });
    return { fake, rows, mostInFlight: () => mostInFlight };
  }

  it('reads the ranges the server bounds three at a time and hands every row on once, in key order', async () => {
    // 2,000-row pages: 5 whole ranges and an open last one of 1,234 rows; earlier ranges answer last.
    const { fake, rows, mostInFlight } = rowsServer(11_234, (from) => (from === uuid(0) ? 60 : 5));
    const server = await hosted(fake);
    const batches: Record<string, unknown>[][] = [];
    const firstPull = server.firstPull?.bind(server);
    if (!firstPull) throw new Error('the hosted server has no first pull');
    for await (const batch of firstPull(staging, cursorAt('0', uuid(0), '100'), 500, 2000))
      batches.push(batch);
    const ids = batches.flat().map((row) => row.id);
    expect(ids).toEqual(rows.map((row) => row.id));
    expect(batches.every((batch) => batch.length <= 500)).toBe(true);
    expect(fake.rpcCalls('sync_first_pull_bounds')).toHaveLength(1);
    expect(fake.rpcCalls('sync_page')).toHaveLength(6);
    expect(mostInFlight()).toBe(3);
    // Each range from the last bound to the next, below the horizon; the last one open.
    const calls = fake.rpcCalls('sync_page').map((call) => call.body as Record<string, unknown>);
    expect(calls[0]).toMatchObject({ after_key: uuid(0), upto: uuid(2000), below: '100', page_size: 2000 });
    expect(calls.at(-1)).toMatchObject({ after_key: uuid(10_000), upto: null });
  });

  it('resumes after the cursor, and stops at the first range the server refuses', async () => {
    const { fake, rows } = rowsServer(5_000);
    const server = await hosted(fake);
    const firstPull = server.firstPull?.bind(server);
    if (!firstPull) throw new Error('the hosted server has no first pull');
    const resumed: unknown[] = [];
    for await (const batch of firstPull(staging, cursorAt('0', uuid(3_100), '100'), 500, 2000))
      resumed.push(...batch.map((row) => row.id));
    expect(resumed).toEqual(rows.slice(3_100).map((row) => row.id));

    const failing = rowsServer(9_000);
    failing.fake.onRpc('sync_page', (args) =>
      String(args.after_key) === uuid(2000)
        ? postgrestErrorReply(503, 'PGRST001', 'Database client error. Retrying the connection.')
        : {
            status: 200,
            body: failing.rows
              .filter(
                (row) =>
                  row.id > String(args.after_key) && (args.upto === null || row.id <= String(args.upto)),
              )
              .slice(0, 2000),
          },
    );
    const failingServer = await hosted(failing.fake);
    const broken = failingServer.firstPull?.bind(failingServer);
    if (!broken) throw new Error('the hosted server has no first pull');
    const landed: unknown[] = [];
    const pulling = (async () => {
      for await (const batch of broken(staging, cursorAt('0', uuid(0), '100'), 500, 2000))
        landed.push(...batch.map((row) => row.id));
    })();
    const error = await pulling.catch((caught: unknown) => caught);
    expect(isConnectionError(error)).toBe(true);
    // Only the range before the refused one was handed on: the engine's cursor is its last key.
    expect(landed).toEqual(failing.rows.slice(0, 2000).map((row) => row.id));
  });
});

// The SQL side of hosted sync (migration 0061) on the real PostgreSQL, called as PostgREST calls it:
// on the `authenticator` connection, per request a transaction under the person's JWT claims
// (PostgrestGateway). What sync_page returns must be exactly what the same person's own login reads
// with the direct modes' page query, in the same order, below the same commit-safe horizon; the
// functions must refuse anything but a registered stream and well-formed cursors; and the outbox's
// writes must land once per request id, whoever sends them twice.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pageQuery } from '../../src/main/sync/postgresSyncServer';
import { type StreamDefinition, streamDefinitions, streamNamed } from '../../src/main/sync/streamDefinitions';
import type { SyncCursor } from '../../src/main/sync/syncServer';
import { appRoles } from '../../src/shared/domain';
import { operatorTransaction } from './support/accessWorld';
import { anonClaims, type Claims, PostgrestGateway, supabaseClaims } from './support/postgrestGateway';
import { syncWorld } from './support/syncWorld';

type Row = Record<string, unknown>;

const zeroKey = (stream: StreamDefinition) =>
  stream.keyType === 'uuid' ? '00000000-0000-0000-0000-000000000000' : stream.keyType === 'text' ? '' : '0';
const startCursor = (stream: StreamDefinition, below: string | null = null): SyncCursor => ({
  lastXid: '0',
  lastKey: zeroKey(stream),
  initialBelow: below,
});
function advance(stream: StreamDefinition, cursor: SyncCursor, last: Row): SyncCursor {
  return {
    lastXid: stream.cursor === 'xid' && cursor.initialBelow === null ? String(last.sync_xid) : cursor.lastXid,
    lastKey: String(last[stream.keyColumn]),
    initialBelow: cursor.initialBelow,
  };
}

/** Every row from a cursor to the end, page by page, through a reader of one page. */
async function allPages(
  stream: StreamDefinition,
  pageSize: number,
  readPage: (cursor: SyncCursor) => Promise<Row[]>,
  from: SyncCursor = startCursor(stream),
): Promise<{ rows: Row[]; cursor: SyncCursor }> {
  const rows: Row[] = [];
  let cursor = from;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await readPage(cursor);
    rows.push(...page);
    const last = page.at(-1);
    if (last) cursor = advance(stream, cursor, last);
    if (page.length < pageSize) return { rows, cursor };
  }
  throw new Error('no end of pages');
}

const directPages = (client: pg.Client, stream: StreamDefinition, below: string | null = null) =>
  allPages(
    stream,
    5000,
    async (cursor) => {
      const { text, values } = pageQuery(stream, 5000, cursor);
      return (await client.query<Row>({ text, values })).rows;
    },
    startCursor(stream, below),
  );

const rpcPage = (
  gateway: PostgrestGateway,
  claims: Claims,
  stream: string,
  cursor: SyncCursor,
  pageSize: number,
) =>
  gateway.rpc<Row[]>(claims, 'sync_page', {
    stream,
    after_xid: cursor.lastXid,
    after_key: cursor.lastKey,
    below: cursor.initialBelow,
    page_size: pageSize,
  });

const claimsPages = (
  gateway: PostgrestGateway,
  claims: Claims,
  stream: StreamDefinition,
  pageSize: number,
  from: SyncCursor = startCursor(stream),
) => allPages(stream, pageSize, (cursor) => rpcPage(gateway, claims, stream.name, cursor, pageSize), from);

/** The order a page must keep: (sync_xid, key) for an xid page, the key for a first pull or a seq stream. */
function compareKeys(stream: StreamDefinition, a: unknown, b: unknown): number {
  if (stream.keyType === 'bigint')
    return BigInt(String(a)) < BigInt(String(b)) ? -1 : BigInt(String(a)) > BigInt(String(b)) ? 1 : 0;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}
function expectCursorOrder(stream: StreamDefinition, rows: Row[], byKeyOnly: boolean) {
  for (let i = 1; i < rows.length; i++) {
    const previous = rows[i - 1] as Row;
    const row = rows[i] as Row;
    const xidOrder =
      byKeyOnly || stream.cursor === 'seq'
        ? 0
        : Math.sign(Number(BigInt(String(row.sync_xid)) - BigInt(String(previous.sync_xid))));
    const order =
      xidOrder !== 0 ? xidOrder : compareKeys(stream, row[stream.keyColumn], previous[stream.keyColumn]);
    expect(order, `${stream.name} row ${i} comes after row ${i - 1}`).toBe(1);
  }
}

async function sqlState(work: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await work;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected the call to be refused');
}

describe('hosted sync functions through PostgREST claims (migration 0061)', () => {
  const setup = syncWorld();
  let gateway: PostgrestGateway;
  const connectGateway = async () => {
    gateway ??= await PostgrestGateway.connect(setup.db.server, setup.db.name);
    return gateway;
  };

  it.each(appRoles)(
    'a %s gets through sync_page exactly the rows of their own login, in key order; counts and keys agree [HOSTED-SYNC-RLS]',
    async (role) => {
      const gateway = await connectGateway();
      const person = setup.world.people[role];
      const claims = supabaseClaims(person.id);
      const own = setup.world.clients[role];
      const { horizon } = await gateway.rpc<{ horizon: string }>(claims, 'sync_start');
      const counts = await gateway.rpc<Record<string, { rows: number; all: number | null }>>(
        claims,
        'sync_counts',
        {
          cursors: streamDefinitions.map((stream) => ({
            stream: stream.name,
            after_xid: '0',
            after_key: zeroKey(stream),
            below: null,
          })),
        },
      );
      let seen = 0;
      for (const stream of streamDefinitions) {
        const direct = await directPages(own, stream);
        const hosted = await claimsPages(gateway, claims, stream, 3);
        expect(hosted.rows, `${role} · ${stream.name}`).toEqual(direct.rows);
        expectCursorOrder(stream, hosted.rows, false);
        expect(counts[stream.name], `${role} · counts of ${stream.name}`).toEqual({
          rows: direct.rows.length,
          all: stream.deletions ? direct.rows.length : null,
        });
        const keys = await gateway.rpc<string[]>(claims, 'sync_keys', { stream: stream.name });
        const ownKeys = await own.query<{ k: string }>(
          `select t.${stream.keyColumn}::text as k from ${stream.serverTable} t`,
        );
        expect([...keys].sort(), `${role} · keys of ${stream.name}`).toEqual(
          ownKeys.rows.map((row) => row.k).sort(),
        );
        if (stream.cursor === 'xid' && stream.keyType === 'uuid') {
          // A first pull: key order below the fixed horizon.
          const directFirst = await directPages(own, stream, horizon);
          const hostedFirst = await claimsPages(gateway, claims, stream, 4, startCursor(stream, horizon));
          expect(hostedFirst.rows, `${role} · first pull of ${stream.name}`).toEqual(directFirst.rows);
          expectCursorOrder(stream, hostedFirst.rows, true);
          // Read several at once [HOSTED-SYNC-FIRST-PULL]: the server's bounds (every 2nd key) cut
          // the same rows into ranges that, read each up to its bound, give them all, once, in order.
          const bounds = await gateway.rpc<string[]>(claims, 'sync_first_pull_bounds', {
            stream: stream.name,
            after_key: zeroKey(stream),
            below: horizon,
            page_size: 2,
          });
          const keyOf = (row: Row) => String(row[stream.keyColumn]);
          expect(bounds, `${role} · bounds of ${stream.name}`).toEqual(
            directFirst.rows.filter((_, i) => i % 2 === 1).map(keyOf),
          );
          const ranged: Row[] = [];
          for (const [i, upto] of [...bounds, null].entries()) {
            ranged.push(
              ...(await gateway.rpc<Row[]>(claims, 'sync_page', {
                stream: stream.name,
                after_xid: '0',
                after_key: i === 0 ? zeroKey(stream) : bounds[i - 1],
                below: horizon,
                page_size: 2,
                upto,
              })),
            );
          }
          expect(ranged, `${role} · ranges of ${stream.name}`).toEqual(directFirst.rows);
        }
        seen += hosted.rows.length;
      }
      expect(seen).toBeGreaterThan(0);
    },
  );

  it('never skips a row whose transaction commits after a later-numbered one [HOSTED-SYNC-WATERMARK]', async () => {
    const gateway = await connectGateway();
    const claims = supabaseClaims(setup.world.people.admin.id);
    const stream = streamNamed('provenance_event');
    const before = await claimsPages(gateway, claims, stream, 5);
    const early = await setup.db.connectAsOperator();
    const late = await setup.db.connectAsOperator();
    const insertProvenance = async (client: pg.Client, subject: string) =>
      (
        await client.query<{ id: string; xid: string }>(
          `insert into cro.provenance_event (study_id, actor_kind, actor_id, action, subject_kind, subject_id, retrieved_context, payload)
           values ($1, 'system', 'test', 'probe', 'probe', $2, '[]', '{}') returning id, sync_xid::text as xid`,
          [setup.world.studyA, subject],
        )
      ).rows[0] as { id: string; xid: string };
    try {
      await early.query('begin');
      const earlyRow = await insertProvenance(early, 'early');
      await late.query('begin');
      const lateRow = await insertProvenance(late, 'late');
      expect(BigInt(lateRow.xid)).toBeGreaterThan(BigInt(earlyRow.xid));
      await late.query('commit');

      // Between the two commits: the later row is committed, the earlier one is not yet.
      const between = await claimsPages(gateway, claims, stream, 5, before.cursor);
      expect(between.rows.map((row) => row.id)).not.toContain(earlyRow.id);
      expect(between.rows.map((row) => row.id)).not.toContain(lateRow.id); // above the horizon: it waits too
      expect(BigInt(between.cursor.lastXid)).toBeLessThan(BigInt(earlyRow.xid));

      await early.query('commit');
      const after = await claimsPages(gateway, claims, stream, 5, between.cursor);
      const ids = after.rows.map((row) => row.id);
      expect(ids).toContain(earlyRow.id);
      expect(ids).toContain(lateRow.id);
      // Nothing skipped: from the start, the pages hold every row the admin's own login reads.
      const everything = await claimsPages(gateway, claims, stream, 5);
      expect(everything.rows).toEqual((await directPages(setup.world.clients.admin, stream)).rows);
      expect([...before.rows, ...between.rows, ...after.rows].map((row) => row.id).sort()).toEqual(
        everything.rows.map((row) => row.id).sort(),
      );
    } finally {
      await early.query('rollback').catch(() => undefined);
      await late.query('rollback').catch(() => undefined);
    }
  });

  describe('hostile calls [HOSTED-SYNC-HOSTILE]', () => {
    /** The same call through claims and on the person's own login. */
    const callers = (role: (typeof appRoles)[number] = 'signer') => {
      const person = setup.world.people[role];
      const claims = supabaseClaims(person.id);
      const own = setup.world.clients[role];
      return [
        {
          via: 'claims',
          call: <T>(fn: string, args: Record<string, unknown>) => gateway.rpc<T>(claims, fn, args),
        },
        {
          via: 'own login',
          call: async <T>(fn: string, args: Record<string, unknown>) => {
            const names = Object.keys(args);
            const { rows } = await own.query(
              `select public.${fn}(${names.map((name, i) => `${name} => $${i + 1}`).join(', ')}) as r`,
              Object.values(args).map((value) =>
                value !== null && typeof value === 'object' ? JSON.stringify(value) : value,
              ),
            );
            return rows[0]?.r as T;
          },
        },
      ];
    };
    const page = (
      stream: string,
      afterXid: unknown,
      afterKey: unknown,
      below: unknown,
      pageSize: unknown,
    ) => ({
      stream,
      after_xid: afterXid,
      after_key: afterKey,
      below,
      page_size: pageSize,
    });
    const zero = '00000000-0000-0000-0000-000000000000';

    it('refuses an unknown stream and a stream name with SQL in it, and changes nothing [HOSTED-SYNC-HOSTILE]', async () => {
      await connectGateway();
      const studies = async () =>
        Number((await setup.db.operator.query('select count(*) as n from cro.study')).rows[0].n);
      const studiesBefore = await studies();
      for (const { via, call } of callers()) {
        for (const name of [
          'no_such_stream',
          "staging_record'; delete from cro.study; --",
          'cro.study',
          '',
        ]) {
          for (const attempt of [
            () => call('sync_page', page(name, '0', zero, null, 10)),
            () => call('sync_keys', { stream: name }),
            () =>
              call('sync_counts', {
                cursors: [{ stream: name, after_xid: '0', after_key: zero, below: null }],
              }),
          ]) {
            const error = await sqlState(attempt());
            expect(error.code, `${via} · ${name}`).toBe('CS422');
            expect(error.message).toMatch(/not a sync stream/);
          }
        }
      }
      expect(await studies()).toBe(studiesBefore);
    });

    it('refuses first-pull bounds without a horizon or for the audit log, and a page end outside a first pull [HOSTED-SYNC-HOSTILE]', async () => {
      await connectGateway();
      for (const { via, call } of callers()) {
        for (const attempt of [
          () =>
            call('sync_first_pull_bounds', {
              stream: 'staging_record',
              after_key: zero,
              below: null,
              page_size: 2,
            }),
          () =>
            call('sync_first_pull_bounds', { stream: 'audit_log', after_key: '0', below: '5', page_size: 2 }),
          () => call('sync_page', { ...page('staging_record', '0', zero, null, 10), upto: zero }),
        ]) {
          expect((await sqlState(attempt())).code, via).toBe('CS422');
        }
      }
    });

    it('clamps the page size to 1..5000 [HOSTED-SYNC-HOSTILE]', async () => {
      await connectGateway();
      // The admin reads the whole audit log: more rows than one, fewer than 5000.
      for (const { via, call } of callers('admin')) {
        const total = (await call<Row[]>('sync_page', page('audit_log', '0', '0', null, 5000))).length;
        expect(total, via).toBeGreaterThan(1);
        expect(total).toBeLessThan(5000);
        for (const size of [0, -5]) {
          expect(
            (await call<Row[]>('sync_page', page('audit_log', '0', '0', null, size))).length,
            `${via} · ${size}`,
          ).toBe(1);
        }
        expect((await call<Row[]>('sync_page', page('audit_log', '0', '0', null, 10 ** 9))).length, via).toBe(
          total,
        );
      }
    });

    it('refuses more than 100 cursors and cursors that are not an array [HOSTED-SYNC-HOSTILE]', async () => {
      await connectGateway();
      const cursor = { stream: 'study', after_xid: '0', after_key: zero, below: null };
      for (const { via, call } of callers()) {
        expect(
          (await call<Record<string, unknown>>('sync_counts', { cursors: Array(100).fill(cursor) })).study,
          via,
        ).toBeDefined();
        for (const cursors of [Array(101).fill(cursor), { stream: 'study' }, 42]) {
          const error = await sqlState(call('sync_counts', { cursors }));
          expect(error.code, `${via} · ${JSON.stringify(cursors).slice(0, 40)}`).toBe('CS422');
        }
      }
    });

    it('refuses malformed cursor values with a clear error [HOSTED-SYNC-HOSTILE]', async () => {
      await connectGateway();
      for (const { via, call } of callers()) {
        for (const [args, type] of [
          [page('staging_record', 'abc', zero, null, 10), 'xid8'],
          [page('staging_record', '0', 'not-a-uuid', null, 10), 'uuid'],
          [page('staging_record', '0', zero, '1 or true', 10), 'xid8'],
          [page('audit_log', '0', '1; select 1', null, 10), 'bigint'],
          [page('record_audit', '0', 'x', null, 10), 'bigint'],
        ] as const) {
          const error = await sqlState(call('sync_page', args));
          expect(error.code, `${via} · ${JSON.stringify(args)}`).toBe('22P02');
          expect(error.message).toContain(type);
        }
        const firstPullOfSeq = await sqlState(call('sync_page', page('audit_log', '0', '0', '5', 10)));
        expect(firstPullOfSeq.code, via).toBe('CS422');
        const badCount = await sqlState(
          call('sync_counts', {
            cursors: [{ stream: 'study', after_xid: 'nope', after_key: zero, below: null }],
          }),
        );
        expect(badCount.code, via).toBe('22P02');
      }
    });

    it('lets anon execute none of the functions, through claims or as the anon login [HOSTED-SYNC-HOSTILE]', async () => {
      const gateway = await connectGateway();
      const calls: [string, Record<string, unknown>][] = [
        ['sync_start', {}],
        ['sync_counts', { cursors: [] }],
        ['sync_page', page('study', '0', zero, null, 10)],
        ['sync_keys', { stream: 'study' }],
        [
          'submit_annotation',
          {
            request_id: randomUUID(),
            chosen_id: null,
            record_uuid: setup.world.records.in.eventUuid,
            parent_audit: Number(setup.world.records.in.auditId),
            site: 'A1',
            kind: 'note',
            note: 'anon',
            needs_response: false,
            reply_to: null,
          },
        ],
        [
          'submit_annotation_resolution',
          {
            request_id: randomUUID(),
            annotation: setup.world.rows.annotation.in,
            record_uuid: setup.world.records.in.eventUuid,
            site: 'A1',
            resolved: true,
            reason_code: 'answered',
            reason_text: null,
          },
        ],
      ];
      for (const [fn, args] of calls) {
        expect((await sqlState(gateway.rpc(anonClaims, fn, args))).code, `claims · ${fn}`).toBe('42501');
        const names = Object.keys(args);
        const asAnon = setup.world.clients.anon.query(
          `select public.${fn}(${names.map((name, i) => `${name} => $${i + 1}`).join(', ')})`,
          Object.values(args).map((value) =>
            value !== null && typeof value === 'object' ? JSON.stringify(value) : value,
          ),
        );
        expect((await sqlState(asAnon)).code, `anon login · ${fn}`).toBe('42501');
      }
    });

    it('lets nobody but the owner write the stream registry [HOSTED-SYNC-HOSTILE]', async () => {
      const gateway = await connectGateway();
      const writes = [
        `insert into cs_private.sync_stream (name, server_table, cursor_kind, key_column, key_type, deletions, select_list)
         values ('users', 'auth.users', 'xid', 'id', 'uuid', false, 't.*')`,
        `update cs_private.sync_stream set select_list = 't.*' where name = 'study'`,
        `delete from cs_private.sync_stream where name = 'study'`,
      ];
      const before = (await setup.db.operator.query('select * from cs_private.sync_stream order by name'))
        .rows;
      for (const role of appRoles) {
        for (const sql of writes) {
          const viaClaims = await sqlState(gateway.request(supabaseClaims(setup.world.people[role].id), sql));
          expect(viaClaims.code, `claims · ${role} · ${sql.slice(0, 6)}`).toBe('42501');
          const viaLogin = await sqlState(setup.world.clients[role].query(sql));
          expect(viaLogin.code, `own login · ${role} · ${sql.slice(0, 6)}`).toBe('42501');
        }
      }
      expect(
        (await setup.db.operator.query('select * from cs_private.sync_stream order by name')).rows,
      ).toEqual(before);
    });
  });

  describe('the outbox writes [HOSTED-OUTBOX-IDEMPOTENT]', () => {
    const head = async (eventUuid: string) =>
      (
        await setup.db.operator.query<{ a: string }>(
          'select last_audit_id::text as a from diary.record_state where event_uuid = $1',
          [eventUuid],
        )
      ).rows[0]?.a as string;
    const annotationArgs = async (requestId: string, note: string, kind = 'note') => ({
      request_id: requestId,
      chosen_id: null,
      record_uuid: setup.world.records.in.eventUuid,
      parent_audit: Number(await head(setup.world.records.in.eventUuid)),
      site: 'A1',
      kind,
      note,
      needs_response: kind === 'query',
      reply_to: null,
    });
    const rowsOf = async (requestId: string) =>
      (
        await setup.db.operator.query<{ annotation_id: string; investigator_id: string }>(
          'select annotation_id::text, investigator_id::text from diary.investigator_annotations where client_request_id = $1',
          [requestId],
        )
      ).rows;
    type Made = { annotation_id: string; replayed: boolean };

    it('an annotation sent twice lands once, and the second send says replayed with the same id [HOSTED-OUTBOX-IDEMPOTENT]', async () => {
      const gateway = await connectGateway();
      const claims = supabaseClaims(setup.world.people.investigator.id);
      const requestId = randomUUID();
      const args = await annotationArgs(requestId, 'sent twice');
      const first = await gateway.rpc<Made>(claims, 'submit_annotation', args);
      expect(first.replayed).toBe(false);
      const second = await gateway.rpc<Made>(claims, 'submit_annotation', args);
      expect(second).toEqual({ annotation_id: first.annotation_id, replayed: true });
      expect(await rowsOf(requestId)).toEqual([
        { annotation_id: first.annotation_id, investigator_id: setup.world.people.investigator.id },
      ]);
    });

    it('an annotation sent twice at once, on two connections, lands once [HOSTED-OUTBOX-IDEMPOTENT]', async () => {
      await connectGateway();
      const claims = supabaseClaims(setup.world.people.investigator.id);
      const one = await PostgrestGateway.connect(setup.db.server, setup.db.name);
      const two = await PostgrestGateway.connect(setup.db.server, setup.db.name);
      try {
        for (let round = 0; round < 5; round++) {
          const requestId = randomUUID();
          const args = await annotationArgs(requestId, `at once ${round}`);
          const answers = await Promise.all([
            one.rpc<Made>(claims, 'submit_annotation', args),
            two.rpc<Made>(claims, 'submit_annotation', args),
          ]);
          const rows = await rowsOf(requestId);
          expect(rows).toHaveLength(1);
          expect(answers.map((answer) => answer.annotation_id)).toEqual([
            rows[0]?.annotation_id,
            rows[0]?.annotation_id,
          ]);
          expect(answers.filter((answer) => !answer.replayed)).toHaveLength(1);
        }
      } finally {
        await one.close();
        await two.close();
      }
    });

    it('refuses another investigator who reuses the request id, without naming the first annotation [HOSTED-OUTBOX-IDEMPOTENT]', async () => {
      const gateway = await connectGateway();
      const requestId = randomUUID();
      const first = await gateway.rpc<Made>(
        supabaseClaims(setup.world.people.investigator.id),
        'submit_annotation',
        await annotationArgs(requestId, 'mine'),
      );
      const other = setup.world.counterparts.investigator;
      const out = setup.world.records.out;
      const error = await sqlState(
        gateway.rpc(supabaseClaims(other.id), 'submit_annotation', {
          request_id: requestId,
          chosen_id: null,
          record_uuid: out.eventUuid,
          parent_audit: Number(await head(out.eventUuid)),
          site: 'B1',
          kind: 'note',
          note: 'reused request id',
          needs_response: false,
          reply_to: null,
        }),
      );
      expect(error.code).toBe('23505');
      expect(JSON.stringify(error)).not.toContain(first.annotation_id);
      expect(await rowsOf(requestId)).toEqual([
        { annotation_id: first.annotation_id, investigator_id: setup.world.people.investigator.id },
      ]);
    });

    it('a resolution sent twice lands once and the second send says replayed [HOSTED-OUTBOX-IDEMPOTENT]', async () => {
      const gateway = await connectGateway();
      const claims = supabaseClaims(setup.world.people.investigator.id);
      const query = await gateway.rpc<Made>(
        claims,
        'submit_annotation',
        await annotationArgs(randomUUID(), 'a query', 'query'),
      );
      const requestId = randomUUID();
      const args = {
        request_id: requestId,
        annotation: query.annotation_id,
        record_uuid: setup.world.records.in.eventUuid,
        site: 'A1',
        resolved: true,
        reason_code: 'answered',
        reason_text: null,
      };
      expect(await gateway.rpc(claims, 'submit_annotation_resolution', args)).toEqual({ replayed: false });
      expect(await gateway.rpc(claims, 'submit_annotation_resolution', args)).toEqual({ replayed: true });
      const { rows } = await setup.db.operator.query(
        'select count(*)::int as n from diary.annotation_resolutions where request_id = $1',
        [requestId],
      );
      expect(rows[0].n).toBe(1);
    });

    it('refuses an annotation on an entry that moved on with CS409 and the current entry as JSON detail [HOSTED-OUTBOX-IDEMPOTENT]', async () => {
      const gateway = await connectGateway();
      const record = setup.world.records.in;
      const stale = await head(record.eventUuid);
      const patient = setup.world.people.patient;
      const moved = await operatorTransaction(setup.db.operator, { sub: patient.id }, async () => {
        const { rows } = await setup.db.operator.query<{ audit_id: string }>(
          `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp, parent_audit_id, change_reason)
           values ($1, $2, 'A1', 'USER_UPDATE', '{"event_type":"headache","date":"2026-03-02","intensity":"severe"}', now(), $3, 'worse today')
           returning audit_id::text`,
          [record.eventUuid, patient.id, stale],
        );
        return rows[0]?.audit_id as string;
      });
      const requestId = randomUUID();
      const error = (await sqlState(
        gateway.rpc(supabaseClaims(setup.world.people.investigator.id), 'submit_annotation', {
          ...(await annotationArgs(requestId, 'on the old entry')),
          parent_audit: Number(stale),
        }),
      )) as { code?: string; detail?: string };
      expect(error.code).toBe('CS409');
      expect(JSON.parse(error.detail as string)).toEqual({ current_audit_id: Number(moved) });
      expect(await rowsOf(requestId)).toEqual([]);
    });
  });

  it('closes the gateway', async () => {
    await gateway?.close();
  });
});

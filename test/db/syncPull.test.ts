import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { FileCacheKeyStore } from '../../src/main/cache/cacheKeyStore';
import { postgresSyncServer, postgresSyncServerOver } from '../../src/main/sync/postgresSyncServer';
import { pullAll } from '../../src/main/sync/pullEngine';
import { type ServerReader, serverReaderFor } from '../../src/main/sync/serverReader';
import { streamDefinitions, streamNamed } from '../../src/main/sync/streamDefinitions';
import type { AppRole } from '../../src/shared/domain';
import { operatorTransaction } from './support/accessWorld';
import { createStudy, propose } from './support/operatorActions';
import { cachedKeys, missingDeferredIndexes, serverKeys, testBackendId } from './support/syncCache';
import { syncWorld } from './support/syncWorld';

describe('pull sync', () => {
  const setup = syncWorld();

  const roles: AppRole[] = ['signer', 'inspector', 'investigator', 'patient', 'sponsor', 'analyst', 'admin'];
  it.each(roles)(
    'caches for a %s exactly the rows RLS lets them read, stream by stream [SYNC-RLS]',
    async (role) => {
      const person = setup.world.people[role];
      const client = setup.world.clients[role];
      const cache = setup.cacheOf(person.id);
      const report = await pullAll(cache, postgresSyncServer(client), { pageSize: 3 });
      expect(report.quarantined).toBe(0);
      let total = 0;
      for (const stream of streamDefinitions) {
        const onServer = await serverKeys(client, stream);
        expect(cachedKeys(cache, stream), `${role}: ${stream.name}`).toEqual(onServer);
        total += onServer.length;
      }
      expect(report.rows).toBe(total);
      // Scope: the B-side rows never reach an A-scoped person (the admin is global).
      const stagingB = cache
        .prepare('select count(*) as n from staging_record where id = ?')
        .get(setup.world.rows.staging.out);
      expect((stagingB as { n: number }).n).toBe(role === 'admin' ? 1 : 0);
    },
  );

  it('drops from the cache an enrolment the server no longer has (withdrawn by an admin) [SYNC-RLS]', async () => {
    const investigator = setup.world.people.investigator;
    const admin = setup.world.people.admin;
    const cache = setup.cacheOf(`${investigator.id}-cache-withdrawn`);
    const client = setup.world.clients.investigator;
    const reader = serverReaderFor(client);
    const enrolment = streamNamed('enrolment');
    const withdrawn = setup.world.spareUserId;
    await operatorTransaction(setup.db.operator, { sub: admin.id }, () =>
      setup.db.operator.query(
        `insert into diary.user_site_assignments (patient_id, site_id, subject_code) values ($1, 'A1', 'A1-099')`,
        [withdrawn],
      ),
    );
    const first = await pullAll(cache, postgresSyncServerOver(reader));
    expect(first.removed).toBe(0);
    expect(cachedKeys(cache, enrolment)).toContain(withdrawn);
    await operatorTransaction(setup.db.operator, { sub: admin.id }, () =>
      setup.db.operator.query('delete from diary.user_site_assignments where patient_id = $1', [withdrawn]),
    );
    const second = await pullAll(cache, postgresSyncServerOver(reader));
    expect(second.removed).toBe(1);
    expect(cachedKeys(cache, enrolment)).not.toContain(withdrawn);
    expect(cachedKeys(cache, enrolment)).toEqual(await serverKeys(client, enrolment));
    // Nothing more is read or dropped while the counts agree.
    const third = await pullAll(cache, postgresSyncServerOver(reader));
    expect(third.removed).toBe(0);
    expect(cachedKeys(cache, enrolment)).toEqual(await serverKeys(client, enrolment));
  });

  it('pulls a changed row again and keeps one copy of it [SYNC-WATERMARK]', async () => {
    const signer = setup.world.people.signer;
    const cache = setup.cacheOf(`${signer.id}-cache-0`);
    const reader = serverReaderFor(setup.world.clients.signer);
    await pullAll(cache, postgresSyncServerOver(reader));
    await operatorTransaction(setup.db.operator, { sub: signer.id }, () =>
      setup.db.operator.query(`update cro.staging_record set state = 'reviewing' where id = $1`, [
        setup.world.rows.staging.in,
      ]),
    );
    const second = await pullAll(cache, postgresSyncServerOver(reader));
    expect(second.perStream.staging_record).toBe(1);
    expect(
      cache.prepare('select state from staging_record where id = ?').all(setup.world.rows.staging.in),
    ).toEqual([{ state: 'reviewing' }]);
  });

  it('never skips a row whose transaction commits after a later-numbered one [SYNC-WATERMARK]', async () => {
    const admin = setup.world.people.admin;
    const cache = setup.cacheOf(`${admin.id}-cache-1`);
    const reader = serverReaderFor(setup.world.clients.admin);
    const stream = streamNamed('provenance_event');
    await pullAll(cache, postgresSyncServerOver(reader), { streams: [stream] });

    const early = await setup.db.connectAsOperator();
    const late = await setup.db.connectAsOperator();
    const insertProvenance = (client: pg.Client, subject: string) =>
      client.query<{ id: string; xid: string }>(
        `insert into cro.provenance_event (study_id, actor_kind, actor_id, action, subject_kind, subject_id, retrieved_context, payload)
         values ($1, 'system', 'test', 'probe', 'probe', $2, '[]', '{}') returning id, sync_xid::text as xid`,
        [setup.world.studyA, subject],
      );
    await early.query('begin');
    const earlyRow = (await insertProvenance(early, 'early')).rows[0] as { id: string; xid: string };
    await late.query('begin');
    const lateRow = (await insertProvenance(late, 'late')).rows[0] as { id: string; xid: string };
    expect(BigInt(lateRow.xid)).toBeGreaterThan(BigInt(earlyRow.xid));
    await late.query('commit');

    // Between the two commits: the later row is committed, the earlier one is not yet.
    await pullAll(cache, postgresSyncServerOver(reader), { streams: [stream] });
    const has = (id: string) =>
      (cache.prepare('select count(*) as n from provenance_event where id = ?').get(id) as { n: number }).n;
    expect(has(earlyRow.id)).toBe(0);
    const cursor = cache.prepare('select last_xid from sync_cursor where stream = ?').get(stream.name) as {
      last_xid: string;
    };
    expect(BigInt(cursor.last_xid)).toBeLessThan(BigInt(earlyRow.xid)); // the cursor waited below it

    await early.query('commit');
    await pullAll(cache, postgresSyncServerOver(reader), { streams: [stream] });
    expect(has(earlyRow.id)).toBe(1);
    expect(has(lateRow.id)).toBe(1);
    expect(cachedKeys(cache, stream)).toEqual(await serverKeys(setup.world.clients.admin, stream));
  });

  it.each([
    ['one COPY', true],
    ['key-ordered pages', false],
  ])(
    'a first pull (%s) misses nothing that changes or commits while it runs [SYNC-WATERMARK]',
    async (_how, copy) => {
      const admin = setup.world.people.admin;
      const cache = setup.cacheOf(`${admin.id}-cache-${copy ? '4' : '5'}`);
      const stream = streamNamed('provenance_event');
      const real = serverReaderFor(setup.world.clients.admin);
      const insert = (client: pg.ClientBase, subject: string) =>
        client.query<{ id: string }>(
          `insert into cro.provenance_event (study_id, actor_kind, actor_id, action, subject_kind, subject_id, retrieved_context, payload)
           values ($1, 'system', 'test', 'probe', 'probe', $2, '[]', '{}') returning id`,
          [setup.world.studyA, subject],
        );
      // A transaction open before the pull begins commits only after it has ended.
      const open = await setup.db.connectAsOperator();
      await open.query('begin');
      const lateRow = (await insert(open, 'open-across')).rows[0] as { id: string };
      // While the pull runs (after its first rows arrive), rows are added: with random keys, some sort
      // before the key the pull has reached (provenance is append-only: a change is a new row too).
      let interfered = false;
      const interfere = async () => {
        if (interfered) return;
        interfered = true;
        await insert(setup.db.operator, 'during-1');
        await insert(setup.db.operator, 'during-2');
        await insert(setup.db.operator, 'during-3');
      };
      const reader: ServerReader = {
        query: async (query) => {
          const result = await real.query(query);
          // The first first-pull query: a page, or (with COPY) the probe of its columns just before
          // the COPY. Its rows may be none: other transactions on the server can hold the horizon back.
          if (query.name?.startsWith('cs_sync_first_')) await interfere();
          return result;
        },
        ...(copy
          ? {
              copyRows: async function* (select: string) {
                for await (const chunk of (real.copyRows as (select: string) => AsyncIterable<Buffer>)(
                  select,
                )) {
                  yield chunk;
                  await interfere();
                }
              },
            }
          : {}),
      };
      try {
        await pullAll(cache, postgresSyncServerOver(reader), { streams: [stream], pageSize: 2 });
      } finally {
        await open.query('commit');
        await open.end();
      }
      expect(interfered).toBe(true);
      const cursor = cache
        .prepare('select last_xid, last_key from sync_cursor where stream = ?')
        .get(stream.name);
      expect(cursor).toMatchObject({ last_key: 'ffffffff-ffff-ffff-ffff-ffffffffffff' });
      expect(
        cache.prepare("select count(*) as n from sync_meta where name like 'initial_below:%'").get(),
      ).toEqual({
        n: 0,
      });
      await pullAll(cache, postgresSyncServerOver(real), { streams: [stream], pageSize: 2 });
      const quarantined = (
        cache.prepare('select row_key from quarantine').all() as { row_key: string }[]
      ).map((row) => row.row_key);
      const onServer = await serverKeys(setup.world.clients.admin, stream);
      expect(onServer).toContain(lateRow.id);
      expect(cachedKeys(cache, stream)).toEqual(onServer.filter((id) => !quarantined.includes(id)));
      const during = await setup.world.clients.admin.query<{ id: string }>(
        `select id::text from cro.provenance_event where subject_id like 'during-%'`,
      );
      for (const { id } of during.rows) expect(cachedKeys(cache, stream)).toContain(id);
    },
  );

  it('asks nothing more of the server for a stream with nothing to pull, and a first pull found empty still gets the rows that come later [SYNC-WATERMARK]', async () => {
    // An inspector of a study with nothing in it yet: every stream of theirs is empty at first.
    const password = 'a long enough test password';
    const study = await createStudy(setup.db.operator, setup.world.people.admin.id, 'EMPTY-1');
    const email = setup.db.email('empty-inspector');
    const inspector = await setup.db.provision({
      email,
      printedName: 'Empty-study inspector',
      password,
      roles: [{ role: 'inspector', studyId: study }],
    });
    const client = await setup.db.connectAs(email, password);
    try {
      const real = serverReaderFor(client);
      const asked: string[] = [];
      const reader: ServerReader = {
        query: (query) => {
          asked.push(query.name ?? query.text);
          return real.query(query);
        },
        copyRows: (select) => {
          asked.push(`copy ${select}`);
          return (real.copyRows as (select: string) => AsyncIterable<Buffer>)(select);
        },
      };
      const cache = setup.cacheOf(inspector);
      const stream = streamNamed('provenance_event');
      const first = await pullAll(cache, postgresSyncServerOver(reader));
      const emptyStreams = Object.entries(first.perStream).filter(([, rows]) => rows === 0);
      expect(emptyStreams.map(([name]) => name)).toContain(stream.name);
      // Per stream with rows: its own queries; per empty stream: none beyond the one count of all.
      for (const [name] of emptyStreams) {
        const table = `${streamNamed(name).serverTable} t`;
        const ownQueries = asked.filter(
          (text) =>
            text === `cs_sync_${name}` ||
            text === `cs_sync_first_${name}` ||
            (text.includes(table) && !text.includes('count(*)')),
        );
        expect(ownQueries, name).toEqual([]);
      }
      const counts = asked.filter((text) => text.includes('sync_counts'));
      expect(counts).toHaveLength(1);
      // The empty first pull is finished: from its horizon on, like any other.
      expect(cache.prepare('select last_key from sync_cursor where stream = ?').get(stream.name)).toEqual({
        last_key: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
      });
      expect(
        cache.prepare("select count(*) as n from sync_meta where name like 'initial_below:%'").get(),
      ).toEqual({
        n: 0,
      });

      // Nothing new: the horizon and the counts, and no other query but the people directory,
      // which has no watermark and is read whole on every sync (peopleStream.ts).
      asked.length = 0;
      await pullAll(cache, postgresSyncServerOver(reader));
      expect(asked).toHaveLength(3);
      expect(asked[2]).toBe('cs_sync_people');

      // A row of that study now: the next pull brings it.
      const added = await setup.db.operator.query<{ id: string }>(
        `insert into cro.provenance_event (study_id, actor_kind, actor_id, action, subject_kind, subject_id, retrieved_context, payload)
         values ($1, 'system', 'test', 'probe', 'probe', 'after-empty', '[]', '{}') returning id`,
        [study],
      );
      const third = await pullAll(cache, postgresSyncServerOver(reader));
      expect(third.perStream[stream.name]).toBe(1);
      expect(cachedKeys(cache, stream)).toEqual([added.rows[0]?.id]);
      expect(cachedKeys(cache, stream)).toEqual(await serverKeys(client, stream));
    } finally {
      await client.end();
    }
  });

  it('quarantines a malformed row with a clear report and lands the rest of its page [SYNC-QUARANTINE]', async () => {
    const admin = setup.world.people.admin;
    const cache = setup.cacheOf(`${admin.id}-cache-2`);
    const reader = serverReaderFor(setup.world.clients.admin);
    const stream = streamNamed('provenance_event');
    // A server whose schema is looser than this client expects: an actor_kind the client does not know.
    await setup.db.operator.query(
      'alter table cro.provenance_event drop constraint provenance_event_actor_kind_check',
    );
    const bad = await setup.db.operator.query<{ id: string }>(
      `insert into cro.provenance_event (study_id, actor_kind, actor_id, action, subject_kind, subject_id, retrieved_context, payload)
       values ($1, 'robot', 'test', 'probe', 'probe', 'malformed', '[]', '{}') returning id`,
      [setup.world.studyA],
    );
    const badId = bad.rows[0]?.id as string;
    const onServer = await serverKeys(setup.world.clients.admin, stream);
    const report = await pullAll(cache, postgresSyncServerOver(reader), {
      streams: [stream],
      pageSize: 1000,
    });
    expect(report.quarantined).toBe(1);
    expect(cachedKeys(cache, stream)).toEqual(onServer.filter((id) => id !== badId));
    const quarantined = cache.prepare('select stream, row_key, problem from quarantine').all();
    expect(quarantined).toEqual([
      {
        stream: 'provenance_event',
        row_key: badId,
        problem: expect.stringMatching(/^actor_kind: Invalid option/),
      },
    ]);
  });

  it('keeps the rows received before the server went away, written in groups by the worker [SYNC-RESUME]', async () => {
    const admin = setup.world.people.admin;
    const userId = `${admin.id}-cache-3`;
    const cache = setup.cacheOf(userId);
    const stream = streamNamed('provenance_event');
    await setup.db.operator.query(
      `insert into cro.provenance_event (study_id, actor_kind, actor_id, action, subject_kind, subject_id, retrieved_context, payload)
       select $1, 'agent', 'agent:test', 'propose', 'staging_record', 'dropped-' || n, '[]', '{}'
       from generate_series(1, 6) as n`,
      [setup.world.studyA],
    );
    const onServer = await serverKeys(setup.world.clients.admin, stream);
    // The server answers two pages of this stream, then the connection drops.
    const real = serverReaderFor(setup.world.clients.admin);
    let pages = 0;
    const dropping: ServerReader = {
      query: async (query) => {
        if (query.name?.endsWith(`_${stream.name}`) && ++pages > 2) {
          throw Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
        }
        return real.query(query);
      },
    };
    const cacheFile = {
      path: setup.caches.path(userId),
      key: new FileCacheKeyStore(`${setup.caches.dir}/keys`).keyFor(userId, testBackendId),
    };
    await expect(
      pullAll(cache, postgresSyncServerOver(dropping), {
        streams: [stream],
        pageSize: 2,
        cacheFile,
        workerMinRows: 0,
        rowsPerTransaction: 100,
      }),
    ).rejects.toThrow(/Connection terminated/);
    // Both received pages landed (cached, or quarantined if an earlier test made a row malformed),
    // with the cursor after them, although their group was not full.
    const quarantinedRows = cache.prepare('select count(*) as n from quarantine').get() as { n: number };
    expect(cachedKeys(cache, stream).length + quarantinedRows.n).toBe(4);
    const cursor = cache.prepare('select rows_pulled from sync_cursor where stream = ?').get(stream.name);
    expect(cursor).toEqual({ rows_pulled: 4 });
    // The next run goes on from there and ends with exactly the server's rows.
    await pullAll(cache, postgresSyncServerOver(real), {
      streams: [stream],
      pageSize: 2,
      cacheFile,
      workerMinRows: 0,
      rowsPerTransaction: 100,
    });
    // (Less any row an earlier test made malformed on purpose: it is quarantined, not cached.)
    const quarantined = (cache.prepare('select row_key from quarantine').all() as { row_key: string }[]).map(
      (row) => row.row_key,
    );
    expect(cachedKeys(cache, stream)).toEqual(onServer.filter((id) => !quarantined.includes(id)));
    expect(cache.prepare('select rows_pulled from sync_cursor where stream = ?').get(stream.name)).toEqual({
      rows_pulled: onServer.length,
    });
    // The key index the cut-short first pull had dropped is back (built before the pull went on).
    expect(missingDeferredIndexes(cache, [stream])).toEqual([]);
  });

  it('stores, column for column, the same rows from an initial COPY written by the worker as from paged queries [SYNC-RLS]', async () => {
    const admin = setup.world.people.admin;
    // Text that COPY must escape (tab, newline, carriage return, backslash, a literal \N) and JSON
    // that escapes it again, next to right-to-left, zero-width and astral characters.
    const awkward = 'tab\there\nnew line\r\\back\\slash \\N ‮rtl‬ zero​width 😀';
    await propose(setup.db.operator, setup.world.people.agent.id, {
      entityKind: 'live_essential_document',
      entityId: null,
      studyId: setup.world.studyA,
      proposedState: {
        document_type: 'protocol_amendment',
        document_title: awkward,
        storage_uri: 's3://tmf/awkward.pdf',
        metadata: { note: awkward, nested: [awkward, null, '\\N'] },
      },
    });
    await setup.db.operator.query(
      `insert into cro.provenance_event (study_id, actor_kind, actor_id, action, subject_kind, subject_id, retrieved_context, payload)
       values ($1, 'agent', $2::text, 'propose', 'staging_record', $2::text, jsonb_build_array($2::text), jsonb_build_object('text', $2::text))`,
      [setup.world.studyA, awkward],
    );
    const streams = [streamNamed('staging_record'), streamNamed('provenance_event')];
    const asLines = setup.cacheOf(`${admin.id}-cache-lines`);
    const paged = setup.cacheOf(`${admin.id}-cache-paged`);
    const real = serverReaderFor(setup.world.clients.admin);
    const cacheFile = {
      path: setup.caches.path(`${admin.id}-cache-lines`),
      key: new FileCacheKeyStore(`${setup.caches.dir}/keys`).keyFor(`${admin.id}-cache-lines`, testBackendId),
    };
    await pullAll(asLines, postgresSyncServerOver(real), {
      streams,
      cacheFile,
      workerMinRows: 0,
      pageSize: 3,
    });
    await pullAll(paged, postgresSyncServerOver({ query: (query) => real.query(query) }), {
      streams,
      pageSize: 3,
    });
    // Both first pulls built the indexes they dropped, the unique keys among them.
    expect(missingDeferredIndexes(asLines, streams)).toEqual([]);
    expect(missingDeferredIndexes(paged, streams)).toEqual([]);
    for (const stream of streams) {
      const rows = (cache: typeof paged) =>
        cache.prepare(`select * from ${stream.name} order by id`).raw(true).all() as unknown[][];
      const fromLines = rows(asLines);
      expect(fromLines.length, stream.name).toBeGreaterThan(1);
      expect(fromLines, stream.name).toEqual(rows(paged));
    }
    const title = asLines
      .prepare(
        `select proposed_state ->> '$.document_title' as title from staging_record where proposed_state like '%awkward.pdf%'`,
      )
      .get();
    expect(title).toEqual({ title: awkward });
    expect(
      asLines
        .prepare("select payload ->> '$.text' as text from provenance_event where actor_id = ?")
        .get(awkward),
    ).toEqual({
      text: awkward,
    });
  });
});

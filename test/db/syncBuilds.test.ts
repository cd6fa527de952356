// Protocol builds reach the cache (issue 20): every build a person may read and the build of every
// value are pulled as the server has them; and a cache made by an older Countersign (schema 7) that
// last synced *after* the server was migrated (so its cursors are past the server's backfill) keeps
// its rows through cache schema 8, and its next sync fills the build of every value.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openCache } from '../../src/main/cache/openCache';
import { postgresSyncServer } from '../../src/main/sync/postgresSyncServer';
import { pullAll } from '../../src/main/sync/pullEngine';
import { streamNamed } from '../../src/main/sync/streamDefinitions';
import type { AppRole } from '../../src/shared/domain';
import { cacheAtSchemaVersion } from '../main/cache/cacheAtSchemaVersion';
import { cachedKeys, serverKeys } from './support/syncCache';
import { syncWorld } from './support/syncWorld';

/** Each value table: its cache table, key, and the server's rows' build by key. */
const valueTables = [
  { cache: 'staging_record', key: 'id', server: 'cro.staging_record', serverKey: 'id' },
  { cache: 'provenance_event', key: 'id', server: 'cro.provenance_event', serverKey: 'id' },
  { cache: 'record_state', key: 'event_uuid', server: 'diary.record_state', serverKey: 'event_uuid' },
  { cache: 'record_audit', key: 'audit_id', server: 'diary.record_audit', serverKey: 'audit_id' },
  {
    cache: 'annotation',
    key: 'annotation_id',
    server: 'diary.investigator_annotations',
    serverKey: 'annotation_id',
  },
] as const;

async function serverBuilds(client: pg.ClientBase, table: (typeof valueTables)[number]) {
  const { rows } = await client.query<{ k: string; b: string | null }>(
    `select ${table.serverKey}::text as k, build_id::text as b from ${table.server} order by 1`,
  );
  return rows.map((row) => [row.k, row.b]);
}

function cachedBuilds(db: Database, table: (typeof valueTables)[number]) {
  return (
    db
      .prepare(`select cast(${table.key} as text) as k, build_id as b from ${table.cache} order by 1`)
      .all() as { k: string; b: string | null }[]
  ).map((row) => [row.k, row.b]);
}

describe('protocol builds in the cache [BUILD-SYNC]', () => {
  const setup = syncWorld();

  const roles: AppRole[] = ['signer', 'investigator', 'patient', 'admin'];
  it.each(roles)(
    'caches for a %s the builds RLS lets them read and the build of every value',
    async (role) => {
      const person = setup.world.people[role];
      const client = setup.world.clients[role];
      const cache = setup.cacheOf(`${person.id}-builds`);
      const report = await pullAll(cache, postgresSyncServer(client));
      expect(report.quarantined).toBe(0);
      const builds = streamNamed('study_build');
      const onServer = await serverKeys(client, builds);
      expect(onServer.length).toBeGreaterThan(0);
      expect(cachedKeys(cache, builds)).toEqual(onServer);
      // The server row whole, so the panel has its configuration and timeline offline.
      const { rows } = await client.query<{ id: string; doc: Record<string, unknown> }>(
        `select id::text, to_jsonb(t) - 'sync_xid' as doc from cro.study_database_build t order by id limit 1`,
      );
      const cached = cache
        .prepare('select doc from study_build where id = ?')
        .pluck()
        .get(rows[0]?.id) as string;
      expect(JSON.parse(cached)).toEqual(JSON.parse(JSON.stringify(rows[0]?.doc)));
      for (const table of valueTables) {
        const expected = await serverBuilds(client, table);
        expect(cachedBuilds(cache, table), `${role}: ${table.cache}`).toEqual(expected);
        // Every value the server wrote names a build, except provenance without a study.
        if (table.cache !== 'provenance_event') expect(expected.every(([, b]) => b !== null)).toBe(true);
      }
    },
  );

  it('migrates a cache an older Countersign synced after the server was migrated, and its next sync fills every build', async () => {
    // The administrator reads every stream (proposals and diaries alike).
    const person = setup.world.people.admin;
    const client = setup.world.clients.admin;
    // What that older Countersign had cached: a full sync's rows and cursors, in the schema 7 tables.
    const current = setup.cacheOf(`${person.id}-reference`);
    await pullAll(current, postgresSyncServer(client));
    const path = join(setup.caches.dir, 'schema-7.sqlite');
    const key = randomBytes(32);
    const old = cacheAtSchemaVersion(path, key, 7);
    const oldTables = (
      old
        .prepare(`select name from sqlite_schema where type = 'table' and name not like 'sqlite_%'`)
        .all() as {
        name: string;
      }[]
    ).map((row) => row.name);
    old.transaction(() => {
      for (const table of oldTables) {
        const columns = (
          old.prepare(`select name from pragma_table_info(?)`).all(table) as { name: string }[]
        ).map((column) => column.name);
        const rows = current
          .prepare(
            `select ${columns.join(', ')} from ${table}${table === 'sync_cursor' ? ` where stream <> 'study_build'` : ''}`,
          )
          .raw(true)
          .all() as unknown[][];
        const insert = old.prepare(
          `insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`,
        );
        for (const row of rows) insert.run(row);
      }
    })();
    expect(old.prepare('select count(*) from staging_record').pluck().get()).toBeGreaterThan(0);
    const rowsBefore = Object.fromEntries(
      valueTables.map((table) => [
        table.cache,
        old.prepare(`select count(*) from ${table.cache}`).pluck().get(),
      ]),
    );
    old.close();

    const migrated = openCache({
      path,
      key,
      userId: current.prepare('select user_id from cache_owner').pluck().get() as string,
      backendId: current.prepare('select backend_id from cache_owner').pluck().get() as string,
    });
    try {
      for (const table of valueTables) {
        expect(migrated.prepare(`select count(*) from ${table.cache}`).pluck().get(), table.cache).toBe(
          rowsBefore[table.cache],
        );
      }
      // The tables without a cached document have no build yet.
      expect(
        migrated.prepare('select count(*) from staging_record where build_id is not null').pluck().get(),
      ).toBe(0);
      expect(
        migrated.prepare('select count(*) from record_state where build_id is not null').pluck().get(),
      ).toBe(0);

      const report = await pullAll(migrated, postgresSyncServer(client));
      expect(report.quarantined).toBe(0);
      for (const table of valueTables) {
        expect(cachedBuilds(migrated, table), table.cache).toEqual(await serverBuilds(client, table));
      }
      expect(migrated.prepare('select count(*) from study_build').pluck().get()).toBe(
        current.prepare('select count(*) from study_build').pluck().get(),
      );
      // One copy of each row: replaced by key, not appended.
      expect(migrated.prepare('select count(*) from staging_record').pluck().get()).toBe(
        rowsBefore.staging_record,
      );
    } finally {
      migrated.close();
    }
  });
});

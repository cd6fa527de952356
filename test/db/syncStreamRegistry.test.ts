// The server's registry of sync streams (cs_private.sync_stream, migration 0061) is what
// public.sync_page and the other hosted-sync functions build their SQL from; the workstation's
// stream definitions are what the direct modes' pages and the cache's validation use. They must be
// the same streams with the same tables, cursors, keys and select lists, or one transport would
// cache different rows than the other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamDefinitions } from '../../src/main/sync/streamDefinitions';
import { createTestDatabase, type TestDatabase } from './support/testServer';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('the sync stream registry [HOSTED-SYNC-REGISTRY]', () => {
  it('has exactly the streams of streamDefinitions, each with the same table, cursor, key, deletions and select list [HOSTED-SYNC-REGISTRY]', async () => {
    const { rows } = await db.operator.query<{
      name: string;
      server_table: string;
      cursor_kind: string;
      key_column: string;
      key_type: string;
      deletions: boolean;
      select_list: string;
    }>(
      `select s.name, n.nspname || '.' || c.relname as server_table, s.cursor_kind, s.key_column, s.key_type,
              s.deletions, s.select_list
         from cs_private.sync_stream s
         join pg_class c on c.oid = s.server_table
         join pg_namespace n on n.oid = c.relnamespace
        order by s.name`,
    );
    const expected = streamDefinitions
      .map((stream) => ({
        name: stream.name,
        server_table: stream.serverTable,
        cursor_kind: stream.cursor,
        key_column: stream.keyColumn,
        key_type: stream.keyType,
        deletions: stream.deletions !== undefined,
        select_list: stream.selectList,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(rows).toEqual(expected);
  });
});

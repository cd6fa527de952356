// Cache schema 4: staging_record and provenance_event keep their id unique through named unique
// indexes (which a first pull may drop and rebuild) instead of primary keys. A version 3 cache is
// copied over with every row as it was, and the ids stay unique.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCache } from '../../../src/main/cache/openCache';
import { streamNamed } from '../../../src/main/sync/streamDefinitions';
import { cacheAtSchemaVersion } from './cacheAtSchemaVersion';

const owner = { userId: 'u', backendId: 'b' };

describe('cache schema 4: droppable key indexes [SYNC-RESUME]', () => {
  let dir: string;
  let path: string;
  let key: Buffer;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-cache-v4-'));
    path = join(dir, 'c.sqlite');
    key = randomBytes(32);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const staging = streamNamed('staging_record');
  const provenance = streamNamed('provenance_event');
  const stagingRow = (id: string, state: string) =>
    staging.params(
      {
        id,
        entity_kind: 'study_risk',
        entity_id: null,
        study_id: randomUUID(),
        agent_id: 'agent:test',
        model_version_id: null,
        provenance_id: null,
        state,
        proposed_state: '{"title":"Risk"}',
        created_at: '2025-01-02T00:00:00.000000Z',
        updated_at: '2025-01-02T00:00:00.000000Z',
        created_by: randomUUID(),
        build_id: randomUUID(),
      },
      '7',
    );
  const provenanceRow = (id: string) =>
    provenance.params(
      {
        id,
        study_id: null,
        actor_kind: 'agent',
        actor_id: 'agent:test',
        model_provider: null,
        model_id: null,
        model_version_id: null,
        action: 'propose',
        subject_kind: 'staging_record',
        subject_id: 'subject-1',
        retrieved_context: '[]',
        reviewer_user_id: null,
        signature_id: null,
        occurred_at: '2025-01-02T00:00:00.000000Z',
        payload: '{}',
        build_id: null,
      },
      '7',
    );
  // The rows as a version 3 cache held them: the same columns without build_id (cache schema 8).
  const beforeBuilds = (sql: string) => sql.replace(/ build_id,/, '').replace(/\?, \?\)/, '?)');
  const withoutBuild = (params: unknown[]) => [...params.slice(0, -2), params.at(-1)];

  it('copies a version 3 cache into the new tables, every row as it was, with the ids still unique', () => {
    const raw = cacheAtSchemaVersion(path, key, 3);
    raw
      .prepare('insert into cache_owner (id, user_id, backend_id, created_at) values (1, ?, ?, ?)')
      .run(owner.userId, owner.backendId, '2025-01-01T00:00:00Z');
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) {
      raw.prepare(beforeBuilds(staging.insertSql)).run(withoutBuild(stagingRow(id, 'proposed')));
      raw.prepare(beforeBuilds(provenance.insertSql)).run(withoutBuild(provenanceRow(id)));
    }
    const before = {
      staging: raw.prepare('select * from staging_record order by id').all(),
      provenance: raw.prepare('select * from provenance_event order by id').all(),
    };
    raw.close();

    const db = openCache({ path, key, ...owner });
    try {
      // Every row as it was (later schemas add columns of their own: schema 6's change summary).
      expect(db.prepare('select * from staging_record order by id').all()).toMatchObject(before.staging);
      expect(db.prepare('select * from provenance_event order by id').all()).toMatchObject(before.provenance);
      const indexes = db
        .prepare(
          `select name, tbl_name, sql from sqlite_schema where type = 'index' and tbl_name in ('staging_record', 'provenance_event') order by name`,
        )
        .all() as { name: string; sql: string | null }[];
      expect(indexes.map((index) => index.name)).toEqual([
        'provenance_event_id_idx',
        'provenance_event_subject_idx',
        'staging_record_id_idx',
        'staging_record_queue_idx',
      ]);
      // No primary key left (nothing SQLite would refuse to drop), and the key is still unique:
      // the sync's upsert replaces a row by id instead of adding a second one.
      const primaryKeys = db
        .prepare(`select count(*) as n from pragma_table_info('staging_record') where pk > 0`)
        .get() as { n: number };
      expect(primaryKeys.n).toBe(0);
      db.prepare(staging.insertSql).run(stagingRow(ids[0] as string, 'in_review'));
      expect(db.prepare('select state from staging_record where id = ?').all(ids[0])).toEqual([
        { state: 'in_review' },
      ]);
      expect(() =>
        db.prepare(`insert into provenance_event select * from provenance_event where id = ?`).run(ids[1]),
      ).toThrow(/UNIQUE constraint failed: provenance_event.id/);
      // Lookups by id use the key index.
      const plan = db.prepare('explain query plan select * from staging_record where id = ?').all(ids[0]) as {
        detail: string;
      }[];
      expect(plan.map((step) => step.detail).join(' ')).toMatch(/staging_record_id_idx/);
    } finally {
      db.close();
    }
  });
});

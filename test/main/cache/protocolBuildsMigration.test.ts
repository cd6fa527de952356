// Cache schema 8 on a cache made before it (schema 7, with rows): every row is kept as it was, the
// history and annotations pulled after the server's migration take their build from their cached
// documents, the five streams that gained build_id are pulled again from the start (their cursors
// reset, not deleted: no first pull over rows already there), and the queue's covering index holds
// build_id. That the next sync then fills every build is proved against the server in
// test/db/syncBuilds.test.ts.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheSchemaVersion } from '../../../src/main/cache/cacheMigrations';
import { streamsWithBuildId } from '../../../src/main/cache/migrations/0008_protocol_builds';
import { openCache } from '../../../src/main/cache/openCache';
import { cacheAtSchemaVersion } from './cacheAtSchemaVersion';

const owner = { userId: 'u', backendId: 'b' };
const study = randomUUID();
const build = randomUUID();

describe('cache schema 8: protocol builds on an existing cache [BUILD-SYNC]', () => {
  let dir: string;
  let path: string;
  let key: Buffer;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-cache-v8-'));
    path = join(dir, 'c.sqlite');
    key = randomBytes(32);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every row, takes builds from cached documents, and pulls the five streams again from the start', () => {
    const raw = cacheAtSchemaVersion(path, key, 7);
    raw
      .prepare('insert into cache_owner (id, user_id, backend_id, created_at) values (1, ?, ?, ?)')
      .run(owner.userId, owner.backendId, '2025-01-01T00:00:00Z');
    const stagingId = randomUUID();
    raw
      .prepare(
        `insert into staging_record (id, entity_kind, entity_id, study_id, agent_id, model_version_id, provenance_id,
           state, proposed_state, created_at, updated_at, created_by, sync_xid, change_summary, target_title)
         values (?, 'study_kpi', null, ?, 'agent:test', null, null, 'reviewing', '{"label":"KPI"}',
           '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', ?, '500', 'new study kpi, 1 field', 'KPI')`,
      )
      .run(stagingId, study, randomUUID());
    raw
      .prepare(
        `insert into provenance_event (id, study_id, actor_kind, actor_id, action, subject_kind, subject_id,
           retrieved_context, occurred_at, payload, sync_xid)
         values (?, ?, 'agent', 'agent:test', 'propose', 'staging_record', ?, '[]', '2026-01-01T00:00:00Z', '{}', '500')`,
      )
      .run(randomUUID(), study, stagingId);
    const eventUuid = randomUUID();
    raw
      .prepare(
        `insert into record_state (event_uuid, patient_id, site_id, current_data, version, last_audit_id, is_deleted, sync_xid)
         values (?, ?, 'A1', '{"date":"2026-01-01"}', 2, 2, 0, '500')`,
      )
      .run(eventUuid, randomUUID());
    // One entry pulled before the server was migrated (no build in its document), one after.
    const insertAudit = raw.prepare(
      'insert into record_audit (audit_id, event_uuid, doc, sync_xid) values (?, ?, ?, ?)',
    );
    insertAudit.run(1, eventUuid, JSON.stringify({ audit_id: 1, data: { date: '2026-01-01' } }), '400');
    insertAudit.run(
      2,
      eventUuid,
      JSON.stringify({ audit_id: 2, data: { date: '2026-01-01' }, build_id: build }),
      '500',
    );
    const annotationId = randomUUID();
    raw
      .prepare(
        `insert into annotation (annotation_id, event_uuid, parent_audit_id, client_request_id, doc, sync_xid)
         values (?, ?, 2, null, ?, '500')`,
      )
      .run(annotationId, eventUuid, JSON.stringify({ annotation_text: 'Checked.', build_id: build }));
    // Cursors past the server's backfill (an older Countersign synced after the server was migrated).
    const cursor = raw.prepare(
      `insert into sync_cursor (stream, last_xid, last_key, rows_pulled, updated_at) values (?, '500', ?, 1, '2026-01-01T00:00:00Z')`,
    );
    for (const [stream, lastKey] of [
      ['staging_record', stagingId],
      ['provenance_event', 'ffffffff-ffff-ffff-ffff-ffffffffffff'],
      ['record_state', eventUuid],
      ['record_audit', '2'],
      ['annotation', annotationId],
      ['signature_event', 'ffffffff-ffff-ffff-ffff-ffffffffffff'],
      ['audit_log', '77'],
    ] as const) {
      cursor.run(stream, lastKey);
    }
    // The tables of the streams that gained build_id.
    const tables = streamsWithBuildId;
    const before = Object.fromEntries(
      tables.map((table) => [table, raw.prepare(`select * from ${table}`).all()]),
    );
    raw.close();

    const db = openCache({ path, key, ...owner });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(cacheSchemaVersion);
      expect(cacheSchemaVersion).toBeGreaterThanOrEqual(8);
      // Every row as it was, with its build when its cached document names it.
      for (const table of tables) {
        expect(db.prepare(`select * from ${table}`).all(), table).toMatchObject(before[table] as object[]);
      }
      expect(db.prepare('select audit_id, build_id from record_audit order by audit_id').all()).toEqual([
        { audit_id: 1, build_id: null },
        { audit_id: 2, build_id: build },
      ]);
      expect(db.prepare('select build_id from annotation').pluck().get()).toBe(build);
      expect(db.prepare('select build_id from staging_record').pluck().get()).toBeNull();
      // The change summary computed before stays (the row is not rewritten until it is pulled again).
      expect(db.prepare('select change_summary from staging_record').pluck().get()).toBe(
        'new study kpi, 1 field',
      );

      // The five streams start again from the beginning; the others are where they were; no stream is
      // treated as never pulled (its unique key index would be dropped over rows already there).
      expect(
        Object.fromEntries(
          (
            db.prepare('select stream, last_xid, last_key from sync_cursor order by stream').all() as {
              stream: string;
              last_xid: string;
              last_key: string;
            }[]
          ).map((row) => [row.stream, `${row.last_xid}/${row.last_key}`]),
        ),
      ).toEqual({
        annotation: '0/00000000-0000-0000-0000-000000000000',
        audit_log: '500/77',
        provenance_event: '0/00000000-0000-0000-0000-000000000000',
        record_audit: '0/0',
        record_state: '0/00000000-0000-0000-0000-000000000000',
        signature_event: '500/ffffffff-ffff-ffff-ffff-ffffffffffff',
        staging_record: '0/00000000-0000-0000-0000-000000000000',
      });

      // The builds' table, and the queue's covering index with build_id.
      expect(db.prepare('select count(*) from study_build').pluck().get()).toBe(0);
      const index = db
        .prepare(`select sql from sqlite_schema where name = 'staging_record_queue_idx'`)
        .pluck()
        .get() as string;
      expect(index.replace(/\s+/g, ' ')).toMatch(/change_summary, target_title, build_id\)$/);
    } finally {
      db.close();
    }
  });
});

// The cached queue read: keyset pages in (created_at, id) order that neither skip nor repeat a
// row, state filters, and the per-state counts of the whole queue, sent with a load's first page only.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import DatabaseConstructor, { type Database } from 'better-sqlite3-multiple-ciphers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheSchemaVersion } from '../../../src/main/cache/cacheMigrations';
import { cachedStagingQueue } from '../../../src/main/cache/cacheReads';
import { updateToSchemaVersion1 } from '../../../src/main/cache/migrations/0001_initial';
import { updateToSchemaVersion2 } from '../../../src/main/cache/migrations/0002_diary_screen';
import { openCache } from '../../../src/main/cache/openCache';

describe('cached staging queue [SYNC-OFFLINE]', () => {
  let dir: string;
  let db: Database;
  const study = randomUUID();
  const model = randomUUID();
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-queue-'));
    db = openCache({ path: join(dir, 'c.sqlite'), key: randomBytes(32), userId: 'u', backendId: 'b' });
    const insert = db.prepare(
      `insert into staging_record (id, entity_kind, entity_id, study_id, agent_id, model_version_id, provenance_id,
         state, proposed_state, created_at, updated_at, created_by, sync_xid)
       values (?, 'study_risk', null, ?, 'agent:test', ?, null, ?, '{}', ?, ?, ?, '1')`,
    );
    db.prepare(
      `insert into live_row (entity_kind, id, study_id, doc, sync_xid) values ('study', ?, ?, ?, '1')`,
    ).run(study, study, JSON.stringify({ code: 'AUR-HHT-201' }));
    db.prepare(`insert into model_registry_version (id, doc, sync_xid) values (?, ?, '1')`).run(
      model,
      JSON.stringify({ provider: 'anthropic', model_id: 'claude-x', prompt_version: 'v7' }),
    );
    // 25 rows, three sharing one created_at (the id breaks the tie).
    for (let n = 0; n < 25; n++) {
      const at = `2026-01-01T00:00:${String(Math.min(n, 20)).padStart(2, '0')}.000000Z`;
      insert.run(
        randomUUID(),
        n === 24 ? randomUUID() : study,
        n % 2 ? model : null,
        n % 5 === 0 ? 'signed' : 'proposed',
        at,
        at,
        randomUUID(),
      );
    }
  });
  afterAll(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pages through every row once, with the counts on the first page only', () => {
    const seen: string[] = [];
    let after: { createdAt: string; id: string } | null = null;
    let pages = 0;
    do {
      const page = cachedStagingQueue(db, { limit: 7, after, states: [], studyId: null });
      if (pages === 0)
        expect(page.countsByState).toEqual({
          proposed: 20,
          reviewing: 0,
          signed: 5,
          promoted: 0,
          rejected: 0,
        });
      else expect(page.countsByState).toBeNull();
      seen.push(...page.rows.map((row) => row.id));
      after = page.nextCursor;
      pages++;
    } while (after !== null);
    expect(pages).toBe(4);
    expect(new Set(seen).size).toBe(25);
    const all = db.prepare('select id from staging_record order by created_at, id').all() as { id: string }[];
    expect(seen).toEqual(all.map((row) => row.id));
  });

  it("names each row's study and model version, and says when the study is not cached", () => {
    const rows = cachedStagingQueue(db, { limit: 100, after: null, states: [], studyId: null }).rows;
    expect(new Set(rows.map((row) => row.studyCode))).toEqual(new Set(['AUR-HHT-201', '(study not cached)']));
    expect(rows.filter((row) => row.studyCode === '(study not cached)')).toHaveLength(1);
    expect(rows.filter((row) => row.modelVersion === 'anthropic claude-x (prompt v7)')).toHaveLength(12);
    expect(rows.filter((row) => row.modelVersion === null)).toHaveLength(13);
  });

  it('filters by state and study', () => {
    expect(
      cachedStagingQueue(db, { limit: 100, after: null, states: ['signed'], studyId: null }).rows,
    ).toHaveLength(5);
    expect(
      cachedStagingQueue(db, { limit: 100, after: null, states: [], studyId: randomUUID() }).rows,
    ).toHaveLength(0);
  });

  it('reads the queue and its counts from the covering index alone, never the proposed documents', () => {
    const plans = (
      [
        [
          `select s.id, s.state, s.entity_kind, s.study_id, s.agent_id, s.model_version_id, s.created_at,
                  s.change_summary, s.target_title
           from staging_record s
           where (? is null or s.study_id = ?) and (s.created_at, s.id) > (?, ?) order by s.created_at, s.id limit 10`,
          [null, null, '', ''],
        ],
        [
          'select state, count(*) as n from staging_record where (? is null or study_id = ?) group by state',
          [null, null],
        ],
      ] as const
    ).map(([sql, params]) =>
      (db.prepare(`explain query plan ${sql}`).all(...params) as { detail: string }[])
        .map((step) => step.detail)
        .join('; '),
    );
    expect(plans[0]).toMatch(/USING COVERING INDEX staging_record_queue_idx/);
    expect(plans[1]).toMatch(/USING COVERING INDEX staging_record_queue_idx/);
  });
});

describe('cache schema 3 [SYNC-OFFLINE]', () => {
  it("replaces a version 2 cache's queue index with the covering one and keeps the rows", () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-queue-v2-'));
    const path = join(dir, 'c.sqlite');
    const key = randomBytes(32);
    try {
      const raw = new DatabaseConstructor(path);
      raw.pragma(`cipher = 'aegis'`);
      raw.pragma(`hexkey = '${key.toString('hex')}'`);
      raw.transaction(() => {
        updateToSchemaVersion1(raw);
        updateToSchemaVersion2(raw);
        raw.pragma('user_version = 2');
      })();
      raw
        .prepare('insert into cache_owner (id, user_id, backend_id, created_at) values (1, ?, ?, ?)')
        .run('u', 'b', '2025-01-01T00:00:00Z');
      raw
        .prepare(
          `insert into staging_record (id, entity_kind, entity_id, study_id, agent_id, model_version_id, provenance_id,
             state, proposed_state, created_at, updated_at, created_by, sync_xid)
           values (?, 'study_risk', null, ?, 'agent:test', null, null, 'proposed', '{}', '2025-01-02T00:00:00Z', '2025-01-02T00:00:00Z', ?, '1')`,
        )
        .run(randomUUID(), randomUUID(), randomUUID());
      const indexSql = (db: Database) =>
        (
          db.prepare(`select sql from sqlite_schema where name = 'staging_record_queue_idx'`).get() as {
            sql: string;
          }
        ).sql;
      expect(indexSql(raw)).toMatch(/\(created_at, id\)$/);
      raw.close();

      const upgraded = openCache({ path, key, userId: 'u', backendId: 'b' });
      try {
        expect(upgraded.pragma('user_version', { simple: true })).toBe(cacheSchemaVersion);
        expect(indexSql(upgraded).replace(/\s+/g, ' ')).toContain(
          '(created_at, id, state, study_id, entity_kind, agent_id, model_version_id,',
        );
        expect(
          cachedStagingQueue(upgraded, { limit: 10, after: null, states: [], studyId: null }).rows,
        ).toHaveLength(1);
      } finally {
        upgraded.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

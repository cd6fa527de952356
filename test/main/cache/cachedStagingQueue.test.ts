// The cached queue read: keyset pages in (created_at, id) order that neither skip nor repeat a
// row, state filters, and the per-state counts of the whole queue, sent with a load's first page only.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedStagingQueue } from '../../../src/main/cache/cacheReads';
import { openCache } from '../../../src/main/cache/openCache';

describe('cached staging queue [SYNC-OFFLINE]', () => {
  let dir: string;
  let db: Database;
  const study = randomUUID();
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-queue-'));
    db = openCache({ path: join(dir, 'c.sqlite'), key: randomBytes(32), userId: 'u', backendId: 'b' });
    const insert = db.prepare(
      `insert into staging_record (id, entity_kind, entity_id, study_id, agent_id, model_version_id, provenance_id,
         state, proposed_state, created_at, updated_at, created_by, sync_xid)
       values (?, 'study_risk', null, ?, 'agent:test', null, null, ?, '{}', ?, ?, ?, '1')`,
    );
    // 25 rows, three sharing one created_at (the id breaks the tie).
    for (let n = 0; n < 25; n++) {
      const at = `2026-01-01T00:00:${String(Math.min(n, 20)).padStart(2, '0')}.000000Z`;
      insert.run(randomUUID(), study, n % 5 === 0 ? 'signed' : 'proposed', at, at, randomUUID());
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

  it('filters by state and study', () => {
    expect(
      cachedStagingQueue(db, { limit: 100, after: null, states: ['signed'], studyId: null }).rows,
    ).toHaveLength(5);
    expect(
      cachedStagingQueue(db, { limit: 100, after: null, states: [], studyId: randomUUID() }).rows,
    ).toHaveLength(0);
  });
});

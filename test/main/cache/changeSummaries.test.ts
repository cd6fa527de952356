// Each cached proposal's change summary and target title (cache schema 6): computed once when the
// row is cached, again when a sync writes the row anew or its live row changes, and read by the
// queue from its covering index with the rest of the row.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedStagingQueue } from '../../../src/main/cache/cacheReads';
import { refreshChangeSummaries } from '../../../src/main/cache/changeSummaries';
import { openCache } from '../../../src/main/cache/openCache';

describe('cached change summaries [UI-QUEUE-CHANGE-SUMMARY]', () => {
  let dir: string;
  let db: Database;
  const study = randomUUID();
  const risk = randomUUID();
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-summary-'));
    db = openCache({ path: join(dir, 'c.sqlite'), key: randomBytes(32), userId: 'u', backendId: 'b' });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const writeLive = (doc: Record<string, unknown>, xid: string) =>
    db
      .prepare(
        `insert or replace into live_row (entity_kind, id, study_id, doc, sync_xid) values ('study_risk', ?, ?, ?, ?)`,
      )
      .run(risk, study, JSON.stringify({ id: risk, ...doc }), xid);
  // As the sync writes a staging row (insert or replace, streamDefinitions.ts): no summary columns.
  const writeProposal = (
    id: string,
    entityId: string | null,
    proposed: Record<string, unknown>,
    xid: string,
  ) =>
    db
      .prepare(
        `insert or replace into staging_record (id, entity_kind, entity_id, study_id, agent_id, model_version_id,
           provenance_id, state, proposed_state, created_at, updated_at, created_by, sync_xid)
         values (?, 'study_risk', ?, ?, 'agent:test', null, null, 'proposed', ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        entityId,
        study,
        JSON.stringify(proposed),
        '2026-12-01T00:00:00.000000Z',
        '2026-12-01T00:00:00.000000Z',
        randomUUID(),
        xid,
      );
  const queue = () => cachedStagingQueue(db, { limit: 100, after: null, states: [], studyId: null }).rows;

  it('computes missing summaries, and again when the live row or the proposal is written anew', () => {
    writeLive({ title: 'Courier strike', status: 'mitigating' }, '10');
    const update = randomUUID();
    const create = randomUUID();
    writeProposal(update, risk, { status: 'open', owner: 'Priya Raman' }, '11');
    writeProposal(create, null, { title: 'Contrast media shortage', status: 'open' }, '12');
    expect(queue().every((row) => row.changeSummary === null)).toBe(true);

    expect(refreshChangeSummaries(db)).toBe(2);
    const byId = () => new Map(queue().map((row) => [row.id, row]));
    expect(byId().get(update)).toMatchObject({
      changeSummary: 'status: mitigating → open; +1 field',
      targetTitle: 'Courier strike',
    });
    expect(byId().get(create)).toMatchObject({
      changeSummary: 'new study risk, 2 fields',
      targetTitle: 'Contrast media shortage',
    });
    expect(refreshChangeSummaries(db)).toBe(0);

    // Another promotion changed the live row: the summary against it follows.
    writeLive({ title: 'Courier strike (EU)', status: 'open', owner: 'Priya Raman' }, '13');
    expect(refreshChangeSummaries(db)).toBe(1);
    expect(byId().get(update)).toMatchObject({
      changeSummary: 'no change',
      targetTitle: 'Courier strike (EU)',
    });

    // The agent revised its proposal: the sync writes the row anew.
    writeProposal(update, risk, { status: 'closed' }, '14');
    expect(refreshChangeSummaries(db)).toBe(1);
    expect(byId().get(update)?.changeSummary).toBe('status: open → closed');
  });

  it('reads the summaries from the covering index, never the proposed documents', () => {
    const plan = (
      db
        .prepare(
          `explain query plan select s.id, s.state, s.entity_kind, s.study_id, s.agent_id, s.model_version_id,
             s.created_at, s.change_summary, s.target_title from staging_record s
           where (? is null or s.study_id = ?) order by s.created_at, s.id limit 10`,
        )
        .all(null, null) as { detail: string }[]
    )
      .map((step) => step.detail)
      .join('; ');
    expect(plan).toMatch(/USING COVERING INDEX staging_record_queue_idx/);
  });
});

// The pull engine refuses a page whose rows are not in cursor order, whichever server sent it: a
// cursor taken from such a page would skip rows for good. Nothing of the page is written.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCache } from '../../../src/main/cache/openCache';
import { pullAll } from '../../../src/main/sync/pullEngine';
import { streamNamed } from '../../../src/main/sync/streamDefinitions';
import type { SyncServer } from '../../../src/main/sync/syncServer';

const site = (xid: string, id: string) => ({
  sync_xid: xid,
  site_id: id,
  study_id: 'aaaaaaaa-0000-4000-8000-000000000001',
  doc: `{"site_id":"${id}"}`,
});
const auditRow = (xid: string, auditId: string) => ({
  sync_xid: xid,
  audit_id: auditId,
  event_uuid: 'bbbbbbbb-0000-4000-8000-000000000001',
  build_id: null,
  doc: '{}',
});

/** A server that answers the first page of any stream with `rows`. */
function serverAnswering(rows: Record<string, unknown>[]): SyncServer {
  let asked = false;
  const unused = async (): Promise<never> => {
    throw new Error('not used here');
  };
  return {
    transport: 'hosted',
    start: async () => ({ horizon: '100', fingerprint: '' }),
    count: async (streams) =>
      new Map(streams.map((stream) => [stream.name, { rows: rows.length, all: null }])),
    page: async () => {
      if (asked) return [];
      asked = true;
      return rows;
    },
    keys: async () => [],
    people: async () => [],
    annotate: unused,
    resolveAnnotation: unused,
    submitDiaryEvents: unused,
    resolveDiaryConflict: unused,
  };
}

describe('pull engine: page order [HOSTED-SYNC-PAGE-ORDER, SYNC-WATERMARK]', () => {
  let dir: string;
  let db: Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-order-'));
    db = openCache({
      path: join(dir, 'c.sqlite'),
      key: Buffer.alloc(32, 7),
      userId: '11111111-1111-4111-8111-111111111111',
      backendId: 'abcdefabcdefabcd',
    });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lands a page in cursor order', async () => {
    const report = await pullAll(db, serverAnswering([site('50', 'S2'), site('60', 'S1')]), {
      streams: [streamNamed('site')],
    });
    expect(report.rows).toBe(2);
    expect(db.prepare('select last_xid, last_key from sync_cursor').get()).toEqual({
      last_xid: '60',
      last_key: 'S1',
    });
  });

  it('refuses a page with more rows than asked for and writes none of it', async () => {
    await expect(
      pullAll(db, serverAnswering([site('50', 'S2'), site('60', 'S1')]), {
        streams: [streamNamed('site')],
        pageSize: 1,
      }),
    ).rejects.toThrow(/2 rows of site for a page of 1/);
    expect(db.prepare('select count(*) as n from site').get()).toEqual({ n: 0 });
  });

  it.each([
    ['a sync_xid going back', 'site', [site('60', 'S1'), site('50', 'S2')]],
    [
      'a numeric key going back within one sync_xid',
      'record_audit',
      [auditRow('50', '10'), auditRow('50', '9')],
    ],
    ['a repeated row', 'record_audit', [auditRow('50', '10'), auditRow('50', '10')]],
    ['a text key repeated within one sync_xid', 'site', [site('50', 'S1'), site('50', 'S1')]],
    ['a key not after the cursor', 'record_audit', [auditRow('0', '0')]],
  ])('refuses a page with %s and writes none of it', async (_what, name, rows) => {
    await expect(pullAll(db, serverAnswering(rows), { streams: [streamNamed(name)] })).rejects.toThrow(
      /out of cursor order/,
    );
    expect(db.prepare('select count(*) as n from sync_cursor').get()).toEqual({ n: 0 });
  });

  it('refuses a first pull row at or above the horizon the pull reads below, and writes none of it', async () => {
    // The server said the horizon is 100 (serverAnswering's start): a key-ordered first pull.
    const model = (xid: string, id: string) => ({ sync_xid: xid, id, doc: '{}' });
    await expect(
      pullAll(
        db,
        serverAnswering([
          model('99', 'cccccccc-0000-4000-8000-000000000001'),
          model('100', 'cccccccc-0000-4000-8000-000000000002'),
        ]),
        { streams: [streamNamed('model_registry_version')] },
      ),
    ).rejects.toThrow(/row 2 of a first pull of model_registry_version at or above its horizon/);
    expect(db.prepare('select count(*) as n from model_registry_version').get()).toEqual({ n: 0 });
  });
});

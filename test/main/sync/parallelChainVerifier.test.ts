// The chain verified on worker threads must say exactly what a single-threaded run says: the same
// verified head on a good chain, and the same first bad sequence number for a break anywhere,
// including at the seam between two workers' slices.
import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCache } from '../../../src/main/cache/openCache';
import { packedEntrySql, verifyChainFrom } from '../../../src/main/sync/chainVerifier';
import { verifyChainParallel } from '../../../src/main/sync/parallelChainVerifier';
import { auditEntryHashInput, genesisPrevHash } from '../../../src/shared/auditChain';
import { canonicalJson } from '../../../src/shared/canonicalJson';

const sha = (text: string) => hash('sha256', text, 'hex');
const entries = 3000;
const key = Buffer.alloc(32, 9);

describe('verifyChainParallel [SYNC-CHAIN-VERIFY]', () => {
  let dir: string;
  let path: string;
  let db: Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-pchain-'));
    path = join(dir, 'c.sqlite');
    db = openCache({
      path,
      key,
      userId: '11111111-1111-4111-8111-111111111111',
      backendId: 'bbbbbbbbbbbbbbbb',
    });
    const insert = db.prepare(
      'insert into audit_log (seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash) values (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    let prevHash = genesisPrevHash;
    db.transaction(() => {
      for (let seq = 1; seq <= entries; seq++) {
        const payload = canonicalJson({ seq, note: `entry ${seq} "quoted" é😀` });
        const occurredAt = new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString();
        const payloadHash = sha(payload);
        const input = { seq, occurredAt, actor: 'db:test', eventType: 'test.event', payloadHash, prevHash };
        const entryHash = sha(auditEntryHashInput(input));
        insert.run(seq, occurredAt, 'db:test', 'test.event', payload, payloadHash, prevHash, entryHash);
        prevHash = entryHash;
      }
    })();
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const parallel = () =>
    verifyChainParallel(db, {
      source: { path, key },
      fromGenesis: true,
      threads: 3,
      packedSql: packedEntrySql,
      minEntriesForWorkers: 0,
    });
  const single = () => verifyChainFrom(db, { fromGenesis: true });
  const outcome = (r: {
    ok: boolean;
    verifiedThroughSeq: number;
    headHash: string;
    firstBadSeq: number | null;
  }) => ({
    ok: r.ok,
    verifiedThroughSeq: r.verifiedThroughSeq,
    headHash: r.headHash,
    firstBadSeq: r.firstBadSeq,
  });

  it('verifies a good chain to the same head as one thread', async () => {
    const result = await parallel();
    expect(result).toMatchObject({ ok: true, verifiedThroughSeq: entries, checked: entries });
    expect(outcome(result)).toEqual(outcome(single()));
  });

  it.each([
    [
      'a changed payload in the last slice',
      2900,
      `update audit_log set payload = '{"forged":true}' where seq = 2900`,
    ],
    [
      'a broken link at the seam of two slices',
      1001,
      `update audit_log set prev_hash = '${'1'.repeat(64)}' where seq = 1001`,
    ],
    ['a changed field in the first slice', 7, `update audit_log set actor = 'db:forger' where seq = 7`],
    ['a missing entry at the start of a slice', 2001, 'delete from audit_log where seq = 2001'],
  ])('reports %s at the same sequence number as one thread', async (_name, bad, sql) => {
    db.exec(sql);
    const result = await parallel();
    expect(result.firstBadSeq).toBe(bad);
    expect(result.verifiedThroughSeq).toBe(bad - 1);
    expect(outcome(result)).toEqual(outcome(single()));
  });
});

// Local chain verification on a cache built in memory: a valid chain verifies incrementally from
// its head; a changed payload, a changed field, a broken link and a gap are each reported with the
// first bad sequence number, and the head never moves past it.
import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCache } from '../../../src/main/cache/openCache';
import { entryHashInput, packedEntrySql, verifyChainFrom } from '../../../src/main/sync/chainVerifier';
import { auditEntryHashInput, genesisPrevHash } from '../../../src/shared/auditChain';
import { canonicalJson } from '../../../src/shared/canonicalJson';

const sha = (text: string) => hash('sha256', text, 'hex');

function appendEntries(db: Database, from: number, count: number, prev: string): string {
  const insert = db.prepare(
    'insert into audit_log (seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash) values (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  let prevHash = prev;
  for (let seq = from; seq < from + count; seq++) {
    const payload = canonicalJson({ seq, note: `entry ${seq}`, unicode: 'é€😀' });
    const occurredAt = new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString();
    const payloadHash = sha(payload);
    const entryHash = sha(
      auditEntryHashInput({
        seq,
        occurredAt,
        actor: 'db:test',
        eventType: 'test.event',
        payloadHash,
        prevHash,
      }),
    );
    insert.run(seq, occurredAt, 'db:test', 'test.event', payload, payloadHash, prevHash, entryHash);
    prevHash = entryHash;
  }
  return prevHash;
}

describe('verifyChainFrom [SYNC-CHAIN-VERIFY]', () => {
  let dir: string;
  let db: Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-chain-'));
    db = openCache({
      path: join(dir, 'c.sqlite'),
      key: Buffer.alloc(32, 7),
      userId: '11111111-1111-4111-8111-111111111111',
      backendId: 'aaaaaaaaaaaaaaaa',
    });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds the entry hash input exactly as the shared canonical form does', () => {
    const fields = {
      seq: 42,
      occurredAt: '2026-01-01T00:00:00.123Z',
      actor: 'db:"quoted"\\user',
      eventType: 'diary.event',
      payloadHash: 'a'.repeat(64),
      prevHash: 'b'.repeat(64),
    };
    expect(
      entryHashInput(
        fields.seq,
        fields.occurredAt,
        fields.actor,
        fields.eventType,
        fields.payloadHash,
        fields.prevHash,
      ),
    ).toBe(auditEntryHashInput(fields));
  });

  it('builds the same input in SQLite (json_quote) as in JavaScript, for awkward actors too', () => {
    const actors = [
      'db:countersign_owner',
      'db:"quoted"\\role',
      'db:tab\there\nnew\u0001line\u001f',
      'db:é€😀',
    ];
    const insert = db.prepare(
      `insert into audit_log (seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash)
       values (?, '2026-01-01T00:00:00.123Z', ?, 'test.event', '{}', ?, ?, ?)`,
    );
    actors.forEach((actor, index) => {
      insert.run(index + 1, actor, 'a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64));
    });
    const packed = db.prepare(packedEntrySql).raw(true).all(0, 10) as [number, string][];
    actors.forEach((actor, index) => {
      const row = packed[index]?.[1] as string;
      const input = row.slice(192, row.indexOf('\x1f', 192));
      expect(input).toBe(
        auditEntryHashInput({
          seq: index + 1,
          occurredAt: '2026-01-01T00:00:00.123Z',
          actor,
          eventType: 'test.event',
          payloadHash: 'a'.repeat(64),
          prevHash: 'b'.repeat(64),
        }),
      );
    });
  });

  it('verifies a valid chain, then only what is new', () => {
    const head = appendEntries(db, 1, 50, genesisPrevHash);
    expect(verifyChainFrom(db)).toMatchObject({
      ok: true,
      checked: 50,
      verifiedThroughSeq: 50,
      headHash: head,
    });
    appendEntries(db, 51, 5, head);
    expect(verifyChainFrom(db)).toMatchObject({ ok: true, checked: 5, verifiedThroughSeq: 55 });
  });

  it.each([
    [
      'a changed payload',
      `update audit_log set payload = replace(payload, 'entry 17', 'entry 71') where seq = 17`,
      17,
      /payload/,
    ],
    ['a changed field', `update audit_log set actor = 'db:someone' where seq = 17`, 17, /entry hash/],
    ['a broken link', `update audit_log set prev_hash = '${'0'.repeat(64)}' where seq = 17`, 17, /point at/],
    ['a gap', 'delete from audit_log where seq = 17', 17, /missing/],
  ])('reports %s at its sequence number and keeps the head before it', (_name, tamper, bad, problem) => {
    appendEntries(db, 1, 30, genesisPrevHash);
    db.exec(tamper);
    const result = verifyChainFrom(db);
    expect(result).toMatchObject({ ok: false, firstBadSeq: bad, verifiedThroughSeq: bad - 1 });
    expect(result.problem).toMatch(problem);
    expect(verifyChainFrom(db)).toMatchObject({ ok: false, firstBadSeq: bad });
  });

  it('finds a change below the verified head only on a full verification', () => {
    appendEntries(db, 1, 30, genesisPrevHash);
    expect(verifyChainFrom(db).ok).toBe(true);
    db.exec(`update audit_log set event_type = 'test.other' where seq = 3`);
    expect(verifyChainFrom(db)).toMatchObject({ ok: true, checked: 0 });
    expect(verifyChainFrom(db, { fromGenesis: true })).toMatchObject({
      ok: false,
      firstBadSeq: 3,
      verifiedThroughSeq: 2,
    });
  });
});

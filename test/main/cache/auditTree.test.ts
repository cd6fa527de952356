// The cache's checkpoint tree against an in-memory tree of the same entry hashes: roots, inclusion and
// consistency proofs at many sizes, incrementally advanced as the verifier moves its head, rebuilt when
// the head moves back; the subject map against a naive grouping; a gap in the log is refused.
import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AuditTreeError,
  advanceAuditTree,
  checkpointOf,
  consistencyProof,
  inclusionProof,
  rootAt,
  seqsAbout,
  subjectMapAt,
} from '../../../src/main/cache/auditTree';
import { openCache } from '../../../src/main/cache/openCache';
import { auditSubjectsOf, subjectLeafHash } from '../../../src/main/checkpoint/auditSubjects';
import {
  hashFromHex,
  inclusionPath,
  inclusionProblem,
  leafHash,
  memoryTree,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/main/checkpoint/merkleTree';
import { entryHashInput, verifyChainFrom } from '../../../src/main/sync/chainVerifier';
import { genesisPrevHash } from '../../../src/shared/auditChain';
import { canonicalJson } from '../../../src/shared/canonicalJson';

const sha = (text: string) => hash('sha256', text, 'hex');

function eventOf(seq: number): [string, Record<string, unknown>] {
  switch (seq % 5) {
    case 0:
      return ['staging.proposed', { staging_id: `s${seq % 23}`, n: seq }];
    case 1:
      return ['diary.event', { event_uuid: `e${seq % 31}`, audit_id: seq }];
    case 2:
      return ['signature.recorded', { subject_kind: 'staging_record', subject_id: `s${seq % 23}` }];
    case 3:
      return ['study_build.transition', { build_id: `b${seq % 3}` }];
    default:
      return ['person.signed_in', { n: seq }];
  }
}

function append(db: Database, from: number, count: number): void {
  const last = db
    .prepare('select entry_hash from audit_log where seq = ?')
    .pluck()
    .get(from - 1) as string | undefined;
  let prev = last ?? genesisPrevHash;
  const insert = db.prepare(
    'insert into audit_log (seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash) values (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  for (let seq = from; seq < from + count; seq++) {
    const [eventType, payload] = eventOf(seq);
    const text = canonicalJson(payload);
    const occurredAt = new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString();
    const payloadHash = sha(text);
    const entryHash = sha(entryHashInput(seq, occurredAt, 'db:test', eventType, payloadHash, prev));
    insert.run(seq, occurredAt, 'db:test', eventType, text, payloadHash, prev, entryHash);
    prev = entryHash;
  }
}

function leavesOf(db: Database): Buffer[] {
  return (db.prepare('select entry_hash from audit_log order by seq').pluck().all() as string[]).map((h) =>
    leafHash(Buffer.from(h, 'hex')),
  );
}

describe('the cached audit tree [PROOF-TREE]', () => {
  let dir: string;
  let db: Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-tree-'));
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

  it('follows the verified head incrementally and answers as a tree of the entry hashes', () => {
    expect(checkpointOf(db)).toBeNull();
    append(db, 1, 300);
    expect(verifyChainFrom(db).ok).toBe(true);
    expect(advanceAuditTree(db)).toBe(300);
    append(db, 301, 1500);
    // Not verified yet: the tree stays at the verified head.
    expect(advanceAuditTree(db)).toBe(300);
    expect(verifyChainFrom(db).ok).toBe(true);
    expect(advanceAuditTree(db)).toBe(1800);

    const leaves = leavesOf(db);
    for (const size of [1, 2, 255, 256, 257, 300, 511, 512, 513, 1024, 1025, 1799, 1800]) {
      const expected = memoryTree(leaves.slice(0, size)).root.toString('hex');
      expect(rootAt(db, size)).toBe(expected);
    }
    const root = hashFromHex(rootAt(db, 1800)) as Buffer;
    for (const seq of [1, 2, 256, 257, 1024, 1500, 1799, 1800]) {
      const proof = inclusionProof(db, seq, 1800);
      const path = proof.path.map((h) => Buffer.from(h, 'hex'));
      expect(inclusionProblem(seq - 1, 1800, leaves[seq - 1] as Buffer, path, root)).toBeNull();
    }
    for (const old of [1, 255, 256, 300, 1024, 1799, 1800]) {
      const path = consistencyProof(db, old, 1800).map((h) => Buffer.from(h, 'hex'));
      expect(verifyConsistency(old, 1800, Buffer.from(rootAt(db, old), 'hex'), root, path)).toBe(true);
    }

    // Same answers as a tree built in one go.
    db.prepare('delete from audit_tree_state').run();
    db.prepare('delete from audit_tree_node').run();
    db.prepare('delete from audit_subject').run();
    expect(advanceAuditTree(db)).toBe(1800);
    expect(rootAt(db, 1800)).toBe(root.toString('hex'));
    expect(() => rootAt(db, 1801)).toThrow(AuditTreeError);
  });

  it('commits the subject map: every subject with the seqs about it, in subject order', () => {
    append(db, 1, 700);
    verifyChainFrom(db);
    const naive = new Map<string, number[]>();
    for (let seq = 1; seq <= 650; seq++) {
      const [type, payload] = eventOf(seq);
      for (const s of auditSubjectsOf(type, payload)) naive.set(s, [...(naive.get(s) ?? []), seq]);
    }
    const keys = [...naive.keys()].sort();
    const expected = memoryTree(keys.map((k) => subjectLeafHash(k, naive.get(k) as number[])));
    const map = subjectMapAt(db, 650, new Set(['staging:s5', 'diary:e7']));
    expect(map.root).toBe(expected.root.toString('hex'));
    expect(map.count).toBe(keys.length);
    expect(map.leaves.get('staging:s5')?.seqs).toEqual(naive.get('staging:s5'));
    expect(seqsAbout(db, 'staging:s5', 650)).toEqual(naive.get('staging:s5'));
    const leaf = map.leaves.get('diary:e7') as { index: number; seqs: number[] };
    expect(
      verifyInclusion(
        leaf.index,
        map.count,
        subjectLeafHash('diary:e7', leaf.seqs),
        inclusionPath(leaf.index, map.count, map.subtree),
        expected.root,
      ),
    ).toBe(true);
    // At the head the map comes from the stored leaf hashes: the same root as the naive grouping.
    const atHead = new Map<string, number[]>();
    for (let seq = 1; seq <= 700; seq++) {
      const [type, payload] = eventOf(seq);
      for (const s of auditSubjectsOf(type, payload)) atHead.set(s, [...(atHead.get(s) ?? []), seq]);
    }
    const headKeys = [...atHead.keys()].sort();
    const checkpoint = checkpointOf(db);
    expect(checkpoint).toEqual({
      treeSize: 700,
      rootHash: memoryTree(leavesOf(db)).root.toString('hex'),
      subjectRoot: memoryTree(
        headKeys.map((k) => subjectLeafHash(k, atHead.get(k) as number[])),
      ).root.toString('hex'),
    });
    expect(subjectMapAt(db, 700, new Set(['diary:e7'])).leaves.get('diary:e7')?.seqs).toEqual(
      atHead.get('diary:e7'),
    );
  });

  it('rebuilds when the verified head moves back, and refuses a log with a gap', () => {
    append(db, 1, 600);
    verifyChainFrom(db);
    const before = rootAt(db, 600);
    db.prepare(`update audit_log set payload = '{"n":0}' where seq = 400`).run();
    expect(verifyChainFrom(db, { fromGenesis: true }).firstBadSeq).toBe(400);
    expect(advanceAuditTree(db)).toBe(399);
    expect(rootAt(db, 399)).toBe(memoryTree(leavesOf(db).slice(0, 399)).root.toString('hex'));
    expect(() => rootAt(db, 600)).toThrow(/beyond the verified audit log/);
    expect(before).not.toBe('');

    db.prepare('delete from audit_log where seq = 10').run();
    db.prepare('delete from audit_tree_state').run();
    db.prepare(`update chain_head set seq = 20`).run();
    expect(() => advanceAuditTree(db)).toThrow(/not contiguous|no entry 10/);
  });
});

// chain.verify: local verification of 1,000,000 audit_log entries in an encrypted cache, in rows/s,
// against plain SHA-256 over the same bytes (each entry's canonical payload and its entry-hash input,
// the two messages verification must hash) in the same process. The chain is built in Node with
// the server's formulas (0004_audit_log.sql); payloads look like the server's diary events.
import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCache } from '../src/main/cache/openCache';
import { entryHashInput, packedEntrySql } from '../src/main/sync/chainVerifier';
import { verifyChainParallel } from '../src/main/sync/parallelChainVerifier';
import { genesisPrevHash } from '../src/shared/auditChain';
import { canonicalJson } from '../src/shared/canonicalJson';
import type { Benchmark } from './support/benchmark';
import { benchSize } from './support/benchScale';

const entries = benchSize(1_000_000, 100);
const batch = benchSize(50_000, 10);
const sha = (text: string) => hash('sha256', text, 'hex');

interface Entry {
  seq: number;
  occurredAt: string;
  actor: string;
  eventType: string;
  payload: string;
}

function entryAt(seq: number): Entry {
  const hex = sha(String(seq));
  return {
    seq,
    occurredAt: new Date(Date.UTC(2026, 0, 1) + seq * 7).toISOString(),
    actor: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`,
    eventType: 'diary.event',
    payload: canonicalJson({
      audit_id: seq,
      event_uuid: `${hex.slice(32, 40)}-${hex.slice(40, 44)}-4${hex.slice(45, 48)}-9${hex.slice(49, 52)}-${hex.slice(52, 64)}`,
      operation: 'USER_UPDATE',
      site_id: 'SITE-A1',
      parent_audit_id: seq - 1,
      data_sha256: hex,
      change_reason_sha256: sha(hex),
    }),
  };
}

export const benchmark: Benchmark = {
  name: 'chain',
  figures: ['chain.verify'],
  async run({ log }) {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-chain-'));
    try {
      const path = join(dir, 'chain.sqlite');
      const key = Buffer.alloc(32, 42);
      const threads = availableParallelism();
      const db = openCache({
        path,
        key,
        userId: '11111111-1111-4111-8111-111111111111',
        backendId: 'cccccccccccccccc',
      });
      log(`building a valid chain of ${entries} entries in the cache`);
      const insert = db.prepare(
        'insert into audit_log (seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash) values (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      let prev = genesisPrevHash;
      let baselineMs = 0;
      let bytes = 0;
      for (let start = 1; start <= entries; start += batch) {
        const rows: Entry[] = [];
        for (let seq = start; seq < start + batch; seq++) rows.push(entryAt(seq));
        // Baseline: SHA-256 of exactly the messages verification hashes, timed on its own.
        const messages: string[] = [];
        db.transaction(() => {
          for (const row of rows) {
            const payloadHash = sha(row.payload);
            const input = entryHashInput(
              row.seq,
              row.occurredAt,
              row.actor,
              row.eventType,
              payloadHash,
              prev,
            );
            const entryHash = sha(input);
            insert.run(
              row.seq,
              row.occurredAt,
              row.actor,
              row.eventType,
              row.payload,
              payloadHash,
              prev,
              entryHash,
            );
            messages.push(row.payload, input);
            prev = entryHash;
          }
        })();
        const started = performance.now();
        for (const message of messages) sha(message);
        baselineMs += performance.now() - started;
        for (const message of messages) bytes += message.length;
      }
      db.pragma('wal_checkpoint(TRUNCATE)');

      log(`verifying on ${threads} thread(s)`);
      const started = performance.now();
      const result = await verifyChainParallel(db, {
        source: { path, key },
        fromGenesis: true,
        threads,
        packedSql: packedEntrySql,
      });
      const verifyMs = performance.now() - started;
      db.close();
      if (!result.ok || result.verifiedThroughSeq !== entries) {
        throw new Error(`the benchmark chain did not verify: ${result.problem}`);
      }
      return [
        {
          bench: 'chain.verify',
          value: entries / (verifyMs / 1000),
          unit: 'rows/s',
          baseline: 'plain SHA-256 of the same messages (payload + entry input), same process',
          baseline_value: entries / (baselineMs / 1000),
          valueBetter: 'higher',
          target: 0.5,
          // The baseline hashes on one thread; verification uses every core, as the product does.
          detail: {
            entries,
            hashed_mb: Math.round(bytes / 1e6),
            verify_s: Math.round(verifyMs) / 1000,
            verify_threads: threads,
            baseline_threads: 1,
          },
        },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

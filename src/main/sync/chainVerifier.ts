// Verifies the cached audit_log hash chain (0004_audit_log.sql) locally and incrementally: from the
// last verified head, each entry in seq order must follow without a gap, point at the previous
// entry's hash, and carry the payload and entry hashes recomputed here. The head moves only over
// entries that verified (fromGenesis re-checks everything, e.g. after the cache file was copied
// around); a break names the first bad sequence number and stays reported until
// the cache holds a good entry there.
import { hash } from 'node:crypto';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { genesisPrevHash } from '../../shared/auditChain';

export interface ChainVerification {
  ok: boolean;
  /** The last sequence number known good (0: nothing verified yet). */
  verifiedThroughSeq: number;
  headHash: string;
  /** Entries checked by this run. */
  checked: number;
  firstBadSeq: number | null;
  problem: string | null;
  verifiedAt: string;
}

export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/**
 * canonical_json([seq, occurred_at, actor, event_type, payload_hash, prev_hash]) without a generic
 * serialiser: an integer, and strings that JSON.stringify escapes exactly as RFC 8785 does (the
 * audit_log columns cannot hold lone surrogates). Tested equal to auditEntryHashInput.
 */
export function entryHashInput(
  seq: number,
  occurredAt: string,
  actor: string,
  eventType: string,
  payloadHash: string,
  prevHash: string,
): string {
  return `[${seq},${JSON.stringify(occurredAt)},${JSON.stringify(actor)},${JSON.stringify(eventType)},"${payloadHash}","${prevHash}"]`;
}

/**
 * Each entry as one string built by SQLite: payload_hash, prev_hash, entry_hash (64 characters
 * each), the entry-hash input, a unit separator, the canonical payload. One column instead of eight
 * halves the cost of reading a row into JavaScript, the largest part of verification after hashing.
 * SQLite's json_quote escapes exactly as JSON.stringify does (quote, backslash, \b \t \n \f \r,
 * other controls as \u00xx), so the input equals entryHashInput (tested).
 */
export const packedEntrySql = `select seq, payload_hash || prev_hash || entry_hash ||
    '[' || seq || ',' || json_quote(occurred_at) || ',' || json_quote(actor) || ',' || json_quote(event_type) ||
    ',"' || payload_hash || '","' || prev_hash || '"]' || char(31) || payload
  from audit_log where seq > ? order by seq limit ?`;

const batchSize = 10_000;

export function verifyChainFrom(
  db: Database,
  options: { fromGenesis?: boolean; now?: () => Date } = {},
): ChainVerification {
  const now = options.now ?? (() => new Date());
  const head = options.fromGenesis
    ? undefined
    : (db.prepare('select seq, entry_hash from chain_head where id = 1').get() as
        | { seq: number; entry_hash: string }
        | undefined);
  let lastSeq = head?.seq ?? 0;
  let lastHash = head?.entry_hash ?? genesisPrevHash;
  let checked = 0;
  let firstBadSeq: number | null = null;
  let problem: string | null = null;

  const page = db.prepare(packedEntrySql).raw(true);
  pages: for (;;) {
    const rows = page.all(lastSeq, batchSize) as [number, string][];
    if (rows.length === 0) break;
    for (const [seq, packed] of rows) {
      checked++;
      const separator = packed.indexOf('\x1f', 192);
      if (seq !== lastSeq + 1) {
        firstBadSeq = lastSeq + 1;
        problem = `entry ${lastSeq + 1} is missing (the next entry held is ${seq})`;
      } else if (packed.slice(64, 128) !== lastHash) {
        firstBadSeq = seq;
        problem = `entry ${seq} does not point at entry ${lastSeq}'s hash`;
      } else if (sha256Hex(packed.slice(separator + 1)) !== packed.slice(0, 64)) {
        firstBadSeq = seq;
        problem = `entry ${seq}'s payload does not match its payload hash`;
      } else if (sha256Hex(packed.slice(192, separator)) !== packed.slice(128, 192)) {
        firstBadSeq = seq;
        problem = `entry ${seq}'s fields do not match its entry hash`;
      }
      if (firstBadSeq !== null) break pages;
      lastSeq = seq;
      lastHash = packed.slice(128, 192);
    }
  }
  const verifiedAt = now().toISOString();
  db.prepare(
    `insert into chain_head (id, seq, entry_hash, verified_at) values (1, ?, ?, ?)
       on conflict (id) do update set seq = excluded.seq, entry_hash = excluded.entry_hash, verified_at = excluded.verified_at`,
  ).run(lastSeq, lastHash, verifiedAt);
  return {
    ok: firstBadSeq === null,
    verifiedThroughSeq: lastSeq,
    headHash: lastHash,
    checked,
    firstBadSeq,
    problem,
    verifiedAt,
  };
}

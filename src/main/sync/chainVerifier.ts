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

type AuditRow = [number, string, string, string, string, string, string, string];

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

  const rows = db
    .prepare(
      `select seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash
       from audit_log where seq > ? order by seq`,
    )
    .raw(true)
    .iterate(lastSeq) as IterableIterator<AuditRow>;
  for (const [seq, occurredAt, actor, eventType, payload, payloadHash, prevHash, entryHash] of rows) {
    checked++;
    if (seq !== lastSeq + 1) {
      firstBadSeq = lastSeq + 1;
      problem = `entry ${lastSeq + 1} is missing (the next entry held is ${seq})`;
    } else if (prevHash !== lastHash) {
      firstBadSeq = seq;
      problem = `entry ${seq} does not point at entry ${lastSeq}'s hash`;
    } else if (sha256Hex(payload) !== payloadHash) {
      firstBadSeq = seq;
      problem = `entry ${seq}'s payload does not match its payload hash`;
    } else if (
      sha256Hex(entryHashInput(seq, occurredAt, actor, eventType, payloadHash, prevHash)) !== entryHash
    ) {
      firstBadSeq = seq;
      problem = `entry ${seq}'s fields do not match its entry hash`;
    }
    if (firstBadSeq !== null) break;
    lastSeq = seq;
    lastHash = entryHash;
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

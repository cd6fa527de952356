// One line of a format 3 packet's chain/audit_log.jsonl, checked: its form is the exporter's (RFC
// 8785: the nine keys in order), its payload bytes hash to its payload hash and its fields to its
// entry hash. chainLineProblem is self-contained (it reaches nothing outside its arguments) because
// verify runs it on this thread and, for a large packet, in a worker thread (packetBytesCheck.ts),
// which receives this very function's source (Function#toString): one copy of the rule.
import { hash } from 'node:crypto';

/** A parsed chain line (the fields the exporter writes). */
export interface ChainLineFields {
  seq: number;
  occurred_at: string;
  actor: string;
  event_type: string;
  payload: Record<string, unknown>;
  payload_hash: string;
  prev_hash: string;
  entry_hash: string;
  leaf_index?: number;
}

/**
 * Why line is not a chain line of a checkpoint of treeSize entries, or null. `parsed`: the line
 * already parsed, or null to read only the fields around the payload (the worker: the payload's bytes
 * are bound by its hash and are parsed by the calling thread). The payload's bytes are the line's
 * own: the hash binds them, so they need no re-serialising.
 */
export function chainLineProblem(
  line: string,
  parsed: ChainLineFields | null,
  treeSize: number,
  sha256: (text: string) => string,
  hashInput: (s: number, o: string, a: string, e: string, p: string, v: string) => string,
): string | null {
  const from = line.indexOf(',"payload":');
  const to = line.lastIndexOf(',"payload_hash":');
  let entry = parsed;
  if (entry === null) {
    if (from < 0 || to < from) return 'is not canonical';
    let head: Record<string, unknown>;
    let tail: Record<string, unknown>;
    try {
      head = JSON.parse(`${line.slice(0, from)}}`);
      tail = JSON.parse(`{${line.slice(to + 1)}`);
    } catch {
      return 'is not JSON';
    }
    if (!head || !tail || Object.keys(head).length !== 5 || Object.keys(tail).length !== 3)
      return 'is not canonical';
    entry = { ...head, ...tail, payload: {} } as unknown as ChainLineFields;
  }
  if (!entry || typeof entry !== 'object' || !Number.isSafeInteger(entry.seq) || entry.seq < 1)
    return 'has no valid seq';
  if (entry.seq > treeSize) return `is beyond the checkpoint (${treeSize} entries)`;
  if (entry.leaf_index !== entry.seq - 1) return 'its leaf index is not seq - 1';
  if (Object.keys(entry).length !== 9) return 'is not canonical';
  if (from < 0 || to < from) return 'is not canonical';
  const payload = line.slice(from + 11, to);
  try {
    // The exporter's form around the payload (the payload itself: an object, bound by its hash).
    const prefix = `{"actor":${JSON.stringify(entry.actor)},"entry_hash":${JSON.stringify(entry.entry_hash)},"event_type":${JSON.stringify(entry.event_type)},"leaf_index":${entry.leaf_index},"occurred_at":${JSON.stringify(entry.occurred_at)}`;
    const suffix = `,"payload_hash":${JSON.stringify(entry.payload_hash)},"prev_hash":${JSON.stringify(entry.prev_hash)},"seq":${entry.seq}}`;
    if (
      !line.startsWith(prefix) ||
      from !== prefix.length ||
      !line.endsWith(suffix) ||
      to !== line.length - suffix.length ||
      payload[0] !== '{' ||
      typeof entry.payload !== 'object' ||
      entry.payload === null
    )
      return 'is not canonical';
    if (sha256(payload) !== entry.payload_hash)
      return `entry ${entry.seq}'s payload does not match its payload hash`;
    const input = hashInput(
      entry.seq,
      entry.occurred_at,
      entry.actor,
      entry.event_type,
      entry.payload_hash,
      entry.prev_hash,
    );
    if (sha256(input) !== entry.entry_hash) return `entry ${entry.seq}'s fields do not match its entry hash`;
  } catch {
    return 'is malformed';
  }
  if (typeof entry.entry_hash !== 'string' || !/^[0-9a-f]{64}$/.test(entry.entry_hash))
    return 'its entry hash is not a SHA-256';
  return null;
}

export const sha256Text = (text: string): string => hash('sha256', text, 'hex');

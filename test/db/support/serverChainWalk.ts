// The audit chain as the server stores it (audit.audit_log rows read with node-postgres), walked from
// genesis with the shared hashing rules: the first sequence number that does not verify, or null.
import { createHash } from 'node:crypto';
import { auditEntryHashInput, auditPayloadHashInput, genesisPrevHash } from '../../../src/shared/auditChain';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export interface ServerChainEntry {
  seq: string;
  occurred_at: Date;
  actor: string;
  event_type: string;
  payload: unknown;
  payload_hash: string;
  prev_hash: string;
  entry_hash: string;
}

export function firstBadServerEntry(entries: ServerChainEntry[]): number | null {
  let prev = genesisPrevHash;
  for (const [index, entry] of entries.entries()) {
    const seq = Number(entry.seq);
    const payloadHash = sha256(auditPayloadHashInput(entry.payload));
    const entryHash = sha256(
      auditEntryHashInput({
        seq,
        occurredAt: entry.occurred_at.toISOString(),
        actor: entry.actor,
        eventType: entry.event_type,
        payloadHash,
        prevHash: prev,
      }),
    );
    if (
      seq !== index + 1 ||
      entry.prev_hash !== prev ||
      entry.payload_hash !== payloadHash ||
      entry.entry_hash !== entryHash
    ) {
      return seq;
    }
    prev = entry.entry_hash;
  }
  return null;
}

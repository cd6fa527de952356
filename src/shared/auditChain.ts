// How an audit_log entry's hashes are formed (supabase/migrations/0004_audit_log.sql); pure, so
// the main process, tests and an offline verifier compute exactly what the server computed:
//   payload_hash = sha256_hex(canonical_json(payload))
//   entry_hash   = sha256_hex(canonical_json([seq, occurred_at, actor, event_type, payload_hash, prev_hash]))
import { canonicalJson } from './canonicalJson';

export const genesisPrevHash = '0'.repeat(64);

export interface AuditEntryFields {
  seq: number;
  /** UTC with milliseconds, 'YYYY-MM-DDTHH:MM:SS.mmmZ' (Date#toISOString). */
  occurredAt: string;
  actor: string;
  eventType: string;
  payloadHash: string;
  prevHash: string;
}

export function auditPayloadHashInput(payload: unknown): string {
  return canonicalJson(payload);
}

export function auditEntryHashInput(entry: AuditEntryFields): string {
  return canonicalJson([
    entry.seq,
    entry.occurredAt,
    entry.actor,
    entry.eventType,
    entry.payloadHash,
    entry.prevHash,
  ]);
}

// The cached audit_log as the provenance and audit screen reads it: newest first, in keyset pages by
// seq, filtered by study, by a record (or person) the entry names, by the kind of event and by a seq
// range. Each entry is re-hashed on its own and placed against the verified head of the whole chain,
// so a reader sees at a glance which entries the last verification covered.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { entryHashInput, sha256Hex } from '../sync/chainVerifier';

export interface AuditEntriesQuery {
  studyId: string | null;
  /** Any string the payload holds (at any depth), or the actor: a staging record, a signature, a person. */
  recordId: string | null;
  /** The part of the event type before its first dot: 'staging', 'signature', 'diary', ... */
  eventKind: string | null;
  fromSeq: number | null;
  toSeq: number | null;
  /** Keyset: only entries older than this one. */
  beforeSeq: number | null;
  limit: number;
}

export interface AuditEntry {
  seq: number;
  occurredAt: string;
  actor: string;
  eventType: string;
  payload: unknown;
  payloadHash: string;
  prevHash: string;
  entryHash: string;
  /** The study the entry names, if it names one. */
  studyId: string | null;
  /** The staging record whose trail the entry belongs to, if any. */
  stagingId: string | null;
  /** Its payload and entry hashes recompute to what it carries. */
  hashesOk: boolean;
  /** At or below the verified head of the whole chain. */
  withinVerifiedChain: boolean;
}

export interface VerifiedHead {
  seq: number;
  entryHash: string;
  verifiedAt: string;
}

export interface AuditEntriesPage {
  rows: AuditEntry[];
  /** Pass as beforeSeq for the next (older) page; null when this page is the last. */
  nextBeforeSeq: number | null;
  verifiedHead: VerifiedHead | null;
  /** The newest entry the cache holds, filters aside. */
  newestSeq: number | null;
}

interface AuditLogRow {
  seq: number;
  occurred_at: string;
  actor: string;
  event_type: string;
  payload: string;
  payload_hash: string;
  prev_hash: string;
  entry_hash: string;
}

function stringField(payload: unknown, key: string): string | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const value = (payload as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : null;
}

function stagingIdOf(eventType: string, payload: unknown): string | null {
  const stagingId = stringField(payload, 'staging_id');
  if (stagingId !== null) return stagingId;
  if (eventType === 'signature.recorded' && stringField(payload, 'subject_kind') === 'staging_record') {
    return stringField(payload, 'subject_id');
  }
  return null;
}

export function cachedVerifiedHead(db: Database): VerifiedHead | null {
  const head = db.prepare('select seq, entry_hash, verified_at from chain_head where id = 1').get() as
    | { seq: number; entry_hash: string; verified_at: string }
    | undefined;
  return head ? { seq: head.seq, entryHash: head.entry_hash, verifiedAt: head.verified_at } : null;
}

export function cachedAuditEntries(db: Database, query: AuditEntriesQuery): AuditEntriesPage {
  const filters: string[] = [];
  const params: unknown[] = [];
  if (query.fromSeq !== null) {
    filters.push('seq >= ?');
    params.push(query.fromSeq);
  }
  if (query.toSeq !== null) {
    filters.push('seq <= ?');
    params.push(query.toSeq);
  }
  if (query.beforeSeq !== null) {
    filters.push('seq < ?');
    params.push(query.beforeSeq);
  }
  if (query.eventKind !== null) {
    // glob, not like: '_' is an ordinary character in event types.
    filters.push(`(event_type = ? or event_type glob ? || '.*')`);
    params.push(query.eventKind, query.eventKind);
  }
  if (query.recordId !== null) {
    // The payload is canonical JSON: a cheap substring test on the quoted id first, then the
    // exact match on a string value at any depth.
    filters.push(`(actor = ? or (instr(payload, ?) > 0 and exists (
      select 1 from json_tree(audit_log.payload) where type = 'text' and atom = ?)))`);
    params.push(query.recordId, JSON.stringify(query.recordId), query.recordId);
  }
  if (query.studyId !== null) {
    // Staging entries after the proposal, and diary entries, name their record or site, not the study.
    filters.push(`(json_extract(payload, '$.study_id') = ?
      or json_extract(payload, '$.staging_id') in (select id from staging_record where study_id = ?)
      or json_extract(payload, '$.site_id') in (select site_id from site where study_id = ?))`);
    params.push(query.studyId, query.studyId, query.studyId);
  }
  const rows = db
    .prepare(
      `select seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash
       from audit_log
       ${filters.length > 0 ? `where ${filters.join(' and ')}` : ''}
       order by seq desc
       limit ?`,
    )
    .all(...params, query.limit + 1) as AuditLogRow[];
  const verifiedHead = cachedVerifiedHead(db);
  const newest = db.prepare('select max(seq) as seq from audit_log').get() as { seq: number | null };
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    rows: page.map((row) => {
      let payload: unknown = null;
      try {
        payload = JSON.parse(row.payload);
      } catch {
        payload = null; // hashesOk below reports the entry; the screen still lists it
      }
      return {
        seq: row.seq,
        occurredAt: row.occurred_at,
        actor: row.actor,
        eventType: row.event_type,
        payload,
        payloadHash: row.payload_hash,
        prevHash: row.prev_hash,
        entryHash: row.entry_hash,
        studyId: stringField(payload, 'study_id'),
        stagingId: stagingIdOf(row.event_type, payload),
        hashesOk:
          sha256Hex(row.payload) === row.payload_hash &&
          sha256Hex(
            entryHashInput(
              row.seq,
              row.occurred_at,
              row.actor,
              row.event_type,
              row.payload_hash,
              row.prev_hash,
            ),
          ) === row.entry_hash,
        withinVerifiedChain: verifiedHead !== null && row.seq <= verifiedHead.seq,
      };
    }),
    nextBeforeSeq: rows.length > query.limit && last ? last.seq : null,
    verifiedHead,
    newestSeq: newest.seq,
  };
}

// Cache schema version 9: the diary event outbox and the diary's conflicts (server migration 0059).
// `diary_event_outbox` holds the diary events a person makes in the cache, offline or online (an
// investigator's paper transcriptions), each with the client_request_id chosen when it was made, so
// that a resend after a lost reply is recognised by the server (diary.event_request) and lands once;
// a conflict keeps the server's current state beside what was submitted, and its conflict_id, until
// the person resolves it. `diary_conflict` mirrors diary.audit_conflicts as the server lets the
// person read it (the conflicts of their own writes, and their sites' conflicts).
import type { Database } from 'better-sqlite3-multiple-ciphers';

export function updateToSchemaVersion9(db: Database): void {
  db.exec(`
    create table diary_event_outbox (
      id integer primary key autoincrement,
      client_request_id text not null unique,
      kind text not null check (kind in ('transcription')),
      event_uuid text not null,
      patient_id text not null,
      parent_audit_id integer,
      data text not null,
      change_reason text not null,
      source_reference text not null,
      client_timestamp text not null,
      state text not null check (state in ('pending', 'sent', 'conflict', 'failed', 'discarded')),
      created_at text not null,
      sent_at text,
      audit_id integer,
      conflict_id integer,
      problem text,
      problem_field text,
      current_audit_id integer,
      current_data text,
      resolution text check (resolution in ('keep_mine', 'keep_theirs', 'field_merge')),
      resolution_audit_id integer,
      attempts integer not null default 0
    );
    create index diary_event_outbox_event_idx on diary_event_outbox (event_uuid);

    create table diary_conflict (
      conflict_id integer primary key,
      event_uuid text not null,
      patient_id text not null,
      site_id text not null,
      submitted_by text,
      client_request_id text,
      resolved_at text,
      doc text not null,
      sync_xid text not null
    );
    create index diary_conflict_event_idx on diary_conflict (event_uuid);
  `);
}

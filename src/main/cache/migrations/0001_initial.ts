// Cache schema version 1: the owner, sync bookkeeping, one table per mirrored stream, the chain
// head and the outbox. Server rows keep their server keys; JSON columns hold the server's JSON as
// text (parsed only where a view needs it). audit_log.payload is stored in RFC 8785 canonical form,
// so that chain verification hashes stored bytes without re-serialising them.
import type { Database } from 'better-sqlite3-multiple-ciphers';

export function updateToSchemaVersion1(db: Database): void {
  db.exec(`
    create table cache_owner (
      id integer primary key check (id = 1),
      user_id text not null,
      backend_id text not null,
      created_at text not null
    );
    create table sync_meta (name text primary key, value text not null);
    create table sync_cursor (
      stream text primary key,
      last_xid text not null,
      last_key text not null,
      rows_pulled integer not null default 0,
      updated_at text not null
    );
    create table quarantine (
      id integer primary key autoincrement,
      stream text not null,
      row_key text,
      problem text not null,
      raw text not null,
      received_at text not null
    );

    create table staging_record (
      id text primary key,
      entity_kind text not null,
      entity_id text,
      study_id text not null,
      agent_id text not null,
      model_version_id text,
      provenance_id text,
      state text not null,
      proposed_state text not null,
      created_at text not null,
      updated_at text not null,
      created_by text not null,
      sync_xid text not null
    );
    create index staging_record_queue_idx on staging_record (created_at, id);

    create table provenance_event (
      id text primary key,
      study_id text,
      actor_kind text not null,
      actor_id text not null,
      model_provider text,
      model_id text,
      model_version_id text,
      action text not null,
      subject_kind text not null,
      subject_id text not null,
      retrieved_context text not null,
      reviewer_user_id text,
      signature_id text,
      occurred_at text not null,
      payload text not null,
      sync_xid text not null
    );
    create index provenance_event_subject_idx on provenance_event (subject_id);

    create table signature_event (
      id text primary key,
      study_id text,
      subject_kind text not null,
      subject_id text not null,
      signed_at text not null,
      doc text not null,
      sync_xid text not null
    );
    create index signature_event_subject_idx on signature_event (subject_id);

    create table live_row (
      entity_kind text not null,
      id text not null,
      study_id text,
      doc text not null,
      sync_xid text not null,
      primary key (entity_kind, id)
    );
    create table model_registry_version (id text primary key, doc text not null, sync_xid text not null);
    create table sponsor_request (
      id text primary key, study_id text, doc text not null, sync_xid text not null
    );
    create table site (site_id text primary key, study_id text not null, doc text not null, sync_xid text not null);

    create table record_state (
      event_uuid text primary key,
      patient_id text not null,
      site_id text not null,
      current_data text not null,
      version integer not null,
      last_audit_id integer not null,
      is_deleted integer not null,
      sync_xid text not null
    );
    create table record_audit (
      audit_id integer primary key,
      event_uuid text not null,
      doc text not null,
      sync_xid text not null
    );
    create index record_audit_event_idx on record_audit (event_uuid, audit_id);
    create table annotation (
      annotation_id text primary key,
      event_uuid text not null,
      parent_audit_id integer not null,
      client_request_id text,
      doc text not null,
      sync_xid text not null
    );
    create index annotation_event_idx on annotation (event_uuid);

    create table audit_log (
      seq integer primary key,
      occurred_at text not null,
      actor text not null,
      event_type text not null,
      payload text not null,
      payload_hash text not null,
      prev_hash text not null,
      entry_hash text not null
    );
    create table chain_head (
      id integer primary key check (id = 1),
      seq integer not null,
      entry_hash text not null,
      verified_at text not null
    );

    create table outbox (
      id integer primary key autoincrement,
      client_request_id text not null unique,
      kind text not null check (kind in ('note', 'query', 'correction')),
      event_uuid text not null,
      parent_audit_id integer not null,
      in_reply_to text,
      annotation_text text not null,
      requires_response integer not null,
      state text not null check (state in ('pending', 'sent', 'conflict', 'failed', 'discarded')),
      created_at text not null,
      sent_at text,
      annotation_id text,
      problem text,
      current_audit_id integer,
      attempts integer not null default 0
    );
  `);
}

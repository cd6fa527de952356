// Cache schema version 2, for the investigator's diary screen: enrolments (a patient's study
// identifier and site, pulled from diary.user_site_assignments) and two more outbox kinds, `close`
// and `reopen` of a query (sent as diary.annotation_resolutions requests, 0041). SQLite cannot
// change a CHECK constraint, so the outbox is copied into a new table with every row as it was.
import type { Database } from 'better-sqlite3-multiple-ciphers';

export function updateToSchemaVersion2(db: Database): void {
  db.exec(`
    create table enrolment (
      patient_id text primary key,
      site_id text not null,
      subject_code text not null,
      enrolled_at text not null,
      sync_xid text not null
    );
    create index enrolment_site_idx on enrolment (site_id, subject_code);
    create index record_state_patient_idx on record_state (patient_id);

    create table outbox_v2 (
      id integer primary key autoincrement,
      client_request_id text not null unique,
      kind text not null check (kind in ('note', 'query', 'correction', 'close', 'reopen')),
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
    insert into outbox_v2 (id, client_request_id, kind, event_uuid, parent_audit_id, in_reply_to,
      annotation_text, requires_response, state, created_at, sent_at, annotation_id, problem,
      current_audit_id, attempts)
    select id, client_request_id, kind, event_uuid, parent_audit_id, in_reply_to, annotation_text,
      requires_response, state, created_at, sent_at, annotation_id, problem, current_audit_id, attempts
    from outbox;
    drop table outbox;
    alter table outbox_v2 rename to outbox;
    create index outbox_event_idx on outbox (event_uuid);
    create index outbox_annotation_idx on outbox (annotation_id);
  `);
}

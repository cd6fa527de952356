// Cache schema version 7: why a query was closed or reopened (server migration 0051). The outbox
// keeps the reason a close or reopen made here is sent with; `annotation_resolution` mirrors every
// close and reopen the server recorded (diary.annotation_resolutions: who, when, why), which the
// diary screen shows under the query and the inspection packet prints.
import type { Database } from 'better-sqlite3-multiple-ciphers';

export function updateToSchemaVersion7(db: Database): void {
  db.exec(`
    alter table outbox add column reason_code text;
    alter table outbox add column reason_text text;

    create table annotation_resolution (
      request_id text primary key,
      annotation_id text not null,
      event_uuid text not null,
      site_id text not null,
      resolved integer not null,
      reason_code text,
      reason_text text,
      requested_by text not null,
      requested_at text not null,
      sync_xid text not null
    );
    create index annotation_resolution_annotation_idx on annotation_resolution (annotation_id, requested_at);
  `);
}

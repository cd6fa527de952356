// Cache schema version 10: admin corrections waiting for the investigators' review (server migration
// 0059). `correction_review` mirrors diary.correction_review as RLS lets the person read it (the
// investigators of the record's site, inspectors, admins), the server row kept whole as JSON text in
// `doc` beside the columns the review list filters and orders by. The old and new values are not
// copied here: they are the correction's record_audit row (previous_data, data), already cached.
import type { Database } from 'better-sqlite3-multiple-ciphers';

export function updateToSchemaVersion10(db: Database): void {
  db.exec(`
    create table correction_review (
      review_id text primary key,
      audit_id integer not null,
      event_uuid text not null,
      site_id text not null,
      status text not null,
      corrected_at text not null,
      doc text not null,
      sync_xid text not null
    );
    create index correction_review_status_idx on correction_review (status, corrected_at);
  `);
}

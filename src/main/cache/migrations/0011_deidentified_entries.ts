// Cache schema version 11: the analyst's de-identified diary entries (server migration 0059,
// diary.deidentified_entry). Only what that view gives an analyst lands here: the subject code,
// site, build, the form's fields with free text and identifiers dropped and dates as study days
// (`data`, JSON text), how the entry came in and whether an administrator corrected it. The
// analysis screen and its export read this table, offline too.
import type { Database } from 'better-sqlite3-multiple-ciphers';

export function updateToSchemaVersion11(db: Database): void {
  db.exec(`
    create table deidentified_entry (
      entry_id text primary key,
      subject_code text not null,
      site_id text not null,
      build_id text not null,
      version integer not null,
      is_deleted integer not null,
      data text not null,
      origin text not null,
      corrected integer not null,
      sync_xid text not null
    );
    create index deidentified_entry_subject_idx on deidentified_entry (site_id, subject_code);
  `);
}

// Cache schema version 5: the people the server lets this person name (public.people_directory,
// migration 0052), so that provenance, the audit log, a record's trail, diary history, annotations
// and the inspection packet show printed names and roles instead of ids, offline too. The set is
// small and comes from a function, not a table: each sync replaces it whole (sync/peopleStream.ts).
// `roles` is a JSON array of role names; a patient known by subject code only has no printed name.
import type { Database } from 'better-sqlite3-multiple-ciphers';

export function updateToSchemaVersion5(db: Database): void {
  db.exec(`
    create table person (
      user_id text primary key,
      printed_name text,
      roles text not null,
      agent_id text,
      subject_code text
    );
    create index person_agent_idx on person (agent_id) where agent_id is not null;
  `);
}

// Cache schema version 8: protocol builds (server migration 0054). `study_build` mirrors
// cro.study_database_build, the server row kept whole as JSON text in `doc` (its configuration
// snapshot, error log, timeline and counts) beside the columns reads filter and order by. Every value
// the server writes now names the build it was written under: `build_id` on staging records,
// provenance, record state, record history and annotations (nullable here: provenance without a
// study has none, and rows cached before this version have none until they are pulled again). A
// build's current/superseded state is derived when it is read (the highest completed_sequence of its
// study is current), never stored, so a newly completed build changes every value's mark at once.
// The queue's covering index gains build_id, so that a queue load still reads no table row and the
// build filter is answered from the index.
//
// The five streams that gained build_id are pulled again from the start (their cursors reset, their
// rows kept). The server's migration moved every backfilled row's sync_xid on, so a cache whose last
// sync ran before the server was migrated would fetch them again anyway; but a cache last synced by
// an older Countersign *after* the server was migrated holds those rows without build_id and with a
// cursor past the backfill, and an incremental pull would never fetch them again. Resetting costs
// nothing in the first case (the same rows come either way) and is the only way to be right in the
// second. The cursor row is kept at the start rather than deleted: a deleted cursor means a first
// pull, which drops the unique key index and appends, and rows are still in the table; resetting it
// keeps the ordinary keyset pull, whose inserts replace by key. The rows stay meanwhile, so an
// offline workstation keeps every view until it next syncs.
import type { Database } from 'better-sqlite3-multiple-ciphers';

/** The queue's covering index from this version on; the pull engine drops and rebuilds it around a first pull. */
export const stagingQueueIndexSql = `create index if not exists staging_record_queue_idx on staging_record
  (created_at, id, state, study_id, entity_kind, agent_id, model_version_id, change_summary, target_title, build_id)`;

export const studyBuildStudyIndexSql =
  'create index if not exists study_build_study_idx on study_build (study_id, completed_sequence)';

/** The streams whose rows gained build_id: pulled again from the start after this version. */
export const streamsWithBuildId = [
  'staging_record',
  'provenance_event',
  'record_state',
  'record_audit',
  'annotation',
] as const;

/** Where a keyset pull of a stream starts (pullEngine.ts `firstKey`), by its key type. */
const startKeys: Record<(typeof streamsWithBuildId)[number], string> = {
  staging_record: '00000000-0000-0000-0000-000000000000',
  provenance_event: '00000000-0000-0000-0000-000000000000',
  record_state: '00000000-0000-0000-0000-000000000000',
  record_audit: '0',
  annotation: '00000000-0000-0000-0000-000000000000',
};

export function updateToSchemaVersion8(db: Database): void {
  db.exec(`
    create table study_build (
      id text primary key,
      study_id text not null,
      build_number text not null,
      build_version text not null,
      build_status text not null,
      build_type text not null,
      completed_sequence integer,
      doc text not null,
      sync_xid text not null
    );
    ${studyBuildStudyIndexSql};

    alter table staging_record add column build_id text;
    alter table provenance_event add column build_id text;
    alter table record_state add column build_id text;
    alter table record_audit add column build_id text;
    alter table annotation add column build_id text;

    drop index if exists staging_record_queue_idx;
    ${stagingQueueIndexSql};
    create index record_audit_event_build_idx on record_audit (event_uuid, build_id);

    -- History and annotations cached whole: a row pulled after the server's migration names its
    -- build already, so the diary shows it before the next sync (offline too).
    update record_audit set build_id = json_extract(doc, '$.build_id') where json_type(doc, '$.build_id') = 'text';
    update annotation set build_id = json_extract(doc, '$.build_id') where json_type(doc, '$.build_id') = 'text';
  `);
  const reset = db.prepare(`update sync_cursor set last_xid = '0', last_key = ? where stream = ?`);
  for (const stream of streamsWithBuildId) reset.run(startKeys[stream], stream);
}

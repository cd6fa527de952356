// Cache schema version 4: the two large streams, staging_record and provenance_event, keep their id
// unique through a named unique index instead of a primary key. SQLite cannot drop a primary key's
// index; a named one it can, so a stream's first pull (an empty table, rows arriving in key order)
// appends rows without maintaining the key index and builds it once at the end, with the stream's
// other secondary indexes (streamDefinitions.ts `deferredIndexes`). Uniqueness is the same at every
// other time: the index exists whenever the table holds rows from more than one pull, and building
// it fails loudly if a first pull ever delivered a key twice.
// Measured (bench sync.initial, 15 rounds each, alternating in one period): CPU per initial sync
// (this process and the server backend) 3.99 -> 3.70 s; median ratio to COPY 0.474 -> 0.513.
// SQLite cannot change a table's key in place, so each table is copied into a new one made from its
// own definition (as sqlite_schema holds it) with only the key clause changed, every row as it was.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { stagingQueueIndexSql } from './0003_queue_covering_index';

/** The key indexes as created here; the pull engine drops and rebuilds them around a first pull. */
export const stagingRecordKeyIndexSql =
  'create unique index if not exists staging_record_id_idx on staging_record (id)';
export const provenanceEventKeyIndexSql =
  'create unique index if not exists provenance_event_id_idx on provenance_event (id)';
export const provenanceSubjectIndexSql =
  'create index if not exists provenance_event_subject_idx on provenance_event (subject_id)';

/** Rebuilds `table` with `id text not null` instead of `id text primary key`, keeping every row. */
function withoutPrimaryKey(db: Database, table: 'staging_record' | 'provenance_event'): void {
  const definition = db
    .prepare(`select sql from sqlite_schema where type = 'table' and name = ?`)
    .pluck()
    .get(table) as string | undefined;
  const keyClause = /\bid text primary key\b/;
  if (!definition || !keyClause.test(definition)) {
    throw new Error(`cache schema 4: ${table} is not as schema 3 left it`);
  }
  const rebuilt = definition
    .replace(keyClause, 'id text not null')
    .replace(new RegExp(`^create table ${table}\\b`, 'i'), `create table ${table}_v4`);
  if (!rebuilt.startsWith(`create table ${table}_v4`)) {
    throw new Error(`cache schema 4: ${table} is not as schema 3 left it`);
  }
  db.exec(`
    ${rebuilt};
    insert into ${table}_v4 select * from ${table} order by id;
    drop table ${table};
    alter table ${table}_v4 rename to ${table};
  `);
}

export function updateToSchemaVersion4(db: Database): void {
  withoutPrimaryKey(db, 'staging_record');
  db.exec(`${stagingRecordKeyIndexSql}; ${stagingQueueIndexSql};`);
  withoutPrimaryKey(db, 'provenance_event');
  db.exec(`${provenanceEventKeyIndexSql}; ${provenanceSubjectIndexSql};`);
}

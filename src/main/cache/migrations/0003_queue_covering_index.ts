// Cache schema version 3: the queue's index covers every column the queue reads. A queue load reads
// all of a signer's staging records (100,000 in the benchmark) in (created_at, id) order; with the
// old index on (created_at, id) alone, each row was fetched from the table, whose rows carry the
// proposed document (kilobytes each), so a load decrypted every page of the table. The covering
// index holds the queue's columns only, and also serves the per-state counts.
import type { Database } from 'better-sqlite3-multiple-ciphers';

/** The index as created here; the pull engine drops and rebuilds it around a first pull (streamDefinitions.ts). */
export const stagingQueueIndexSql = `create index if not exists staging_record_queue_idx on staging_record
  (created_at, id, state, study_id, entity_kind, agent_id, model_version_id)`;

export function updateToSchemaVersion3(db: Database): void {
  db.exec('drop index if exists staging_record_queue_idx');
  db.exec(stagingQueueIndexSql);
}

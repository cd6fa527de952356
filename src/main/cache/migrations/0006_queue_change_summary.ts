// Cache schema version 6: each cached proposal carries its one-line change summary and the title of
// the record it changes (src/shared/changeSummary.ts), computed when the row is cached
// (cache/changeSummaries.ts) instead of per queue load: a load reads 100,000 rows from the covering
// index, and the proposed documents are not in it. `summary_live_xid` is the sync_xid of the live
// row the summary was computed against, so a summary is computed again when that row changes; a
// staging row written again by a sync (insert or replace) starts with no summary.
import type { Database } from 'better-sqlite3-multiple-ciphers';

/** The queue's covering index from this version on; the pull engine drops and rebuilds it around a first pull. */
export const stagingQueueIndexSql = `create index if not exists staging_record_queue_idx on staging_record
  (created_at, id, state, study_id, entity_kind, agent_id, model_version_id, change_summary, target_title)`;

export function updateToSchemaVersion6(db: Database): void {
  db.exec(`
    alter table staging_record add column change_summary text;
    alter table staging_record add column target_title text;
    alter table staging_record add column summary_live_xid text;
    drop index if exists staging_record_queue_idx;
  `);
  db.exec(stagingQueueIndexSql);
}

// Keeps each cached proposal's change summary and target title (cache schema 6) current: computed
// for rows that have none (new, or written again by a sync) and for rows whose live row changed
// since (its sync_xid differs from the one recorded). Run when the cache opens and after each pull,
// so the queue reads them from its covering index and never parses a proposed document.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { changeSummaryOf, targetTitleOf } from '../../shared/changeSummary';
import type { EntityKind } from '../../shared/domain';
import { parsed } from './cachedStagingDetail';

interface StaleRow {
  rowid: number;
  id: string;
  createdAt: string;
  entityKind: EntityKind;
  entityId: string | null;
  proposed: string;
  liveDoc: string | null;
  liveXid: string | null;
}

/** Rows read and written per step: bounds the memory a first sync of 100,000 proposals needs. */
const batchSize = 5000;

/** Computes the summaries that are missing or stale; returns how many were written. */
export function refreshChangeSummaries(db: Database): number {
  // In the queue's order (its covering index), and written back by rowid: the rows and the index
  // entries change in the order they lie in (by id, 100,000 new rows took 3.7 s; this way 0.6 s).
  const staleAfter = db.prepare(
    `select s.rowid as rowid, s.id, s.created_at as createdAt, s.entity_kind as entityKind,
            s.entity_id as entityId, s.proposed_state as proposed, l.doc as liveDoc, l.sync_xid as liveXid
       from staging_record s
       left join live_row l on l.entity_kind = s.entity_kind and l.id = s.entity_id
      where (s.created_at, s.id) > (?, ?) and (s.change_summary is null or s.summary_live_xid is not l.sync_xid)
      order by s.created_at, s.id
      limit ${batchSize}`,
  );
  const update = db.prepare(
    'update staging_record set change_summary = ?, target_title = ?, summary_live_xid = ? where rowid = ?',
  );
  const writeBatch = db.transaction((rows: StaleRow[]) => {
    for (const row of rows) {
      const proposed = parsed(row.proposed);
      const live = parsed(row.liveDoc);
      update.run(
        changeSummaryOf(row.entityKind, row.entityId, proposed, live),
        targetTitleOf(row.entityKind, proposed, live),
        row.liveXid,
        row.rowid,
      );
    }
  });
  let written = 0;
  let after = { createdAt: '', id: '' };
  for (;;) {
    const rows = staleAfter.all(after.createdAt, after.id) as StaleRow[];
    if (rows.length === 0) return written;
    writeBatch(rows);
    written += rows.length;
    const last = rows.at(-1) as StaleRow;
    after = { createdAt: last.createdAt, id: last.id };
  }
}

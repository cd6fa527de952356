// The queue's data: every cached staging row, loaded in pages of 5,000 so the first screenful is
// interactive at once and a 100,000-row queue fills in behind it. Filtering, sorting and grouping
// then run in the renderer over the loaded rows (queueRows.ts).
import type { StagingQueueRow } from '../../../shared/contract';
import type { StagingState } from '../../../shared/domain';
import { api } from '../api';
import { prepareSearch } from './queueRows';

/** The first page, shown at once; the rest follow in larger pages (fewer round trips). */
export const queuePageSize = 5000;
const laterPageSize = 20000;

export interface QueueLoad {
  rows: StagingQueueRow[];
  counts: Partial<Record<StagingState, number>>;
  done: boolean;
}

/** Calls `onPage` with the rows so far after each page; stops early when `cancelled()` says so. */
export async function loadQueue(onPage: (load: QueueLoad) => void, cancelled: () => boolean): Promise<void> {
  let rows: StagingQueueRow[] = [];
  let after: { createdAt: string; id: string } | null = null;
  let counts: QueueLoad['counts'] = {};
  for (;;) {
    const page = await api['staging.queue']({ limit: after === null ? queuePageSize : laterPageSize, after });
    if (cancelled()) return;
    rows = rows.concat(page.rows);
    after = page.nextCursor;
    counts = page.countsByState ?? counts;
    onPage({ rows, counts, done: after === null });
    // The page's search text, in a later task: after the next page has been asked for, so the
    // first keystroke in the search does not pay for 100,000 rows at once.
    setTimeout(() => prepareSearch(page.rows), 0);
    if (after === null) return;
  }
}

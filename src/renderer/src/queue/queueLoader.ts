// The queue's data: every cached staging row, loaded in pages of 5,000 so the first screenful is
// interactive at once and a 100,000-row queue fills in behind it. Filtering, sorting and grouping
// then run in the renderer over the loaded rows (queueRows.ts).
import type { QueueRow } from '../../../shared/contract';
import type { StagingState } from '../../../shared/domain';
import { queueRowsOf } from '../../../shared/stagingQueueColumns';
import { api } from '../common/api';
import { prepareSearch } from './queueRows';

/** The first page, shown at once; the rest follow in larger pages (fewer round trips). */
export const queuePageSize = 5000;
const laterPageSize = 20000;

export interface QueueLoad {
  rows: QueueRow[];
  counts: Partial<Record<StagingState, number>>;
  done: boolean;
}

type QueuePage = Awaited<ReturnType<(typeof api)['staging.queue']>>;

/**
 * Calls `onPage` with the rows so far after each page; stops early when `cancelled()` says so. The
 * next page is asked for as soon as a page arrives, before this one is shown: the host reads it
 * from the cache while the window draws, instead of each waiting for the other.
 */
export async function loadQueue(onPage: (load: QueueLoad) => void, cancelled: () => boolean): Promise<void> {
  let rows: QueueRow[] = [];
  let counts: QueueLoad['counts'] = {};
  let pending: Promise<QueuePage> | null = api['staging.queue']({ limit: queuePageSize, after: null });
  while (pending !== null) {
    const page: QueuePage = await pending;
    if (cancelled()) return;
    const after = page.nextCursor;
    pending = after === null ? null : api['staging.queue']({ limit: laterPageSize, after });
    pending?.catch(() => undefined); // awaited on the next turn; never an unhandled rejection
    const pageRows = queueRowsOf(page.columns);
    rows = rows.concat(pageRows);
    counts = page.countsByState ?? counts;
    onPage({ rows, counts, done: after === null });
    // The page's search text, in a later task, so the first keystroke in the search does not pay
    // for 100,000 rows at once.
    setTimeout(() => prepareSearch(pageRows), 0);
  }
}

// Pure helpers of the queue: how old a proposal is, whether it matches the search, and the rows the
// queue shows (filtered, sorted, grouped by study). They work on the plain rows of the cache, never
// on per-row table objects, so that a 100,000-row queue filters in a few milliseconds; they keep
// the order of the rows they are given (the loader's: oldest first) wherever the sort leaves ties.
import type { BuildRef, QueueRow } from '../../../shared/contract';
import type { StagingState } from '../../../shared/domain';
import { buildChipText, buildName } from '../common/buildText';

/** "3 d", "5 h", "12 min": how long a proposal has waited. */
export function ageOf(createdAt: string, now: number): string {
  const minutes = Math.max(0, Math.floor((now - Date.parse(createdAt)) / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

function searchWords(search: string): string[] {
  return search.toLowerCase().split(/\s+/).filter(Boolean);
}

/** The row's visible fields, lower-cased once per row (rows from the cache are never changed). */
const searchTexts = new WeakMap<QueueRow, string>();

function searchTextOf(row: QueueRow): string {
  let text = searchTexts.get(row);
  if (text === undefined) {
    text =
      `${row.id} ${row.state} ${row.entityKind} ${row.studyCode} ${row.agentId} ${row.modelVersion ?? ''} ${row.targetTitle ?? ''} ${row.changeSummary ?? ''}`.toLowerCase();
    searchTexts.set(row, text);
  }
  return text;
}

/** Works out the search text of rows ahead of the first search (the loader does it while it waits). */
export function prepareSearch(rows: readonly QueueRow[]): void {
  for (const row of rows) searchTextOf(row);
}

/** Case-insensitive match of every word of the search against the row's visible fields. */
export function rowMatches(row: QueueRow, search: string): boolean {
  const words = searchWords(search);
  return words.length === 0 || words.every((word) => searchTextOf(row).includes(word));
}

/** The rows in a state ('' for all) that match the search; the same array when nothing filters. */
export function filterRows(rows: QueueRow[], state: StagingState | '', search: string): QueueRow[] {
  const words = searchWords(search);
  if (state === '' && words.length === 0) return rows;
  return rows.filter((row) => {
    if (state !== '' && row.state !== state) return false;
    if (words.length === 0) return true;
    const text = searchTextOf(row);
    return words.every((word) => text.includes(word));
  });
}

/**
 * The rows of one study and one protocol build (null: any); the same array when neither is chosen,
 * so an unscoped queue costs nothing and the search's memory (createRowFilter) is kept.
 */
export function scopeRows(rows: QueueRow[], studyId: string | null, buildId: string | null): QueueRow[] {
  if (studyId === null && buildId === null) return rows;
  return rows.filter(
    (row) => (studyId === null || row.studyId === studyId) && (buildId === null || row.build?.id === buildId),
  );
}

/** Searches remembered per list of rows and state filter (each a list of row references). */
const rememberedSearches = 32;

/**
 * filterRows as a person types: a search that extends an earlier one (more letters, another word)
 * is looked for among that search's rows only, and a search typed before (backspacing) is answered
 * from memory. Every word of the earlier search is contained in a word of the longer one, so its
 * rows include every row the longer one can match. Forgets everything when the rows or the state
 * filter change.
 */
export function createRowFilter(): (
  rows: QueueRow[],
  state: StagingState | '',
  search: string,
) => QueueRow[] {
  let source: QueueRow[] | null = null;
  let sourceState: StagingState | '' = '';
  const found = new Map<string, QueueRow[]>();
  return (rows, state, search) => {
    if (rows !== source || state !== sourceState) {
      source = rows;
      sourceState = state;
      found.clear();
    }
    const key = search.toLowerCase();
    const known = found.get(key);
    if (known) return known;
    let narrowest: QueueRow[] | null = null;
    let narrowestLength = -1;
    for (const [earlier, earlierRows] of found) {
      if (earlier.length > narrowestLength && key.startsWith(earlier)) {
        narrowest = earlierRows;
        narrowestLength = earlier.length;
      }
    }
    // The earlier search's rows are already in the state asked for.
    const result = narrowest === null ? filterRows(rows, state, search) : filterRows(narrowest, '', search);
    if (found.size >= rememberedSearches) found.delete(found.keys().next().value as string);
    found.set(key, result);
    return result;
  };
}

/** A build as a queue cell writes it, worked out once per build (the rows of a build share its object). */
const buildCells = new WeakMap<BuildRef, { text: string; title: string }>();

/** "B1 · 1.0 · superseded build", with its hover text: plain text, a few nodes per row at 100,000 rows. */
export function buildCellOf(build: BuildRef): { text: string; title: string } {
  let cell = buildCells.get(build);
  if (cell === undefined) {
    cell = {
      text: `${buildChipText(build)}${build.superseded ? ' · superseded build' : ''}`,
      title: `Protocol build ${buildName(build)}${build.superseded ? ': a later build has replaced it' : ''}`,
    };
    buildCells.set(build, cell);
  }
  return cell;
}

/** The queue's sortable columns (the column ids of StagingQueue.tsx). */
export const queueSortColumns = [
  'state',
  'targetTitle',
  'changeSummary',
  'entityKind',
  'studyCode',
  'build',
  'agentId',
  'modelVersion',
  'createdAt',
  'age',
] as const;
export type QueueSortColumn = (typeof queueSortColumns)[number];

export interface QueueSort {
  id: string;
  desc: boolean;
}

// Text columns compare as a person reads them: case-insensitive, numbers by value (HHT-9 before HHT-10).
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function textOf(row: QueueRow, column: QueueSortColumn): string {
  switch (column) {
    case 'state':
      return row.state;
    case 'entityKind':
      return row.entityKind;
    case 'studyCode':
      return row.studyCode;
    case 'agentId':
      return row.agentId;
    case 'targetTitle':
      return row.targetTitle ?? '';
    case 'changeSummary':
      return row.changeSummary ?? '';
    case 'build':
      // By study, then by build number as read (B2 before B10).
      return row.build === null ? '' : `${row.studyCode} ${row.build.number}`;
    default:
      return row.modelVersion ?? '';
  }
}

/** A number per row that orders it by the column: a time, or the rank of its text among the distinct texts. */
function sortKeys(rows: QueueRow[], column: QueueSortColumn): Float64Array {
  const keys = new Float64Array(rows.length);
  if (column === 'createdAt' || column === 'age') {
    // Age ascending is the newest first: the opposite of the proposal time.
    const sign = column === 'age' ? -1 : 1;
    rows.forEach((row, index) => {
      keys[index] = sign * Date.parse(row.createdAt);
    });
    return keys;
  }
  // Distinct values (few for states, kinds, studies, agents, models): collate those, then compare ranks.
  // Texts the collator holds equal (HHT-9, hht-9) share a rank, so they stay in their order.
  const distinct = [...new Set(rows.map((row) => textOf(row, column)))].sort(collator.compare);
  const rank = new Map<string, number>();
  distinct.forEach((text, index) => {
    const previous = distinct[index - 1];
    rank.set(
      text,
      previous !== undefined && collator.compare(previous, text) === 0 ? (rank.get(previous) ?? 0) : index,
    );
  });
  rows.forEach((row, index) => {
    keys[index] = rank.get(textOf(row, column)) ?? 0;
  });
  return keys;
}

/** The rows sorted by each column of `sorting` in turn; ties keep their order. The same array when unsorted. */
export function sortRows(rows: QueueRow[], sorting: readonly QueueSort[]): QueueRow[] {
  const columns = sorting.filter((sort) => (queueSortColumns as readonly string[]).includes(sort.id));
  if (columns.length === 0 || rows.length < 2) return rows;
  const keyed = columns.map((sort) => ({
    keys: sortKeys(rows, sort.id as QueueSortColumn),
    direction: sort.desc ? -1 : 1,
  }));
  const order = Array.from(rows, (_, index) => index);
  order.sort((a, b) => {
    for (const { keys, direction } of keyed) {
      const difference = (keys[a] as number) - (keys[b] as number);
      if (difference !== 0) return difference * direction;
    }
    return a - b;
  });
  return order.map((index) => rows[index] as QueueRow);
}

/** A study's heading row when the queue is grouped by study. */
export interface QueueGroup {
  group: string;
  count: number;
}

export type QueueItem = QueueRow | QueueGroup;

export function isGroup(item: QueueItem): item is QueueGroup {
  return 'group' in item;
}

/**
 * The rows as the queue lists them: as they are, or grouped by study (a heading row, then that
 * study's rows in their order), the studies in the order of their first row.
 */
export function queueItems(rows: QueueRow[], groupByStudy: boolean): QueueItem[] {
  if (!groupByStudy) return rows;
  const groups = new Map<string, QueueRow[]>();
  for (const row of rows) {
    const members = groups.get(row.studyCode);
    if (members) members.push(row);
    else groups.set(row.studyCode, [row]);
  }
  const items: QueueItem[] = [];
  for (const [group, members] of groups) {
    items.push({ group, count: members.length });
    for (const row of members) items.push(row);
  }
  return items;
}

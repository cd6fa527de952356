// Pure helpers of the queue: how old a proposal is, and whether it matches the search.
import type { StagingQueueRow } from '../../../shared/contract';

/** "3 d", "5 h", "12 min": how long a proposal has waited. */
export function ageOf(createdAt: string, now: number): string {
  const minutes = Math.max(0, Math.floor((now - Date.parse(createdAt)) / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

/** Case-insensitive match of every word of the search against the row's visible fields. */
export function rowMatches(row: StagingQueueRow, search: string): boolean {
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const haystack =
    `${row.id} ${row.state} ${row.entityKind} ${row.studyCode} ${row.agentId} ${row.modelVersion ?? ''}`.toLowerCase();
  return words.every((word) => haystack.includes(word));
}

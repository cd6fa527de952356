// How diary values and records read on screen: every value the patient entered becomes text
// (visibleText: invisible and bidirectional characters made visible), never markup.
import type { DiaryHistoryEntry } from '../../../shared/contract';
import { visibleText } from '../common/visibleText';

/** One value of a diary entry as text: strings as they are, everything else as JSON. */
export function displayValue(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return visibleText(value);
  return visibleText(JSON.stringify(value) ?? String(value));
}

/** The short name of a record in lists and headings: its date, time and event type, as entered. */
export function recordTitle(data: Record<string, unknown>): string {
  const part = (value: unknown) =>
    typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  const title = [part(data.date), part(data.time), part(data.event_type)].filter(Boolean).join(' ');
  return visibleText(title || 'Diary entry');
}

/** Orders records by what the patient entered as date and time (text compare: ISO dates sort). */
export function recordSortKey(data: Record<string, unknown>): string {
  const part = (value: unknown) =>
    typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  return `${part(data.date)} ${part(data.time)}`;
}

/** Words for a change, so that a change is never told by colour alone. */
export const changeWords: Record<
  DiaryHistoryEntry['changes'][number]['change'],
  { symbol: string; word: string }
> = {
  added: { symbol: '+', word: 'added' },
  removed: { symbol: '−', word: 'removed' },
  changed: { symbol: '~', word: 'changed' },
};

/** Who wrote an entry, from the role the server recorded. */
export function entryAuthor(role: string): string {
  if (role === 'USER') return 'the patient';
  if (role === 'ADMIN') return 'an administrator (correction)';
  if (role === 'STAFF') return 'site staff';
  if (role === 'INVESTIGATOR') return 'an investigator (transcribed from paper)';
  return role.toLowerCase() || 'unknown';
}

/** A short form of an id for labels (the full id is in the title). */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

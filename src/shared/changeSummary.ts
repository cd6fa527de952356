// What a proposal changes, in one line for the queue ("status: mitigating → open; +1 field"), and
// the title of the record it changes. Computed once per cached row (src/main/cache/changeSummaries.ts),
// never per keystroke; pure, so the same words are produced wherever it runs. The texts are the
// agent's own (untrusted): they are shown only as text.
import type { EntityKind } from './domain';
import { sameJson } from './sameJson';

/** The field that names a record of each live table. */
export const titleFields: Record<EntityKind, string> = {
  study: 'code',
  study_kpi: 'label',
  study_milestone: 'name',
  study_risk: 'title',
  study_resource: 'role',
  live_essential_document: 'document_title',
};

/** Fields a reader looks at first, so the one change shown is the telling one. */
const headlineFields = [
  'status',
  'state',
  'severity',
  'health',
  'phase',
  'value',
  'delta',
  'actual_or_forecast_date',
  'planned_date',
  'current_forecast_end_date',
  'owner',
  'headcount',
  'fte',
];

/** Longest text of one value shown in the summary. */
const valueLength = 32;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shortValue(value: unknown): string {
  if (value === undefined || value === null || value === '') return '—';
  if (Array.isArray(value)) return `[${value.length} item${value.length === 1 ? '' : 's'}]`;
  if (typeof value === 'object') return '{…}';
  const text = String(value).replace(/\s+/g, ' ').trim();
  return text.length > valueLength ? `${text.slice(0, valueLength - 1)}…` : text;
}

function isScalar(value: unknown): boolean {
  return value === null || value === undefined || typeof value !== 'object';
}

function rank(field: string): number {
  const index = headlineFields.indexOf(field);
  return index === -1 ? headlineFields.length : index;
}

/**
 * The record's title: the live row's (the record as it is), else the proposal's (a new record);
 * null when neither has its table's title field.
 */
export function targetTitleOf(
  entityKind: EntityKind,
  proposedState: unknown,
  liveRow: unknown,
): string | null {
  const field = titleFields[entityKind];
  for (const source of [liveRow, proposedState]) {
    if (isRecord(source) && typeof source[field] === 'string' && source[field] !== '') {
      return (source[field] as string).replace(/\s+/g, ' ').trim();
    }
  }
  return null;
}

/**
 * One line: a new record and how many fields it sets; or the most telling changed field with its
 * value before and after, and how many other fields change. `liveRow` is null for a new record, or
 * when the live row is not known here (then only the proposed fields can be counted).
 */
export function changeSummaryOf(
  entityKind: EntityKind,
  entityId: string | null,
  proposedState: unknown,
  liveRow: unknown,
): string {
  const proposed = isRecord(proposedState) ? proposedState : {};
  const fields = Object.keys(proposed);
  const plural = (n: number) => `${n} field${n === 1 ? '' : 's'}`;
  if (entityId === null) return `new ${entityKind.replace(/_/g, ' ')}, ${plural(fields.length)}`;
  if (!isRecord(liveRow)) return `${plural(fields.length)} (live row not available)`;
  const changed = fields.filter(
    (field) => !Object.hasOwn(liveRow, field) || !sameJson(liveRow[field], proposed[field]),
  );
  if (changed.length === 0) return 'no change';
  // Scalars first (a value fits on the line), then the headline fields, then by name.
  const [first] = [...changed].sort(
    (a, b) =>
      Number(!isScalar(proposed[a])) - Number(!isScalar(proposed[b])) ||
      rank(a) - rank(b) ||
      (a < b ? -1 : a > b ? 1 : 0),
  ) as [string];
  const headline =
    isScalar(proposed[first]) && isScalar(liveRow[first])
      ? `${first}: ${shortValue(liveRow[first])} → ${shortValue(proposed[first])}`
      : `${first} changed`;
  const others = changed.length - 1;
  return others === 0 ? headline : `${headline}; +${plural(others)}`;
}

// A diary entry's fields checked against its build's diary form, as the server's
// cs_private.check_diary_data (0054) checks them, so that a form shows every problem by field at
// once; the server checks again and stays the authority.
import type { BuildFormDefinition } from './contract';

export interface DiaryFieldProblem {
  /** The form's field code (null: the entry as a whole). */
  field: string | null;
  message: string;
}

const calendarDate = /^\d{4}-\d{2}-\d{2}$/;
const timeOfDay = /^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/;
const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const uuidText = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isCalendarDate(text: string): boolean {
  if (!calendarDate.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

function problemOf(
  type: string,
  value: unknown,
  field: BuildFormDefinition['fields'][number],
): string | null {
  const isText = typeof value === 'string';
  if (['text', 'choice', 'date', 'time', 'datetime', 'uuid'].includes(type) && !isText) return 'must be text';
  if ((type === 'integer' || type === 'decimal') && typeof value !== 'number') return 'must be a number';
  if (type === 'integer' && !Number.isInteger(value)) return 'must be a whole number';
  if (type === 'boolean' && typeof value !== 'boolean') return 'must be true or false';
  if (type === 'date' && !isCalendarDate(value as string)) return 'must be a date (YYYY-MM-DD)';
  if (type === 'time' && !timeOfDay.test(value as string)) return 'must be a time of day (HH:MM)';
  if (type === 'datetime' && !dateTime.test(value as string))
    return 'must be a date and time (ISO 8601 with a zone)';
  if (type === 'uuid' && !uuidText.test(value as string)) return 'must be a UUID';
  if (type === 'choice' && !(field.values ?? []).includes(value as string)) {
    return `must be one of ${(field.values ?? []).join(', ')}`;
  }
  if ((type === 'integer' || type === 'decimal') && field.min !== null && (value as number) < field.min) {
    return `must be at least ${field.min}`;
  }
  if ((type === 'integer' || type === 'decimal') && field.max !== null && (value as number) > field.max) {
    return `must be at most ${field.max}`;
  }
  if (type === 'text' && field.maxLength !== null && [...(value as string)].length > field.maxLength) {
    return `must be at most ${field.maxLength} characters`;
  }
  return null;
}

/** Every problem of `data` under `form`, in the form's field order (unknown fields first). */
export function diaryFormProblems(
  form: BuildFormDefinition,
  data: Record<string, unknown>,
): DiaryFieldProblem[] {
  const codes = new Set(form.fields.map((field) => field.code));
  const problems: DiaryFieldProblem[] = Object.keys(data)
    .filter((key) => !codes.has(key))
    .sort()
    .map((key) => ({ field: key, message: `"${key}" is not a field of form ${form.code}` }));
  for (const field of form.fields) {
    const value = data[field.code];
    if (value === undefined || value === null) {
      if (field.required) problems.push({ field: field.code, message: `${field.label} is required` });
      continue;
    }
    const problem = problemOf(field.type, value, field);
    if (problem) problems.push({ field: field.code, message: `${field.label} ${problem}` });
  }
  return problems;
}

// The workstation's check of a diary entry against its build's form names every problem by field, as
// the server's check_diary_data would (the server checks again and stays the authority).
import { describe, expect, it } from 'vitest';
import type { BuildFormDefinition } from '../../src/shared/contract';
import { diaryFormProblems, isCalendarDate } from '../../src/shared/diaryFormValidation';

const field = (code: string, type: string, extra: Partial<BuildFormDefinition['fields'][number]> = {}) => ({
  code,
  label: code,
  type,
  required: false,
  values: null,
  min: null,
  max: null,
  maxLength: null,
  ...extra,
});
const form: BuildFormDefinition = {
  code: 'diary_entry',
  kind: 'diary',
  title: 'Patient diary entry',
  fields: [
    field('event_type', 'choice', { required: true, values: ['epistaxis', 'nausea'] }),
    field('date', 'date', { required: true }),
    field('time', 'time'),
    field('duration_minutes', 'integer', { min: 0, max: 1440 }),
    field('notes', 'text', { maxLength: 5 }),
  ],
};

describe('diary form problems [DIARY-OUTBOX]', () => {
  it('accepts a valid entry', () => {
    expect(diaryFormProblems(form, { event_type: 'nausea', date: '2026-02-28', time: '07:40' })).toEqual([]);
  });

  it('names every problem by field, unknown fields first', () => {
    expect(
      diaryFormProblems(form, {
        colour: 'red',
        event_type: 'sneezing',
        date: '2026-02-30',
        time: '25:00',
        duration_minutes: 2.5,
        notes: 'too long',
      }).map((problem) => problem.field),
    ).toEqual(['colour', 'event_type', 'date', 'time', 'duration_minutes', 'notes']);
    expect(diaryFormProblems(form, { duration_minutes: 2000 })).toEqual([
      { field: 'event_type', message: 'event_type is required' },
      { field: 'date', message: 'date is required' },
      { field: 'duration_minutes', message: 'duration_minutes must be at most 1440' },
    ]);
  });

  it('knows a calendar date', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2026-02-29')).toBe(false);
    expect(isCalendarDate('2026-2-1')).toBe(false);
  });
});

// How the diary screen turns what a patient entered into text: values as text (never markup, with
// invisible characters made visible), record titles from date, time and event, and an order by
// the entered date and time that ignores values of another type.
import { describe, expect, it } from 'vitest';
import {
  displayValue,
  entryAuthor,
  recordSortKey,
  recordTitle,
} from '../../../src/renderer/src/diary/diaryValues';

describe('diary values on screen [UI-UNTRUSTED-TEXT]', () => {
  it('shows strings as entered, other values as JSON, invisible characters marked', () => {
    expect(displayValue('<img src=x onerror=alert(1)>')).toBe('<img src=x onerror=alert(1)>');
    expect(displayValue('left\u202eright')).toBe('left⟦U+202E⟧right');
    expect(displayValue(15)).toBe('15');
    expect(displayValue(null)).toBe('null');
    expect(displayValue({ a: ['x\u200b'] })).toBe('{"a":["x⟦U+200B⟧"]}');
    expect(displayValue(undefined)).toBe('');
  });

  it('names a record by its date, time and event, and sorts by date and time only', () => {
    expect(recordTitle({ date: '2025-01-15', time: '14:30', event_type: 'epistaxis', notes: 'x' })).toBe(
      '2025-01-15 14:30 epistaxis',
    );
    expect(recordTitle({ notes: 'no date' })).toBe('Diary entry');
    expect(recordTitle({ date: { nested: true }, event_type: 'fatigue\u200b' })).toBe('fatigue⟦U+200B⟧');
    const keys = [
      recordSortKey({ date: '2025-01-15', time: '09:00' }),
      recordSortKey({ date: '2025-01-15', time: '14:30' }),
      recordSortKey({ date: '2025-01-02' }),
      recordSortKey({ date: ['not', 'a', 'date'] }),
    ];
    expect([...keys].sort()).toEqual([keys[3], keys[2], keys[0], keys[1]]);
  });

  it('says who wrote an entry in words', () => {
    expect(entryAuthor('USER')).toBe('the patient');
    expect(entryAuthor('ADMIN')).toBe('an administrator (correction)');
  });
});

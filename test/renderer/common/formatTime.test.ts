// One way to write a time on every screen (docs/decisions.md): UTC as `YYYY-MM-DD HH:MM:SS UTC`, the
// reader's local time in the same pattern with its zone named.
import { describe, expect, it } from 'vitest';
import { formatLocal, formatUtc, localTitle } from '../../../src/renderer/src/common/formatTime';

const pattern = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+$/;

describe('formatTime [UI-TIME-FORMAT]', () => {
  it('writes UTC in ISO 8601 order, to the second, with its zone', () => {
    expect(formatUtc('2026-12-07T07:10:26.123Z')).toBe('2026-12-07 07:10:26 UTC');
    expect(formatUtc('2026-12-07T08:10:26+01:00')).toBe('2026-12-07 07:10:26 UTC');
  });

  it('writes local time in the same pattern, on a 24-hour clock, with the zone named', () => {
    expect(formatLocal('2026-12-07T07:10:26Z', 'Europe/Berlin')).toBe('2026-12-07 08:10:26 GMT+1');
    expect(formatLocal('2026-07-01T23:30:00Z', 'America/New_York')).toBe('2026-07-01 19:30:00 EDT');
    // Midnight is 00, never 24.
    expect(formatLocal('2026-12-06T23:00:05Z', 'Europe/Berlin')).toBe('2026-12-07 00:00:05 GMT+1');
    expect(formatLocal('2026-12-07T07:10:26Z')).toMatch(pattern);
  });

  it('says which time the hover text is, and leaves text that is not a time as it came', () => {
    expect(localTitle('2026-12-07T07:10:26Z')).toMatch(/^Your local time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d /);
    expect(formatUtc('not a time')).toBe('not a time');
    expect(formatLocal('not a time')).toBe('not a time');
  });
});

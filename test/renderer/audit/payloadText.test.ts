// The audit screen's one-line payloads: text only, invisible characters made visible, nested values
// as JSON, and hashes cut to a prefix only when they are longer than it.
import { describe, expect, it } from 'vitest';
import { hashPrefix, payloadBlock, payloadLine } from '../../../src/renderer/src/audit/payloadText';

describe('audit payload text [UI-UNTRUSTED-TEXT]', () => {
  it('lists top-level fields on one line, nested values as JSON, and shows hidden characters', () => {
    expect(
      payloadLine({ staging_id: 'abc', count: 2, ok: true, none: null, row: { user_id: 'u1' }, list: [1] }),
    ).toBe('staging_id=abc · count=2 · ok=true · none=null · row={"user_id":"u1"} · list=[1]');
    expect(payloadLine({ note: '<b>\u202eevil\u202c</b>' })).toBe('note=<b>⟦U+202E⟧evil⟦U+202C⟧</b>');
    expect(payloadLine(null)).toBe('null');
    expect(payloadLine(['a'])).toBe('["a"]');
    expect(payloadBlock({ a: 'zero\u200bwidth' })).toBe('{\n  "a": "zero⟦U+200B⟧width"\n}');
  });

  it('shortens hashes to a prefix', () => {
    expect(hashPrefix('0123456789abcdef0123')).toBe('0123456789ab…');
    expect(hashPrefix('0123456789abcdef0123', 16)).toBe('0123456789abcdef…');
    expect(hashPrefix('short')).toBe('short');
  });
});

import { describe, expect, it } from 'vitest';
import { visibleText } from '../../../src/renderer/src/common/visibleText';

describe('visibleText [UI-UNTRUSTED-TEXT]', () => {
  it('marks bidirectional controls and zero-width characters, and keeps everything else', () => {
    expect(visibleText('\u202eevil\u202c')).toBe('⟦U+202E⟧evil⟦U+202C⟧');
    expect(visibleText('a\u200bb\ufeff')).toBe('a⟦U+200B⟧b⟦U+FEFF⟧');
    expect(visibleText('שלום <b>bold</b> 😀')).toBe('שלום <b>bold</b> 😀');
  });
});

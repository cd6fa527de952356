// How packet text enters the casebook PDF. Direction controls (LRM, RLM, embeddings, overrides,
// isolates) are shown as <U+XXXX>, not obeyed, so that no value can make itself read differently
// from packet.json ("Trojan Source"); the bidi algorithm still orders the text by its letters.
// Other control characters become U+FFFD, tabs a space, CR and CRLF a line break; a character no
// casebook font has a glyph for (Hangul, mathematical alphanumerics...) is shown as <U+XXXX> rather
// than as an empty box (packet.json holds the exact value).
/** C0 controls but the line feed, and DEL (built from code points: a literal would hide them). */
const controls = new RegExp(
  `[${[...Array(32).keys(), 127]
    .filter((code) => code !== 10)
    .map((code) => `\\u${code.toString(16).padStart(4, '0')}`)
    .join('')}]`,
  'g',
);

const printable = /^[\u0020-\u007e\n]*$/;

export function casebookText(text: string, hasGlyph?: (codePoint: number) => boolean): string {
  if (printable.test(text)) return text;
  const cleaned = text
    .replace(/\r\n?/g, '\n')
    .replace(/\t/g, ' ')
    .replace(
      /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
      (ch) => `<U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase()}>`,
    )
    .replace(controls, '\uFFFD');
  if (!hasGlyph) return cleaned;
  let out = '';
  for (const ch of cleaned) {
    const codePoint = ch.codePointAt(0) ?? 0;
    out +=
      codePoint < 0x7f || hasGlyph(codePoint) || /[\p{M}\p{Cf}]/u.test(ch)
        ? ch
        : `<U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}>`;
  }
  return out;
}

// A faster layout for text that needs no shaping, measured: fontkit's OpenType layout (GSUB/GPOS
// lookups for every default feature) took 2.3 s of 4.7 s for 1,000 records, almost all of it on
// Latin ids, hashes and timestamps, unique strings no cache helps with. Text of Latin, Greek and
// Cyrillic letters, digits, punctuation and symbols (arrows, math), without combining marks, is laid out here glyph by glyph
// from the font's cmap and advance widths (no kerning, no ligatures, so "fi" stays two glyphs and
// extracts as two letters); everything else (Hebrew, Arabic, CJK, marks, emoji) still goes through
// fontkit. The result is deterministic and has the shape pdfkit's own layoutRun returns.
interface Glyph {
  id: number;
  advanceWidth: number;
  codePoints: number[];
}

interface Position {
  xAdvance: number;
  yAdvance: number;
  xOffset: number;
  yOffset: number;
  advanceWidth: number;
}

/** pdfkit's EmbeddedFont, the parts this patches. */
export interface PdfkitEmbeddedFont {
  scale: number;
  font: { glyphForCodePoint(codePoint: number): Glyph };
  layoutRun(
    text: string,
    features?: unknown,
  ): { glyphs: Glyph[]; positions: Position[]; advanceWidth: number };
  simpleLayout?: true;
}

/** Text that needs no shaping: Latin, Greek, Cyrillic, punctuation, currency, arrows, math, shapes. */
export const unshaped =
  /^[\u0020-\u007e\u00a0-\u02ff\u0370-\u03ff\u0400-\u04ff\u2010-\u2027\u2030-\u205e\u20a0-\u20cf\u2100-\u22ff\u2500-\u25ff]*$/;

export function applySimpleLayout(font: PdfkitEmbeddedFont): void {
  if (font.simpleLayout) return;
  font.simpleLayout = true;
  const shaped = font.layoutRun.bind(font);
  const glyphs = new Map<number, Glyph>();
  font.layoutRun = (text, features) => {
    if (features || !unshaped.test(text)) return shaped(text, features);
    const run: { glyphs: Glyph[]; positions: Position[]; advanceWidth: number } = {
      glyphs: [],
      positions: [],
      advanceWidth: 0,
    };
    for (const ch of text) {
      const codePoint = ch.codePointAt(0) ?? 0;
      let glyph = glyphs.get(codePoint);
      if (!glyph) {
        const found = font.font.glyphForCodePoint(codePoint);
        glyph = { id: found.id, advanceWidth: found.advanceWidth, codePoints: [codePoint] };
        glyphs.set(codePoint, glyph);
      }
      const advance = glyph.advanceWidth * font.scale;
      run.glyphs.push(glyph);
      run.positions.push({ xAdvance: advance, yAdvance: 0, xOffset: 0, yOffset: 0, advanceWidth: advance });
      run.advanceWidth += advance;
    }
    return run;
  };
}

// Printable ASCII in the casebook's Latin font, per character: its advance (1/1000 em) and its glyph
// code in the document's subset, as the two bytes a Tj string holds. Most of a packet is ASCII (ids,
// hashes, timestamps, field names), and looking each character up once instead of laying out every
// word through the font engine halves the render (measured: 10,000 records, decision 56 in
// docs/decisions.md). The subset entry is made by pdfkit's own encode, so widths and the ToUnicode
// map are written as for any other glyph.
import type { PdfkitEmbeddedFont } from './simpleLayout';

interface EncodingFont extends PdfkitEmbeddedFont {
  encode(text: string, features?: unknown): [string[], { xAdvance: number }[]];
}

export const printableAscii = /^[\u0020-\u007e]*$/;

/**
 * Glyph codes (2 bytes each, as 4 hex digits) as the bytes of a PDF literal string: half the size
 * of a hex string before compression, so deflate, the largest single cost of the render, has half
 * the input. Parentheses and backslash are escaped, and CR (which a reader would take as a line end).
 */
export function literalOf(hex: string): string {
  let out = '';
  for (let i = 0; i < hex.length; i += 2) {
    const byte = Number.parseInt(hex.slice(i, i + 2), 16);
    if (byte === 0x28 || byte === 0x29 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte === 0x0d) out += '\\r';
    else out += String.fromCharCode(byte);
  }
  return out;
}

export class AsciiFont {
  private readonly literal: string[] = [];
  readonly advance = new Float64Array(128);
  constructor(private readonly font: EncodingFont) {
    for (let code = 32; code < 127; code++)
      this.advance[code] = font.font.glyphForCodePoint(code).advanceWidth * font.scale;
  }

  width(text: string): number {
    let width = 0;
    for (let i = 0; i < text.length; i++) width += this.advance[text.charCodeAt(i)];
    return width;
  }

  /** The Tj literal string bytes of printable ASCII text (each glyph added to the subset on first use). */
  encode(text: string): string {
    let out = '';
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      let bytes = this.literal[code];
      if (bytes === undefined) {
        bytes = literalOf(this.font.encode(text[i])[0].join(''));
        this.literal[code] = bytes;
      }
      out += bytes;
    }
    return out;
  }
}

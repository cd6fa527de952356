// Writes the casebook's text into the page content stream. A run that needs no shaping (left to
// right, every glyph at its advance: what simpleLayout lays out) is written here as one Tj inside a
// text object shared by consecutive runs; any other run (right-to-left, marks, CJK, emoji) goes
// through pdfkit's own text(), which positions shaped glyphs. Measured on 1,000 records: pdfkit's
// text() per run (options, transforms, save/restore, TJ assembly) cost 1.1 s of 3.2 s; this path
// writes the same glyphs through the same font objects (subset, widths, ToUnicode), in page order,
// so extraction reads the text in the order it was laid out.
import { AsciiFont, literalOf, printableAscii } from './asciiFont';
import type { CasebookFonts, FontStyle } from './casebookFonts';
import { type PdfkitEmbeddedFont, unshaped } from './simpleLayout';
import { type VisualRun, visualRuns } from './visualRuns';

/** The parts of pdfkit's document and font this writes through. */
interface Internals {
  page: { height: number; fonts: Record<string, unknown> };
  addContent(data: string | Uint8Array): void;
}
interface EmbeddedFont extends PdfkitEmbeddedFont {
  id: string;
  ref(): unknown;
  encode(text: string, features?: unknown): [string[], { xAdvance: number }[]];
}

const num = (n: number) => String(Math.round(n * 100) / 100);

export interface TextItem {
  x: number;
  y: number;
  text: string;
  style: FontStyle;
  size: number;
  gray: boolean;
}

export class PageText {
  private open = false;
  private color = '';
  /** The font and size set in the open text object. */
  private fontSize = '';
  private readonly embedded = new Map<string, EmbeddedFont>();
  private readonly ascii = new Map<string, AsciiFont>();
  constructor(
    private readonly doc: PDFKit.PDFDocument,
    private readonly fonts: CasebookFonts,
  ) {}

  private fontOf(key: string): EmbeddedFont {
    let font = this.embedded.get(key);
    if (!font) {
      this.doc.font(key);
      font = (this.doc as unknown as { _font: EmbeddedFont })._font;
      this.embedded.set(key, font);
    }
    return font;
  }

  /** The document's Latin face in a style, for printable ASCII. */
  asciiFont(style: FontStyle): AsciiFont {
    const key = this.fonts.face(0, style).key;
    let ascii = this.ascii.get(key);
    if (!ascii) {
      ascii = new AsciiFont(this.fontOf(key));
      this.ascii.set(key, ascii);
    }
    return ascii;
  }

  private get internals(): Internals {
    return this.doc as unknown as Internals;
  }

  /** The open text object's operators, written to the page as one Buffer when it closes. */
  private ops = '';

  /** Closes the shared text object (before pdfkit draws anything itself, and at the end of a page). */
  close(): void {
    if (!this.open) return;
    // A Buffer, not a string: pdfkit converts strings byte by byte (0.5 s of 10,000 records).
    this.internals.addContent(Buffer.from(`${this.ops}ET Q\n`, 'latin1'));
    this.ops = '';
    this.open = false;
  }

  /** Advances (1/1000 em) per code point of unshaped text, per face. */
  private readonly advances = new Map<string, Map<number, number>>();

  /** A run's advance in 1/1000 em: from the cmap for unshaped text, through fontkit otherwise. */
  runWidth(run: VisualRun, style: FontStyle): number {
    if (run.family === 0 && printableAscii.test(run.text)) return this.asciiFont(style).width(run.text);
    const key = this.fonts.face(run.family, style).key;
    const font = this.fontOf(key);
    if (!run.rtl && unshaped.test(run.text)) {
      let advances = this.advances.get(key);
      if (!advances) {
        advances = new Map();
        this.advances.set(key, advances);
      }
      let width = 0;
      for (const ch of run.text) {
        const codePoint = ch.codePointAt(0) ?? 0;
        let advance = advances.get(codePoint);
        if (advance === undefined) {
          advance = font.font.glyphForCodePoint(codePoint).advanceWidth * font.scale;
          advances.set(codePoint, advance);
        }
        width += advance;
      }
      return width;
    }
    return this.doc
      .font(key)
      .fontSize(1000)
      .widthOfString(run.text, run.rtl ? { features: [] } : {});
  }

  private widthOf(run: VisualRun, item: TextItem): number {
    return (this.runWidth(run, item.style) * item.size) / 1000;
  }

  /**
   * Draws a line: each run at its place left to right (visual order), written to the content stream
   * in logical order, so that a text extractor (which reads the stream in order and reverses each
   * right-to-left piece) gives the text back as packet.json holds it.
   */
  draw(item: TextItem): void {
    const runs: VisualRun[] = printableAscii.test(item.text)
      ? [{ text: item.text, family: 0, rtl: false, start: 0 }]
      : visualRuns(item.text, this.fonts);
    if (runs.length === 1) {
      this.drawRun(runs[0], item.x, item);
      return;
    }
    let x = item.x;
    const placed = runs.map((run) => {
      const at = x;
      x += this.widthOf(run, item);
      return { run, at };
    });
    placed.sort((a, b) => a.run.start - b.run.start);
    for (const { run, at } of placed) this.drawRun(run, at, item);
  }

  private drawRun(run: VisualRun, x: number, item: TextItem): void {
    const baseline = item.y + item.size * 0.95;
    const color = item.gray ? '0.333 g' : '0 g';
    const key = this.fonts.face(run.family, item.style).key;
    const font = this.fontOf(key);
    if (!run.rtl && unshaped.test(run.text)) {
      const bytes =
        run.family === 0 && printableAscii.test(run.text)
          ? this.asciiFont(item.style).encode(run.text)
          : literalOf(font.encode(run.text)[0].join(''));
      const internals = this.internals;
      if (!this.open) {
        this.ops = `q 1 0 0 -1 0 ${num(internals.page.height)} cm BT\n`;
        this.open = true;
        this.color = '';
        this.fontSize = '';
      }
      if (this.color !== color) {
        this.ops += `${color}\n`;
        this.color = color;
      }
      if (internals.page.fonts[font.id] == null) internals.page.fonts[font.id] = font.ref();
      const fontSize = `/${font.id} ${num(item.size)} Tf`;
      if (this.fontSize !== fontSize) {
        this.ops += `${fontSize}\n`;
        this.fontSize = fontSize;
      }
      this.ops += `1 0 0 1 ${num(x)} ${num(internals.page.height - baseline)} Tm (${bytes}) Tj\n`;
      return;
    }
    this.close();
    const doc = this.doc;
    doc
      .font(key)
      .fontSize(item.size)
      .fillColor(item.gray ? '#555555' : '#000000');
    const options = run.rtl ? { features: [] } : {};
    doc.text(run.text, x, baseline, { ...options, lineBreak: false, baseline: 'alphabetic' });
  }
}

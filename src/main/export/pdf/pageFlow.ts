// The casebook's page layout: text flows down A4 pages between the running header and footer; a
// field/value table row, a framed block (a signature's manifestation) and a heading with the line
// after it are kept on one page when they fit, and split over pages only when taller than a page.
// Layout yields positioned items; drawing them is casebookPdf's job, so that the table of contents
// can name the page of every part before anything is drawn.
import type { FontStyle } from './casebookFonts';
import { casebookText } from './casebookText';
import { wrapText } from './textWrap';

export const pageSize = { width: 595.28, height: 841.89 };
export const margin = { left: 42, right: 42, top: 62, bottom: 58 };
export const bodySize = 8.5;
export const leadingOf = (size: number) => size * 1.36;

export type PageItem =
  | { kind: 'text'; x: number; y: number; text: string; style: FontStyle; size: number; gray: boolean }
  | { kind: 'frame'; x: number; y: number; width: number; height: number }
  | { kind: 'band'; x: number; y: number; width: number; height: number }
  | { kind: 'rule'; x: number; y: number; width: number };

export type MeasureText = (text: string, style: FontStyle, size: number) => number;

export interface TextOptions {
  style?: FontStyle;
  size?: number;
  indent?: number;
  gray?: boolean;
}

export interface Row {
  label: string;
  value: string;
  /** A third, narrow column (the build a value was captured under). */
  note?: string;
}

export interface Line {
  text: string;
  style?: FontStyle;
  indent?: number;
}

const contentWidth = pageSize.width - margin.left - margin.right;
const bottom = pageSize.height - margin.bottom;

export class PageFlow {
  readonly pages: PageItem[][] = [];
  private y = margin.top;
  constructor(
    private readonly measure: MeasureText,
    /** Makes packet text drawable (casebookText with the fonts' coverage). */
    private readonly prepare: (text: string) => string = casebookText,
  ) {
    this.newPage();
  }

  get pageIndex(): number {
    return this.pages.length - 1;
  }

  newPage(): void {
    this.pages.push([]);
    this.y = margin.top;
  }

  private get page(): PageItem[] {
    return this.pages[this.pages.length - 1];
  }

  /**
   * Starts a new page when the height does not fit below but would fit on a page of its own (a
   * block taller than a page starts where it is and is split).
   */
  private keep(height: number): void {
    if (this.y + height > bottom && this.y > margin.top && height <= bottom - margin.top) this.newPage();
  }

  /** A new page unless this one is still empty. */
  pageBreak(): void {
    if (this.y > margin.top) this.newPage();
  }

  /** A line of the table of contents: the title (cut to one line), and the item its page number goes in. */
  tocLine(title: string, level: 1 | 2): Extract<PageItem, { kind: 'text' }> {
    const size = bodySize;
    const style: FontStyle = level === 1 ? 'bold' : 'regular';
    const indent = level === 1 ? 0 : 12;
    const leading = leadingOf(size);
    const text = truncate(this.prepare(title), contentWidth - indent - 50, (t) =>
      this.measure(t, style, size),
    );
    this.keep(leading);
    this.page.push({ kind: 'text', x: margin.left + indent, y: this.y, text, style, size, gray: false });
    const number: Extract<PageItem, { kind: 'text' }> = {
      kind: 'text',
      x: pageSize.width - margin.right,
      y: this.y,
      text: '',
      style: 'regular',
      size,
      gray: false,
    };
    this.page.push(number);
    this.y += leading;
    return number;
  }

  space(height: number): void {
    this.y += height;
  }

  lines(text: string, width: number, style: FontStyle, size: number): string[] {
    return wrapText(this.prepare(text), width, (t) => this.measure(t, style, size));
  }

  text(text: string, options: TextOptions = {}): void {
    const style = options.style ?? 'regular';
    const size = options.size ?? bodySize;
    const indent = options.indent ?? 0;
    const leading = leadingOf(size);
    for (const line of this.lines(text, contentWidth - indent, style, size)) {
      this.keep(leading);
      this.page.push({
        kind: 'text',
        x: margin.left + indent,
        y: this.y,
        text: line,
        style,
        size,
        gray: options.gray ?? false,
      });
      this.y += leading;
    }
  }

  /** A heading, kept on the page with at least three lines after it; a band behind level 1. */
  heading(text: string, level: 1 | 2 | 3): void {
    const size = level === 1 ? 13 : level === 2 ? 10.5 : 9;
    const lines = this.lines(text, contentWidth - 8, 'bold', size);
    const height = lines.length * leadingOf(size) + 6;
    this.keep(height + 3 * leadingOf(bodySize));
    this.y += 3;
    if (level === 1)
      this.page.push({
        kind: 'band',
        x: margin.left,
        y: this.y - 2,
        width: contentWidth,
        height: height - 2,
      });
    for (const line of lines) {
      this.page.push({
        kind: 'text',
        x: margin.left + (level === 1 ? 4 : 0),
        y: this.y,
        text: line,
        style: 'bold',
        size,
        gray: false,
      });
      this.y += leadingOf(size);
    }
    this.y += 3;
    if (level === 2) this.page.push({ kind: 'rule', x: margin.left, y: this.y - 2, width: contentWidth });
  }

  /** A field/value table: label column, value column, an optional note column; a rule under each row. */
  rows(rows: Row[], labelWidth = 150, indent = 0): void {
    const size = bodySize;
    const leading = leadingOf(size);
    const hasNote = rows.some((r) => r.note !== undefined);
    const noteWidth = hasNote ? 96 : 0;
    const x = margin.left + indent;
    const valueX = x + labelWidth + 6;
    const valueWidth = contentWidth - indent - labelWidth - 6 - (hasNote ? noteWidth + 6 : 0);
    for (const row of rows) {
      const label = this.lines(row.label, labelWidth, 'bold', size);
      const value = this.lines(row.value, valueWidth, 'regular', size);
      const note = row.note ? this.lines(row.note, noteWidth, 'regular', size - 1) : [];
      const count = Math.max(label.length, value.length, note.length);
      this.keep(count * leading + 3);
      for (let i = 0; i < count; i++) {
        if (i > 0) this.keep(leading);
        const y = this.y;
        if (label[i] !== undefined)
          this.page.push({ kind: 'text', x, y, text: label[i], style: 'bold', size, gray: false });
        if (value[i] !== undefined)
          this.page.push({ kind: 'text', x: valueX, y, text: value[i], style: 'regular', size, gray: false });
        if (note[i] !== undefined)
          this.page.push({
            kind: 'text',
            x: valueX + valueWidth + 6,
            y,
            text: note[i],
            style: 'regular',
            size: size - 1,
            gray: true,
          });
        this.y += leading;
      }
      this.page.push({ kind: 'rule', x, y: this.y + 0.5, width: contentWidth - indent });
      this.y += 3;
    }
  }

  /** Lines in a frame, kept on one page when they fit; a taller block gets a frame per page. */
  frame(lines: Line[], indent = 0): void {
    const size = bodySize;
    const leading = leadingOf(size);
    const pad = 5;
    const x = margin.left + indent;
    const width = contentWidth - indent;
    const wrapped: { text: string; style: FontStyle; indent: number }[] = [];
    for (const line of lines) {
      const style = line.style ?? 'regular';
      const inner = line.indent ?? 0;
      for (const text of this.lines(line.text, width - 2 * pad - inner, style, size))
        wrapped.push({ text, style, indent: inner });
    }
    this.keep(wrapped.length * leading + 2 * pad);
    let start = this.y;
    const close = () => {
      this.page.push({ kind: 'frame', x, y: start, width, height: this.y + pad - start });
      this.y += pad;
    };
    this.y += pad;
    for (const line of wrapped) {
      if (this.y + leading + pad > bottom) {
        close();
        this.newPage();
        start = this.y;
        this.y += pad;
      }
      this.page.push({
        kind: 'text',
        x: x + pad + line.indent,
        y: this.y,
        text: line.text,
        style: line.style,
        size,
        gray: false,
      });
      this.y += leading;
    }
    close();
    this.y += 4;
  }
}

export const layoutWidth = contentWidth;

/** The text cut to a width, with an ellipsis, between grapheme clusters. */
export function truncate(text: string, width: number, measure: (t: string) => number): string {
  if (measure(text) <= width) return text;
  const graphemes = [...new Intl.Segmenter('und', { granularity: 'grapheme' }).segment(text)].map(
    (s) => s.segment,
  );
  let low = 0;
  let high = graphemes.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (measure(`${graphemes.slice(0, mid).join('')}…`) <= width) low = mid;
    else high = mid - 1;
  }
  return `${graphemes.slice(0, low).join('')}…`;
}

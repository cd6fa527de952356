// The human-readable copy of an inspection packet from format 3 on (issue 24): a casebook PDF in
// every script. pdfkit (not pdf-lib + @pdf-lib/fontkit) because it lays text out through fontkit's
// OpenType engine (Arabic joining forms and lam-alef, right-to-left runs, kerning, marks), subsets
// and embeds TrueType fonts with a ToUnicode map (so the text extracts as packet.json holds it) and
// compresses content streams with zlib, all synchronously; pdf-lib draws glyphs but does no
// shaping. Fonts: casebookFonts (Noto, OFL); bidi: visualRuns (bidi-js).
// Deterministic: the same packet.json gives the same bytes: the dates are the packet's generatedAt,
// the document /ID is taken from the document hash, pdfkit's subset tags derive from the font's
// registration order, and zlib output is a function of its input. Formats 1 and 2 keep pdfWriter.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import PDFDocument from 'pdfkit';
import type { PacketContent } from './packetContent';
import { printableAscii } from './pdf/asciiFont';
import { casebookFonts, type FontStyle } from './pdf/casebookFonts';
import { casebookParts, coverPage } from './pdf/casebookSections';
import { casebookText } from './pdf/casebookText';
import { layoutWidth, margin, PageFlow, type PageItem, pageSize, truncate } from './pdf/pageFlow';
import { PageText } from './pdf/pageText';
import { readPdfPageObjects } from './pdf/pdfPageObjects';
import { applySimpleLayout, type PdfkitEmbeddedFont } from './pdf/simpleLayout';
import { visualRuns } from './pdf/visualRuns';

// Not named `require`: the ESM bundle declares its own at the top level.
const moduleRequire = createRequire(import.meta.url);

function rendererOf(): { name: string; version: string } {
  // pdfkit's package exports do not include package.json: find it beside its entry point.
  let dir = dirname(moduleRequire.resolve('pdfkit'));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'pdfkit' && pkg.version) return { name: pkg.name, version: pkg.version };
    } catch {
      // not there: one level up
    }
    dir = dirname(dir);
  }
  throw new Error('pdfkit package.json not found');
}

/** The renderer's name and version, for the packet manifest. */
export const pdfRenderer: { name: string; version: string } = rendererOf();

/** The document internals pdfkit does not expose as options: its output, file identifier and fonts. */
interface PdfkitInternals {
  push(chunk: Uint8Array | null): boolean;
  _id: Uint8Array;
  _fontFamilies: Record<
    string,
    {
      unicode?: number[][];
      subset?: { glyphs: number[] };
      font?: { glyphForCodePoint(codePoint: number): { id: number } };
    }
  >;
}

/** Glyph id → the Arabic presentation form (U+FB50–FDFF, U+FE70–FEFC) the font maps to it. */
function presentationForms(font: {
  glyphForCodePoint(codePoint: number): { id: number };
}): Map<number, number> {
  const forms = new Map<number, number>();
  for (const [from, to] of [
    [0xfb50, 0xfdff],
    [0xfe70, 0xfefc],
  ]) {
    for (let codePoint = from; codePoint <= to; codePoint++) {
      const id = font.glyphForCodePoint(codePoint).id;
      if (id !== 0 && !forms.has(id)) forms.set(id, codePoint);
    }
  }
  return forms;
}

/**
 * A ligature glyph maps back to the letters it replaced in logical order (lam, alef), which a reader
 * reversing a right-to-left line turns into alef, lam. Where the font has the ligature as an Arabic
 * presentation form (U+FEFB lam-alef), map the glyph to that one code point instead: it decomposes
 * (NFKC) to the letters in logical order, whichever way the reader walks the line.
 */
function mapArabicLigatures(doc: PdfkitInternals): void {
  for (const font of new Set(Object.values(doc._fontFamilies))) {
    if (!font.unicode || !font.subset || !font.font) continue;
    if (!font.unicode.some((codePoints) => codePoints && codePoints.length > 1)) continue;
    const forms = presentationForms(font.font);
    for (const [gid, codePoints] of font.unicode.entries()) {
      if (!codePoints || codePoints.length < 2) continue;
      const form = forms.get(font.subset.glyphs[gid]);
      if (form !== undefined) font.unicode[gid] = [form];
    }
  }
}

const headerSize = 7.5;

export function renderCasebookPdf(content: PacketContent, documentHash: string): Buffer {
  const fonts = casebookFonts();
  const generated = new Date(content.cover.generatedAt);
  const date = Number.isNaN(generated.getTime()) ? new Date(0) : generated;
  const doc = new PDFDocument({
    size: 'A4',
    margin: 0,
    autoFirstPage: false,
    compress: true,
    pdfVersion: '1.7',
    info: {
      Title: 'Inspection packet',
      Creator: 'Countersign',
      Producer: `${pdfRenderer.name} ${pdfRenderer.version}`,
      CreationDate: date,
      ModDate: date,
    },
  });
  const internals = doc as unknown as PdfkitInternals;
  // The header is already in the stream's buffer; everything after goes straight to chunks.
  const head = doc.read() as Buffer | null;
  const chunks: Buffer[] = head ? [Buffer.from(head)] : [];
  internals.push = (chunk) => {
    if (chunk !== null) chunks.push(Buffer.from(chunk));
    return true;
  };
  internals._id = Buffer.from(
    documentHash
      .replace(/[^0-9a-f]/gi, '')
      .padEnd(32, '0')
      .slice(0, 32),
    'hex',
  );
  for (const { face, data } of fonts.faces) {
    doc.registerFont(face.key, data);
    doc.font(face.key);
    applySimpleLayout((doc as unknown as { _font: PdfkitEmbeddedFont })._font);
  }

  const pageText = new PageText(doc, fonts);
  const text = pageText;
  const widths = new Map<string, number>();
  const measure = (text: string, style: FontStyle, size: number): number => {
    if (printableAscii.test(text)) return (pageText.asciiFont(style).width(text) * size) / 1000;
    const key = `${style}\u0000${text}`;
    let width = widths.get(key);
    if (width === undefined) {
      width = 0;
      for (const run of visualRuns(text, fonts)) width += pageText.runWidth(run, style);
      widths.set(key, width);
    }
    return (width * size) / 1000;
  };
  const clean = measure;

  // Layout: the cover, the table of contents (its page numbers filled in once the parts are laid
  // out: their count, not their numbers, decides its length), then the parts.
  const prepare = (value: string) => casebookText(value, (codePoint) => fonts.familyOf(codePoint) >= 0);
  const flow = new PageFlow(clean, prepare);
  coverPage(flow, content, documentHash);
  flow.newPage();
  flow.heading('Contents', 1);
  const parts = casebookParts(content);
  const tocNumbers = parts.map((part) => flow.tocLine(part.title, part.level));
  const partPages: number[] = [];
  for (const part of parts) {
    if (part.level === 1) flow.pageBreak();
    const page = flow.pageIndex;
    const before = flow.pages[page].length;
    part.render(flow);
    partPages.push(flow.pages[page].length > before ? page : page + 1);
  }
  const right = pageSize.width - margin.right;
  for (const [i, item] of tocNumbers.entries()) {
    item.text = String(partPages[i] + 1);
    item.x = right - clean(item.text, 'regular', item.size);
  }

  // Drawing.
  const drawText = (item: Extract<PageItem, { kind: 'text' }>) => text.draw(item);
  const total = flow.pages.length;
  const description = prepare(`Countersign inspection packet · ${content.cover.scope.description}`);
  const header = truncate(description, layoutWidth - 60, (t) => clean(t, 'bold', headerSize));
  const broken = content.cover.chain.broken;
  for (const [index, items] of flow.pages.entries()) {
    // Each page's text objects are closed on it (addPage writes to the new page from here on).
    text.close();
    doc.addPage({ size: 'A4', margin: 0 });
    drawText({
      kind: 'text',
      x: margin.left,
      y: 26,
      text: header,
      style: 'bold',
      size: headerSize,
      gray: true,
    });
    if (broken)
      drawText({
        kind: 'text',
        x: margin.left,
        y: 37,
        text: `AUDIT CHAIN BROKEN AT SEQ ${broken.firstBadSeq}, exported with the break flagged`,
        style: 'bold',
        size: headerSize,
        gray: false,
      });
    text.close();
    doc.lineWidth(0.4).strokeColor('#888888').moveTo(margin.left, 48).lineTo(right, 48).stroke();
    for (const item of items) {
      if (item.kind === 'text') {
        drawText(item);
        continue;
      }
      text.close();
      if (item.kind === 'rule')
        doc
          .lineWidth(0.3)
          .strokeColor('#cccccc')
          .moveTo(item.x, item.y)
          .lineTo(item.x + item.width, item.y)
          .stroke();
      else if (item.kind === 'frame')
        doc.lineWidth(0.6).strokeColor('#444444').rect(item.x, item.y, item.width, item.height).stroke();
      else doc.fillColor('#e8ecf2').rect(item.x, item.y, item.width, item.height).fill();
    }
    const footerY = pageSize.height - 42;
    text.close();
    doc
      .lineWidth(0.4)
      .strokeColor('#888888')
      .moveTo(margin.left, footerY - 4)
      .lineTo(right, footerY - 4)
      .stroke();
    drawText({
      kind: 'text',
      x: margin.left,
      y: footerY,
      text: `Document SHA-256 ${documentHash}`,
      style: 'regular',
      size: 7,
      gray: true,
    });
    const pageText = `Page ${index + 1} of ${total}`;
    drawText({
      kind: 'text',
      x: right - clean(pageText, 'bold', 7.5),
      y: footerY,
      text: pageText,
      style: 'bold',
      size: 7.5,
      gray: false,
    });
  }
  text.close();
  mapArabicLigatures(internals);
  doc.end();
  return Buffer.concat(chunks);
}

/**
 * Compares two renderings page by page: the 1-based number of the first page whose dictionary,
 * resources or content stream differ (or that one of them lacks), or null when every page is the
 * same. When the pages are the same but the shared objects (the embedded fonts) differ, every page
 * draws differently: page 1 is named and sharedDiffers says why.
 */
export function comparePdfPages(
  expected: Buffer,
  actual: Buffer,
): { pages: number; firstDifferentPage: number | null; sharedDiffers?: boolean } {
  const want = readPdfPageObjects(expected);
  let got: ReturnType<typeof readPdfPageObjects>;
  try {
    got = readPdfPageObjects(actual);
  } catch {
    return { pages: 0, firstDifferentPage: 1 };
  }
  const n = Math.max(want.pages.length, got.pages.length);
  for (let i = 0; i < n; i++) {
    if (want.pages[i] !== got.pages[i]) return { pages: got.pages.length, firstDifferentPage: i + 1 };
  }
  if (want.shared !== got.shared)
    return { pages: got.pages.length, firstDifferentPage: 1, sharedDiffers: true };
  return { pages: got.pages.length, firstDifferentPage: null };
}

// The casebook PDF of a format 3 packet (issue 24): its text, extracted with pdf.js, is packet.json's
// in every script (right-to-left text in logical order, Arabic shaped with lam-alef), a 6,000-character
// line wraps whole, every page carries "Page i of n" and the document hash, the table of contents
// names the right pages, the same content gives the same bytes (also in another process), and
// comparePdfPages names the page that changed.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { comparePdfPages, pdfRenderer, renderCasebookPdf } from '../../../src/main/export/casebookPdf';
import type { PacketContent } from '../../../src/main/export/packetContent';
import { casebookContent, longLine, scripts } from './support/casebookContent';

const documentHash = 'ab'.repeat(32);

/** Each page's text as pdf.js extracts it, lines joined by '\n', NFKC (presentation forms → letters). */
async function pageTexts(pdf: Buffer): Promise<string[]> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await pdfjs.getDocument({
    data: new Uint8Array(pdf),
    useSystemFonts: false,
    isEvalSupported: false,
  }).promise;
  const pages: string[] = [];
  for (let n = 1; n <= doc.numPages; n++) {
    const text = await (await doc.getPage(n)).getTextContent();
    pages.push(
      text.items
        .map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : ''))
        .join('')
        .normalize('NFKC'),
    );
  }
  await doc.destroy();
  return pages;
}

const compact = (text: string) => text.normalize('NFKC').replace(/\s+/g, '');

/** Every stream of the PDF, inflated (its content streams, fonts and ToUnicode maps are compressed). */
function inflatedStreams(pdf: Buffer): string {
  return streamsOf(pdf).join('\n');
}

function streamsOf(pdf: Buffer): string[] {
  const raw = pdf.toString('latin1');
  const out: string[] = [];
  for (const match of raw.matchAll(/\/Length (\d+)[\s\S]*?>>\nstream\n/g)) {
    const start = (match.index ?? 0) + match[0].length;
    const bytes = pdf.subarray(start, start + Number(match[1]));
    try {
      out.push(inflateSync(bytes).toString('latin1'));
    } catch {
      out.push(bytes.toString('latin1'));
    }
  }
  return out;
}

describe('the casebook PDF', () => {
  const content = casebookContent();
  const pdf = renderCasebookPdf(content, documentHash);

  it('shows every script as packet.json holds it, right-to-left text in logical order [PDF-SCRIPTS]', async () => {
    const text = (await pageTexts(pdf)).join('\n');
    for (const [script, value] of Object.entries(scripts)) {
      expect(text.includes(value.normalize('NFKC')), `${script}: ${value}`).toBe(true);
    }
  });

  it('shapes Arabic (joining forms, lam-alef ligature) and maps it back to the letters [PDF-SCRIPTS]', () => {
    const raw = pdf.toString('latin1');
    expect(raw).not.toContain('<U+0');
    // DejaVu Sans is embedded for the Arabic, and its lam-alef glyph maps to U+FEFB (NFKC: lam, alef).
    expect(raw).toMatch(/\/FontName \/[A-Z]{6}\+DejaVuSans\b/);
    expect(inflatedStreams(pdf)).toMatch(/<fefb>/i);
  });

  it('reads a line of Hebrew and Arabic in logical order, each script whole [PDF-SCRIPTS]', async () => {
    const mixed = casebookContent(1);
    const hebrew = 'דימום מהאף אחרי ריצה';
    const arabic = 'نزيف من الأنف بعد التمرين';
    mixed.diaryRecords[0].currentData.notes = `${hebrew} · ${arabic} (site 102)`;
    const text = (await pageTexts(renderCasebookPdf(mixed, documentHash))).join('\n');
    const line = text.split('\n').find((l) => l.startsWith('notes ') && l.includes(hebrew));
    expect(line).toBeDefined();
    expect(line?.indexOf(arabic)).toBeGreaterThan(line?.indexOf(hebrew) ?? Number.POSITIVE_INFINITY);
  });

  it('wraps a 6,000-character line without spaces, whole and inside the page [PDF-WRAP]', async () => {
    const pages = await pageTexts(pdf);
    // The value's lines, read in order (the build note beside the value's first line left out).
    const body = pages.map((p) =>
      p
        .split('\n')
        .filter((l) => !l.includes('Countersign inspection packet') && !l.includes('Document SHA-256'))
        .join('\n'),
    );
    expect(compact(body.join('')).replaceAll('buildnonerecorded', '')).toContain(longLine);
    const longest = Math.max(...pages.flatMap((p) => p.split('\n')).map((l) => l.length));
    expect(longest).toBeLessThan(200);
  });

  it('carries "Page i of n" and the document hash on every page [PDF-PAGES]', async () => {
    const pages = await pageTexts(pdf);
    expect(pages.length).toBeGreaterThan(3);
    // Every content stream closes what it opens (text objects, graphics states).
    for (const stream of streamsOf(pdf).filter((s) => /\bTf\b/.test(s))) {
      expect(stream.match(/\bBT\b/g)?.length).toBe(stream.match(/\bET\b/g)?.length);
      expect(stream.match(/(^|\s)q\s/g)?.length).toBe(stream.match(/(^|\s)Q(\s|$)/g)?.length);
    }
    for (const [i, page] of pages.entries()) {
      expect(page.startsWith('Countersign inspection packet · study AUR-HHT-201\n')).toBe(true);
      expect(page).toContain(`Page ${i + 1} of ${pages.length}`);
      expect(page).toContain(documentHash);
    }
  });

  it('names in its table of contents the page each record starts on [PDF-TOC]', async () => {
    const pages = await pageTexts(pdf);
    const toc = pages[1];
    expect(toc).toContain('Contents');
    for (const record of content.diaryRecords) {
      const line = toc.split('\n').find((l) => l.includes(`Diary record ${record.eventUuid},`));
      expect(line, record.eventUuid).toBeDefined();
      const page = Number(/(\d+)\s*$/.exec(line ?? '')?.[1]);
      expect(pages[page - 1]).toContain(`Diary record ${record.eventUuid}\n`);
      expect(pages.findIndex((p) => p.includes(`Diary record ${record.eventUuid}\n`))).toBe(page - 1);
    }
  });

  it('puts the checkpoint and its cosigners on the cover [PDF-COVER]', async () => {
    const cover = (await pageTexts(pdf))[0];
    const checkpoint = content.cover.checkpoint;
    expect(checkpoint).toBeDefined();
    expect(cover).toContain(`Tree size ${checkpoint?.treeSize}`);
    expect(cover).toContain(checkpoint?.rootHash);
    expect(cover).toContain(checkpoint?.subjectRoot);
    const cosigner = checkpoint?.cosignatures[0];
    expect(cover).toContain(`Key fingerprint (SHA-256): ${cosigner?.keyFingerprint}`);
    expect(cover).toContain(`Cosigned at: ${cosigner?.cosignedAt} UTC`);
  });

  it('is the same bytes for the same content, in this process and in another [PDF-DETERMINISTIC]', async () => {
    expect(renderCasebookPdf(casebookContent(), documentHash).equals(pdf)).toBe(true);
    const script = `import { renderCasebookPdf } from './src/main/export/casebookPdf.ts';
import { casebookContent } from './test/main/export/support/casebookContent.ts';
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
process.stdout.write(createHash('sha256').update(renderCasebookPdf(casebookContent(), '${documentHash}')).digest('hex'));`;
    const other = execFileSync('npx', ['tsx', '--eval', script], { encoding: 'utf8' }).trim();
    expect(other).toBe(createHash('sha256').update(pdf).digest('hex'));
    const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
    const doc = await pdfjs.getDocument({ data: new Uint8Array(pdf), isEvalSupported: false }).promise;
    const info = (await doc.getMetadata()).info as Record<string, unknown>;
    await doc.destroy();
    expect(info.CreationDate).toBe('D:20260304050607Z');
    expect(info.ModDate).toBe('D:20260304050607Z');
    const raw = pdf.toString('latin1');
    expect(raw).toMatch(/\/FontName \/[A-Z]{6}\+NotoSans-Regular\b/);
    expect(raw).toContain(`/ID [<${documentHash.slice(0, 32)}> <${documentHash.slice(0, 32)}>]`);
    expect(raw).toContain('/FlateDecode');
  });

  it('draws untrusted text as text only: no links, actions, scripts or annotations [PDF-TEXT-ONLY]', () => {
    const hostile = casebookContent(1);
    hostile.diaryRecords[0].currentData.notes =
      '/URI (https://evil.example) /JS (app.alert(1)) \u202Eevil\u202C';
    const raw = renderCasebookPdf(hostile, documentHash).toString('latin1');
    for (const key of ['/Annots', '/URI', '/JavaScript', '/JS', '/OpenAction', '/AA', '/Launch'])
      expect(raw).not.toContain(key);
  });

  it('names the first page that differs, or none [PDF-COMPARE]', () => {
    expect(comparePdfPages(pdf, pdf)).toEqual({ pages: expect.any(Number), firstDifferentPage: null });
    const changed = casebookContent();
    (changed.diaryRecords[4] as PacketContent['diaryRecords'][number]).currentData.duration_minutes = 11;
    const other = renderCasebookPdf(changed, documentHash);
    const pages = comparePdfPages(pdf, other);
    expect(pages.firstDifferentPage).not.toBeNull();
    expect(pages.firstDifferentPage).toBeGreaterThan(2);
    // The earlier pages are the same, the named one is the first that shows record 5.
    expect(comparePdfPages(pdf, Buffer.from('not a pdf'))).toEqual({ pages: 0, firstDifferentPage: 1 });
    expect(pdfRenderer).toEqual({ name: 'pdfkit', version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
  });
});

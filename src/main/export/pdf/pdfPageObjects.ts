// Reads, from a PDF that pdfkit wrote (classic xref table, one-level page tree, one content stream
// per page), each page's bytes as drawn: its page dictionary, its resources and its content stream,
// so that two renderings can be compared page by page and the first differing page named. Written
// here rather than with a PDF library because verify only ever compares pdfkit's own output with a
// re-rendering (anything else is simply "not this rendering"), and the app ships no PDF parser.
import { createHash } from 'node:crypto';

export interface PdfPageObjects {
  /** SHA-256 over each page's dictionary, resources and content stream bytes, in page order. */
  pages: string[];
  /** SHA-256 over everything outside the pages' own objects (fonts, catalog, info, trailer). */
  shared: string;
}

function objectOffsets(pdf: Buffer): Map<number, number> {
  const tail = pdf.subarray(Math.max(0, pdf.length - 64)).toString('latin1');
  const match = /startxref\s+(\d+)/.exec(tail);
  if (!match) throw new Error('no startxref');
  const xref = pdf.subarray(Number(match[1]), Number(match[1]) + 40).toString('latin1');
  const head = /^xref\s+0\s+(\d+)\s/.exec(xref);
  if (!head) throw new Error('no xref table');
  const count = Number(head[1]);
  const start = Number(match[1]) + head[0].length;
  const table = pdf.subarray(start, start + count * 20).toString('latin1');
  const offsets = new Map<number, number>();
  for (let i = 1; i < count; i++) offsets.set(i, Number(table.slice(i * 20, i * 20 + 10)));
  return offsets;
}

interface PdfObject {
  dict: string;
  stream: Buffer | null;
  start: number;
  end: number;
}

function readObject(pdf: Buffer, offsets: Map<number, number>, id: number): PdfObject {
  const start = offsets.get(id);
  if (start === undefined) throw new Error(`object ${id} is missing`);
  const end = pdf.indexOf('endobj', start, 'latin1');
  if (end < 0) throw new Error(`object ${id} has no end`);
  const text = pdf.subarray(start, end).toString('latin1');
  const streamAt = text.indexOf('stream\n');
  if (streamAt < 0) return { dict: text, stream: null, start, end };
  const length = /\/Length (\d+)/.exec(text.slice(0, streamAt));
  if (!length) throw new Error(`object ${id} has a stream without a length`);
  const from = start + streamAt + 'stream\n'.length;
  return { dict: text.slice(0, streamAt), stream: pdf.subarray(from, from + Number(length[1])), start, end };
}

const ref = (dict: string, key: string): number => {
  const match = new RegExp(`/${key} (\\d+) 0 R`).exec(dict);
  if (!match) throw new Error(`no /${key}`);
  return Number(match[1]);
};

export function readPdfPageObjects(pdf: Buffer): PdfPageObjects {
  const offsets = objectOffsets(pdf);
  const trailerAt = pdf.lastIndexOf('trailer', undefined, 'latin1');
  const root = readObject(pdf, offsets, ref(pdf.subarray(trailerAt).toString('latin1'), 'Root'));
  const tree = readObject(pdf, offsets, ref(root.dict, 'Pages'));
  const kids = /\/Kids \[([^\]]*)\]/.exec(tree.dict);
  if (!kids) throw new Error('no page list');
  const pageIds = [...kids[1].matchAll(/(\d+) 0 R/g)].map((m) => Number(m[1]));
  const own: [number, number][] = [];
  const pages = pageIds.map((id) => {
    const page = readObject(pdf, offsets, id);
    const hash = createHash('sha256').update(page.dict);
    own.push([page.start, page.end]);
    for (const key of ['Resources', 'Contents']) {
      const part = readObject(pdf, offsets, ref(page.dict, key));
      hash.update(part.dict);
      if (part.stream) hash.update(part.stream);
      own.push([part.start, part.end]);
    }
    return hash.digest('hex');
  });
  own.sort((a, b) => a[0] - b[0]);
  const shared = createHash('sha256');
  let at = 0;
  for (const [start, end] of own) {
    if (start > at) shared.update(pdf.subarray(at, start));
    at = Math.max(at, end);
  }
  shared.update(pdf.subarray(at));
  return { pages, shared: shared.digest('hex') };
}

// Line breaking for the casebook PDF: greedy, at spaces, by measured width; a word wider than the
// line (a 6,000-character value without spaces) is broken between grapheme clusters, never inside
// one (a base letter and its combining marks, an emoji sequence), so nothing overflows or is cut.
export type Measure = (text: string) => number;

const segmenter = new Intl.Segmenter('und', { granularity: 'grapheme' });

/** Splits one word that does not fit into pieces that do (each at least one grapheme). */
function breakWord(word: string, width: number, measure: Measure): string[] {
  const pieces: string[] = [];
  let piece = '';
  let pieceWidth = 0;
  for (const { segment } of segmenter.segment(word)) {
    const w = measure(segment);
    if (piece !== '' && pieceWidth + w > width) {
      pieces.push(piece);
      piece = '';
      pieceWidth = 0;
    }
    piece += segment;
    pieceWidth += w;
  }
  if (piece !== '') pieces.push(piece);
  return pieces;
}

/** The lines of a text at a width: one paragraph per '\n', an empty paragraph an empty line. */
export function wrapText(text: string, width: number, measure: Measure): string[] {
  if (!text.includes('\n') && measure(text) <= width) return [text];
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    if (measure(paragraph) <= width) {
      lines.push(paragraph);
      continue;
    }
    let line = '';
    let lineWidth = 0;
    for (const token of paragraph.match(/\S+\s*|\s+/g) ?? []) {
      const word = token.trimEnd();
      const wordWidth = measure(word);
      if (lineWidth + wordWidth <= width) {
        line += token;
        lineWidth += measure(token);
        continue;
      }
      if (line !== '') {
        lines.push(line.trimEnd());
        line = '';
        lineWidth = 0;
      }
      if (wordWidth <= width) {
        line = token;
        lineWidth = measure(token);
        continue;
      }
      const pieces = breakWord(word, width, measure);
      lines.push(...pieces.slice(0, -1));
      line = `${pieces[pieces.length - 1]}${token.slice(word.length)}`;
      lineWidth = measure(line);
    }
    if (line.trimEnd() !== '' || lines.length === 0) lines.push(line.trimEnd());
  }
  return lines;
}

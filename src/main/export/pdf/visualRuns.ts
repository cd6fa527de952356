// One line of text as the runs a PDF draws, left to right: split by font (per character, the first
// font of the casebook that has the glyph; marks, digits, spaces and punctuation stay in the font of
// the text around them when it has them, so that a Hebrew phrase is one run and shapes as one) and by
// bidi embedding level (bidi-js, the Unicode Bidirectional Algorithm), then put in visual order by
// rule L2 (reverse every sequence of runs at or above each odd level). A right-to-left run keeps its
// logical text: fontkit (pdfkit's layout engine) shapes it (Arabic joining forms, lam-alef) and lays
// its glyphs out right to left itself. A run of neutrals alone at an odd level (no script for fontkit
// to see) is reversed here. Mirrored characters at an odd level are drawn mirrored (rule L4: "("
// shows as ")"), which fontkit does not do; a text extractor then reads the mirrored character.
import bidiFactory from 'bidi-js';
import type { CasebookFonts } from './casebookFonts';

const bidi = bidiFactory();

export interface VisualRun {
  /** The run's characters in logical order (as packet.json holds them), except a reversed neutral run. */
  text: string;
  family: number;
  /** Laid out right to left by the font engine as one piece (a run with right-to-left letters). */
  rtl: boolean;
  /** Where it starts in the line (UTF-16 index): its place in logical order. */
  start: number;
}

const letterPattern = /\p{L}/u;
const letters = new Map<number, boolean>();
/** Whether a code point is a letter (cached: this runs for every character of every line). */
function isLetter(codePoint: number, ch: string): boolean {
  let found = letters.get(codePoint);
  if (found === undefined) {
    found = letterPattern.test(ch);
    letters.set(codePoint, found);
  }
  return found;
}
const strongRtl = /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]/u;
/** Any character that may need the bidi algorithm (right-to-left letters or explicit controls). */
const needsBidi =
  /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\u200f\u202a-\u202e\u2066-\u2069]|\ud802|\ud803|\ud83a|\ud83b/;

interface LogicalRun {
  start: number;
  end: number;
  family: number;
  level: number;
}

/** Splits a line into runs of one font, in logical order (levels all 0 when the line needs no bidi). */
function logicalRuns(text: string, fonts: CasebookFonts, levels: Uint8Array | null): LogicalRun[] {
  const runs: LogicalRun[] = [];
  let current: LogicalRun | null = null;
  let index = 0;
  for (const ch of text) {
    const codePoint = ch.codePointAt(0) ?? 0;
    const level = levels ? levels[index] : 0;
    let family: number;
    if (
      current &&
      current.level === level &&
      !isLetter(codePoint, ch) &&
      fonts.has(current.family, codePoint)
    ) {
      family = current.family;
    } else {
      family = fonts.familyOf(codePoint);
      if (family < 0) family = current && current.level === level ? current.family : 0;
    }
    if (current && current.family === family && current.level === level) current.end = index + ch.length;
    else {
      current = { start: index, end: index + ch.length, family, level };
      runs.push(current);
    }
    index += ch.length;
  }
  return runs;
}

/** The runs of one line in the order they are drawn, left to right. */
export function visualRuns(text: string, fonts: CasebookFonts): VisualRun[] {
  if (!needsBidi.test(text)) {
    return logicalRuns(text, fonts, null).map((r) => ({
      text: text.slice(r.start, r.end),
      family: r.family,
      rtl: false,
      start: r.start,
    }));
  }
  const { levels } = bidi.getEmbeddingLevels(text, 'auto');
  const runs = logicalRuns(text, fonts, levels);
  const maxLevel = Math.max(...runs.map((r) => r.level));
  const lowestOdd = Math.min(...runs.map((r) => r.level).filter((l) => l % 2 === 1), maxLevel + 1);
  for (let level = maxLevel; level >= lowestOdd; level--) {
    let i = 0;
    while (i < runs.length) {
      if (runs[i].level < level) {
        i++;
        continue;
      }
      let j = i;
      while (j < runs.length && runs[j].level >= level) j++;
      const reversed = runs.slice(i, j).reverse();
      runs.splice(i, j - i, ...reversed);
      i = j;
    }
  }
  return runs.map((r) => {
    const logical = text.slice(r.start, r.end);
    if (r.level % 2 === 0) return { text: logical, family: r.family, rtl: false, start: r.start };
    const mirror = (ch: string) => bidi.getMirroredCharacter(ch) ?? ch;
    if (strongRtl.test(logical))
      return { text: [...logical].map(mirror).join(''), family: r.family, rtl: true, start: r.start };
    const mirrored = [...logical].reverse().map(mirror);
    return { text: mirrored.join(''), family: r.family, rtl: false, start: r.start };
  });
}

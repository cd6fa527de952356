// The fonts of the casebook PDF (issue 24), shipped as npm packages (SIL OFL 1.1, from Google Fonts
// through @expo-google-fonts, static TTF) and found at run time through the module resolver, so that
// they load from source (tsx, vitest) and from the electron-vite build (node_modules stay external).
// Fallback order per character: Noto Sans (Latin, Greek, Cyrillic, combining marks), Noto Sans
// Hebrew, DejaVu Sans for Arabic (dejavu-fonts-ttf, Bitstream Vera licence: free to embed), Noto Sans SC (Chinese, and Japanese kana and kanji: one CJK font covers
// both test scripts, 10.5 MB instead of 10.5 + 5.7 MB with Noto Sans JP), Noto Emoji (monochrome).
// Only the glyphs a document uses are embedded (pdfkit subsets each font).
// Why DejaVu for Arabic, not Noto Sans (Naskh, Kufi) Arabic: the Noto Arabic fonts draw a letter's
// dots as separate mark glyphs on a shared dotless form (beh, teh, noon and yeh initial are one
// glyph), so a PDF's glyph-to-Unicode map cannot tell them apart and extracted text comes back wrong
// (measured: "نزيف" extracted as "بريف"); DejaVu Sans shapes into the Arabic presentation forms, one
// glyph per letter form, and lam-alef into the ligature U+FEFB that maps back to both letters.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// Not named `require`: the ESM bundle declares its own at the top level.
const moduleRequire = createRequire(import.meta.url);

export type FontStyle = 'regular' | 'bold';

export interface FontFace {
  /** The name the document registers it under. */
  key: string;
  file: string;
}

interface FontFamily {
  name: string;
  regular: string;
  /** The bold face, when the package's bold is worth embedding (CJK and emoji draw bold as regular). */
  bold: string | null;
}

const families: FontFamily[] = [
  {
    name: 'NotoSans',
    regular: '@expo-google-fonts/noto-sans/400Regular/NotoSans_400Regular.ttf',
    bold: '@expo-google-fonts/noto-sans/700Bold/NotoSans_700Bold.ttf',
  },
  {
    name: 'NotoSansHebrew',
    regular: '@expo-google-fonts/noto-sans-hebrew/400Regular/NotoSansHebrew_400Regular.ttf',
    bold: '@expo-google-fonts/noto-sans-hebrew/700Bold/NotoSansHebrew_700Bold.ttf',
  },
  {
    name: 'DejaVuSans',
    regular: 'dejavu-fonts-ttf/ttf/DejaVuSans.ttf',
    bold: 'dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf',
  },
  {
    name: 'NotoSansSC',
    regular: '@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf',
    bold: null,
  },
  {
    name: 'NotoEmoji',
    regular: '@expo-google-fonts/noto-emoji/400Regular/NotoEmoji_400Regular.ttf',
    bold: null,
  },
];

/** The fontkit that pdfkit itself uses (its own dependency), to ask which font has which glyph. */
interface FontkitFont {
  hasGlyphForCodePoint(codePoint: number): boolean;
}
const fontkit = createRequire(moduleRequire.resolve('pdfkit'))('fontkit') as {
  create(buffer: Buffer): FontkitFont;
};

export interface CasebookFonts {
  /** Index into families: the first font with a glyph for the code point, or -1 for none. */
  familyOf(codePoint: number): number;
  /** Whether a family has a glyph for the code point. */
  has(family: number, codePoint: number): boolean;
  /** The registered face of a family in a style. */
  face(family: number, style: FontStyle): FontFace;
  /** Every face, with its bytes, to register in a document. */
  faces: { face: FontFace; data: Buffer }[];
}

let loaded: CasebookFonts | null = null;

/** Loads the fonts once per process (the CJK font alone is 10.5 MB). */
export function casebookFonts(): CasebookFonts {
  if (loaded) return loaded;
  const faces: { face: FontFace; data: Buffer }[] = [];
  const parsed: FontkitFont[] = [];
  const regular: FontFace[] = [];
  const bold: FontFace[] = [];
  for (const family of families) {
    const data = readFileSync(moduleRequire.resolve(family.regular));
    const face = { key: `${family.name}-Regular`, file: family.regular };
    faces.push({ face, data });
    parsed.push(fontkit.create(data));
    regular.push(face);
    if (family.bold) {
      const boldFace = { key: `${family.name}-Bold`, file: family.bold };
      faces.push({ face: boldFace, data: readFileSync(moduleRequire.resolve(family.bold)) });
      bold.push(boldFace);
    } else bold.push(face);
  }
  const cache = new Map<number, number>();
  const hasCache = new Map<number, boolean>();
  loaded = {
    familyOf(codePoint) {
      let found = cache.get(codePoint);
      if (found === undefined) {
        found = parsed.findIndex((font) => font.hasGlyphForCodePoint(codePoint));
        cache.set(codePoint, found);
      }
      return found;
    },
    has(family, codePoint) {
      const key = codePoint * 8 + family;
      let found = hasCache.get(key);
      if (found === undefined) {
        found = parsed[family].hasGlyphForCodePoint(codePoint);
        hasCache.set(key, found);
      }
      return found;
    },
    face: (family, style) => (style === 'bold' ? bold[family] : regular[family]),
    faces,
  };
  return loaded;
}

// Every colour of the workstation is a custom property of a theme (src/renderer/src/styles.css):
// the rules name colours only through them, components name none, and each theme's text colours
// keep their contrast against the backgrounds they are drawn on (WCAG 2: 4.5:1, and 7:1 for the
// high-contrast theme). axe checks the screens as drawn (test/e2e/accessibility.test.ts); this
// checks every pair, including those no screen happens to show during the scan.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const rendererDir = fileURLToPath(new URL('../../src/renderer/src', import.meta.url));
const css = readFileSync(join(rendererDir, 'styles.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');

const colourLiteral = /#[0-9a-fA-F]{3,8}\b|\b(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch)\(/;
const themeSelectors = [':root', ':root[data-theme="dark"]', ':root[data-theme="contrast"]'] as const;
type ThemeName = 'light' | 'dark' | 'contrast';

/** The custom properties each theme block declares (a theme inherits the light one's others). */
function themeVariables(): Record<ThemeName, Record<string, string>> {
  const blocks: Record<string, Record<string, string>> = {};
  for (const match of css.matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
    const selector = (match[1] as string).trim();
    if (!(themeSelectors as readonly string[]).includes(selector)) continue;
    const declared = blocks[selector] ?? {};
    blocks[selector] = declared;
    for (const declaration of (match[2] as string).matchAll(/(--cs-[\w-]+)\s*:\s*([^;]+);/g))
      declared[declaration[1] as string] = (declaration[2] as string).trim();
  }
  const light = blocks[':root'] ?? {};
  return {
    light,
    dark: { ...light, ...blocks[':root[data-theme="dark"]'] },
    contrast: { ...light, ...blocks[':root[data-theme="contrast"]'] },
  };
}

function luminance(hex: string): number {
  const digits = hex.replace('#', '');
  const full = digits.length === 3 ? [...digits].map((digit) => digit + digit).join('') : digits;
  const [r, g, b] = [0, 2, 4].map((at) => {
    const channel = Number.parseInt(full.slice(at, at + 2), 16) / 255;
    return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(foreground: string, background: string): number {
  const [light, dark] = [luminance(foreground), luminance(background)].sort((a, b) => b - a) as [
    number,
    number,
  ];
  return (light + 0.05) / (dark + 0.05);
}

const backgrounds = [
  'surface',
  'panel',
  'input-bg',
  'info-bg',
  'warn-bg',
  'ok-bg',
  'teal-bg',
  'error-bg',
  'subtle-bg',
  'hover-bg',
  'inset-bg',
  'cursor-bg',
  'ins-bg',
  'del-bg',
];
/** Each text colour and the backgrounds it is drawn on. */
const textOn: Record<string, string[]> = {
  text: backgrounds,
  muted: [
    'surface',
    'panel',
    'input-bg',
    'info-bg',
    'warn-bg',
    'subtle-bg',
    'hover-bg',
    'inset-bg',
    'cursor-bg',
  ],
  link: ['surface', 'panel', 'info-bg', 'subtle-bg', 'hover-bg', 'inset-bg', 'cursor-bg'],
  error: ['error-bg', 'panel', 'surface'],
  flag: ['panel', 'hover-bg', 'info-bg'],
  pending: ['panel', 'hover-bg', 'info-bg'],
  'success-text': ['panel'],
  'accent-text': ['accent'],
  'bar-text': ['bar'],
  'bar-muted': ['bar'],
  'bar-good': ['bar'],
  'bar-warn': ['bar'],
  'bar-bad': ['bar'],
};

describe('theme colours [UI-THEMES]', () => {
  it('names colours only in the themes’ custom properties, never in a rule', () => {
    const outside: string[] = [];
    for (const match of css.matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
      const selector = (match[1] as string).trim();
      for (const declaration of (match[2] as string).split(';')) {
        if (!colourLiteral.test(declaration)) continue;
        const isThemeVariable =
          (themeSelectors as readonly string[]).includes(selector) && /^\s*--cs-/.test(declaration);
        if (!isThemeVariable) outside.push(`${selector} { ${declaration.trim()} }`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('uses no custom property that the light theme does not define', () => {
    const defined = themeVariables().light;
    const used = new Set([...css.matchAll(/var\((--cs-[\w-]+)/g)].map((match) => match[1] as string));
    expect([...used].filter((name) => !(name in defined))).toEqual([]);
  });

  it('hard-codes no colour in a component', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.tsx?$/.test(name)) files.push(path);
      }
    };
    walk(rendererDir);
    const coloured = files.flatMap((path) =>
      readFileSync(path, 'utf8')
        .split('\n')
        .flatMap((line, index) =>
          colourLiteral.test(line)
            ? [`${path.slice(rendererDir.length + 1)}:${index + 1}: ${line.trim()}`]
            : [],
        ),
    );
    expect(coloured).toEqual([]);
  });

  for (const [theme, minimum] of [
    ['light', 4.5],
    ['dark', 4.5],
    ['contrast', 7],
  ] as const) {
    it(`keeps ${minimum}:1 between every text colour and its backgrounds in the ${theme} theme`, () => {
      const variables = themeVariables()[theme];
      const tooFaint: string[] = [];
      for (const [text, under] of Object.entries(textOn)) {
        for (const background of under) {
          const [foreground, behind] = [variables[`--cs-${text}`], variables[`--cs-${background}`]];
          if (!foreground?.startsWith('#') || !behind?.startsWith('#')) {
            tooFaint.push(`--cs-${text} on --cs-${background}: not both plain colours`);
            continue;
          }
          const ratio = contrast(foreground, behind);
          if (ratio < minimum) tooFaint.push(`--cs-${text} on --cs-${background}: ${ratio.toFixed(2)}:1`);
        }
      }
      expect(tooFaint).toEqual([]);
    });
  }
});

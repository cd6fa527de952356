// The renderer is laid out by screen (README, Layout; CODE-LAYERS in docs/requirements.md). Imports look down only: the shell (app/)
// composes the screens; a screen (queue/, audit/, diary/, builds/) uses the parts several screens share
// (signing/, diff/) and common/; those parts use common/ only; common/ uses nothing of the
// renderer but itself. No screen imports another, and nothing in the renderer reaches the main
// process, the preload script or Node.js.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const rendererRoot = join(repo, 'src/renderer/src');

const screens = ['queue', 'audit', 'diary', 'analysis', 'builds', 'admin'] as const;
const parts = ['signing', 'diff'] as const;
/** What each folder may import from, besides itself and src/shared. */
const mayImport: Record<string, readonly string[]> = {
  entry: ['app'],
  app: [...screens, ...parts, 'common'],
  ...Object.fromEntries(screens.map((screen) => [screen, [...parts, 'common']])),
  ...Object.fromEntries(parts.map((part) => [part, ['common']])),
  common: [],
};
const topLevelFiles = new Set(['main.tsx', 'styles.css']);
const forbiddenPackages = new Set(['electron', ...builtinModules]);

interface SourceFile {
  /** Path relative to src/renderer/src, with forward slashes. */
  path: string;
  specifiers: readonly string[];
}

/** The area a renderer file belongs to: its first folder, or `entry` for the top level. */
function areaOf(path: string): string {
  const slash = path.indexOf('/');
  return slash < 0 ? 'entry' : path.slice(0, slash);
}

/** Every import that breaks the layering, one line each. */
function layeringViolations(files: readonly SourceFile[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const from = areaOf(file.path);
    if (!(from in mayImport)) problems.push(`${file.path}: ${from}/ is not a known renderer folder`);
    for (const specifier of file.specifiers) {
      if (!specifier.startsWith('.')) {
        const bare = specifier.replace(/^node:/, '').split('/')[0] ?? specifier;
        if (specifier.startsWith('node:') || forbiddenPackages.has(bare)) {
          problems.push(`${file.path}: imports ${specifier} (the renderer has no Node.js or Electron)`);
        }
        continue;
      }
      const target = relative(rendererRoot, resolve(rendererRoot, dirname(file.path), specifier))
        .split(sep)
        .join('/');
      if (target.startsWith('../')) {
        if (!target.startsWith('../../shared/')) {
          problems.push(`${file.path}: imports ${specifier}, outside the renderer and src/shared`);
        }
        continue;
      }
      const to = areaOf(target);
      if (to === from || (to === 'entry' && /\.css$/.test(target))) continue;
      if (!(mayImport[from] ?? []).includes(to)) {
        problems.push(`${file.path}: imports ${specifier} (${from}/ may not import from ${to}/)`);
      }
    }
  }
  return problems;
}

function sourceFiles(dir: string): SourceFile[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    if (!/\.tsx?$/.test(name)) return [];
    const text = readFileSync(path, 'utf8');
    const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)].map(
      (match) => match[1] as string,
    );
    return [{ path: relative(rendererRoot, path).split(sep).join('/'), specifiers }];
  });
}

describe('the renderer is laid out by screen and imports look down only [CODE-LAYERS]', () => {
  const files = sourceFiles(rendererRoot);

  it('reads the renderer source (the check has something to check)', () => {
    expect(files.length).toBeGreaterThan(40);
    expect(files.find((file) => file.path === 'app/App.tsx')?.specifiers).toContain('../queue/StagingQueue');
  });

  it('keeps only the entry and the styles at the top of src/renderer/src', () => {
    const stray = readdirSync(rendererRoot).filter(
      (name) => !statSync(join(rendererRoot, name)).isDirectory() && !topLevelFiles.has(name),
    );
    expect(stray).toEqual([]);
    const folders = readdirSync(rendererRoot).filter((name) =>
      statSync(join(rendererRoot, name)).isDirectory(),
    );
    expect(folders.sort()).toEqual(
      Object.keys(mayImport)
        .filter((area) => area !== 'entry')
        .sort(),
    );
  });

  it('has no import between screens, from a shared part into a screen, or out of common/', () => {
    expect(layeringViolations(files)).toEqual([]);
  });

  it('names each kind of violation (the check can fail)', () => {
    expect(
      layeringViolations([
        {
          path: 'queue/Queue.tsx',
          specifiers: ['../audit/AuditScreen', '../common/api', '../signing/SignDialog'],
        },
        { path: 'signing/SignDialog.tsx', specifiers: ['../queue/queueRows'] },
        { path: 'common/api.ts', specifiers: ['../diff/DiffView', '../../../shared/contract'] },
        {
          path: 'diary/DiaryScreen.tsx',
          specifiers: ['node:fs', 'electron', 'react', '../../../main/index'],
        },
        { path: 'widgets/Thing.tsx', specifiers: [] },
      ]),
    ).toEqual([
      'queue/Queue.tsx: imports ../audit/AuditScreen (queue/ may not import from audit/)',
      'signing/SignDialog.tsx: imports ../queue/queueRows (signing/ may not import from queue/)',
      'common/api.ts: imports ../diff/DiffView (common/ may not import from diff/)',
      'diary/DiaryScreen.tsx: imports node:fs (the renderer has no Node.js or Electron)',
      'diary/DiaryScreen.tsx: imports electron (the renderer has no Node.js or Electron)',
      'diary/DiaryScreen.tsx: imports ../../../main/index, outside the renderer and src/shared',
      'widgets/Thing.tsx: widgets/ is not a known renderer folder',
    ]);
  });
});

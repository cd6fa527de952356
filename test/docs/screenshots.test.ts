// The README's pictures of the screens are the e2e run's own (copied by `npm run screenshots`):
// each one the README shows exists, is a picture the e2e tests take, and nothing stale lies beside them.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(repo, 'README.md'), 'utf8');
const shown = [...readme.matchAll(/docs\/screenshots\/([\w-]+)\.png/g)].map((match) => match[1] as string);
// In a test file, or in a flow of test/e2e/support that test files run on more than one workstation
// (`shot('name')`: the embedded run takes `name`, the hosted run `hosted-name`).
const e2eSources = [
  ...readdirSync(join(repo, 'test/e2e'))
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => join('test/e2e', name)),
  ...readdirSync(join(repo, 'test/e2e/support'))
    .filter((name) => name.endsWith('Flow.ts'))
    .map((name) => join('test/e2e/support', name)),
];
const taken = new Set(
  e2eSources.flatMap((path) =>
    [...readFileSync(join(repo, path), 'utf8').matchAll(/(?:screenshot\(page, |\bshot\()'([\w-]+)'\)/g)].map(
      (match) => match[1] as string,
    ),
  ),
);
const kept = readdirSync(join(repo, 'docs/screenshots'));

describe('the README shows the screens as the e2e run photographs them [DOC-SYSTEM-DOCUMENTATION]', () => {
  it('shows the sign-in, the queue, the signing dialog, the audit screen, the diary and the builds', () => {
    expect(new Set(shown)).toEqual(
      new Set(['sign-in', 'queue', 'sign-dialog', 'qa-audit', 'investigator-diary', 'builds']),
    );
  });

  it('shows only pictures an e2e test takes', () => {
    expect(taken.size).toBeGreaterThan(5);
    expect(shown.filter((name) => !taken.has(name))).toEqual([]);
  });

  it('keeps exactly the pictures the README shows, each a PNG of the e2e window', () => {
    expect(kept.sort()).toEqual([...new Set(shown)].map((name) => `${name}.png`).sort());
    for (const file of kept) {
      const png = readFileSync(join(repo, 'docs/screenshots', file));
      expect(png.subarray(1, 4).toString('latin1'), file).toBe('PNG');
      // IHDR: width and height, big-endian, at bytes 16 and 20.
      expect([png.readUInt32BE(16), png.readUInt32BE(20)], file).toEqual([1400, 950]);
    }
  });
});

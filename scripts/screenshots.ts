// `npm run screenshots`: run the end-to-end tests (which photograph every main screen into
// test-results/) and copy the pictures the README shows into docs/screenshots/, so the front page
// shows the screens as they are. The README is the list: every docs/screenshots/NAME.png it
// names is copied from test-results/NAME.png.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const names = [
  ...new Set(
    [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/docs\/screenshots\/([\w-]+)\.png/g)].map(
      (match) => match[1] as string,
    ),
  ),
];
if (names.length === 0) throw new Error('README.md shows no docs/screenshots/*.png: nothing to refresh.');

const e2e = spawnSync('npm', ['run', 'e2e'], {
  cwd: root,
  stdio: 'inherit',
  shell: process.platform === 'win32',
});
if (e2e.status !== 0) {
  console.error('The end-to-end tests failed; docs/screenshots/ is left as it was.');
  process.exit(e2e.status ?? 1);
}
const missing = names.filter((name) => !existsSync(join(root, 'test-results', `${name}.png`)));
if (missing.length > 0) {
  console.error(
    `No e2e screenshot for ${missing.join(', ')} (test-results/); docs/screenshots/ is left as it was.`,
  );
  process.exit(1);
}
mkdirSync(join(root, 'docs', 'screenshots'), { recursive: true });
for (const name of names) {
  copyFileSync(join(root, 'test-results', `${name}.png`), join(root, 'docs', 'screenshots', `${name}.png`));
}
console.log(`Copied ${names.length} screenshots into docs/screenshots/: ${names.join(', ')}.`);

// Pictures of PDF pages without pdftoppm: pdf.js (pdfjs-dist, a devDependency) renders the pages in
// the system Chromium, each to a canvas at 1.5x, and the canvas is kept as a PNG under test-results/
// beside the e2e screenshots. The page is served from memory (routed requests), so nothing is fetched.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { screenshotDir } from './e2ePage';

const require = createRequire(import.meta.url);
const pdfjsBuild = join(dirname(require.resolve('pdfjs-dist/package.json')), 'build');
const origin = 'http://pdf-pictures.invalid';

const viewer = `<!doctype html><html><body style="margin:0;background:#fff">
<canvas id="page"></canvas>
<script type="module">
import * as pdfjs from '/pdf.mjs';
pdfjs.GlobalWorkerOptions.workerSrc = '/pdf.worker.mjs';
const doc = await pdfjs.getDocument({ url: '/document.pdf', isEvalSupported: false }).promise;
window.renderPage = async (n) => {
  const page = await doc.getPage(n);
  const viewport = page.getViewport({ scale: 1.5 });
  const canvas = document.getElementById('page');
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  await page.render({ canvasContext: canvas.getContext('2d'), viewport }).promise;
  return true;
};
window.pdfReady = true;
</script></body></html>`;

/** Renders the given 1-based pages of a PDF to test-results/<name>.png; returns the paths. */
export async function picturePdfPages(
  browser: Browser,
  pdf: Buffer,
  pages: { page: number; name: string }[],
): Promise<string[]> {
  const context = await browser.newContext({ viewport: { width: 900, height: 1270 } });
  try {
    const tab = await context.newPage();
    await tab.route(`${origin}/**`, async (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/document.pdf') return route.fulfill({ body: pdf, contentType: 'application/pdf' });
      if (path === '/pdf.mjs' || path === '/pdf.worker.mjs')
        return route.fulfill({ body: readFileSync(join(pdfjsBuild, path)), contentType: 'text/javascript' });
      return route.fulfill({ body: viewer, contentType: 'text/html' });
    });
    await tab.goto(`${origin}/index.html`);
    await tab.waitForFunction(() => (globalThis as unknown as { pdfReady?: boolean }).pdfReady === true);
    const written: string[] = [];
    for (const { page, name } of pages) {
      await tab.evaluate(
        (n) => (globalThis as unknown as { renderPage(n: number): Promise<boolean> }).renderPage(n),
        page,
      );
      const path = join(screenshotDir, `${name}.png`);
      await tab.locator('#page').screenshot({ path });
      written.push(path);
    }
    return written;
  } finally {
    await context.close();
  }
}

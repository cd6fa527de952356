// The system Chromium for end-to-end tests (Debian: `apt-get install chromium`; .ci/run installs
// it). Never downloaded. COUNTERSIGN_CHROMIUM overrides the path.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

const candidates = [
  process.env.COUNTERSIGN_CHROMIUM,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
].filter((path): path is string => Boolean(path));

export const chromiumPath: string | null = candidates.find((path) => existsSync(path)) ?? null;

export const missingChromiumMessage =
  'end-to-end tests need Chromium at /usr/bin/chromium (Debian/Ubuntu: `apt-get install -y chromium`) ' +
  'or COUNTERSIGN_CHROMIUM=/path/to/chrome';

export async function launchChromium(): Promise<Browser> {
  if (!chromiumPath) throw new Error(missingChromiumMessage);
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

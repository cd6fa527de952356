// Electron's own postinstall downloads its binary from outside the npm registry. On air-gapped build
// hosts and CI that fails, so package.json disables it (allowScripts) and this script tries it and
// only warns: `npm start` falls back to the browser host when the binary is missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const installer = 'node_modules/electron/install.js';
if (!existsSync(installer)) process.exit(0);
if (process.env.CI === 'true' || process.env.COUNTERSIGN_SKIP_ELECTRON_DOWNLOAD === '1') {
  console.warn(
    'countersign: skipping the Electron binary download (CI); `npm start` will use the browser host.',
  );
  process.exit(0);
}
const result = spawnSync(process.execPath, [installer], {
  stdio: 'pipe',
  timeout: 120_000,
  encoding: 'utf8',
});
if (result.status === 0) {
  console.log('countersign: Electron binary installed.');
} else {
  console.warn(
    'countersign: the Electron binary could not be downloaded (no network to its host?).\n' +
      '  npm install still succeeded; `npm start` will serve the app in your browser instead (browser host).',
  );
}

// `npm start`: build, then run Electron; when the Electron binary is not installed (it is
// downloaded from outside the npm registry, which air-gapped hosts and CI cannot reach), serve the
// same renderer and services in the browser through the browser host instead.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { defaultDataDir } from '../src/main/dataDir';
import { exportsDir } from '../src/main/export/exportService';
import { startBrowserHost } from '../src/main/host/browserHost';
import { createWorkstation } from '../src/main/workstation';

const root = resolve(import.meta.dirname, '..');
const rendererDir = join(root, 'out', 'renderer');

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
    child.once('error', rejectRun);
    child.once('exit', (code, signal) => resolveRun(code ?? (signal ? 1 : 0)));
  });
}

/**
 * The Electron executable, or null when it is not installed. This reads the same files as the
 * `electron` package's index.js, without requiring it: that module tries to download the binary
 * when it is missing, which on an offline machine only hangs and fails.
 */
function findElectronBinary(): string | null {
  try {
    const electronDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
    const pathFile = join(electronDir, 'path.txt');
    const relativePath = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
    const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
    const binary = override
      ? join(override, relativePath || 'electron')
      : relativePath
        ? join(electronDir, 'dist', relativePath)
        : null;
    return binary !== null && existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

async function runElectron(binary: string): Promise<never> {
  const child = spawn(binary, ['.'], { cwd: root, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  const code = await new Promise<number>((resolveExit) =>
    child.once('exit', (exitCode, signal) => resolveExit(exitCode ?? (signal ? 1 : 0))),
  );
  process.exit(code);
}

async function runBrowserHost(): Promise<void> {
  if (!existsSync(join(rendererDir, 'index.html'))) {
    console.error(`countersign: ${rendererDir}/index.html is missing; run \`npm run build\` first.`);
    process.exit(1);
  }
  const port = Number(process.env.COUNTERSIGN_PORT ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(
      `countersign: COUNTERSIGN_PORT must be a port number (0 for any free port), not "${process.env.COUNTERSIGN_PORT}".`,
    );
    process.exit(1);
  }

  const dataDir = defaultDataDir();
  const workstation = await createWorkstation({ dataDir, log: console.log });
  const host = await startBrowserHost({
    handlers: workstation.handlers,
    rendererDir,
    port,
    log: console.error,
    subscribe: workstation.subscribe,
    downloadsDir: exportsDir(dataDir),
  });

  console.log(
    [
      '',
      'Electron binary not installed (it could not be downloaded); serving Countersign in your browser instead:',
      '',
      `  open ${host.url}`,
      '',
      `  data folder: ${dataDir}`,
      '  The link carries a secret for this launch only; anyone with it can use this session.',
      '  Stop with Ctrl+C.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`countersign: ${signal} received, stopping.`);
    let exitCode = 0;
    for (const [what, close] of [
      ['browser host', () => host.close()],
      ['workstation', () => workstation.close()],
    ] as const) {
      try {
        await close();
      } catch (error) {
        exitCode = 1;
        console.error(`countersign: closing the ${what} failed: ${String(error)}`);
      }
    }
    process.exit(exitCode);
  };
  process.on('SIGINT', (signal) => void stop(signal));
  process.on('SIGTERM', (signal) => void stop(signal));
}

async function main(): Promise<void> {
  if (process.env.COUNTERSIGN_SKIP_BUILD !== '1') {
    const bin = join(
      root,
      'node_modules',
      '.bin',
      process.platform === 'win32' ? 'electron-vite.cmd' : 'electron-vite',
    );
    const code = await run(bin, ['build']);
    if (code !== 0) {
      console.error(`countersign: electron-vite build failed (exit ${code}).`);
      process.exit(code);
    }
  }
  const electron = findElectronBinary();
  if (electron !== null) {
    await runElectron(electron);
  } else {
    await runBrowserHost();
  }
}

main().catch((error: unknown) => {
  console.error(`countersign: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});

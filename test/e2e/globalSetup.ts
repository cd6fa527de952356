// One workstation on its own embedded demo backend, served by the browser host, for the whole
// end-to-end run: exactly what `npm start` runs when Electron is missing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { exportsDir } from '../../src/main/export/exportService';
import { startBrowserHost } from '../../src/main/host/browserHost';
import { createWorkstation } from '../../src/main/workstation';
import { freePort } from '../db/support/freePort';
import { type BackendControlAddress, startBackendControl } from './support/backendControl';
import { chromiumPath, missingChromiumMessage } from './support/chromium';

export interface E2eServer {
  url: string;
  origin: string;
  dataDir: string;
  pgPort: number;
  /** Stops and starts the embedded PostgreSQL (support/backendControl.ts). */
  backendControl: BackendControlAddress;
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2eServer | null;
  }
}

const rendererDir = fileURLToPath(new URL('../../out/renderer', import.meta.url));

export default async function setup(project: TestProject) {
  if (!chromiumPath) {
    // On CI the suite must not pass without its browser; on a developer machine it says why it skips.
    if (process.env.CI) throw new Error(missingChromiumMessage);
    console.warn(`\n  SKIPPING the end-to-end tests: ${missingChromiumMessage}\n`);
    project.provide('e2e', null);
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-e2e-'));
  const pgPort = await freePort();
  const workstation = await createWorkstation({
    dataDir,
    env: { COUNTERSIGN_PG_PORT: String(pgPort) },
    log: () => undefined,
  });
  await workstation.backendSettled;
  const host = await startBrowserHost({
    handlers: workstation.handlers,
    // Pushed events (sync status, export progress), as `npm start` wires them.
    subscribe: workstation.subscribe,
    downloadsDir: exportsDir(dataDir),
    rendererDir,
    port: 0,
    log: () => undefined,
  });
  const control = await startBackendControl(join(dataDir, 'backend'), pgPort);
  project.provide('e2e', {
    url: host.url,
    origin: host.origin,
    dataDir,
    pgPort,
    backendControl: control.address,
  });
  return async () => {
    await host.close();
    await workstation.close();
    await control.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

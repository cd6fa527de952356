// One workstation on its own embedded demo backend, served by the browser host, for the whole
// end-to-end run: exactly what `npm start` runs when Electron is missing. Beside it, a second
// workstation in hosted mode (issue 23) against a Supabase stand-in over the same PostgreSQL
// cluster, so the hosted runs of the QA and investigator flows read the same rows through PostgREST
// and go offline when the same backend is stopped (the stand-in then answers 503).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { hostedBackendAddress } from '../../src/main/backend/supabase/supabaseConfig';
import type { BackendAddress } from '../../src/main/cache/cacheLocation';
import { exportsDir } from '../../src/main/export/exportService';
import { startBrowserHost } from '../../src/main/host/browserHost';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import { freePort } from '../db/support/freePort';
import { embeddedStandInOptions, startSupabaseStandIn } from '../db/support/supabaseStandIn';
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

/** The hosted-mode workstation: its own data folder, the embedded one's PostgreSQL behind the stand-in. */
export interface E2eHostedServer extends E2eServer {
  /** Where its caches are filed (hostedBackendAddress of the stand-in's project). */
  cacheBackend: BackendAddress;
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2eServer | null;
    e2eHosted: E2eHostedServer | null;
  }
}

const rendererDir = fileURLToPath(new URL('../../out/renderer', import.meta.url));

/** A workstation behind the browser host, exactly as `npm start` serves it without Electron. */
function serve(workstation: Workstation, dataDir: string) {
  return startBrowserHost({
    handlers: workstation.handlers,
    // Pushed events (sync status, export progress), as `npm start` wires them.
    subscribe: workstation.subscribe,
    downloadsDir: exportsDir(dataDir),
    rendererDir,
    port: 0,
    log: () => undefined,
  });
}

export default async function setup(project: TestProject) {
  if (!chromiumPath) {
    // On CI the suite must not pass without its browser; on a developer machine it says why it skips.
    if (process.env.CI) throw new Error(missingChromiumMessage);
    console.warn(`\n  SKIPPING the end-to-end tests: ${missingChromiumMessage}\n`);
    project.provide('e2e', null);
    project.provide('e2eHosted', null);
    return;
  }
  // Everything started, newest first: closed in teardown, or at once if the setup fails half-way
  // (a PostgreSQL left running would outlive the run).
  const started: (() => Promise<void> | void)[] = [];
  const teardown = async () => {
    for (const close of started.splice(0).reverse()) await close();
  };
  try {
    await startWorkstations(project, started);
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

async function startWorkstations(project: TestProject, started: (() => Promise<void> | void)[]) {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-e2e-'));
  started.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const pgPort = await freePort();
  const workstation = await createWorkstation({
    dataDir,
    env: { COUNTERSIGN_PG_PORT: String(pgPort) },
    log: () => undefined,
  });
  started.push(() => workstation.close());
  const closedAfterWorkstation = started.length - 1;
  await workstation.backendSettled;
  const host = await serve(workstation, dataDir);
  started.push(() => host.close());
  const backendDir = join(dataDir, 'backend');
  const control = await startBackendControl(backendDir, pgPort);
  // After the workstation's own close (as PostgreSQL restarted by the control is the control's to stop).
  started.splice(closedAfterWorkstation, 0, () => control.close());
  project.provide('e2e', {
    url: host.url,
    origin: host.origin,
    dataDir,
    pgPort,
    backendControl: control.address,
  });

  const standIn = await startSupabaseStandIn(embeddedStandInOptions(backendDir, pgPort));
  started.push(() => standIn.close());
  const hostedDataDir = mkdtempSync(join(tmpdir(), 'countersign-e2e-hosted-'));
  started.push(() => rmSync(hostedDataDir, { recursive: true, force: true }));
  const hostedWorkstation = await createWorkstation({
    dataDir: hostedDataDir,
    env: {
      COUNTERSIGN_BACKEND: 'supabase',
      COUNTERSIGN_SUPABASE_URL: standIn.url,
      COUNTERSIGN_SUPABASE_ANON_KEY: standIn.anonKey,
    },
    // Short, so that the hosted workstation notices the backend leaving and returning within a test.
    syncHeartbeatMs: 2000,
    syncReconnectIntervalMs: 2000,
    log: () => undefined,
  });
  started.push(() => hostedWorkstation.close());
  await hostedWorkstation.backendSettled;
  const hostedHost = await serve(hostedWorkstation, hostedDataDir);
  started.push(() => hostedHost.close());
  project.provide('e2eHosted', {
    url: hostedHost.url,
    origin: hostedHost.origin,
    dataDir: hostedDataDir,
    pgPort,
    backendControl: control.address,
    cacheBackend: hostedBackendAddress({ url: standIn.url, anonKey: standIn.anonKey }),
  });
}

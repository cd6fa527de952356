// Stops and restarts the e2e workstation's embedded PostgreSQL, so a test can take the backend away
// for real (connections refused, as when a laptop leaves the network) and bring it back. The server
// runs in the global-setup process; tests reach this control over HTTP on 127.0.0.1 with a per-run
// token (see globalSetup.ts). Stopping is a fast shutdown of the postmaster; starting runs the same
// cluster again on the same port, so the workstation reconnects without being told.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  type RunningPostgres,
  startEmbeddedPostgres,
} from '../../../src/main/backend/embedded/embeddedPostgres';

export interface BackendControlAddress {
  url: string;
  token: string;
}

function postmasterPid(clusterDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopPostmaster(clusterDir: string): Promise<void> {
  const pid = postmasterPid(clusterDir);
  if (pid === null || !alive(pid)) return;
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`PostgreSQL (pid ${pid}) did not stop within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Serves POST /stop and POST /start for the embedded backend under `backendDir` (the workstation's `<dataDir>/backend`). */
export async function startBackendControl(
  backendDir: string,
  port: number,
): Promise<{ address: BackendControlAddress; close(): Promise<void> }> {
  const token = randomBytes(24).toString('base64url');
  const clusterDir = join(backendDir, 'postgres');
  let restarted: RunningPostgres | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  const server: Server = createServer((request, response) => {
    const action = request.url === '/stop' ? 'stop' : request.url === '/start' ? 'start' : null;
    if (request.method !== 'POST' || action === null || request.headers.authorization !== `Bearer ${token}`) {
      response.writeHead(404).end();
      return;
    }
    serial(async () => {
      if (action === 'stop') {
        await stopPostmaster(clusterDir);
        restarted = null;
      } else if (postmasterPid(clusterDir) === null || !alive(postmasterPid(clusterDir) ?? 0)) {
        restarted = await startEmbeddedPostgres({ dataDir: backendDir, port });
      }
    }).then(
      () => response.writeHead(204).end(),
      (error: unknown) => response.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: controlPort } = server.address() as AddressInfo;
  return {
    address: { url: `http://127.0.0.1:${controlPort}`, token },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue;
      await restarted?.stop();
    },
  };
}

/** From a test: take the backend away, or bring it back (resolves once PostgreSQL accepts connections). */
export async function setBackendRunning(control: BackendControlAddress, running: boolean): Promise<void> {
  const response = await fetch(`${control.url}/${running ? 'start' : 'stop'}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${control.token}` },
  });
  if (response.status !== 204)
    throw new Error(`backend ${running ? 'start' : 'stop'} failed: ${await response.text()}`);
}

// A workstation signed in over a TCP proxy to a real test database, so that a test can take the
// network away (proxy.drop) and give it back (proxy.restore) while the workstation runs. Registers
// its own beforeAll/afterAll; call it inside a describe and read the fields in the tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createWorkstation, type Workstation } from '../../../src/main/workstation';
import type { SyncStatus } from '../../../src/shared/contract';
import { buildWorld, type World } from './accessWorld';
import { startTcpProxy, type TcpProxy } from './tcpProxy';
import { createTestDatabase, type TestDatabase } from './testServer';

export interface WorkstationBehindProxy {
  db: TestDatabase;
  world: World;
  proxy: TcpProxy;
  workstation: Workstation;
  /** Every pushed sync status, in order. */
  events: SyncStatus[];
  /** Every log line. */
  lines: string[];
}

export function workstationBehindProxy(
  options: { syncReconnectIntervalMs?: number } = {},
): WorkstationBehindProxy {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-reconnect-'));
  const context = { events: [] as SyncStatus[], lines: [] as string[] } as WorkstationBehindProxy;
  beforeAll(async () => {
    context.db = await createTestDatabase();
    context.world = await buildWorld(context.db);
    context.proxy = await startTcpProxy(context.db.server.host, context.db.server.port);
    context.workstation = await createWorkstation({
      dataDir,
      log: (line) => context.lines.push(line),
      ...options,
      env: {
        COUNTERSIGN_BACKEND: 'postgres',
        COUNTERSIGN_PG_HOST: '127.0.0.1',
        COUNTERSIGN_PG_PORT: String(context.proxy.port),
        COUNTERSIGN_PG_DATABASE: context.db.name,
      },
    });
    await context.workstation.backendSettled;
    context.workstation.subscribe((event, payload) => {
      if (event === 'sync.progress') context.events.push(payload as SyncStatus);
    });
  });
  afterAll(async () => {
    await context.workstation?.close();
    await context.proxy?.cut().catch(() => undefined);
    await context.world?.teardown();
    await context.db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return context;
}

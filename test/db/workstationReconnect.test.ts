// The investigator's offline story when the network goes away by itself (not the "work offline"
// switch): the workstation notices the lost connection without being asked, keeps annotations and
// the closing of a query in the outbox, and on reconnect (Sync now, or by itself) sends each once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import type { SyncStatus } from '../../src/shared/contract';
import { buildWorld, type World, worldPassword } from './support/accessWorld';
import { startTcpProxy, type TcpProxy } from './support/tcpProxy';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('workstation reconnects after the backend comes back [SYNC-OFFLINE, SYNC-OUTBOX]', () => {
  let db: TestDatabase;
  let world: World;
  let proxy: TcpProxy;
  let workstation: Workstation;
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-reconnect-'));
  const events: SyncStatus[] = [];
  const lines: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildWorld(db);
    proxy = await startTcpProxy(db.server.host, db.server.port);
    workstation = await createWorkstation({
      dataDir,
      log: (line) => lines.push(line),
      syncReconnectIntervalMs: 200,
      env: {
        COUNTERSIGN_BACKEND: 'postgres',
        COUNTERSIGN_PG_HOST: '127.0.0.1',
        COUNTERSIGN_PG_PORT: String(proxy.port),
        COUNTERSIGN_PG_DATABASE: db.name,
      },
    });
    await workstation.backendSettled;
    workstation.subscribe((event, payload) => {
      if (event === 'sync.progress') events.push(payload as SyncStatus);
    });
  });
  afterAll(async () => {
    await workstation.close();
    await proxy.cut().catch(() => undefined);
    await world.teardown();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const h = () => workstation.handlers;
  const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const annotationRows = (text: string) =>
    db.operator.query(
      'select annotation_id::text from diary.investigator_annotations where annotation_text = $1',
      [text],
    );

  it('notices the lost connection, keeps offline work pending, and sends it once when the backend is back', async () => {
    const investigator = world.people.investigator;
    expect((await h()['session.signIn']({ email: investigator.email, password: worldPassword })).ok).toBe(
      true,
    );
    expect(await h()['sync.now']({})).toMatchObject({ online: true });
    const query = world.rows.annotation.in;

    // The backend goes away: the status turns offline by itself (an event, no request needed).
    events.length = 0;
    proxy.drop();
    await until('an offline status is pushed', () => events.some((event) => !event.online));
    expect(await h()['sync.status']({})).toMatchObject({ online: false, workOffline: false });

    const text = `Offline note ${Date.now()}`;
    const note = await h()['diary.annotate']({
      eventUuid: world.records.in.eventUuid,
      parentAuditId: null,
      kind: 'note',
      text,
      requiresResponse: false,
      inReplyTo: null,
    });
    const close = await h()['diary.resolve']({ annotationId: query, resolved: true });
    expect([note.state, close.state, close.kind]).toEqual(['pending', 'pending', 'close']);
    // Closing twice is refused in the cache already (the first close still waits).
    await expect(h()['diary.resolve']({ annotationId: query, resolved: true })).rejects.toThrow(
      /already closed/,
    );

    // Still away: Sync now tries, says so, and keeps everything pending.
    const stillAway = await h()['sync.now']({});
    expect(stillAway).toMatchObject({ online: false, outbox: { pending: 2 } });
    expect(stillAway.lastError).toMatch(/reconnects by itself, or with Sync now/);

    proxy.restore();
    const back = await h()['sync.now']({});
    expect(back).toMatchObject({
      online: true,
      lastError: null,
      outbox: { pending: 0, conflict: 0, failed: 0 },
    });
    expect((await annotationRows(text)).rows).toEqual([{ annotation_id: note.annotationId }]);
    const { rows } = await db.operator.query(
      'select resolved, resolved_by::text from diary.investigator_annotations where annotation_id = $1',
      [query],
    );
    expect(rows).toEqual([{ resolved: true, resolved_by: investigator.id }]);
    const history = await h()['diary.history']({ eventUuid: world.records.in.eventUuid });
    const shown = history.annotations.find((annotation) => annotation.annotationId === query);
    expect(shown).toMatchObject({
      resolved: true,
      fromServer: true,
      resolutions: [{ kind: 'close', state: 'sent' }],
    });
    expect(history.annotations.find((annotation) => annotation.text === text)).toMatchObject({
      fromServer: true,
      byMe: true,
      outbox: { state: 'sent' },
    });
  });

  it('reconnects by itself once the backend is back, and sends what waited', async () => {
    proxy.drop();
    await until('offline', async () => !(await h()['sync.status']({})).online);
    const text = `Second offline note ${Date.now()}`;
    await h()['diary.annotate']({
      eventUuid: world.records.patient2.eventUuid,
      parentAuditId: null,
      kind: 'note',
      text,
      requiresResponse: false,
      inReplyTo: null,
    });
    proxy.restore();
    // Nobody presses anything: the reconnect timer brings it back and the outbox empties.
    await until('back online with an empty outbox', async () => {
      const status = await h()['sync.status']({});
      return status.online && !status.syncing && status.outbox.pending === 0;
    });
    expect((await annotationRows(text)).rows).toHaveLength(1);
    expect(lines.join('\n')).not.toContain(worldPassword);
    expect(lines.some((line) => line.includes('reconnected'))).toBe(true);
  });
});

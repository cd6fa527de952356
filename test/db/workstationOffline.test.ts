// The workstation's offline story end to end, on a postgres-mode backend behind a proxy: a user signs
// in and syncs, works offline (the switch) and still browses the queue, provenance, signatures and
// diary records from the cache; an annotation made offline reaches the server once on reconnect;
// with the backend unreachable the user can still sign in to their own cache, and nobody else can.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import type { SyncStatus } from '../../src/shared/contract';
import { queueRowsOf } from '../../src/shared/stagingQueueColumns';
import { buildWorld, type World, worldPassword } from './support/accessWorld';
import { startTcpProxy, type TcpProxy } from './support/tcpProxy';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('workstation offline [SYNC-OFFLINE]', () => {
  let db: TestDatabase;
  let world: World;
  let proxy: TcpProxy;
  let workstation: Workstation;
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-offline-'));
  const events: SyncStatus[] = [];
  const lines: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildWorld(db);
    proxy = await startTcpProxy(db.server.host, db.server.port);
    workstation = await createWorkstation({
      dataDir,
      log: (line) => lines.push(line),
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

  it('syncs at sign-in, then answers every view from the cache while working offline', async () => {
    const inspector = world.people.inspector;
    expect((await h()['session.signIn']({ email: inspector.email, password: worldPassword })).ok).toBe(true);
    const synced = await h()['sync.now']({});
    expect(synced).toMatchObject({
      cacheOpen: true,
      online: true,
      lastSyncedAt: expect.any(String),
      quarantined: 0,
    });
    expect(synced.chain).toMatchObject({ ok: true });
    expect(events.some((event) => event.progress !== null)).toBe(true);

    const offline = await h()['sync.setOffline']({ offline: true });
    expect(offline).toMatchObject({ online: false, workOffline: true, offlineSince: expect.any(String) });

    const queue = queueRowsOf(
      (await h()['staging.queue']({ limit: 10, after: null, states: [], studyId: null })).columns,
    );
    expect(queue.map((row) => row.id)).toEqual([world.rows.staging.in]);
    expect(queue[0]?.studyCode).toBe('STUDY-A');
    const provenance = await h()['provenance.list']({ subjectId: null, limit: 50 });
    expect(provenance.rows.map((row) => row.id)).toContain(world.rows.provenance.in);
    expect(provenance.rows.map((row) => row.id)).not.toContain(world.rows.provenance.out);
    const signatures = await h()['signatures.list']({ subjectId: null, limit: 50 });
    expect(signatures.rows.map((row) => row.id)).toEqual([world.rows.signature.in]);
    const diary = await h()['diary.records']({ siteId: null, limit: 50 });
    expect(diary.rows.map((row) => row.eventUuid).sort()).toEqual(
      [world.records.in.eventUuid, world.records.patient2.eventUuid].sort(),
    );
    const trail = await h()['record.trail']({ stagingId: world.rows.staging.in });
    expect(trail).toMatchObject({ found: true, ok: true });
    expect((await h()['chain.verify']({ full: true })).ok).toBe(true);
    await h()['sync.setOffline']({ offline: false });
    await h()['session.signOut']({});
  });

  it('sends an annotation made offline once the workstation is back online', async () => {
    const investigator = world.people.investigator;
    expect((await h()['session.signIn']({ email: investigator.email, password: worldPassword })).ok).toBe(
      true,
    );
    await h()['sync.now']({});
    await h()['sync.setOffline']({ offline: true });
    const item = await h()['diary.annotate']({
      eventUuid: world.records.in.eventUuid,
      parentAuditId: null,
      kind: 'query',
      text: 'Made on the ward without a network.',
      requiresResponse: true,
      inReplyTo: null,
    });
    expect(item).toMatchObject({ state: 'pending', parentAuditId: Number(world.records.in.auditId) });
    const onServer = () =>
      db.operator.query(
        'select annotation_text from diary.investigator_annotations where client_request_id = $1',
        [item.clientRequestId],
      );
    expect((await onServer()).rows).toEqual([]);
    expect((await h()['sync.status']({})).outbox.pending).toBe(1);

    const back = await h()['sync.setOffline']({ offline: false });
    expect(back).toMatchObject({ online: true, outbox: { pending: 0, conflict: 0, failed: 0 } });
    expect((await onServer()).rows).toEqual([{ annotation_text: 'Made on the ward without a network.' }]);
    const outbox = await h()['outbox.list']({ includeSent: true });
    expect(outbox.items).toMatchObject([{ clientRequestId: item.clientRequestId, state: 'sent' }]);
    const diary = await h()['diary.records']({ siteId: null, limit: 50 });
    const record = diary.rows.find((row) => row.eventUuid === world.records.in.eventUuid);
    expect(record?.annotations.map((a) => a.text)).toContain('Made on the ward without a network.');
  });

  it('goes offline when the backend drops, and lets a user who synced before sign in to their cache', async () => {
    await proxy.cut();
    const status = await h()['sync.now']({});
    expect(status).toMatchObject({ online: false, offlineSince: expect.any(String) });
    expect((await h()['diary.records']({ siteId: null, limit: 5 })).rows.length).toBeGreaterThan(0);
    await h()['session.signOut']({});

    const investigator = world.people.investigator;
    const wrong = await h()['session.signIn']({ email: investigator.email, password: 'not the password' });
    expect(wrong.ok).toBe(false);
    const never = await h()['session.signIn']({ email: world.people.analyst.email, password: worldPassword });
    expect(never).toMatchObject({ ok: false, error: expect.stringMatching(/earlier online sign-in/) });

    const offline = await h()['session.signIn']({ email: investigator.email, password: worldPassword });
    expect(offline.ok).toBe(true);
    if (offline.ok) expect(offline.status.session?.userId).toBe(investigator.id);
    expect(await h()['sync.status']({})).toMatchObject({ cacheOpen: true, online: false });
    // Sync now cannot reconnect a session opened from the cache, and says what will.
    expect((await h()['sync.now']({})).lastError).toMatch(/sign out and in again to reconnect/);
    const diary = await h()['diary.records']({ siteId: null, limit: 50 });
    expect(diary.rows.map((row) => row.eventUuid)).toContain(world.records.in.eventUuid);
    expect(lines.join('\n')).not.toContain(worldPassword);
  });
});

// The workstation in hosted mode, end to end through its contract handlers, against the Supabase
// stand-in backed by the real database: an online sign-in (password and code) opens the person's
// cache and syncs it through PostgREST; when the project stops answering the status says offline by
// itself (the heartbeat) and every view answers from the cache; signing in again while it is away
// opens the same cache from the local verifier, as in the direct modes, and refuses a wrong password
// and another person; when the project answers again a fresh sign-in is online.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import { queueRowsOf } from '../../src/shared/stagingQueueColumns';
import { buildWorld, type World, worldPassword } from './support/accessWorld';
import { type SupabaseStandIn, startStandInOver, totpAt } from './support/supabaseStandIn';
import { createTestDatabase, type TestDatabase } from './support/testServer';

/** The TOTP secret every person of the access world has (test/db/support/accessWorld.ts). */
const worldTotpSecret = 'JBSWY3DPEHPK3PXP';

describe('workstation in hosted mode, offline [HOSTED-OFFLINE-SIGN-IN, SYNC-OFFLINE]', () => {
  let db: TestDatabase;
  let world: World;
  let standIn: SupabaseStandIn;
  let workstation: Workstation;
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-hosted-offline-'));
  const lines: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildWorld(db);
    standIn = await startStandInOver(db);
    workstation = await createWorkstation({
      dataDir,
      log: (line) => lines.push(line),
      env: {
        COUNTERSIGN_BACKEND: 'supabase',
        COUNTERSIGN_SUPABASE_URL: standIn.url,
        COUNTERSIGN_SUPABASE_ANON_KEY: standIn.anonKey,
      },
      syncHeartbeatMs: 300,
      syncReconnectIntervalMs: 300,
    });
    await workstation.backendSettled;
  });
  afterAll(async () => {
    await workstation?.close();
    await standIn?.close();
    await world?.teardown();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const h = () => workstation.handlers;
  const code = () => totpAt(worldTotpSecret, Date.now() / 1000);
  const queueIds = async () =>
    queueRowsOf(
      (await h()['staging.queue']({ limit: 10, after: null, states: [], studyId: null })).columns,
    ).map((row) => row.id);

  it('signs in online, syncs the cache through PostgREST, and says offline by itself when the project goes away', async () => {
    const inspector = world.people.inspector;
    const signedIn = await h()['session.signIn']({
      email: inspector.email,
      password: worldPassword,
      totpCode: code(),
    });
    expect(signedIn.ok).toBe(true);
    const synced = await h()['sync.now']({});
    expect(synced).toMatchObject({
      cacheOpen: true,
      online: true,
      quarantined: 0,
      lastSyncedAt: expect.any(String),
    });
    expect(synced.chain).toMatchObject({ ok: true });
    expect((await h()['backend.status']({})).mode).toBe('supabase');
    expect(await queueIds()).toEqual([world.rows.staging.in]);

    await standIn.pause();
    await expect.poll(async () => (await h()['sync.status']({})).online, { timeout: 10_000 }).toBe(false);
    // Every view still answers, from the cache.
    expect(await queueIds()).toEqual([world.rows.staging.in]);
    const provenance = await h()['provenance.list']({ subjectId: null, limit: 50 });
    expect(provenance.rows.map((row) => row.id)).toContain(world.rows.provenance.in);
    expect(provenance.rows.map((row) => row.id)).not.toContain(world.rows.provenance.out);
  });

  it('signs in from the local verifier while the project is away, and nobody else does', async () => {
    const inspector = world.people.inspector;
    await h()['session.signOut']({});
    const wrong = await h()['session.signIn']({ email: inspector.email, password: 'not the password' });
    expect(wrong).toMatchObject({ ok: false, error: expect.stringMatching(/Offline sign-in needs/) });
    const other = await h()['session.signIn']({ email: world.people.signer.email, password: worldPassword });
    expect(other.ok).toBe(false);

    const offline = await h()['session.signIn']({
      email: inspector.email.toUpperCase(),
      password: worldPassword,
    });
    expect(offline.ok).toBe(true);
    expect((await h()['backend.status']({})).session?.userId).toBe(inspector.id);
    expect(await h()['sync.status']({})).toMatchObject({ cacheOpen: true, online: false });
    expect(await queueIds()).toEqual([world.rows.staging.in]);
    expect(lines.join('\n')).toContain(`user ${inspector.id} signed in offline (from the cache)`);
    expect(lines.join('\n')).not.toContain(worldPassword);
  });

  it('is online again after a fresh sign-in once the project answers', async () => {
    await standIn.resume();
    await h()['session.signOut']({});
    const again = await h()['session.signIn']({
      email: world.people.inspector.email,
      password: worldPassword,
      totpCode: code(),
    });
    expect(again.ok).toBe(true);
    expect(await h()['sync.now']({})).toMatchObject({ online: true, lastError: null });
  });
});

// The sync side of the adapter contract (test/db/backendContract.ts) on a test database of its own
// with the access world in it: the world's investigator syncs through the PostgreSQL adapter (their
// own login) or through the Supabase adapter over the stand-in's HTTP server (their token), and what
// the cache must hold is what their own login reads. Its own database, because the access world and
// the signing world name the same people.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { SupabaseSession } from '../../../src/main/backend/supabase/supabaseSession';
import { postgresSyncServer } from '../../../src/main/sync/postgresSyncServer';
import type { SyncContractFixture } from '../backendContract';
import { buildWorld, worldPassword } from './accessWorld';
import { totpAt } from './standInTokens';
import { startStandInOver } from './supabaseStandIn';
import { serverKeys, tempCaches } from './syncCache';
import { createTestDatabase } from './testServer';

/** The TOTP secret every person of the access world has (accessWorld.ts). */
const worldTotpSecret = 'JBSWY3DPEHPK3PXP';

export async function syncContractWorld(
  transport: 'postgres' | 'stand-in',
): Promise<SyncContractFixture & { close(): Promise<void> }> {
  const db = await createTestDatabase();
  const world = await buildWorld(db);
  const caches = tempCaches();
  const open: Database[] = [];
  const investigator = world.people.investigator;
  const standIn = transport === 'stand-in' ? await startStandInOver(db) : null;
  const session = standIn
    ? await SupabaseSession.signIn(
        { url: standIn.url, anonKey: standIn.anonKey },
        investigator.email,
        worldPassword,
        totpAt(worldTotpSecret, Date.now() / 1000),
        { autoRefreshToken: false },
      )
    : null;
  let made = 0;
  return {
    server: session ? session.syncServer() : postgresSyncServer(world.clients.investigator),
    newCache() {
      const cache = caches.open(`${investigator.id}-contract-${++made}`);
      open.push(cache);
      return cache;
    },
    expectedKeys: (stream) => serverKeys(world.clients.investigator, stream),
    eventUuid: world.records.patient2.eventUuid,
    async annotationsWith(clientRequestId) {
      const { rows } = await db.operator.query<{ annotation_id: string }>(
        'select annotation_id::text from diary.investigator_annotations where client_request_id = $1',
        [clientRequestId],
      );
      return rows.map((row) => row.annotation_id);
    },
    async close() {
      for (const cache of open) cache.close();
      caches.remove();
      await session?.close().catch(() => undefined);
      await standIn?.close();
      await world.teardown();
      await db.drop();
    },
  };
}

// The sync tests' fixture: a test database with the access world in it, and throwaway encrypted
// caches that are all closed and removed afterwards. Registers its own beforeAll/afterAll; call it
// inside a describe (or at the top of a file) and read the fields in the tests.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterAll, beforeAll } from 'vitest';
import { buildWorld, type World } from './accessWorld';
import { type TempCaches, tempCaches } from './syncCache';
import { createTestDatabase, type TestDatabase } from './testServer';

export interface SyncWorld {
  db: TestDatabase;
  world: World;
  caches: TempCaches;
  /** Opens (creating it if new) a cache for this user id; closed after the file's tests. */
  cacheOf(userId: string): Database;
}

export function syncWorld(): SyncWorld {
  const open: Database[] = [];
  const context = {
    cacheOf(userId: string) {
      const cache = context.caches.open(userId);
      open.push(cache);
      return cache;
    },
  } as SyncWorld;
  beforeAll(async () => {
    context.db = await createTestDatabase();
    context.world = await buildWorld(context.db);
    context.caches = tempCaches();
  });
  afterAll(async () => {
    for (const cache of open) cache.close();
    context.caches?.remove();
    await context.world?.teardown();
    await context.db?.drop();
  });
  return context;
}

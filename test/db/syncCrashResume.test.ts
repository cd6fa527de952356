// A sync killed outright (SIGKILL of the process) in the middle of a stream: each page and its
// cursor were written in one SQLite transaction, so the next sync resumes from the last page that
// landed, and the cache ends with every row exactly once.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileCacheKeyStore } from '../../src/main/cache/cacheKeyStore';
import { openCache } from '../../src/main/cache/openCache';
import { defaultMaxInFlight } from '../../src/main/sync/cacheWriter';
import { postgresSyncServer } from '../../src/main/sync/postgresSyncServer';
import { pullAll } from '../../src/main/sync/pullEngine';
import { streamDefinitions, streamNamed } from '../../src/main/sync/streamDefinitions';
import { createStudy } from './support/operatorActions';
import {
  cachedKeys,
  missingDeferredIndexes,
  serverKeys,
  type TempCaches,
  tempCaches,
  testBackendId,
} from './support/syncCache';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const childScript = fileURLToPath(new URL('./support/syncChildProcess.ts', import.meta.url));
const password = 'a long enough test password';

describe('sync killed mid-stream [SYNC-RESUME]', () => {
  let db: TestDatabase;
  let caches: TempCaches;
  let inspectorId: string;
  let email: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    caches = tempCaches();
    const adminId = await db.provision({
      email: db.email('owner'),
      printedName: 'Owner',
      password,
      roles: [{ role: 'admin', studyId: null }],
    });
    const study = await createStudy(db.operator, adminId, 'CRASH-1');
    email = db.email('inspector');
    inspectorId = await db.provision({
      email,
      printedName: 'Inspector',
      password,
      roles: [{ role: 'inspector', studyId: study }],
    });
    await db.operator.query(
      `insert into cro.provenance_event (study_id, actor_kind, actor_id, action, subject_kind, subject_id, retrieved_context, payload)
       select $1, 'agent', 'agent:bulk', 'propose', 'staging_record', 'bulk-' || n, '[]', jsonb_build_object('n', n)
       from generate_series(1, 20000) as n`,
      [study],
    );
  });
  afterAll(async () => {
    caches.remove();
    await db.drop();
  });

  it.each([
    ['pages written on the sync thread', false],
    ['pages written by the cache writer worker', true],
  ])('resumes after SIGKILL with no row lost or duplicated (%s)', async (_name, worker) => {
    const key = new FileCacheKeyStore(`${caches.dir}/keys`).keyFor(inspectorId, testBackendId);
    const cachePath = caches.path(inspectorId);
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${cachePath}${suffix}`, { force: true });
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        childScript,
        db.server.host,
        String(db.server.port),
        db.name,
        email,
        cachePath,
        inspectorId,
        testBackendId,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: {
          ...process.env,
          SYNC_CHILD_PASSWORD: password,
          SYNC_CHILD_KEY: key.toString('hex'),
          SYNC_CHILD_WORKER: worker ? '1' : '',
        },
      },
    );
    // Provenance rows reported written (or queued) before the kill, and the largest page seen.
    const seenBeforeKill = await new Promise<{ rows: number; largestPage: number }>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n').filter((line) => line.startsWith('{'));
        let previous = 0;
        let rows = 0;
        let largestPage = 0;
        for (const line of lines) {
          const progress = JSON.parse(line) as { stream?: string; rowsDone?: number };
          if (progress.rowsDone === undefined) continue;
          if (progress.stream === 'provenance_event') {
            rows += progress.rowsDone - previous;
            largestPage = Math.max(largestPage, progress.rowsDone - previous);
          }
          previous = progress.rowsDone;
        }
        if (rows >= 5000) {
          child.kill('SIGKILL');
          resolve({ rows, largestPage });
        }
        if (lines.some((line) => line.includes('"done"')))
          reject(new Error('the sync finished before the kill'));
      });
      child.once('exit', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`the child process exited early (${code})`));
      });
    });
    await new Promise((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve),
    );

    const cache = openCache({ path: cachePath, key, userId: inspectorId, backendId: testBackendId });
    try {
      const provenance = streamNamed('provenance_event');
      const landed = cachedKeys(cache, provenance).length;
      // Reported pages may still be in flight: at most two; with the worker, the pages in its queue
      // and the one being sent, plus the group it has not committed yet (rowsPerTransaction: 100
      // in the child).
      const inFlight = worker
        ? (defaultMaxInFlight + 1) * seenBeforeKill.largestPage + 100
        : 2 * seenBeforeKill.largestPage;
      expect(landed).toBeGreaterThanOrEqual(seenBeforeKill.rows - inFlight);
      expect(landed).toBeLessThan(20000); // it really was killed mid-stream

      const reader = await db.connectAs(email, password);
      await pullAll(cache, postgresSyncServer(reader));
      for (const stream of streamDefinitions) {
        expect(cachedKeys(cache, stream), stream.name).toEqual(await serverKeys(reader, stream));
      }
      // No page was applied twice: the cursors counted each server row exactly once.
      const counted = cache
        .prepare('select rows_pulled from sync_cursor where stream = ?')
        .get('provenance_event') as { rows_pulled: number };
      expect(counted.rows_pulled).toBe(20000);
      expect(missingDeferredIndexes(cache)).toEqual([]);
    } finally {
      cache.close();
    }
  });
});

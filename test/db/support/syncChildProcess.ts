// Run as a child process by syncCrashResume.test.ts: syncs a cache as the given person, in small
// pages, printing one line per page written, until the parent kills it (SIGKILL) mid-sync.
import pg from 'pg';
import { openCache } from '../../../src/main/cache/openCache';
import { postgresSyncServer } from '../../../src/main/sync/postgresSyncServer';
import { pullAll } from '../../../src/main/sync/pullEngine';

const [host, port, database, user, cachePath, userId, backendId] = process.argv.slice(2) as string[];
const client = new pg.Client({
  host,
  port: Number(port),
  database,
  user,
  password: process.env.SYNC_CHILD_PASSWORD,
});
await client.connect();
const cache = openCache({
  path: cachePath as string,
  key: Buffer.from(process.env.SYNC_CHILD_KEY ?? '', 'hex'),
  userId: userId as string,
  backendId: backendId as string,
});
await pullAll(cache, postgresSyncServer(client), {
  pageSize: 25,
  // SYNC_CHILD_WORKER: pages go through the cache writer worker (cacheWriter.ts), whatever the size.
  ...(process.env.SYNC_CHILD_WORKER
    ? {
        cacheFile: { path: cachePath as string, key: Buffer.from(process.env.SYNC_CHILD_KEY ?? '', 'hex') },
        workerMinRows: 0,
        // Four pages per SQLite transaction: the kill lands between and inside groups.
        rowsPerTransaction: 100,
      }
    : {}),
  onProgress: (progress) => process.stdout.write(`${JSON.stringify(progress)}\n`),
});
process.stdout.write('{"done":true}\n');
setInterval(() => undefined, 60_000);

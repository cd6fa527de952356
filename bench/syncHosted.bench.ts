// sync.hosted.initial: the initial sync of hosted mode (issue 23) against the direct mode's, on the
// same rows in the same run. The server holds 100,000 staging records with one provenance event each
// (bench/support/syncSeed.ts, as sync.bench.ts), readable by one inspector through RLS. Hosted: the
// inspector signs in through the Supabase stand-in (test/db/support/supabaseStandIn.ts: GoTrue and
// PostgREST answered over HTTP on 127.0.0.1 from this same PostgreSQL, each request one transaction
// under the person's claims on a pooled `authenticator` connection, as PostgREST does) and the pull
// engine reads every stream through `public.sync_page` RPCs. Direct: the same engine over the
// person's own PostgreSQL login (a first pull by COPY). Rounds alternate direct and hosted, each into
// a new empty cache; the median of the per-round ratios (hosted rows/s over direct rows/s) is the
// figure. Where the hosted time goes is in the detail: the server building the pages' JSON (the same
// calls timed on a direct connection), the HTTP round trips and JSON parsing (the hosted calls alone,
// less the server's part), and the rest (validation and the cache writes, overlapped with the next
// page's request).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { SupabaseSession } from '../src/main/backend/supabase/supabaseSession';
import { FileCacheKeyStore } from '../src/main/cache/cacheKeyStore';
import { openCache } from '../src/main/cache/openCache';
import { postgresSyncServer } from '../src/main/sync/postgresSyncServer';
import { type PullReport, pullAll } from '../src/main/sync/pullEngine';
import { streamDefinitions } from '../src/main/sync/streamDefinitions';
import type { SyncCursor, SyncServer } from '../src/main/sync/syncServer';
import { startSupabaseStandIn } from '../test/db/support/supabaseStandIn';
import type { Benchmark } from './support/benchmark';
import { benchSize } from './support/benchScale';
import type { Figure } from './support/figure';
import { syncBenchPassword as password, seedSyncStudy } from './support/syncSeed';

const records = benchSize(100_000, 50);
const rounds = 3;
const pageSize = 2000;

const firstKey = { uuid: '00000000-0000-0000-0000-000000000000', text: '', bigint: '0' } as const;

/** Reads every page of every stream once, in cursor order, through `read`; the total time in `read`. */
async function readAllPages(
  read: (
    stream: (typeof streamDefinitions)[number],
    cursor: SyncCursor,
  ) => Promise<Record<string, unknown>[]>,
): Promise<{ ms: number; rows: number }> {
  let ms = 0;
  let rows = 0;
  for (const stream of streamDefinitions) {
    let cursor: SyncCursor = { lastXid: '0', lastKey: firstKey[stream.keyType], initialBelow: null };
    for (;;) {
      const started = performance.now();
      const page = await read(stream, cursor);
      ms += performance.now() - started;
      rows += page.length;
      const last = page.at(-1);
      if (!last || page.length < pageSize) break;
      cursor =
        stream.cursor === 'seq'
          ? { lastXid: '0', lastKey: String(last.seq), initialBelow: null }
          : { lastXid: String(last.sync_xid), lastKey: String(last[stream.keyColumn]), initialBelow: null };
    }
  }
  return { ms, rows };
}

/** The server's part of a hosted page: the same RPC on a direct connection, its JSON as text. */
function serverPages(client: pg.Client) {
  return async (stream: (typeof streamDefinitions)[number], cursor: SyncCursor) => {
    const { rows } = await client.query<{ j: string }>(
      'select public.sync_page($1, $2, $3, $4, $5)::text as j',
      [stream.name, cursor.lastXid, cursor.lastKey, cursor.initialBelow, pageSize],
    );
    return JSON.parse(rows[0]?.j ?? '[]') as Record<string, unknown>[];
  };
}

export const benchmark: Benchmark = {
  name: 'sync-hosted',
  figures: ['sync.hosted.initial'],
  async run({ server, log }) {
    const db = await server.createDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-hosted-'));
    const standIn = await startSupabaseStandIn({
      host: db.host,
      port: db.port,
      database: db.name,
      superuser: db.superuser.user,
      superuserPassword: db.superuser.password,
    });
    let session: SupabaseSession | null = null;
    try {
      const study = await seedSyncStudy(db, records, log);
      const client = await db.connect(study.inspectorEmail, password);
      await client.query('set timezone = UTC');
      session = await SupabaseSession.signIn(
        { url: standIn.url, anonKey: standIn.anonKey },
        study.inspectorEmail,
        password,
        null,
      );
      const hosted: SyncServer = session.syncServer();
      const direct: SyncServer = postgresSyncServer(client);
      const keys = new FileCacheKeyStore(join(dir, 'keys'));
      const backendId = 'b1b1b1b1b1b1b1b1';
      const key = keys.keyFor(study.inspectorId, backendId);
      const initialSync = async (name: string, over: SyncServer): Promise<PullReport> => {
        const cacheFile = { path: join(dir, `${name}.sqlite`), key };
        const cache = openCache({ path: cacheFile.path, key, userId: study.inspectorId, backendId });
        try {
          return await pullAll(cache, over, { cacheFile });
        } finally {
          cache.close();
          for (const suffix of ['', '-wal', '-shm']) rmSync(`${cacheFile.path}${suffix}`, { force: true });
        }
      };
      // Warm both paths (the server's buffers, the stand-in's pool and function catalogue).
      await initialSync('warm-direct', direct);
      await initialSync('warm-hosted', hosted);

      const measured: { direct: PullReport; hosted: PullReport; ratio: number }[] = [];
      for (let round = 0; round < rounds; round++) {
        const directRun = await initialSync(`direct-${round}`, direct);
        const hostedRun = await initialSync(`hosted-${round}`, hosted);
        const rate = (report: PullReport) => report.rows / (report.durationMs / 1000);
        const ratio = rate(hostedRun) / rate(directRun);
        measured.push({ direct: directRun, hosted: hostedRun, ratio });
        log(
          `round ${round + 1}: direct ${directRun.rows} rows in ${(directRun.durationMs / 1000).toFixed(2)} s, hosted ${hostedRun.rows} rows in ${(hostedRun.durationMs / 1000).toFixed(2)} s (${ratio.toFixed(3)})`,
        );
      }
      const median = [...measured].sort((a, b) => a.ratio - b.ratio)[
        Math.floor(rounds / 2)
      ] as (typeof measured)[0];

      // Where the hosted time goes: the same pages, one at a time, without the engine.
      const serverSide = await readAllPages(serverPages(client));
      const overHttp = await readAllPages((stream, cursor) => hosted.page(stream, cursor, pageSize));
      const hostedMs = median.hosted.durationMs;

      const figures: Figure[] = [
        {
          bench: 'sync.hosted.initial',
          value: median.hosted.rows / (hostedMs / 1000),
          unit: 'rows/s',
          baseline: 'direct-mode initial sync (same engine, first pull by COPY) of the same rows, same run',
          baseline_value: median.direct.rows / (median.direct.durationMs / 1000),
          valueBetter: 'higher',
          target: 0.5,
          detail: {
            rows: median.hosted.rows,
            staging_records: records,
            page_size: pageSize,
            rounds: measured.map((m) => Math.round(m.ratio * 1000) / 1000),
            hosted_ms: Math.round(hostedMs),
            direct_ms: Math.round(median.direct.durationMs),
            // The pages read one at a time, outside the engine (the engine overlaps them with writes):
            server_json_ms: Math.round(serverSide.ms),
            http_and_parse_ms: Math.round(overHttp.ms - serverSide.ms),
            pages_alone_ms: Math.round(overHttp.ms),
          },
        },
      ];
      return figures;
    } finally {
      await session?.close();
      await standIn.close();
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    }
  },
};

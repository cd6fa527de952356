// The pull engine: brings every stream of the cache up to the server, page by page, never skipping
// a row. Per stream it reads keyset pages through the user's own connection below the commit-safe
// horizon (0020_sync_watermark.sql), validates each row with the stream's zod schema, and writes
// the page and the stream's cursor in one SQLite transaction, so a process killed at any point
// resumes from the last written page with no row lost or duplicated (inserts are upserts by key).
// Page i+1 is requested before page i is written, so the server works while SQLite does.
// A uuid-keyed stream's first pull (an empty cache) reads in key order below the horizon fixed when
// the pull began, through one `COPY (select …) TO STDOUT` where the reader offers it (no per-row
// protocol work; measured: sync.initial 0.41 → 0.47-0.49 of the raw COPY baseline), still landing
// in pages with their cursor (the last key), so a killed first pull resumes after the last key.
import type { Database, Statement } from 'better-sqlite3-multiple-ciphers';
import pg from 'pg';
import { type CacheFile, CacheWriter, type PageWrite, quarantineSql, saveCursorSql } from './cacheWriter';
import { CopyTextRows } from './copyTextRows';
import { clearPeopleSql, refreshPeople } from './peopleStream';
import { describeIssues } from './rowProblem';
import type { ServerReader } from './serverReader';
import { type StreamDefinition, streamDefinitions } from './streamDefinitions';

export interface PullProgress {
  stream: string;
  rowsDone: number;
  /** Rows to pull in this run when known (counted at the start), else null. */
  rowsTotal: number | null;
  rowsPerSecond: number;
}

export interface PullOptions {
  pageSize?: number;
  streams?: readonly StreamDefinition[];
  onProgress?: (progress: PullProgress) => void;
  /** Count the rows to pull first (one count per stream), for a progress total. */
  countFirst?: boolean;
  now?: () => Date;
  /**
   * The cache file and key: pages are then written on a worker thread (cacheWriter.ts) while the
   * next ones are received and validated here. Without it, pages are written on this thread.
   */
  cacheFile?: CacheFile;
  /** Rows to pull from which the worker is used (default 20,000). */
  workerMinRows?: number;
  /**
   * With the worker: consecutive pages of a stream are written together, up to this many rows per
   * SQLite transaction (default 8,000), with the last page's cursor; each page goes to the writer as
   * soon as it is validated, into the group's open transaction, so a group costs no memory on this
   * thread. (When groups were gathered on this thread, 10,000 rows per transaction was slower than
   * 2,000 and raised peak memory from about 445 to 610 MB.) Measured with the open transaction and
   * early writeback (earlyWriteback.ts), alternating 4 x 5 rounds each: 8,000 rows with early
   * writeback 0.522 of COPY (median), 2,000 rows without 0.487. A killed sync loses at most the
   * uncommitted group and the queued pages, which the next run pulls again.
   */
  rowsPerTransaction?: number;
  /**
   * Refresh the people this person may name (peopleStream.ts) after the streams; by default when
   * every stream is pulled (not for a pull of chosen streams).
   */
  people?: boolean;
}

export interface PullReport {
  rows: number;
  quarantined: number;
  perStream: Record<string, number>;
  /** Rows the server no longer has (deleted there), dropped from the cache. */
  removed: number;
  /** People cached by this pull's refresh; null when not refreshed or the server has no directory. */
  people: number | null;
  /** True when the cache was emptied first (new access rights, or another server). */
  reset: string | null;
  durationMs: number;
  syncedAt: string;
}

interface Cursor {
  lastXid: string;
  lastKey: string;
  /**
   * Set during a stream's first pull (uuid-keyed 'xid' streams): rows are read in key order below
   * this fixed horizon (the snapshot xmin when the pull began), so the cache's primary-key index
   * grows at its end instead of at random places; `lastKey` is then the last key read. When the
   * stream is through, the cursor becomes (horizon - 1, the largest uuid): the next pull reads every
   * row whose sync_xid is at or above the horizon, which includes every row changed meanwhile
   * (its new sync_xid is at least the horizon, as every transaction below it had ended).
   */
  initialBelow: string | null;
}

const largestUuid = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/**
 * Rows of a first pull's COPY validated and handed to the writer at a time (they are still written
 * rowsPerTransaction at a time). Measured on 200,000 rows, alternating in one process: batches of
 * 500 took 1.99-2.37 s where batches of 2,000 took 2.38-2.84 s.
 */
const copyBatchRows = 500;
const uuidText = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const initialBelowMeta = (stream: StreamDefinition) => `initial_below:${stream.name}`;

const firstKey: Record<StreamDefinition['keyType'], string> = {
  uuid: '00000000-0000-0000-0000-000000000000',
  text: '',
  bigint: '0',
};

/** What the user may see, as far as their own assignments tell: a change means a full resync. */
const accessFingerprintQuery = `
  select coalesce(string_agg(x, '|' order by x), '') as fingerprint from (
    select 'role:' || role::text || ':' || coalesce(study_id::text, '*') as x
      from cro.role_assignment where user_id = auth.uid()
    union all select 'investigator:' || site_id || ':' || access_level
      from diary.investigator_site_assignments where investigator_id = auth.uid()
    union all select 'analyst:' || site_id from diary.analyst_site_assignments where analyst_id = auth.uid()
    union all select 'patient:' || site_id from diary.user_site_assignments where patient_id = auth.uid()
  ) access`;

export function pageQuery(stream: StreamDefinition, pageSize: number, cursor: Cursor) {
  if (cursor.initialBelow !== null) {
    return {
      name: `cs_sync_first_${stream.name}`,
      text: `select t.sync_xid::text as sync_xid, ${stream.selectList}
             from ${stream.serverTable} t
             where t.${stream.keyColumn} > $1::${stream.keyType} and t.sync_xid < $2::xid8
             order by t.${stream.keyColumn}
             limit $3`,
      values: [cursor.lastKey, cursor.initialBelow, pageSize],
    };
  }
  if (stream.cursor === 'seq') {
    return {
      name: `cs_sync_${stream.name}`,
      text: `select ${stream.selectList} from ${stream.serverTable} t where t.seq > $1::bigint order by t.seq limit $2`,
      values: [cursor.lastKey, pageSize],
    };
  }
  return {
    name: `cs_sync_${stream.name}`,
    text: `select t.sync_xid::text as sync_xid, ${stream.selectList}
           from ${stream.serverTable} t
           where (t.sync_xid, t.${stream.keyColumn}) > ($1::xid8, $2::${stream.keyType})
             and t.sync_xid < pg_snapshot_xmin(pg_current_snapshot())
           order by t.sync_xid, t.${stream.keyColumn}
           limit $3`,
    values: [cursor.lastXid, cursor.lastKey, pageSize],
  };
}

/**
 * A stream's first pull is through: from now on, every row at or above its horizon (the cursor is
 * made if no page landed). Values are a server number checked here, a constant stream name and a
 * timestamp of ours: no untrusted text reaches SQL.
 */
function finishFirstPullSql(stream: StreamDefinition, horizon: string, at: Date): string {
  if (!/^\d+$/.test(horizon)) throw new Error(`not a transaction horizon: ${horizon}`);
  const below = BigInt(horizon) - 1n;
  return `begin;
    insert into sync_cursor (stream, last_xid, last_key, rows_pulled, updated_at)
      values ('${stream.name}', '${below}', '${largestUuid}', 0, '${at.toISOString()}')
      on conflict (stream) do update set last_xid = excluded.last_xid, last_key = excluded.last_key,
        updated_at = excluded.updated_at;
    delete from sync_meta where name = '${initialBelowMeta(stream)}';
    commit;`;
}

/**
 * Every stream's count in one query: one round trip, however many streams. `n<i>` counts the rows
 * to pull; `all<i>`, for a stream whose rows can be deleted on the server, all the rows it has.
 */
function countAllQuery(streams: readonly StreamDefinition[], cursors: Map<string, Cursor>) {
  const values: unknown[] = [];
  const columns = streams.flatMap((stream, i) => {
    const query = countQuery(stream, cursors.get(stream.name) as Cursor);
    const offset = values.length;
    values.push(...query.values);
    const text = query.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    const counts = [`(${text}) as n${i}`];
    if (stream.deletions) counts.push(`(select count(*)::int from ${stream.serverTable} t) as all${i}`);
    return counts;
  });
  return { text: `select ${columns.join(',\n  ')}`, values };
}

/**
 * Drops the cached rows of a stream that the server no longer has (see StreamDefinition.deletions).
 * The server's keys are read only when its row count (`serverRows`, counted before the pull; null
 * when not counted) differs from the cache's: rows deleted since the count, or deleted while as many
 * were added, are seen the same way by the next sync. A key missing from the server's list read now,
 * after the pull, is a deleted row: the cache only holds rows the server had, and a new one not yet
 * pulled is not in the cache either.
 */
async function dropDeletedRows(
  db: Database,
  reader: ServerReader,
  stream: StreamDefinition,
  serverRows: number | null,
): Promise<number> {
  const deletions = stream.deletions;
  if (!deletions) return 0;
  if (serverRows !== null) {
    const inCache = db.prepare(`select count(*) as n from (${deletions.cacheKeysSql})`).get() as {
      n: number;
    };
    if (inCache.n === serverRows) return 0;
  }
  const cached = (db.prepare(deletions.cacheKeysSql).all() as { k: unknown }[]).map((row) => String(row.k));
  const { rows } = await reader.query({
    name: `cs_sync_keys_${stream.name}`,
    text: `select t.${stream.keyColumn}::text as k from ${stream.serverTable} t`,
  });
  const onServer = new Set(rows.map((row) => String(row.k)));
  const gone = cached.filter((key) => !onServer.has(key));
  if (gone.length > 0) {
    const remove = db.prepare(deletions.deleteSql);
    db.transaction(() => {
      for (const key of gone) remove.run(key);
    })();
  }
  return gone.length;
}

function countQuery(stream: StreamDefinition, cursor: Cursor) {
  if (cursor.initialBelow !== null) {
    return {
      text: `select count(*)::int as n from ${stream.serverTable} t
             where t.${stream.keyColumn} > $1::${stream.keyType} and t.sync_xid < $2::xid8`,
      values: [cursor.lastKey, cursor.initialBelow],
    };
  }
  if (stream.cursor === 'seq') {
    return {
      text: `select count(*)::int as n from ${stream.serverTable} t where t.seq > $1::bigint`,
      values: [cursor.lastKey],
    };
  }
  return {
    text: `select count(*)::int as n from ${stream.serverTable} t
           where (t.sync_xid, t.${stream.keyColumn}) > ($1::xid8, $2::${stream.keyType})
             and t.sync_xid < pg_snapshot_xmin(pg_current_snapshot())`,
    values: [cursor.lastXid, cursor.lastKey],
  };
}

/**
 * Where a stream's next pull starts. `horizon` (the snapshot xmin now) starts a key-ordered first
 * pull when the stream has never been pulled; a first pull cut short goes on below its own horizon.
 */
export function readCursor(db: Database, stream: StreamDefinition, horizon: bigint): Cursor {
  const row = db.prepare('select last_xid, last_key from sync_cursor where stream = ?').get(stream.name) as
    | { last_xid: string; last_key: string }
    | undefined;
  const unfinishedFirstPull = readMeta(db, initialBelowMeta(stream));
  if (unfinishedFirstPull !== null) {
    return {
      lastXid: '0',
      lastKey: row?.last_key ?? firstKey[stream.keyType],
      initialBelow: unfinishedFirstPull,
    };
  }
  if (row) return { lastXid: row.last_xid, lastKey: row.last_key, initialBelow: null };
  const keyOrdered = stream.cursor === 'xid' && stream.keyType === 'uuid';
  return {
    lastXid: '0',
    lastKey: firstKey[stream.keyType],
    initialBelow: keyOrdered ? String(horizon) : null,
  };
}

function readMeta(db: Database, name: string): string | null {
  const row = db.prepare('select value from sync_meta where name = ?').get(name) as
    | { value: string }
    | undefined;
  return row?.value ?? null;
}

export function writeMeta(db: Database, name: string, value: string): void {
  db.prepare('insert or replace into sync_meta (name, value) values (?, ?)').run(name, value);
}

/** Empties every mirrored stream and its cursor (the outbox is kept: it holds the user's own work). */
export function resetStreams(db: Database, streams: readonly StreamDefinition[] = streamDefinitions): void {
  db.transaction(() => {
    for (const stream of streams) db.prepare(stream.clearSql).run();
    db.prepare('delete from sync_cursor').run();
    db.prepare(`delete from sync_meta where name like 'initial\\_below:%' escape '\\'`).run();
    db.prepare('delete from chain_head').run();
    db.prepare('delete from quarantine').run();
    db.prepare(clearPeopleSql).run();
  })();
}

export { describeIssues };

export async function pullAll(
  db: Database,
  reader: ServerReader,
  options: PullOptions = {},
): Promise<PullReport> {
  const started = performance.now();
  const now = options.now ?? (() => new Date());
  const streams = options.streams ?? streamDefinitions;
  // 2,000-row pages: small enough that a page's objects die young (cheap garbage collection), large
  // enough that round trips stay hidden behind the overlap.
  const pageSize = options.pageSize ?? 2000;

  // Another server behind the same address (restored, re-created) or changed access rights: the
  // cursors no longer describe what this user may read, so start over.
  let reset: string | null = null;
  const { rows: horizonRows } = await reader.query({
    text: `select pg_snapshot_xmin(pg_current_snapshot())::text as horizon, (${accessFingerprintQuery}) as fingerprint`,
  });
  const horizon = BigInt(String(horizonRows[0]?.horizon));
  const fingerprint = String(horizonRows[0]?.fingerprint ?? '');
  const storedFingerprint = readMeta(db, 'access_fingerprint');
  const cursorAhead = (db.prepare('select last_xid from sync_cursor').all() as { last_xid: string }[]).some(
    (row) => BigInt(row.last_xid) > horizon,
  );
  if (cursorAhead) reset = 'the server is not the one this cache was synced from';
  else if (storedFingerprint !== null && storedFingerprint !== fingerprint)
    reset = 'your access rights changed';
  if (reset) resetStreams(db, streamDefinitions);
  writeMeta(db, 'access_fingerprint', fingerprint);

  const cursors = new Map(streams.map((stream) => [stream.name, readCursor(db, stream, horizon)]));
  // A worker pays for itself on a large pull (an initial sync); small ones stay on this thread. When
  // a first pull is due, the worker is started before the count, so that its start (about 45 ms:
  // a thread, the SQLite module, the keyed open) overlaps the server's counting; it is closed again
  // if there turns out to be little to pull.
  const workerMinRows = options.workerMinRows ?? 20_000;
  const firstPullDue = [...cursors.values()].some((cursor) => cursor.initialBelow !== null);
  let writer = options.cacheFile && firstPullDue ? CacheWriter.start(options.cacheFile) : null;
  let rowsTotal: number | null = null;
  let counts: Map<string, number> | null = null;
  const serverRows = new Map<string, number>();
  try {
    if (options.countFirst ?? true) {
      const { rows } = await reader.query(countAllQuery(streams, cursors));
      counts = new Map(streams.map((stream, i) => [stream.name, Number(rows[0]?.[`n${i}`] ?? 0)]));
      rowsTotal = [...counts.values()].reduce((sum, n) => sum + n, 0);
      streams.forEach((stream, i) => {
        if (stream.deletions) serverRows.set(stream.name, Number(rows[0]?.[`all${i}`] ?? 0));
      });
    }
  } catch (error) {
    await writer?.close();
    throw error;
  }
  const useWorker = options.cacheFile && (rowsTotal === null || rowsTotal >= workerMinRows);
  if (writer && !useWorker) {
    await writer.close();
    writer = null;
  } else if (!writer && useWorker && options.cacheFile) {
    writer = CacheWriter.start(options.cacheFile);
  }

  const report: PullReport = {
    rows: 0,
    quarantined: 0,
    perStream: {},
    removed: 0,
    people: null,
    reset,
    durationMs: 0,
    syncedAt: '',
  };
  // The same statements as the writer's (one SQL text each, whichever thread writes).
  const quarantine = db.prepare(quarantineSql);
  const saveCursor = db.prepare(saveCursorSql);

  // Statements run in order with the pages (on the writer when there is one). Values are server
  // numbers and keys checked here and constant stream names: no untrusted text reaches SQL.
  const exec = async (sql: string) => {
    if (writer) await writer.exec(sql);
    else db.exec(sql);
  };
  try {
    for (const stream of streams) {
      const cursor = cursors.get(stream.name) as Cursor;
      if (counts?.get(stream.name) === 0) {
        // Nothing to pull: no query at all (a remote server costs a round trip per query, and most
        // streams have nothing new on most syncs). The cursor stays where it is, so a row committed
        // since the count is read next time; a first pull is complete, as no row below its horizon
        // can appear later (a change gives the row a newer sync_xid). Indexes a pull killed mid-way
        // may have left dropped are made sure of.
        const statements = (stream.deferredIndexes ?? []).map((index) => index.create);
        if (cursor.initialBelow !== null)
          statements.push(finishFirstPullSql(stream, cursor.initialBelow, now()));
        for (const sql of statements) await exec(sql);
        report.perStream[stream.name] = 0;
        continue;
      }
      // An initial pull builds the stream's secondary indexes once, at the end; any other pull makes
      // sure they exist (a sync killed mid-way may have left them dropped).
      const initial = !db.prepare('select 1 from sync_cursor where stream = ?').get(stream.name);
      for (const index of stream.deferredIndexes ?? []) {
        await exec(initial ? `drop index if exists ${index.name}` : index.create);
      }
      const insert = db.prepare(stream.insertSql);
      const pulled = await pullStream(db, reader, stream, {
        cursor,
        pageSize,
        insert,
        quarantine,
        saveCursor,
        now,
        writer,
        exec,
        rowsPerTransaction: options.rowsPerTransaction ?? 8_000,
        onPage: (rows, quarantined) => {
          report.rows += rows;
          report.quarantined += quarantined;
          const seconds = (performance.now() - started) / 1000;
          options.onProgress?.({
            stream: stream.name,
            rowsDone: report.rows,
            rowsTotal,
            rowsPerSecond: seconds > 0 ? Math.round(report.rows / seconds) : 0,
          });
        },
      });
      report.perStream[stream.name] = pulled;
      // With the writer, the index is built in order after the stream's pages while the next stream
      // is already being pulled; the drain below waits for all of it.
      for (const index of stream.deferredIndexes ?? []) await exec(index.create);
    }
    await writer?.drain();
  } finally {
    await writer?.close();
  }
  for (const stream of streams) {
    report.removed += await dropDeletedRows(db, reader, stream, serverRows.get(stream.name) ?? null);
  }
  if (options.people ?? options.streams === undefined) {
    const people = await refreshPeople(db, reader, now);
    report.people = people.people;
    report.quarantined += people.quarantined;
  }
  report.syncedAt = now().toISOString();
  writeMeta(db, 'last_synced_at', report.syncedAt);
  report.durationMs = performance.now() - started;
  return report;
}

interface StreamRun {
  cursor: Cursor;
  pageSize: number;
  insert: Statement;
  quarantine: Statement;
  saveCursor: Statement;
  now: () => Date;
  writer: CacheWriter | null;
  /** Runs a statement in order with the pages (pullAll's). */
  exec: (sql: string) => Promise<void>;
  rowsPerTransaction: number;
  onPage: (rows: number, quarantined: number) => void;
}

async function pullStream(
  db: Database,
  reader: ServerReader,
  stream: StreamDefinition,
  run: StreamRun,
): Promise<number> {
  let total = 0;
  const applyPage = db.transaction((rows: Record<string, unknown>[], next: Cursor) => {
    let quarantined = 0;
    const receivedAt = run.now().toISOString();
    for (const raw of rows) {
      const parsed = stream.schema.safeParse(raw);
      const xid = String(raw.sync_xid ?? '');
      if (parsed.success) {
        run.insert.run(stream.params(parsed.data, xid));
      } else {
        quarantined++;
        const key = raw[stream.keyColumn];
        run.quarantine.run(
          stream.name,
          key === undefined || key === null ? null : String(key),
          describeIssues(parsed.error),
          JSON.stringify(raw),
          receivedAt,
        );
      }
    }
    run.saveCursor.run(stream.name, next.lastXid, next.lastKey, rows.length, receivedAt);
    return quarantined;
  });

  /** The same page as applyPage writes, validated here and written by the worker. */
  const pageWrite = (
    rows: Record<string, unknown>[],
    next: Cursor,
  ): { page: PageWrite; quarantined: number } => {
    const receivedAt = run.now().toISOString();
    const page: PageWrite = {
      insertSql: stream.insertSql,
      values: [],
      width: 0,
      quarantine: [],
      cursor: [stream.name, next.lastXid, next.lastKey, rows.length, receivedAt],
    };
    for (const raw of rows) {
      const parsed = stream.schema.safeParse(raw);
      if (parsed.success) {
        const params = stream.params(parsed.data, String(raw.sync_xid ?? ''));
        page.width = params.length;
        for (const value of params) page.values.push(value);
      } else {
        const key = raw[stream.keyColumn];
        page.quarantine.push([
          stream.name,
          key === undefined || key === null ? null : String(key),
          describeIssues(parsed.error),
          JSON.stringify(raw),
          receivedAt,
        ]);
      }
    }
    return { page, quarantined: page.quarantine.length };
  };

  let cursor = run.cursor;
  // With the writer, each page is sent as soon as it is validated, into a transaction the writer
  // keeps open until a page marked to commit it brings the group's cursor: the group is still one
  // transaction with its cursor, and no page waits here for the next ones (objects held across
  // young-generation collections are what they cost). Rows sent since the last commit, and the
  // last page's cursor, for the commit that ends the group.
  let uncommitted = 0;
  let lastSent: PageWrite | null = null;
  const exec = run.exec;
  const firstPull = cursor.initialBelow;
  if (firstPull !== null) {
    if (!/^\d+$/.test(firstPull)) throw new Error(`not a transaction horizon: ${firstPull}`);
    await exec(
      `insert or replace into sync_meta (name, value) values ('${initialBelowMeta(stream)}', '${firstPull}')`,
    );
  }
  // Rows already received are kept when the server goes away mid-stream: the group is committed.
  const flush = async () => {
    if (uncommitted > 0 && lastSent !== null && run.writer) {
      const [name, lastXid, lastKey, , at] = lastSent.cursor;
      await run.writer.write({
        insertSql: stream.insertSql,
        values: [],
        width: 0,
        quarantine: [],
        cursor: [name, lastXid, lastKey, uncommitted, at],
        commit: true,
      });
    }
    uncommitted = 0;
    lastSent = null;
  };
  const cursorAfter = (last: Record<string, unknown>): Cursor =>
    cursor.initialBelow !== null
      ? { lastXid: '0', lastKey: String(last[stream.keyColumn]), initialBelow: cursor.initialBelow }
      : stream.cursor === 'seq'
        ? { lastXid: '0', lastKey: String(last.seq), initialBelow: null }
        : { lastXid: String(last.sync_xid), lastKey: String(last[stream.keyColumn]), initialBelow: null };
  /** Validates a page and writes it (now, or with the next ones when `more` rows follow). */
  const acceptPage = async (rows: Record<string, unknown>[], next: Cursor, more: boolean) => {
    let quarantined: number;
    if (run.writer) {
      const write = pageWrite(rows, next);
      quarantined = write.quarantined;
      uncommitted += rows.length;
      const commit = !more || uncommitted >= run.rowsPerTransaction;
      write.page.cursor[3] = uncommitted;
      write.page.commit = commit;
      lastSent = write.page;
      if (commit) uncommitted = 0;
      await run.writer.write(write.page);
    } else {
      quarantined = applyPage(rows, next);
    }
    cursor = next;
    total += rows.length;
    run.onPage(rows.length, quarantined);
  };

  try {
    if (firstPull !== null && reader.copyRows && uuidText.test(cursor.lastKey)) {
      // A first pull reads the whole stream in one COPY, in key order below the horizon, and lands
      // it in pages as it arrives; a pull cut short resumes after the last key written.
      const probe = await reader.query(pageQuery(stream, 0, cursor));
      const parser = new CopyTextRows(
        (probe.fields ?? []).map(({ name, dataTypeID }) => ({
          name,
          parse: pg.types.getTypeParser(dataTypeID, 'text') as (text: string) => unknown,
        })),
      );
      // Parsed rows are validated and handed on in batches of at most copyBatchRows: the fewer
      // parsed rows alive when the young generation is collected, the less it copies.
      const batchRows = Math.min(run.pageSize, copyBatchRows);
      let batch: Record<string, unknown>[] = [];
      for await (const chunk of reader.copyRows(
        `select t.sync_xid::text as sync_xid, ${stream.selectList}
         from ${stream.serverTable} t
         where t.${stream.keyColumn} > '${cursor.lastKey}'::uuid and t.sync_xid < '${firstPull}'::xid8
         order by t.${stream.keyColumn}`,
      )) {
        for (const row of parser.push(chunk)) batch.push(row);
        if (batch.length >= batchRows) {
          const rows = batch;
          batch = [];
          await acceptPage(rows, cursorAfter(rows[rows.length - 1] as Record<string, unknown>), true);
        }
      }
      parser.end();
      const last = batch.at(-1);
      if (last) await acceptPage(batch, cursorAfter(last), false);
    } else {
      let pending: Promise<{ rows: Record<string, unknown>[] }> | null = reader.query(
        pageQuery(stream, run.pageSize, cursor),
      );
      while (pending !== null) {
        const page: { rows: Record<string, unknown>[] } = await pending;
        pending = null;
        const last = page.rows.at(-1);
        if (!last) break;
        const next = cursorAfter(last);
        // Ask for the next page before writing this one: the server and SQLite work at the same time.
        if (page.rows.length === run.pageSize) {
          pending = reader.query(pageQuery(stream, run.pageSize, next));
          pending.catch(() => undefined); // awaited on the next turn; never an unhandled rejection
        }
        await acceptPage(page.rows, next, pending !== null);
      }
    }
  } catch (error) {
    await flush().catch(() => undefined);
    throw error;
  }
  await flush();
  if (firstPull !== null) await exec(finishFirstPullSql(stream, firstPull, run.now()));
  return total;
}

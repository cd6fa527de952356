// Writes pulled pages into the cache on a worker thread, so that SQLite's inserts (the slowest part
// of a sync, ARCHITECTURE.md "Measured on these machines") overlap with receiving and validating
// the next pages on the main thread. Each page is still written with its cursor in one SQLite
// transaction, on the worker's own connection, so a process killed at any point keeps a consistent
// cache (the pull engine's guarantee does not change). At most `maxInFlight` pages wait, so memory
// stays bounded however far the server runs ahead.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { cacheKeyPragmas, openKeyedSource } from '../cache/cacheKey';
import { type EarlyWriteback, startEarlyWriteback } from './earlyWriteback';

export interface CacheFile {
  path: string;
  key: Buffer;
}

export interface PageWrite {
  /** One row's insert, ending in its `values (?, …)` tuple. */
  insertSql: string;
  /**
   * The rows' parameters one row after another, `width` each (flat: one array to copy to the
   * worker instead of one per row).
   */
  values: unknown[];
  width: number;
  /** (stream, row_key, problem, raw, received_at) per quarantined row. */
  quarantine: unknown[][];
  /** (stream, last_xid, last_key, rows_pulled, updated_at): rows_pulled counts the whole group. */
  cursor: unknown[];
  /**
   * False: the rows go into a transaction left open for the next pages of the group; true (the
   * default): the cursor is written and the group committed with it.
   */
  commit?: boolean;
}

/**
 * Rows per insert statement in the worker: better-sqlite3's cost per call (crossing into C++,
 * reading the arguments, resetting the statement) is then paid once for them all. Measured on
 * 100,000 staging rows in memory: one row per call 228-244 ms, 10 per call 173-174 ms, 25-100 per
 * call no better.
 */
export const manyRows = 10;

/**
 * As CommonJS source, for the worker (run from source) and this thread alike: defines
 * `rowsInsert(sql, n)`, the insert of n rows made from one row's insert by repeating its trailing
 * `values (…)` tuple (placeholders and constants, no parentheses), or null when the statement does
 * not end in one (its rows then go one by one).
 */
const rowsInsertSource = `
function rowsInsert(sql, n) {
  const match = /^([\\s\\S]*\\bvalues\\s*)(\\([^()]*\\))\\s*$/i.exec(sql);
  return match ? match[1] + Array(n).fill(match[2]).join(', ') : null;
}
`;

/** rowsInsertSource's function, for this thread (a constant source, no input in it). */
export const rowsInsert = new Function(`${rowsInsertSource}\nreturn rowsInsert;`)() as (
  sql: string,
  n: number,
) => string | null;

// CommonJS source run with { eval: true }: the same under Electron, the browser host and the tests.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlitePath);
${openKeyedSource}
const db = openKeyed(Database, workerData.path, workerData.keyPragmas, { fileMustExist: true });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');
// 32 MB of page cache: appends in key order touch few pages; more only raised the peak memory.
db.pragma('cache_size = -32768');
const statements = new Map();
${rowsInsertSource}
const manyRowsSqls = new Map();
const manyRowsSql = (sql) => {
  if (!manyRowsSqls.has(sql)) manyRowsSqls.set(sql, rowsInsert(sql, ${manyRows}));
  return manyRowsSqls.get(sql);
};
const prepared = (sql) => {
  let statement = statements.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
};
// A group of pages is one transaction: opened by its first page, committed with its cursor by the
// page marked to commit. After a failure the open group is rolled back and every later page and
// statement is refused (they would follow rows that are not there).
let open = false;
let broken = null;
const apply = (page) => {
  if (!open) {
    db.exec('begin');
    open = true;
  }
  // Rows go in manyRows at a time, through one insert of that many value tuples, then one by one.
  // Spread, not an array: better-sqlite3 then binds from the call's arguments instead of reading
  // the array element by element through the V8 API (measured: 200,000 rows 1.25 -> 1.13 s).
  // (A page may hold no rows: the one that commits a group cut short.)
  const values = page.values;
  const width = page.width;
  if (values.length > 0) {
    if (!(width > 0) || values.length % width !== 0) {
      throw new Error('a page of ' + values.length + ' values does not hold rows of ' + width);
    }
    let at = 0;
    const span = ${manyRows} * width;
    const manySql = values.length >= span ? manyRowsSql(page.insertSql) : null;
    if (manySql !== null) {
      const many = prepared(manySql);
      for (; at + span <= values.length; at += span) many.run(...values.slice(at, at + span));
    }
    const insert = prepared(page.insertSql);
    for (; at < values.length; at += width) insert.run(...values.slice(at, at + width));
  }
  if (page.quarantine.length > 0) {
    const quarantine = prepared(workerData.quarantineSql);
    for (const params of page.quarantine) quarantine.run(params);
  }
  if (page.commit !== false) {
    prepared(workerData.saveCursorSql).run(page.cursor);
    db.exec('commit');
    open = false;
  }
};
parentPort.on('message', (message) => {
  if (message.type === 'close') {
    if (open) db.exec('rollback');
    db.close();
    parentPort.postMessage({ type: 'closed' });
    return;
  }
  try {
    if (broken !== null) throw new Error('an earlier page was not stored (' + broken + ')');
    if (message.type === 'exec') {
      if (open) throw new Error('a statement arrived inside an uncommitted group of pages');
      db.exec(message.sql);
    } else apply(message.page);
    parentPort.postMessage({ type: 'applied', id: message.id });
  } catch (error) {
    if (broken === null) broken = String(error && error.message);
    if (open) {
      try { db.exec('rollback'); } catch {}
      open = false;
    }
    parentPort.postMessage({ type: 'failed', id: message.id, message: String(error && error.message) });
  }
});
`;

/**
 * Pages queued for the writer before the pull waits: the server and the validation run ahead while
 * the writer is slower and hand over when it is faster. With pages of 2,000 rows, 8 beat 2
 * (sync.initial median 0.458 -> 0.477 of COPY over six alternating runs); with the first pull's
 * pages of 500 rows, 32 (the same rows) beat 8 (0.521-0.552 against 0.484-0.532, three alternating
 * runs of five rounds each; 64 was no better). Peak memory stays near 300 MB.
 */
export const defaultMaxInFlight = 32;

export const quarantineSql =
  'insert into quarantine (stream, row_key, problem, raw, received_at) values (?, ?, ?, ?, ?)';
export const saveCursorSql = `insert into sync_cursor (stream, last_xid, last_key, rows_pulled, updated_at) values (?, ?, ?, ?, ?)
     on conflict (stream) do update set last_xid = excluded.last_xid, last_key = excluded.last_key,
       rows_pulled = sync_cursor.rows_pulled + excluded.rows_pulled, updated_at = excluded.updated_at`;

export class CacheWriter {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private readonly inFlight: Promise<void>[] = [];
  private failure: Error | null = null;
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    private readonly maxInFlight: number,
    private readonly writeback: EarlyWriteback,
  ) {
    worker.on('message', (message: { type: string; id?: number; message?: string }) => {
      if (message.id === undefined) return;
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.type === 'applied') {
        waiter?.resolve();
        return;
      }
      // The worker refuses everything after a failure: so does this side, at once.
      const error = new Error(`the cache could not store a page: ${message.message}`);
      this.failure ??= error;
      waiter?.reject(error);
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => {
      this.exited = true;
      if (code !== 0) this.fail(new Error(`the cache writer stopped with code ${code}`));
    });
  }

  static start(file: CacheFile, options: { maxInFlight?: number } = {}): CacheWriter {
    const sqlitePath = createRequire(import.meta.url).resolve('better-sqlite3-multiple-ciphers');
    const worker = new Worker(workerSource, {
      eval: true,
      workerData: {
        sqlitePath,
        path: file.path,
        keyPragmas: cacheKeyPragmas(file.key.toString('hex')),
        quarantineSql,
        saveCursorSql,
      },
    });
    return new CacheWriter(worker, options.maxInFlight ?? defaultMaxInFlight, startEarlyWriteback(file.path));
  }

  private fail(error: Error) {
    this.failure ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  /** Queues a page; resolves when the queue has room again (not when the page is written). */
  async write(page: PageWrite): Promise<void> {
    await this.enqueue({ type: 'write', page });
  }

  /**
   * Queues a statement (an index dropped before a stream, built after it), run in order with the
   * pages, so that no other connection waits for the writer's lock and the pull goes on meanwhile.
   */
  async exec(sql: string): Promise<void> {
    await this.enqueue({ type: 'exec', sql });
  }

  private async enqueue(message: { type: 'write'; page: PageWrite } | { type: 'exec'; sql: string }) {
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    const done = new Promise<void>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    done.catch(() => undefined); // surfaced by drain()
    this.inFlight.push(done);
    this.worker.postMessage({ ...message, id });
    while (this.inFlight.length > this.maxInFlight) await this.inFlight.shift();
  }

  /** Resolves when every queued page is written (or rejects with the first failure). */
  async drain(): Promise<void> {
    while (this.inFlight.length > 0) await this.inFlight.shift();
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    await this.drain().catch(() => undefined);
    await this.writeback.stop();
    if (this.exited) return; // it failed (or was stopped) already: nothing to wait for
    const closed = new Promise<void>((resolve) => {
      this.worker.once('message', () => resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.postMessage({ type: 'close' });
    await closed;
    await this.worker.terminate();
  }
}

// Writes pulled pages into the cache on a worker thread, so that SQLite's inserts (the slowest part
// of a sync, ARCHITECTURE.md "Measured on these machines") overlap with receiving and validating
// the next pages on the main thread. Each page is still written with its cursor in one SQLite
// transaction, on the worker's own connection, so a process killed at any point keeps a consistent
// cache (the pull engine's guarantee does not change). At most `maxInFlight` pages wait, so memory
// stays bounded however far the server runs ahead.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface CacheFile {
  path: string;
  key: Buffer;
}

export interface PageWrite {
  insertSql: string;
  rows: unknown[][];
  /** (stream, row_key, problem, raw, received_at) per quarantined row. */
  quarantine: unknown[][];
  /** (stream, last_xid, last_key, rows_pulled, updated_at). */
  cursor: unknown[];
}

// CommonJS source run with { eval: true }: the same under Electron, the browser host and the tests.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlitePath);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma("cipher = 'aegis'");
db.pragma("hexkey = '" + workerData.keyHex + "'");
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');
// 32 MB of page cache: appends in key order touch few pages; more only raised the peak memory.
db.pragma('cache_size = -32768');
const statements = new Map();
const prepared = (sql) => {
  let statement = statements.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
};
const apply = db.transaction((page) => {
  const insert = prepared(page.insertSql);
  // Spread, not an array: better-sqlite3 then binds from the call's arguments instead of reading
  // the array element by element through the V8 API (measured: 200,000 rows 1.25 -> 1.13 s).
  for (const params of page.rows) insert.run(...params);
  if (page.quarantine.length > 0) {
    const quarantine = prepared(workerData.quarantineSql);
    for (const params of page.quarantine) quarantine.run(params);
  }
  prepared(workerData.saveCursorSql).run(page.cursor);
});
parentPort.on('message', (message) => {
  if (message.type === 'close') {
    db.close();
    parentPort.postMessage({ type: 'closed' });
    return;
  }
  try {
    if (message.type === 'exec') db.exec(message.sql);
    else apply(message.page);
    parentPort.postMessage({ type: 'applied', id: message.id });
  } catch (error) {
    parentPort.postMessage({ type: 'failed', id: message.id, message: String(error && error.message) });
  }
});
`;

/**
 * Pages queued for the writer before the pull waits: 8 lets the server and the validation run
 * ahead while the writer is slower and hand over when it is faster (sync.initial median 0.458 of
 * COPY with 2, 0.477 with 8 and a 32 MB page cache, over six alternating runs; peak memory 453 ->
 * 345 MB).
 */
export const defaultMaxInFlight = 8;

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
  ) {
    worker.on('message', (message: { type: string; id?: number; message?: string }) => {
      if (message.id === undefined) return;
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.type === 'applied') waiter?.resolve();
      else waiter?.reject(new Error(`the cache could not store a page: ${message.message}`));
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
        keyHex: file.key.toString('hex'),
        quarantineSql,
        saveCursorSql,
      },
    });
    return new CacheWriter(worker, options.maxInFlight ?? defaultMaxInFlight);
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

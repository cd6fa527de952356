// The narrow read interface the direct modes' SyncServer (postgresSyncServer.ts) reads through: one
// query at a time over the signed-in user's own connection (so that RLS decides what is cached;
// never an operator's). isConnectionError serves every transport.
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

export interface ServerQuery {
  /** A name makes it a server-side prepared statement (parsed and planned once per connection). */
  name?: string;
  text: string;
  values?: unknown[];
}

export interface ResultField {
  name: string;
  dataTypeID: number;
}

export interface ServerReader {
  /** Runs one query; `fields` are the result's columns in order (name and type oid). */
  query(query: ServerQuery): Promise<{ rows: Record<string, unknown>[]; fields?: ResultField[] }>;
  /**
   * Streams `COPY (select) TO STDOUT` (text format) in one read-only transaction: a stream's first
   * pull reads it this way, one round trip and no per-row protocol overhead. The select must carry
   * no untrusted text (COPY takes no parameters). Optional: readers without it page instead.
   */
  copyRows?(select: string): AsyncIterable<Buffer>;
}

export function serverReaderFor(client: pg.ClientBase): ServerReader {
  return {
    query: async (query) => {
      const result = await client.query(query);
      return {
        rows: result.rows as Record<string, unknown>[],
        fields: result.fields.map(({ name, dataTypeID }) => ({ name, dataTypeID })),
      };
    },
    copyRows: (select) => copyRows(client, select),
  };
}

async function* copyRows(client: pg.ClientBase, select: string): AsyncGenerator<Buffer> {
  await client.query('begin transaction read only');
  let committed = false;
  try {
    // A whole stream in key order, from the key's index, which gives the order as it goes: without
    // this the planner may read the table (sequentially, or by a bitmap of another index) and sort
    // it, spilling to disk for a large one, and nothing arrives before the sort is done (measured:
    // 100,000 provenance events by bitmap scan and sort, 0.4-0.6 s before the first row, while the
    // workstation's two threads waited; by the key's index, the first row in milliseconds).
    await client.query(
      'set local enable_seqscan = off; set local enable_bitmapscan = off; set local enable_sort = off',
    );
    const stream: Readable = client.query(copyTo(`copy (${select}) to stdout`));
    let ended = false;
    try {
      // Not destroyed when the consumer stops early: the rest is read and dropped below, so the
      // connection comes back in a usable state.
      for await (const chunk of stream.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
      ended = true;
    } finally {
      if (!ended && !stream.destroyed && !stream.readableEnded) {
        stream.resume();
        await once(stream, 'end').catch(() => undefined);
      }
    }
    await client.query('commit');
    committed = true;
  } finally {
    if (!committed) await client.query('rollback').catch(() => undefined);
  }
}

/** The socket errors of a server out of reach, whichever transport met them (pg, fetch). */
export const socketErrorCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  'EHOSTUNREACH',
]);

const connectionErrorCodes = new Set([
  ...socketErrorCodes,
  '57P01', // admin_shutdown
  '57P02',
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
]);

/** True when the error says the server cannot be reached (as opposed to a refused or invalid query). */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  if (code !== undefined && connectionErrorCodes.has(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|not queryable|Client was closed|connection is closed/i.test(message);
}

// The narrow read interface the pull engine needs from the server: one query at a time over the
// signed-in user's own connection (so that RLS decides what is cached; never an operator's).
import type pg from 'pg';

export interface ServerQuery {
  /** A name makes it a server-side prepared statement (parsed and planned once per connection). */
  name?: string;
  text: string;
  values?: unknown[];
}

export interface ServerReader {
  query(query: ServerQuery): Promise<{ rows: Record<string, unknown>[] }>;
}

export function serverReaderFor(client: pg.ClientBase): ServerReader {
  return {
    query: async (query) => {
      const result = await client.query(query);
      return { rows: result.rows as Record<string, unknown>[] };
    },
  };
}

const connectionErrorCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  'EHOSTUNREACH',
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

// Where a user's cache lives: <data folder>/cache/<backend id>/<user id>.sqlite, one file per user
// and backend. The backend id is a digest of the server address, so that two backends (a demo and
// an on-premises server) never share a cache.
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export interface BackendAddress {
  host: string;
  port: number;
  database: string;
}

export function backendIdFor(address: BackendAddress): string {
  return createHash('sha256')
    .update(`${address.host.toLowerCase()}:${address.port}/${address.database}`)
    .digest('hex')
    .slice(0, 16);
}

export function cacheDir(dataDir: string): string {
  return join(dataDir, 'cache');
}

export function cacheFilePath(dataDir: string, backendId: string, userId: string): string {
  if (!/^[0-9a-f]{16}$/.test(backendId) || !/^[0-9a-f-]{36}$/.test(userId)) {
    throw new Error('a cache is named by a backend id and a user id (uuid)');
  }
  return join(cacheDir(dataDir), backendId, `${userId}.sqlite`);
}

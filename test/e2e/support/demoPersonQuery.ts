// Rows on the e2e demo server, read as a demo person over their own PostgreSQL login (RLS decides):
// how an e2e test checks what reached the server.
import pg from 'pg';
import { embeddedDatabase } from '../../../src/main/backend/backendConfig';
import type { DemoPerson } from '../../../src/main/backend/demo/demoPeople';
import { e2eServer } from './e2ePage';

export async function onServer(person: DemoPerson, sql: string, values: unknown[]) {
  const server = e2eServer();
  if (!server) throw new Error('no e2e server');
  const client = new pg.Client({
    host: '127.0.0.1',
    port: server.pgPort,
    database: embeddedDatabase,
    user: person.email,
    password: person.password,
  });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows;
  } finally {
    await client.end();
  }
}

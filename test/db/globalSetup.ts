// One real PostgreSQL for the whole `db` test run: started once, migrated once into a template
// database, and handed to the test files, each of which clones the template into its own database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/main/backend/embedded/embeddedPostgres';
import { migrate, readMigrationFiles } from '../../src/main/backend/migrator';
import { freePort } from './support/freePort';
import { migrationsDir, type TestServer, templateDatabase } from './support/testServer';

declare module 'vitest' {
  export interface ProvidedContext {
    testServer: TestServer;
  }
}

export default async function setup(project: TestProject) {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-test-pg-'));
  // The product's server settings, with a shorter delay of failed sign-ins: many tests send wrong
  // passwords on purpose (test/db/signInProtection.test.ts runs the product's own 500 ms).
  const server = await startEmbeddedPostgres({
    dataDir,
    port: await freePort(),
    durable: false,
    signInDelayMs: 100,
  });
  const admin = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.superuser,
    password: server.superuserPassword,
    database: 'postgres',
  });
  await admin.connect();
  await admin.query(`create database ${templateDatabase}`);
  await admin.end();
  const template = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.superuser,
    password: server.superuserPassword,
    database: templateDatabase,
  });
  await template.connect();
  await migrate(template, readMigrationFiles(migrationsDir));
  await template.end();

  project.provide('testServer', {
    host: server.host,
    port: server.port,
    superuser: server.superuser,
    password: server.superuserPassword,
    version: server.version,
  });
  return async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

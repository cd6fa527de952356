// The embedded backend makes the diary event store's coming months at every start (migration 0060):
// a partition missing when it starts (as the next month is after a month of running) is there once
// it has started, and the start says so in its log.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedDatabase } from '../../src/main/backend/backendConfig';
import { type EmbeddedBackend, startEmbeddedBackend } from '../../src/main/backend/embedded/embeddedBackend';
import { findMigrationsDir } from '../../src/main/backend/migrationsDir';
import { freePort } from './support/freePort';

describe('the embedded backend makes diary partitions ahead at every start [DIARY-PARTITION-AHEAD]', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-partitions-'));
  const logLines: string[] = [];
  let backend: EmbeddedBackend | null = null;

  const start = async () =>
    startEmbeddedBackend({
      dataDir,
      port: await freePort(),
      migrationsDir: findMigrationsDir(),
      log: (line) => logLines.push(line),
      seed: false,
    });
  const asOperator = async <T>(work: (operator: pg.Client) => Promise<T>): Promise<T> => {
    const running = backend as EmbeddedBackend;
    const operator = new pg.Client({
      host: running.address.host,
      port: running.address.port,
      database: embeddedDatabase,
      user: 'countersign_owner',
      password: readFileSync(join(dataDir, 'backend', 'postgres-owner.secret'), 'utf8').trim(),
    });
    await operator.connect();
    try {
      return await work(operator);
    } finally {
      await operator.end();
    }
  };
  const lastMonth = (operator: pg.Client) =>
    operator
      .query<{ name: string }>(
        `select 'diary.record_audit_y' || to_char((now() at time zone 'UTC') + interval '12 months', 'YYYY"m"MM') as name`,
      )
      .then((result) => result.rows[0]?.name as string);

  afterAll(async () => {
    await backend?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('makes a missing month of the next twelve when it starts again', async () => {
    backend = await start();
    const missing = await asOperator(async (operator) => {
      const name = await lastMonth(operator);
      // The furthest month taken away, as if the backend had last started a month ago.
      await operator.query(`drop table ${name}`);
      return name;
    });
    await backend.stop();
    backend = null;
    logLines.length = 0;

    backend = await start();
    expect(logLines).toContain(`embedded backend: made diary event store partitions ${missing}`);
    const present = await asOperator(
      async (operator) =>
        (await operator.query('select to_regclass($1) is not null as p', [missing])).rows[0].p,
    );
    expect(present).toBe(true);
  });
});

// The workstation end to end on its own embedded PostgreSQL, as `npm start` runs it: first start
// migrates and seeds the demo, people sign in as their own database logins and see their queue, a
// second start keeps the data, and the problems a person can meet each give a clear message.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wrongCredentials } from '../../src/main/backend/postgres/postgresSession';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import type { BackendStatus } from '../../src/shared/contract';
import { queueRowsOf } from '../../src/shared/stagingQueueColumns';
import { freePort } from './support/freePort';

describe('workstation on the embedded demo backend', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-workstation-'));
  let port: number;
  let workstation: Workstation | null = null;
  const lines: string[] = [];

  const start = async (env: Record<string, string> = {}) => {
    workstation = await createWorkstation({
      dataDir,
      env: { COUNTERSIGN_PG_PORT: String(port), ...env },
      log: (line) => lines.push(line),
    });
    await workstation.backendSettled;
    return workstation;
  };
  const stop = async () => {
    await workstation?.close();
    workstation = null;
  };
  const status = async (): Promise<BackendStatus> =>
    (workstation as Workstation).handlers['backend.status']({});
  const person = async (role: string) => {
    const user = (await status()).demoUsers.find((candidate) => candidate.roles.includes(role));
    if (!user) throw new Error(`the demo has no ${role}`);
    return user;
  };

  beforeAll(async () => {
    port = await freePort();
    await start();
  });
  afterAll(async () => {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts, migrates and seeds the demo on first start', async () => {
    const current = await status();
    expect(current).toMatchObject({ mode: 'embedded', state: 'ready', session: null });
    expect(current.serverVersion).toMatch(/^18\./);
    expect(current.schemaVersion).toMatch(/^\d{4}_/);
    const roles = new Set(current.demoUsers.flatMap((user) => user.roles));
    for (const role of ['signer', 'inspector', 'investigator', 'patient', 'agent', 'admin'])
      expect(roles).toContain(role);
  });

  it('refuses a wrong password with a message a person can act on', async () => {
    const signer = await person('signer');
    const result = await (workstation as Workstation).handlers['session.signIn']({
      email: signer.email,
      password: 'not-the-password',
    });
    expect(result).toEqual({ ok: false, error: wrongCredentials });
    const unknown = await (workstation as Workstation).handlers['session.signIn']({
      email: 'nobody@nowhere.test',
      password: 'x',
    });
    expect(unknown).toEqual({ ok: false, error: wrongCredentials });
  });

  it('signs a signer in as their own login and pages the staging queue by keyset', async () => {
    const signer = await person('signer');
    const handlers = (workstation as Workstation).handlers;
    const signedIn = await handlers['session.signIn']({ email: signer.email, password: signer.password });
    expect(signedIn.ok).toBe(true);
    expect((await status()).session).toMatchObject({
      email: signer.email,
      roles: expect.arrayContaining(['signer']),
    });

    const first = await handlers['staging.queue']({ limit: 50, after: null, states: [], studyId: null });
    const firstRows = queueRowsOf(first.columns);
    expect(firstRows).toHaveLength(50);
    expect(first.nextCursor).not.toBeNull();
    const second = await handlers['staging.queue']({
      limit: 50,
      after: first.nextCursor,
      states: [],
      studyId: null,
    });
    const firstIds = new Set(first.columns.id);
    expect(second.columns.id.some((id) => firstIds.has(id))).toBe(false);
    expect((second.columns.createdAt[0] ?? '') >= (firstRows.at(-1)?.createdAt ?? '')).toBe(true);
    const counts = first.countsByState;
    if (counts === null) throw new Error('the first page carries the counts');
    const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
    expect(total).toBeGreaterThan(50);

    const reviewing = await handlers['staging.queue']({
      limit: 500,
      after: null,
      states: ['reviewing'],
      studyId: null,
    });
    expect(reviewing.columns.id.length).toBe(counts.reviewing);
    expect(reviewing.columns.state.every((state) => state === 'reviewing')).toBe(true);
  });

  it('shows a patient no staging at all (RLS, not the client, decides)', async () => {
    const patient = await person('patient');
    const handlers = (workstation as Workstation).handlers;
    expect((await handlers['session.signIn']({ email: patient.email, password: patient.password })).ok).toBe(
      true,
    );
    const page = await handlers['staging.queue']({ limit: 100, after: null, states: [], studyId: null });
    expect(page.columns.id).toEqual([]);
    expect(Object.values(page.countsByState ?? { missing: 1 }).every((n) => n === 0)).toBe(true);
    await handlers['session.signOut']({});
    await expect(
      handlers['staging.queue']({ limit: 10, after: null, states: [], studyId: null }),
    ).rejects.toThrow(/Sign in/);
  });

  it('keeps the data on a second start, and does not seed again', async () => {
    const countStaging = async () => {
      const address = JSON.parse(readFileSync(join(dataDir, 'backend.json'), 'utf8'));
      const signer = await person('signer');
      const client = new pg.Client({ ...address, user: signer.email, password: signer.password });
      await client.connect();
      const { rows } = await client.query('select count(*)::int as n from cro.staging_record');
      await client.end();
      return rows[0].n as number;
    };
    const before = await countStaging();
    await stop();
    await start();
    expect((await status()).state).toBe('ready');
    expect(await countStaging()).toBe(before);
    expect(lines.filter((line) => line.includes('seeding the demo'))).toHaveLength(1);
  });

  it('recovers from a stale lock left by a crashed server', async () => {
    await stop();
    writeFileSync(join(dataDir, 'backend', 'postgres', 'postmaster.pid'), '999999\n/nowhere\n');
    await start();
    expect((await status()).state).toBe('ready');
    expect(lines.some((line) => line.includes('stale lock'))).toBe(true);
  });

  it('refuses to share its data folder with another running Countersign', async () => {
    const other = spawn('sleep', ['30']);
    const ownerFile = join(dataDir, 'backend', 'owner.pid');
    const ours = readFileSync(ownerFile, 'utf8');
    writeFileSync(ownerFile, `${other.pid}\n`);
    try {
      const second = await createWorkstation({
        dataDir,
        env: { COUNTERSIGN_PG_PORT: String(await freePort()) },
      });
      await second.backendSettled;
      const current = await second.handlers['backend.status']({});
      expect(current.state).toBe('error');
      expect(current.message).toMatch(
        new RegExp(`in use by another running Countersign \\(pid ${other.pid}\\)`),
      );
      await second.close();
      expect((await status()).state).toBe('ready'); // the first one is untouched
    } finally {
      writeFileSync(ownerFile, ours);
      other.kill();
    }
  });

  it('says clearly when its port is taken by another program', async () => {
    await stop();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      await start();
      const current = await status();
      expect(current.state).toBe('error');
      expect(current.message).toMatch(new RegExp(`Port ${port} .* in use.*COUNTERSIGN_PG_PORT`));
      const signIn = await (workstation as Workstation).handlers['session.signIn']({
        email: 'a@b.c',
        password: 'x',
      });
      expect(signIn).toMatchObject({ ok: false, error: expect.stringMatching(/not available/) });
    } finally {
      await stop();
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('refuses a data folder whose schema is newer than this version', async () => {
    await start();
    const address = JSON.parse(readFileSync(join(dataDir, 'backend.json'), 'utf8'));
    const secret = readFileSync(join(dataDir, 'backend', 'postgres-owner.secret'), 'utf8');
    const operator = new pg.Client({ ...address, user: 'countersign_owner', password: secret });
    await operator.connect();
    await operator.query(
      `insert into countersign_meta.schema_migrations (name, checksum) values ('9999_from_the_future.sql', 'x')`,
    );
    await operator.end();
    await stop();
    await start();
    const current = await status();
    expect(current.state).toBe('error');
    expect(current.message).toMatch(/9999_from_the_future\.sql.*created by a newer version/);
  });
});

// Sign-in protection on the embedded server, as the product runs it (migration 0048 and
// src/main/backend/embedded): a real embedded backend with its sign-in guard, attacked with nothing
// but database logins. Failed sign-ins are delayed, counted per person, audited, locked at five
// with an alert, and unlocked by an administrator; a password changes only through Countersign.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedDatabase } from '../../src/main/backend/backendConfig';
import { type EmbeddedBackend, startEmbeddedBackend } from '../../src/main/backend/embedded/embeddedBackend';
import { findMigrationsDir } from '../../src/main/backend/migrationsDir';
import { parseFailedSignIn } from '../../src/main/backend/postgres/signInGuard';
import { provisionPerson } from '../../src/main/backend/provisioning';
import { freePort } from './support/freePort';
import { newReauthenticatingAdmin, type ReauthenticatingAdmin } from './support/reauthenticatingAdmin';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const password = 'Lantern-Compass-2025';
const wrong = 'Not-The-Password-99';

describe('sign-in protection on the embedded server [SEC-SIGN-IN-LOCK, CFR-11.300d]', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-signin-'));
  const logLines: string[] = [];
  const clients: pg.Client[] = [];
  const admins: ReauthenticatingAdmin[] = [];
  let backend: EmbeddedBackend;
  let operator: pg.Client;
  let people = 0;
  let adminEmail: string;

  const connectAs = async (user: string, secret: string, database = embeddedDatabase) => {
    const client = new pg.Client({
      host: backend.address.host,
      port: backend.address.port,
      database,
      user,
      password: secret,
    });
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  };
  const tryConnect = async (user: string, secret: string, database = embeddedDatabase) => {
    try {
      const client = await connectAs(user, secret, database);
      await client.end();
      return 'connected';
    } catch (error) {
      return (error as Error).message;
    }
  };
  const newPerson = async (
    roles: { role: 'signer' | 'admin'; studyId: null }[] = [{ role: 'signer', studyId: null }],
  ) => {
    const email = `person${++people}@signin.test`;
    const id = await provisionPerson(operator, {
      email,
      printedName: `Pat Person ${people}`,
      password,
      roles,
    });
    return { id, email };
  };
  let unlockingAdmins = 0;
  const reauthenticatingAdmin = async () => {
    const admin = await newReauthenticatingAdmin(
      (spec) => provisionPerson(operator, spec),
      backend.address,
      async (email, secret) => connectAs(email, secret),
      `unlocking-admin${++unlockingAdmins}@signin.test`,
      password,
    );
    admins.push(admin);
    return admin;
  };
  const count = async (sql: string, params: unknown[]) =>
    Number((await operator.query(`select count(*) as n from (${sql}) q`, params)).rows[0].n);
  /** The guard works asynchronously; wait until what it was fed is reported. */
  const settled = () => backend.signInGuard.settled();
  const locked = async (userId: string) =>
    (await operator.query('select cs_private.sign_in_locked($1) as l', [userId])).rows[0].l as boolean;

  beforeAll(async () => {
    backend = await startEmbeddedBackend({
      dataDir,
      port: await freePort(),
      migrationsDir: findMigrationsDir(),
      log: (line) => logLines.push(line),
      seed: false,
    });
    const secret = readFileSync(join(dataDir, 'backend', 'postgres-owner.secret'), 'utf8').trim();
    operator = await connectAs('countersign_owner', secret);
    adminEmail = (await newPerson([{ role: 'admin', studyId: null }])).email;
  });
  afterAll(async () => {
    await Promise.all(admins.map((admin) => admin.close()));
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
    await backend?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is configured out of the box: delay, lock threshold, login trigger, guard, one database', async () => {
    const { email } = await newPerson();
    const client = await connectAs(email, password);
    const { rows } = await client.query('select public.sign_in_protection() as p');
    expect(rows[0].p).toMatchObject({
      auth_delay_ms: 500,
      lock_threshold: 5,
      login_trigger: true,
      password_fingerprints: true,
      other_databases_open: [],
    });
    expect(rows[0].p.guard_seen_at).not.toBeNull();
  });

  it('delays every failed sign-in', async () => {
    const { email } = await newPerson();
    const started = performance.now();
    expect(await tryConnect(email, wrong)).toMatch(/password authentication failed/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('counts 40 wrong passwords at once, locks at five with one alert, and then refuses the right one', async () => {
    const victim = await newPerson();
    const results = await Promise.all(Array.from({ length: 40 }, () => tryConnect(victim.email, wrong)));
    expect(results.every((result) => /password authentication failed/.test(result))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await settled();
    expect(await locked(victim.id)).toBe(true);
    expect(await count('select 1 from cs_private.sign_in_failure where user_id = $1', [victim.id])).toBe(40);
    expect(
      await count(`select 1 from audit.security_alert where kind = 'sign_in_locked' and user_id = $1`, [
        victim.id,
      ]),
    ).toBe(1);
    expect(
      await count(
        `select 1 from audit.audit_log where event_type = 'sign_in.failed' and payload ->> 'user_id' = $1`,
        [victim.id],
      ),
    ).toBe(5);
    // The right password now fails exactly as a wrong one does: no oracle while locked.
    expect(await tryConnect(victim.email, password)).toMatch(/password authentication failed/);
    // Nothing the guard logs names the login or carries a password.
    for (const line of logLines) {
      expect(line).not.toContain(victim.email);
      expect(line).not.toContain(wrong);
      expect(line).not.toContain(password);
    }
  });

  it('counts failures in a row: a successful sign-in starts the count again', async () => {
    const person = await newPerson();
    for (let i = 0; i < 4; i++) await tryConnect(person.email, wrong);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await settled();
    expect(await tryConnect(person.email, password)).toBe('connected');
    for (let i = 0; i < 4; i++) await tryConnect(person.email, wrong);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await settled();
    expect(await locked(person.id)).toBe(false);
    expect(await tryConnect(person.email, password)).toBe('connected');
  });

  it('is unlocked by an administrator only, with a reason, never their own account', async () => {
    const victim = await newPerson();
    await Promise.all(Array.from({ length: 5 }, () => tryConnect(victim.email, wrong)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await settled();
    expect(await locked(victim.id)).toBe(true);

    const other = await newPerson();
    const asOther = await connectAs(other.email, password);
    await expect(
      asOther.query('select public.unlock_account($1, $2, $3, $4)', [
        victim.id,
        'sign_in',
        'me',
        randomUUID(),
      ]),
    ).rejects.toThrow(/only an administrator/);
    // Since 0056 an unlock also needs the administrator's own re-authentication (one rule for both locks).
    const admin = await reauthenticatingAdmin();
    await expect(admin.unlock(victim.id, 'sign_in', ' ')).rejects.toThrow(/say why/);
    await expect(
      admin.client.query('select public.unlock_account($1, $2, $3, $4)', [
        admin.id,
        'sign_in',
        'self',
        randomUUID(),
      ]),
    ).rejects.toThrow(/cannot unlock an account for their own account/);
    await admin.unlock(victim.id, 'sign_in', 'Confirmed by phone with the person');
    expect(await tryConnect(victim.email, password)).toBe('connected');
    expect(
      await count(
        `select 1 from audit.audit_log where event_type = 'sign_in.unlocked' and payload ->> 'user_id' = $1
           and payload ->> 'reason' = 'Confirmed by phone with the person'`,
        [victim.id],
      ),
    ).toBe(1);
  });

  it('changes a password only through change_my_password: policy, fresh login, audit', async () => {
    const person = await newPerson();
    const fresh = await connectAs(person.email, password);
    for (const [weak, why] of [
      ['short-1', /at least 12/],
      [`${person.email.split('@')[0]}-is-mine`, /user name/],
      ['Pat-Person-Rocks-1', /your name/],
      ['abcdefghijklmnop', /letters and other/],
      ['MyPassword-2026!', /too common/],
    ] as const) {
      await expect(
        fresh.query('select public.change_my_password($1, $2)', [password, weak]),
        weak,
      ).rejects.toThrow(why);
    }
    await fresh.query('select public.change_my_password($1, $2)', [password, 'Orchard-Beacon-7741']);
    expect(await tryConnect(person.email, 'Orchard-Beacon-7741')).toBe('connected');
    expect(await tryConnect(person.email, password)).toMatch(/password authentication failed/);
    const { rows } = await operator.query(
      `select payload::text as p from audit.audit_log where event_type = 'password.changed' and payload ->> 'user_id' = $1`,
      [person.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].p).not.toContain('Orchard');
  });

  it('locks an account whose password was set with ALTER ROLE: sign-in refused, alert, sessions ended', async () => {
    const person = await newPerson();
    const session = await connectAs(person.email, password);
    await session.query(`alter role ${session.escapeIdentifier(person.email)} password 'Sneaky-Change-2026'`);
    // The next sign-in with the new password is refused by the login trigger ...
    expect(await tryConnect(person.email, 'Sneaky-Change-2026')).toMatch(/changed outside Countersign/);
    // ... and within a poll the guard locks the account, raises the alert and ends the session.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await settled();
    expect(await locked(person.id)).toBe(true);
    expect(
      await count(
        `select 1 from audit.security_alert where kind = 'password_changed_outside' and user_id = $1`,
        [person.id],
      ),
    ).toBe(1);
    await expect(session.query('select 1')).rejects.toThrow();
    // Unlocking alone is refused: the password is someone else's now. The administrator sets one.
    await expect((await reauthenticatingAdmin()).unlock(person.id, 'sign_in', 'checked')).rejects.toThrow(
      /reset_password/,
    );
    const admin = await connectAs(adminEmail, password);
    await admin.query('select public.reset_password($1, $2, $3)', [
      person.id,
      'Temporary-Heron-5521',
      'Password changed outside Countersign',
    ]);
    expect(await tryConnect(person.email, 'Temporary-Heron-5521')).toBe('connected');
  });

  it('lets a person connect to the project database only', async () => {
    const person = await newPerson();
    expect(await tryConnect(person.email, password, 'postgres')).toMatch(/permission denied for database/);
    expect(await tryConnect(person.email, password, 'template1')).toMatch(/permission denied for database/);
    expect(await tryConnect(person.email, password)).toBe('connected');
  });
});

describe('the sign-in guard reads only what the server wrote', () => {
  it('takes the time, client and login of a failed password authentication', () => {
    expect(
      parseFailedSignIn(
        '2026-12-07 06:40:11.123 UTC [4242] 28P01 127.0.0.1 FATAL:  password authentication failed for user "a@b.test"',
      ),
    ).toEqual({ login: 'a@b.test', at: new Date('2026-12-07T06:40:11.123Z'), clientAddr: '127.0.0.1' });
  });

  it('ignores other lines, and cannot be fed a forged line inside a login name', () => {
    expect(
      parseFailedSignIn('2026-12-07 06:40:11.123 UTC [4242] 00000 127.0.0.1 LOG:  checkpoint starting'),
    ).toBe(null);
    // A newline in a user name continues the message on a tab-indented line: never a line of its own.
    expect(
      parseFailedSignIn(
        '\t2026-12-07 06:40:11.123 UTC [1] 28P01 127.0.0.1 FATAL:  password authentication failed for user "victim"',
      ),
    ).toBe(null);
    expect(
      parseFailedSignIn(
        '2026-12-07 06:40:11.123 UTC [4242] 28000 127.0.0.1 FATAL:  password authentication failed for user "x"',
      ),
    ).toBe(null);
  });
});

describe('npx countersign sign-in-guard, for a PostgreSQL server of your own [SEC-SIGN-IN-LOCK]', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("reads the server's log on standard input and locks a login at the fifth failure", async () => {
    const email = db.email('guarded');
    const id = await db.provision({ email, printedName: 'Gus Guarded', password, roles: [] });
    const line = (second: number) =>
      `2026-12-07 06:40:${String(second).padStart(2, '0')}.123 UTC [4242] 28P01 10.1.2.3 FATAL:  password authentication failed for user "${email}"\n`;
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('../../bin/countersign.mjs', import.meta.url)), 'sign-in-guard'],
      {
        env: {
          ...process.env,
          PGHOST: db.server.host,
          PGPORT: String(db.server.port),
          PGDATABASE: db.name,
          PGUSER: db.server.superuser,
          PGPASSWORD: db.server.password,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // A line of another kind, a line cut in two chunks, and five failures.
    child.stdin.write('2026-12-07 06:40:00.000 UTC [4242] 00000 [local] LOG:  checkpoint starting: time\n');
    const first = line(1);
    child.stdin.write(first.slice(0, 30));
    child.stdin.write(first.slice(30));
    for (let second = 2; second <= 5; second++) child.stdin.write(line(second));
    child.stdin.end();
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(0);

    const { rows } = await db.operator.query(
      `select (select count(*)::int from cs_private.sign_in_failure where user_id = $1) as failures,
              cs_private.sign_in_locked($1) as locked,
              (select client_addr from cs_private.sign_in_failure where user_id = $1 limit 1) as client,
              (select rolvaliduntil = '-infinity' from pg_roles where rolname = $2) as refused,
              (select value is not null from cs_private.security_setting where name = 'sign_in_guard_seen_at') as seen`,
      [id, email],
    );
    expect(rows[0]).toEqual({ failures: 5, locked: true, client: '10.1.2.3', refused: true, seen: true });
    expect(stderr).not.toContain(email);
  });
});

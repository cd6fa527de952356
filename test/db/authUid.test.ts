// auth.uid() is who the server says is calling. On a person's own login it comes from the login
// role and cannot be changed with set_config; only operator (and, hosted, PostgREST) connections
// may speak for someone through request.jwt.claims.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('auth.uid() [CFR-11.10d]', () => {
  let db: TestDatabase;
  let aliceId: string;
  let bobId: string;
  let alice: pg.Client;

  const uid = async (client: pg.ClientBase) => (await client.query('select auth.uid() as id')).rows[0].id;

  beforeAll(async () => {
    db = await createTestDatabase();
    aliceId = await db.provision({
      email: db.email('alice'),
      printedName: 'Alice',
      password: 'alice-pass-1234',
      roles: [],
    });
    bobId = await db.provision({
      email: db.email('bob'),
      printedName: 'Bob',
      password: 'bob-pass-12345',
      roles: [{ role: 'admin', studyId: null }],
    });
    alice = await db.connectAs(db.email('alice'), 'alice-pass-1234');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('is the signed-in person on their own login', async () => {
    expect(await uid(alice)).toBe(aliceId);
  });

  it("cannot be spoofed with set_config on a person's own login, at session or transaction level", async () => {
    await alice.query(`select set_config('request.jwt.claims', $1, false)`, [
      JSON.stringify({ sub: bobId, role: 'authenticated' }),
    ]);
    expect(await uid(alice)).toBe(aliceId);
    await alice.query('begin');
    await alice.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: bobId })]);
    expect(await uid(alice)).toBe(aliceId);
    // Bob is an admin: a successful spoof would reveal every role assignment.
    const { rows } = await alice.query('select count(*) from cro.role_assignment');
    expect(Number(rows[0].count)).toBe(0);
    await alice.query('rollback');
  });

  it('cannot be changed by switching role: a person is a member of `authenticated` only', async () => {
    await expect(alice.query(`set role ${alice.escapeIdentifier(db.email('bob'))}`)).rejects.toThrow(
      /permission denied/,
    );
    await expect(
      alice.query(`set session authorization ${alice.escapeIdentifier(db.email('bob'))}`),
    ).rejects.toThrow(/permission denied/);
    await alice.query('set role authenticated');
    expect(await uid(alice)).toBe(aliceId);
    await alice.query('reset role');
  });

  it('follows request.jwt.claims on an operator connection (how PostgREST and provisioning act)', async () => {
    await db.operator.query('begin');
    await db.operator.query(`select set_config('request.jwt.claims', $1, true)`, [
      JSON.stringify({ sub: bobId }),
    ]);
    expect(await uid(db.operator)).toBe(bobId);
    await db.operator.query('rollback');
    expect(await uid(db.operator)).toBeNull();
  });

  it('is null for a login that is not a Countersign person, whatever claims it sets', async () => {
    const role = `stranger.${db.tag}@example.test`;
    await db.operator.query(
      `create role ${db.operator.escapeIdentifier(role)} login password 'stranger-pass-1' in role authenticated`,
    );
    const stranger = await db.connectAs(role, 'stranger-pass-1');
    await stranger.query(`select set_config('request.jwt.claims', $1, false)`, [
      JSON.stringify({ sub: bobId }),
    ]);
    expect(await uid(stranger)).toBeNull();
    expect((await stranger.query('select count(*) from cro.study')).rows[0].count).toBe('0');
  });

  it('a person cannot reach the private schema: no login mapping, no TOTP secrets, no audit append', async () => {
    await expect(alice.query('select * from cs_private.login_role')).rejects.toMatchObject({ code: '42501' });
    await expect(alice.query('select * from cs_private.totp_factor')).rejects.toMatchObject({
      code: '42501',
    });
    await expect(alice.query(`select cs_private.audit_append('forged', '{}')`)).rejects.toMatchObject({
      code: '42501',
    });
    await expect(
      alice.query(`insert into cs_private.login_role values ('x', $1)`, [bobId]),
    ).rejects.toMatchObject({ code: '42501' });
  });
});

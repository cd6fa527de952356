// A re-authentication attempt is committed before any answer about its code is given (migration
// 0045). Attacked here as a person who knows a signer's password (and so holds the signer's login)
// would: every way of wrapping the call so that a wrong code could be rolled back, a function of
// their own, many connections at once, and a stale snapshot. Each wrong code must be counted, the
// fifth lock signing and raise an alert, and no answer ever come out of an attempt that is not
// committed.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSigningWorld, password, type Signer, type SigningWorld } from './support/signingWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const wrongCode = (code: string) => String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');

describe('re-authentication attempts are committed before they are answered [CFR-11.300d, SEC-ATTEMPTS-COMMITTED]', () => {
  let db: TestDatabase;
  let world: SigningWorld;

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildSigningWorld(db);
  });
  afterAll(async () => {
    await world?.close();
    await db?.drop();
  });

  /** What the operator sees of a signer's attempts: committed state only. */
  async function ledger(userId: string) {
    const { rows } = await db.operator.query<{ outcome: string; n: string }>(
      'select outcome, count(*) as n from cs_private.reauth_attempt where user_id = $1 group by 1',
      [userId],
    );
    const outcomes = Object.fromEntries(rows.map((row) => [row.outcome, Number(row.n)]));
    const failures = (
      await db.operator.query<{ n: number }>('select cs_private.consecutive_reauth_failures($1) as n', [
        userId,
      ])
    ).rows[0]?.n;
    const locked = (
      await db.operator.query<{ locked: boolean }>('select cs_private.signing_locked($1) as locked', [userId])
    ).rows[0]?.locked;
    const alerts = await world.count(
      `select 1 from audit.security_alert where kind = 'signing_locked' and user_id = $1`,
      [userId],
    );
    const submitted = await world.count(
      `select 1 from audit.audit_log where event_type = 'reauth.code_submitted' and payload ->> 'user_id' = $1`,
      [userId],
    );
    return { outcomes, failures, locked, alerts, submitted };
  }

  /** begin_reauth on the signer's session, then a fresh login: what a try needs. */
  async function newAttempt(signer: Signer): Promise<{ attemptId: string; fresh: pg.Client }> {
    const session = await db.connectAs(signer.email, password);
    const begun = (await session.query('select public.begin_reauth($1) as r', [randomUUID()])).rows[0].r;
    await session.end();
    if (!begun.ok) throw new Error(`begin_reauth refused: ${JSON.stringify(begun)}`);
    return { attemptId: begun.attempt_id, fresh: await db.connectAs(signer.email, password) };
  }

  it('answers a code only through the procedure, after the attempt is committed', async () => {
    const signer = await world.newSigner();
    const { attemptId, fresh } = await newAttempt(signer);
    const { rows } = await fresh.query('call public.complete_reauth($1, $2, null)', [
      attemptId,
      wrongCode(signer.code()),
    ]);
    expect(rows[0].result).toMatchObject({ ok: false, reason: 'totp_wrong', attempts_left: 4 });
    expect(await ledger(signer.id)).toMatchObject({
      outcomes: { failed_totp: 1 },
      failures: 1,
      submitted: 1,
    });
  });

  it('gives no answer inside BEGIN … ROLLBACK, a savepoint, or a DO block with an exception handler', async () => {
    const signer = await world.newSigner();
    const wrappings: [string, (client: pg.Client, sql: string) => Promise<unknown>][] = [
      [
        'BEGIN … ROLLBACK',
        async (client, sql) => {
          await client.query('begin');
          try {
            return await client.query(sql);
          } finally {
            await client.query('rollback');
          }
        },
      ],
      [
        'SAVEPOINT',
        async (client, sql) => {
          await client.query('begin');
          await client.query('savepoint probe');
          try {
            return await client.query(sql);
          } finally {
            await client.query('rollback');
          }
        },
      ],
      [
        'DO block with an exception handler',
        async (client, sql) => {
          const notices: string[] = [];
          client.on('notice', (notice) => notices.push(String(notice.message)));
          await client.query(
            `do $$ declare r jsonb; begin ${sql.replace('null', 'r')}; raise notice 'answer %', r;
             exception when others then raise notice 'refused %', sqlerrm; end $$`,
          );
          if (notices.some((notice) => notice.startsWith('answer'))) return notices;
          throw new Error(notices.join('; '));
        },
      ],
    ];
    for (const [name, wrap] of wrappings) {
      const { attemptId, fresh } = await newAttempt(signer);
      const sql = `call public.complete_reauth('${attemptId}', '${signer.code()}', null)`;
      await expect(wrap(fresh, sql), name).rejects.toThrow(/invalid transaction termination/);
      await fresh.end();
    }
    // Nothing was answered and nothing was submitted; the attempts left pending count as failed
    // passwords at the next begin_reauth (0013), like any abandoned attempt.
    await newAttempt(signer);
    expect(await ledger(signer.id)).toMatchObject({
      outcomes: { failed_password: 3, pending: 1 },
      failures: 3,
      submitted: 0,
    });
  });

  it('gives no answer from a function of their own', async () => {
    const signer = await world.newSigner();
    const { attemptId, fresh } = await newAttempt(signer);
    // A person may create no function here at all ...
    await expect(
      fresh.query('create function public.mine() returns int language sql as $$ select 1 $$'),
    ).rejects.toThrow(/permission denied/);
    // ... but on a server where they could, the procedure still refuses to run inside one.
    const schema = `own_${db.tag}_${signer.id.slice(0, 8)}`;
    await db.operator.query(`create schema ${schema} authorization ${fresh.escapeIdentifier(signer.email)}`);
    await fresh.query(
      `create function ${schema}.try_code(a uuid, c text) returns jsonb language plpgsql as $$
         declare r jsonb; begin call public.complete_reauth(a, c, r); return r; end $$`,
    );
    await expect(
      fresh.query(`select ${schema}.try_code($1, $2)`, [attemptId, signer.code()]),
    ).rejects.toThrow(/invalid transaction termination/);
    await db.operator.query(`drop schema ${schema} cascade`);
    expect((await ledger(signer.id)).submitted).toBe(0);
  });

  it('refuses to judge a code whose submission is not committed', async () => {
    const signer = await world.newSigner();
    const { attemptId, fresh } = await newAttempt(signer);
    await fresh.query('begin');
    await fresh.query('select cs_private.submit_reauth_code($1, $2)', [attemptId, signer.code()]);
    await expect(fresh.query('select cs_private.judge_reauth_code($1)', [attemptId])).rejects.toMatchObject({
      code: 'CS409',
      message: expect.stringMatching(/not committed yet/),
    });
    await fresh.query('rollback');
    expect(await ledger(signer.id)).toMatchObject({ submitted: 0, outcomes: { pending: 1 } });
  });

  it('counts every code even when the judgement is rolled back: five codes, then locked, with one alert', async () => {
    const signer = await world.newSigner();
    const answers: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const { attemptId, fresh } = await newAttempt(signer);
      // The submission is committed on its own (autocommit) ...
      await fresh.query('select cs_private.submit_reauth_code($1, $2)', [
        attemptId,
        wrongCode(signer.code()),
      ]);
      // ... and the judgement asked inside a transaction that is rolled back.
      await fresh.query('begin');
      answers.push(
        (await fresh.query('select cs_private.judge_reauth_code($1) as r', [attemptId])).rows[0].r,
      );
      await fresh.query('rollback');
      // Asking again judges the same stored code: no second guess from one attempt.
      await expect(
        fresh.query('select cs_private.submit_reauth_code($1, $2)', [attemptId, signer.code()]),
      ).rejects.toThrow(/is checking, not pending/);
      await fresh.end();
    }
    expect(answers.every((answer) => (answer as { ok: boolean }).ok === false)).toBe(true);
    const state = await ledger(signer.id);
    expect(state).toMatchObject({
      outcomes: { checking: 5 },
      failures: 5,
      locked: true,
      alerts: 1,
      submitted: 5,
    });

    // The sixth try is refused before any code is looked at, even the right one.
    const session = await db.connectAs(signer.email, password);
    const begun = (await session.query('select public.begin_reauth($1) as r', [randomUUID()])).rows[0].r;
    expect(begun).toMatchObject({ ok: false, reason: 'locked' });
    expect(await signer.backend.reauthenticate(randomUUID(), password, signer.code())).toMatchObject({
      ok: false,
      reason: 'locked',
    });
    expect((await ledger(signer.id)).alerts).toBe(1);
  });

  it('locks at the fifth code submitted, before it is checked, and lifts the lock if that code was right', async () => {
    const signer = await world.newSigner();
    for (let i = 0; i < 4; i++) {
      expect(
        await signer.backend.reauthenticate(randomUUID(), password, wrongCode(signer.code())),
      ).toMatchObject({ ok: false, reason: 'totp_wrong', attemptsLeft: 4 - i });
    }
    // The fifth, with the right code: the lock and the alert are committed with its submission ...
    const outcome = await signer.backend.reauthenticate(randomUUID(), password, signer.code());
    expect(outcome.ok).toBe(true);
    // ... and the verified attempt lifted the lock it raised; the alert stays for the administrator.
    const state = await ledger(signer.id);
    expect(state).toMatchObject({ locked: false, failures: 0, alerts: 1 });
    expect(
      await world.count(
        `select 1 from audit.audit_log where event_type = 'signing.unlocked' and payload ->> 'user_id' = $1
            and payload -> 'unlocked_by' = 'null'::jsonb`,
        [signer.id],
      ),
    ).toBe(1);
  });

  it('counts codes sent from many connections at once, and locks exactly once', async () => {
    const signer = await world.newSigner();
    // Eight tries at once, each on its own pair of connections.
    const tries = await Promise.all(
      Array.from({ length: 8 }, async () => {
        try {
          const { attemptId, fresh } = await newAttempt(signer);
          const { rows } = await fresh.query('call public.complete_reauth($1, $2, null)', [
            attemptId,
            wrongCode(signer.code()),
          ]);
          return rows[0].result as { ok: boolean; reason: string };
        } catch (error) {
          return { ok: false, reason: (error as Error).message };
        }
      }),
    );
    expect(tries.every((t) => !t.ok)).toBe(true);
    const state = await ledger(signer.id);
    expect(state.locked).toBe(true);
    expect(state.alerts).toBe(1);
    expect(state.failures).toBeGreaterThanOrEqual(5);
    // Every code that was looked at was submitted (and counted) first.
    const judged = tries.filter((t) => t.reason.startsWith('totp_')).length;
    expect(judged).toBeLessThanOrEqual(state.submitted);
    expect(judged).toBeLessThanOrEqual(5);
  });

  it('refuses to count at REPEATABLE READ, where a snapshot could miss another connection’s attempts', async () => {
    const signer = await world.newSigner();
    const { attemptId, fresh } = await newAttempt(signer);
    await fresh.query('begin isolation level repeatable read');
    await expect(
      fresh.query('select cs_private.submit_reauth_code($1, $2)', [attemptId, signer.code()]),
    ).rejects.toThrow(/read committed only/);
    await fresh.query('rollback');
  });

  it("cannot submit or judge another person's attempt, nor test their codes directly", async () => {
    const victim = await world.newSigner();
    const attacker = await world.newSigner();
    const { attemptId } = await newAttempt(victim);
    const client = await db.connectAs(attacker.email, password);
    await expect(
      client.query('select cs_private.submit_reauth_code($1, $2)', [attemptId, victim.code()]),
    ).rejects.toThrow(/no re-authentication .* of yours/);
    await expect(client.query('select cs_private.judge_reauth_code($1)', [attemptId])).rejects.toThrow(
      /no re-authentication .* of yours/,
    );
    // Nor an attempt that does not exist.
    await expect(
      client.query('select cs_private.submit_reauth_code($1, $2)', [randomUUID(), attacker.code()]),
    ).rejects.toThrow(/no re-authentication .* of yours/);
    for (const sql of [
      'select cs_private.accept_totp($1, $2, true)',
      "select cs_private.match_totp($1, '', $2, 0, true)",
    ]) {
      await expect(client.query(sql, [victim.id, victim.code()]), sql).rejects.toThrow(/permission denied/);
    }
    // The victim's own code is still theirs to use.
    expect((await victim.backend.reauthenticate(randomUUID(), password, victim.code())).ok).toBe(true);
  });
});

// The hash chain of audit.audit_log: computed by the server under a lock, so that writers on many
// connections at once still produce one unbroken chain, which a client can recompute.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstBadServerEntry, type ServerChainEntry } from './support/serverChainWalk';
import { createTestDatabase, type TestDatabase } from './support/testServer';

async function readChain(db: TestDatabase): Promise<ServerChainEntry[]> {
  return (await db.operator.query<ServerChainEntry>('select * from audit.audit_log order by seq')).rows;
}

const verify = firstBadServerEntry;

describe('audit_log hash chain [AUDIT-CHAIN, CFR-11.10e]', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('starts with a genesis entry whose prev_hash is 64 zeros', async () => {
    const [genesis] = await readChain(db);
    expect(genesis).toMatchObject({ seq: '1', event_type: 'genesis', prev_hash: '0'.repeat(64) });
  });

  it('is recomputed byte for byte by the client (payload and entry hashes)', async () => {
    await db.operator.query(`select cs_private.audit_append('test.event', $1::jsonb)`, [
      JSON.stringify({ note: 'ünïcødé 😀', n: [1.5, 1e21, -0.000001], nested: { b: true, a: null } }),
    ]);
    expect(verify(await readChain(db))).toBeNull();
  });

  it('ignores the seq, time, actor and hashes a writer supplies: the server computes them', async () => {
    await db.operator.query(
      `insert into audit.audit_log (seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash)
       values (999, '2000-01-01', 'forged-actor', 'test.forged', '{}', $1, $1, $1)`,
      ['f'.repeat(64)],
    );
    const chain = await readChain(db);
    const last = chain.at(-1) as ServerChainEntry;
    expect(Number(last.seq)).toBe(chain.length);
    expect(last.actor).not.toBe('forged-actor');
    expect(last.occurred_at.getUTCFullYear()).toBeGreaterThan(2000);
    expect(verify(chain)).toBeNull();
  });

  it('stays one unbroken chain under concurrent appends from many connections', async () => {
    const writers = await Promise.all(Array.from({ length: 8 }, () => db.connectAsOperator()));
    const before = (await readChain(db)).length;
    await Promise.all(
      writers.map(async (writer, w) => {
        for (let i = 0; i < 25; i++) {
          await writer.query('begin');
          await writer.query(`select cs_private.audit_append('test.concurrent', $1::jsonb)`, [
            JSON.stringify({ w, i }),
          ]);
          // Hold the transaction open a moment so that writers really overlap.
          if (i % 5 === 0) await writer.query('select pg_sleep(0.002)');
          await writer.query('commit');
        }
      }),
    );
    const chain = await readChain(db);
    expect(chain.length).toBe(before + 200);
    expect(chain.map((entry) => Number(entry.seq))).toEqual(chain.map((_, index) => index + 1));
    expect(new Set(chain.map((entry) => entry.prev_hash)).size).toBe(chain.length);
    expect(verify(chain)).toBeNull();
  });

  it('a rolled-back write leaves no entry and no gap', async () => {
    const before = (await readChain(db)).length;
    await db.operator.query('begin');
    await db.operator.query(`select cs_private.audit_append('test.rolled_back', '{}')`);
    await db.operator.query('rollback');
    await db.operator.query(`select cs_private.audit_append('test.after_rollback', '{}')`);
    const chain = await readChain(db);
    expect(chain.length).toBe(before + 1);
    expect(chain.at(-1)?.event_type).toBe('test.after_rollback');
    expect(verify(chain)).toBeNull();
  });

  it('a client-side check finds a tampered entry (made by a superuser with triggers disabled) [CFR-11.10a]', async () => {
    await db.operator.query('begin');
    await db.operator.query('alter table audit.audit_log disable trigger audit_log_append_only');
    await db.operator.query(`update audit.audit_log set payload = '{"note":"tampered"}' where seq = 2`);
    const chain = await readChain(db);
    await db.operator.query('rollback');
    expect(verify(chain)).toBe(2);
  });
});

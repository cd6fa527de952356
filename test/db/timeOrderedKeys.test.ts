// New cro.* rows get version 7 (time-ordered) keys (0043_time_ordered_keys.sql), so that a
// workstation's first pull, which reads a stream in key order, walks the server's heap page by page.
// Checked here: the key a person's own insert gets, the order of keys made by one statement, the
// portable fallback used by servers older than PostgreSQL 18, and the heap order the pull relies on.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actingAs, createStudy, inTransaction } from './support/operatorActions';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const version7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** The Unix milliseconds in a version 7 UUID's first 48 bits. */
const millisOf = (uuid: string) => Number.parseInt(uuid.replace(/-/g, '').slice(0, 12), 16);

describe('time-ordered keys', () => {
  let db: TestDatabase;
  let agent: pg.Client;
  let adminId: string;
  let studyId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    adminId = await db.provision({
      email: db.email('admin'),
      printedName: 'Admin',
      password: 'admin-pass-1234',
      roles: [{ role: 'admin', studyId: null }],
    });
    studyId = await createStudy(db.operator, adminId, 'KEYS-1');
    await db.provision({
      email: db.email('agent'),
      printedName: 'Agent',
      password: 'agent-pass-1234',
      roles: [{ role: 'agent', studyId }],
      agentId: 'agent:keys',
    });
    agent = await db.connectAs(db.email('agent'), 'agent-pass-1234');
  });
  afterAll(async () => {
    await agent?.end();
    await db.drop();
  });

  it("gives a person's own insert a version 7 key made now", async () => {
    const before = Date.now();
    const { rows } = await agent.query<{ id: string }>(
      `insert into cro.staging_record (entity_kind, study_id, agent_id, proposed_state, created_by)
       values ('study_kpi', $1, 'agent:keys', '{"label": "Keys", "position": 1}', auth.uid()) returning id`,
      [studyId],
    );
    const id = rows[0]?.id as string;
    expect(id).toMatch(version7);
    // The server's clock and this process's are the same machine's; allow for rounding only.
    expect(millisOf(id)).toBeGreaterThanOrEqual(before - 5);
    expect(millisOf(id)).toBeLessThanOrEqual(Date.now() + 5);
  });

  it('makes the keys of one statement in the order its rows are inserted', async () => {
    const ids = await actingAs(
      db.operator,
      adminId,
      async () => {
        const { rows } = await db.operator.query<{ id: string }>(
          `insert into cro.provenance_event (study_id, actor_kind, actor_id, action, subject_kind, subject_id,
             retrieved_context, payload)
           select $1, 'agent', 'agent:keys', 'propose', 'staging_record', 'bulk-' || n, '[]', '{}'
           from generate_series(1, 5000) as n returning id`,
          [studyId],
        );
        return rows.map((row) => row.id);
      },
      { bootstrap: true },
    );
    expect(ids).toHaveLength(5000);
    for (const id of ids) expect(id).toMatch(version7);
    expect([...ids].sort()).toEqual(ids);
  });

  it('lays rows on the heap in key order, which the first pull reads in', async () => {
    await db.operator.query('analyze cro.provenance_event');
    const { rows } = await db.operator.query<{ correlation: number }>(
      `select correlation from pg_stats where schemaname = 'cro' and tablename = 'provenance_event'
         and attname = 'id'`,
    );
    // Random (version 4) keys give a correlation near 0.
    expect(rows[0]?.correlation).toBeGreaterThan(0.99);
  });

  it('falls back, on servers without uuidv7(), to a portable version 7 key in millisecond order', async () => {
    const made = await inTransaction(db.operator, async () => {
      const keys: string[] = [];
      for (let i = 0; i < 4; i++) {
        const { rows } = await db.operator.query<{ id: string; now: string }>(
          `select cs_private.uuid_v7_portable()::text as id,
                  (extract(epoch from clock_timestamp()) * 1000)::bigint::text as now`,
        );
        keys.push(rows[0]?.id as string);
        const now = Number(rows[0]?.now);
        expect(Math.abs(millisOf(rows[0]?.id as string) - now)).toBeLessThanOrEqual(1);
        await db.operator.query('select pg_sleep(0.003)');
      }
      return keys;
    });
    for (const id of made) expect(id).toMatch(version7);
    expect(new Set(made).size).toBe(made.length);
    expect([...made].sort()).toEqual(made);
  });

  it("may be made by any person: a column default runs with the inserting user's rights", async () => {
    const { rows } = await agent.query<{ id: string }>('select cs_private.time_ordered_uuid()::text as id');
    expect(rows[0]?.id).toMatch(version7);
  });
});

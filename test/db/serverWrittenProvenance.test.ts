// Provenance is written by the server with the caller's own identity, and an agent's sponsor requests
// go only to the organisation that sponsors the study (migration 0046). Attacked as the agent of
// study A would: with its own login, any SQL.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld, type World } from './support/accessWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('provenance written by the server, requests to their own sponsor [SEC-PROVENANCE-SERVER, SEC-AGENT-STAGING]', () => {
  let db: TestDatabase;
  let world: World;

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildWorld(db);
  });
  afterAll(async () => {
    await world?.teardown();
    await db?.drop();
  });

  const agent = () => world.clients.agent;

  it("refuses a direct insert of provenance, under the agent's own name or another's", async () => {
    for (const actor of ['agent-A', 'agent-B']) {
      await expect(
        agent().query(
          `insert into cro.provenance_event (study_id, actor_kind, actor_id, action, subject_kind, subject_id,
             retrieved_context, payload)
           values ($1, 'agent', $2, 'approve', 'staging_record', 'x', '[]', '{}')`,
          [world.studyA, actor],
        ),
        actor,
      ).rejects.toMatchObject({ code: '42501' });
    }
  });

  it("records the agent's provenance with its own id, the registry's model and the server's time", async () => {
    const model = world.rows.modelVersion.in;
    const subject = randomUUID();
    const { rows } = await agent().query(
      `select public.record_agent_provenance($1, 'propose', 'staging_record', $2, $3, $4::jsonb, '{"rationale":"r"}') as id`,
      [world.studyA, subject, model, JSON.stringify([{ source: 'sop://1', quote: 'q' }])],
    );
    const { rows: stored } = await db.operator.query(
      `select p.actor_kind, p.actor_id, p.model_provider = m.provider and p.model_id = m.model_id as model_from_registry,
              p.occurred_at > now() - interval '1 minute' as now_ish, p.reviewer_user_id, p.signature_id
         from cro.provenance_event p join cro.model_registry_version m on m.id = p.model_version_id
        where p.id = $1`,
      [rows[0].id],
    );
    expect(stored[0]).toEqual({
      actor_kind: 'agent',
      actor_id: 'agent-A',
      model_from_registry: true,
      now_ish: true,
      reviewer_user_id: null,
      signature_id: null,
    });
  });

  it('refuses what an agent does not do, a study that is not its own, and anyone but an agent', async () => {
    const call = (client = agent(), study = world.studyA, action = 'propose') =>
      client.query(`select public.record_agent_provenance($1, $2, 'staging_record', 'x', null, '[]', '{}')`, [
        study,
        action,
      ]);
    for (const action of ['approve', 'reject', 'promote', 'open_for_review', 'approve_release']) {
      await expect(call(agent(), world.studyA, action), action).rejects.toMatchObject({ code: 'CS422' });
    }
    await expect(call(agent(), world.studyB)).rejects.toThrow(/not an agent of study/);
    await expect(call(world.clients.signer)).rejects.toThrow(/only an agent service account/);
    await expect(call(world.clients.patient)).rejects.toThrow(/only an agent service account/);
  });

  it("refuses a proposal under another agent's id, or citing provenance that is not its own record of it", async () => {
    const propose = (agentId: string, provenanceId: string | null, id = randomUUID()) =>
      agent().query(
        `insert into cro.staging_record (id, entity_kind, study_id, agent_id, provenance_id, proposed_state, created_by)
         values ($1, 'study_kpi', $2, $3, $4, '{"label":"K","position":1}', auth.uid())`,
        [id, world.studyA, agentId, provenanceId],
      );
    await expect(propose('agent-B', null)).rejects.toThrow(/names its own agent/);
    // Someone else's provenance (the fixture of agent B), and its own but about another record.
    await expect(propose('agent-A', world.rows.provenance.out)).rejects.toThrow(/not your own record/);
    const other = (
      await agent().query(
        `select public.record_agent_provenance($1, 'propose', 'staging_record', $2, null, '[]', '{}') as id`,
        [world.studyA, randomUUID()],
      )
    ).rows[0].id;
    await expect(propose('agent-A', other)).rejects.toThrow(/not your own record/);
    // Its own record of proposing this very record: accepted.
    const id = randomUUID();
    const own = (
      await agent().query(
        `select public.record_agent_provenance($1, 'propose', 'staging_record', $2, null, '[]', '{}') as id`,
        [world.studyA, id],
      )
    ).rows[0].id;
    await propose('agent-A', own, id);
    const { rows } = await db.operator.query(
      'select agent_id, provenance_id from cro.staging_record where id = $1',
      [id],
    );
    expect(rows[0]).toEqual({ agent_id: 'agent-A', provenance_id: own });
  });

  it("stages a sponsor request only for the organisation that sponsors the agent's study", async () => {
    const file = (sponsor: string) =>
      agent().query(
        `insert into cro.sponsor_request (sponsor_id, study_id, subject, body, priority, status, created_by)
         values ($1, $2, 'Subject', 'Body', 'normal', 'open', auth.uid())`,
        [sponsor, world.studyA],
      );
    // S2 sponsors study B, not study A: its intake is not the agent's to file into.
    await expect(file('S2')).rejects.toMatchObject({ code: '42501' });
    await expect(file('an-organisation-nobody-knows')).rejects.toMatchObject({ code: '42501' });
    await agent().query('begin');
    try {
      const result = await file('S1');
      expect(result.rowCount).toBe(1);
    } finally {
      await agent().query('rollback');
    }
  });
});

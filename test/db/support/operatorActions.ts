// Small operator-side building blocks for the rule tests: run a transaction in bootstrap mode or as
// a given person (auth.uid() trusts request.jwt.claims only on an operator connection), and create
// the minimum world a rule needs.
import type pg from 'pg';

export async function inTransaction<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    const result = await work();
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/** Runs `work` in a transaction where the operator acts as `userId` and may bootstrap live rows. */
export async function actingAs<T>(
  client: pg.ClientBase,
  userId: string | null,
  work: () => Promise<T>,
  options: { bootstrap?: boolean } = {},
): Promise<T> {
  return inTransaction(client, async () => {
    if (userId) {
      await client.query(
        `select set_config('request.jwt.claims', json_build_object('sub', $1::text)::text, true)`,
        [userId],
      );
    }
    if (options.bootstrap) await client.query(`set local countersign.bootstrap = 'on'`);
    return work();
  });
}

export async function createStudy(operator: pg.ClientBase, ownerId: string, code: string): Promise<string> {
  return actingAs(
    operator,
    ownerId,
    async () => {
      const { rows } = await operator.query<{ id: string }>(
        `insert into cro.study (code, sponsor, phase, therapeutic_area, indication, status, health,
           executive_summary, goals, start_date, planned_end_date, current_forecast_end_date,
           contracted_budget, ebv_spent, eac_budget, currency, created_by)
         values ($1, 'Test Sponsor', 'II', 'Haematology', 'HHT', 'active', 'green', 'A test study', '[]',
                 '2026-01-01', '2027-01-01', '2027-02-01', 1000000, 250000, 1100000, 'EUR', $2)
         returning id`,
        [code, ownerId],
      );
      const studyId = rows[0]?.id as string;
      // A study accepts data only under a completed build (migration 0054): the standard INITIAL one.
      await operator.query(`select cs_private.complete_initial_build($1, $2, 'Test INITIAL build')`, [
        studyId,
        ownerId,
      ]);
      return studyId;
    },
    { bootstrap: true },
  );
}

export async function createKpi(operator: pg.ClientBase, ownerId: string, studyId: string): Promise<string> {
  return actingAs(
    operator,
    ownerId,
    async () => {
      const { rows } = await operator.query<{ id: string }>(
        `insert into cro.study_kpi (study_id, label, value, position, created_by)
         values ($1, 'Enrolment', '40%', 1, $2) returning id`,
        [studyId, ownerId],
      );
      return rows[0]?.id as string;
    },
    { bootstrap: true },
  );
}

export interface Proposal {
  entityKind: string;
  entityId: string | null;
  studyId: string;
  proposedState: Record<string, unknown>;
}

export async function propose(operator: pg.ClientBase, agentId: string, proposal: Proposal): Promise<string> {
  return actingAs(operator, agentId, async () => {
    const { rows } = await operator.query<{ id: string }>(
      `insert into cro.staging_record (entity_kind, entity_id, study_id, agent_id, proposed_state, created_by)
       values ($1, $2, $3, 'agent:test', $4, $5) returning id`,
      [
        proposal.entityKind,
        proposal.entityId,
        proposal.studyId,
        JSON.stringify(proposal.proposedState),
        agentId,
      ],
    );
    return rows[0]?.id as string;
  });
}

export async function recordSignature(
  operator: pg.ClientBase,
  signerId: string,
  stagingId: string,
  intent: 'approve' | 'reject',
): Promise<string> {
  return actingAs(operator, signerId, async () => {
    const { rows } = await operator.query<{ id: string }>(
      `insert into cro.signature_event (user_id, user_display_name, intent, subject_kind, subject_id, re_auth_at,
         meaning_of_signature, signed_at, created_by, study_id, content_hash, ceremony_id, nonce)
       select $1, 'Test Signer', $2::cro.signature_intent, 'staging_record', s.id::text, now(),
              case when $2::text = 'approve' then 'I approve this change' else 'I reject this change' end,
              now(), $1, s.study_id,
              cs_private.signing_content_hash(s),
              gen_random_uuid(), replace(gen_random_uuid()::text, '-', '')
       from cro.staging_record s where s.id = $3
       returning id`,
      [signerId, intent, stagingId],
    );
    return rows[0]?.id as string;
  });
}

export async function setState(operator: pg.ClientBase, actorId: string, stagingId: string, state: string) {
  return actingAs(operator, actorId, () =>
    operator.query('update cro.staging_record set state = $1 where id = $2', [state, stagingId]),
  );
}

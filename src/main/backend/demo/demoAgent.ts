// The demo agent: proposes records the way an AI agent of seed 000 does, on its own login role
// (never through request.jwt.claims), and shows that the database refuses it everything else.
// Used by `npm run demo:agent` (scripts/demo-agent.ts) and by test/db/demoSeed.test.ts.
import { randomUUID } from 'node:crypto';
import type { ClientBase } from 'pg';
import { type EntityKind, entityKinds } from '../../../shared/domain';
import {
  type Citation,
  citationsFor,
  type KnowledgeChunk,
  proposalRationales,
  proposeChange,
  proposeCreate,
  type Row,
  studyKeyForCode,
} from './demoContent';
import { demoAgentId } from './demoPeople';
import type { Rng } from './prng';

export interface AgentProposal {
  stagingId: string;
  provenanceId: string;
  studyId: string;
  studyCode: string;
  entityKind: EntityKind;
  /** null: a create. */
  entityId: string | null;
  sponsorRequestId: string | null;
  /** The protocol build the server recorded the proposal under: the study's current one. */
  buildId: string;
  buildNumber: string;
}

export interface ProposeOptions {
  /** Which live table to propose for; default: picked by rng. */
  entityKind?: EntityKind;
  now?: Date;
}

async function agentUserId(client: ClientBase): Promise<string> {
  const { rows } = await client.query<{ uid: string | null }>('select auth.uid() as uid');
  const uid = rows[0]?.uid;
  if (!uid) throw new Error('the demo agent must be connected as its own login role (auth.uid() is empty)');
  return uid;
}

/** One proposal: a provenance_event and a staging_record, in one transaction, as the agent. */
export async function proposeAsAgent(
  client: ClientBase,
  rng: Rng,
  options: ProposeOptions = {},
): Promise<AgentProposal> {
  const now = options.now ?? new Date();
  const uid = await agentUserId(client);
  const entityKind = options.entityKind ?? rng.pick(entityKinds);
  const studies = await client.query<{ id: string; code: string }>(
    'select id, code from cro.study order by code',
  );
  if (studies.rows.length === 0) throw new Error('the agent can read no study: is it assigned to any?');
  const study = rng.pick(studies.rows);
  const key = studyKeyForCode(study.code);
  const context = { key, now };

  // An update proposes only values the live row does not already have.
  const liveRow = async (id: string): Promise<Row> => {
    const { rows } = await client.query<{ live: Row }>(
      `select to_jsonb(t) as live from cro.${entityKind} t where t.id = $1`,
      [id],
    );
    return rows[0]?.live ?? {};
  };
  let entityId: string | null = null;
  let proposedState: Row;
  if (entityKind === 'study') {
    entityId = study.id;
    proposedState = proposeChange('study', context, rng, [await liveRow(study.id)]);
  } else {
    const live = await client.query<{ id: string }>(
      `select id from cro.${entityKind} where study_id = $1 order by created_at, id`,
      [study.id],
    );
    if (live.rows.length > 0 && rng.chance(0.5)) {
      entityId = rng.pick(live.rows).id;
      proposedState = proposeChange(entityKind, context, rng, [await liveRow(entityId)]);
    } else {
      proposedState = proposeCreate(entityKind, context, rng);
    }
  }

  const model = await client.query<{
    id: string;
    provider: string;
    model_id: string;
    prompt_version: string;
  }>(
    `select id, provider, model_id, prompt_version from cro.model_registry_version
      where retired_at is null and prompt_version like 'protocol-digest/%'
      order by registered_at desc limit 1`,
  );
  const modelRow = model.rows[0] ?? null;
  const chunks = await client.query<KnowledgeChunk>(
    `select source_kind, source_uri, chunk_index, content from cro.vector_document
      where metadata ->> 'study_code' = $1 order by source_uri, chunk_index`,
    [study.code],
  );
  const citations: Citation[] = citationsFor(key, rng, now, chunks.rows.length > 0 ? chunks.rows : undefined);
  const requests = await client.query<{ id: string }>(
    "select id from cro.sponsor_request where study_id = $1 and status in ('open', 'in_progress') order by created_at, id",
    [study.id],
  );
  const sponsorRequestId = requests.rows.length > 0 && rng.chance(0.3) ? rng.pick(requests.rows).id : null;

  const stagingId = randomUUID();
  const payload: Row = {
    proposal: entityId === null ? 'create' : 'update',
    entity_kind: entityKind,
    entity_id: entityId,
    rationale: rng.pick(proposalRationales),
    confidence: rng.int(62, 98) / 100,
    prompt_version: modelRow?.prompt_version ?? null,
  };
  if (sponsorRequestId) payload.sponsor_request_id = sponsorRequestId;

  await client.query('begin');
  try {
    // The server records who proposed (the agent id of this login), when, and with which model.
    const provenance = await client.query<{ id: string }>(
      `select public.record_agent_provenance($1, 'propose', 'staging_record', $2, $3, $4::jsonb, $5::jsonb) as id`,
      [study.id, stagingId, modelRow?.id ?? null, JSON.stringify(citations), JSON.stringify(payload)],
    );
    const provenanceId = provenance.rows[0]?.id;
    if (!provenanceId) throw new Error('the provenance event was not recorded');
    // No build_id: the server records the proposal under the study's current build.
    const inserted = await client.query<{ build_id: string; build_number: string }>(
      `with proposal as (
         insert into cro.staging_record (id, entity_kind, entity_id, study_id, agent_id, model_version_id,
                                         provenance_id, state, proposed_state, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, 'proposed', $8::jsonb, $9)
         returning build_id)
       select p.build_id, b.build_number from proposal p join cro.study_database_build b on b.id = p.build_id`,
      [
        stagingId,
        entityKind,
        entityId,
        study.id,
        demoAgentId,
        modelRow?.id ?? null,
        provenanceId,
        JSON.stringify(proposedState),
        uid,
      ],
    );
    const build = inserted.rows[0];
    if (!build) throw new Error('the proposal was not recorded under a protocol build');
    await client.query('commit');
    return {
      stagingId,
      provenanceId,
      studyId: study.id,
      studyCode: study.code,
      entityKind,
      entityId,
      sponsorRequestId,
      buildId: build.build_id,
      buildNumber: build.build_number,
    };
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

export interface RefusalAttempt {
  /** What the agent tried, in words. */
  attempt: string;
  refused: boolean;
  /** The SQLSTATE of the refusal (null when the write went through). */
  sqlstate: string | null;
  message: string;
}

/**
 * Tries, as the agent, every write an agent must not make (and a read of auth.users). Each attempt
 * runs in its own transaction that is always rolled back, so even a write that went through (a
 * security bug) leaves nothing behind.
 */
export async function demonstrateAgentRefusals(client: ClientBase): Promise<RefusalAttempt[]> {
  const uid = await agentUserId(client);
  const anyStudy = await client.query<{ id: string }>('select id from cro.study order by code limit 1');
  const studyId = anyStudy.rows[0]?.id ?? randomUUID();
  const anyStaging = await client.query<{ id: string }>(
    'select id from cro.staging_record order by created_at, id limit 1',
  );
  const stagingId = anyStaging.rows[0]?.id ?? randomUUID();
  const fakeHash = 'a'.repeat(64);

  const attempts: [string, string, unknown[]][] = [
    [
      'insert a live KPI directly into cro.study_kpi',
      "insert into cro.study_kpi (study_id, label, value, position, created_by) values ($1, 'Injected KPI', '100 %', 99, $2)",
      [studyId, uid],
    ],
    ['update the live study (cro.study)', "update cro.study set health = 'green' where id = $1", [studyId]],
    [
      'edit a staging record (cro.staging_record.proposed_state)',
      `update cro.staging_record set proposed_state = '{"label":"edited by the agent"}'::jsonb where id = $1`,
      [stagingId],
    ],
    ['delete a staging record', 'delete from cro.staging_record where id = $1', [stagingId]],
    [
      'advance a staging record itself (state proposed -> reviewing)',
      "update cro.staging_record set state = 'reviewing' where id = $1",
      [stagingId],
    ],
    [
      'insert a staging record already promoted (skipping review and signature)',
      `insert into cro.staging_record (entity_kind, study_id, agent_id, state, proposed_state, created_by)
       values ('study_risk', $1, $2, 'promoted', '{"title":"self-approved"}'::jsonb, $3)`,
      [studyId, demoAgentId, uid],
    ],
    [
      'sign its own proposal (insert cro.signature_event)',
      `insert into cro.signature_event (user_id, user_display_name, intent, subject_kind, subject_id, re_auth_at,
                                        meaning_of_signature, signed_at, created_by, study_id, content_hash)
       values ($1, 'Protocol Digest Agent', 'approve', 'staging_record', $2, now(), 'I approve this change', now(),
               $1, $3, $4)`,
      [uid, stagingId, studyId, fakeHash],
    ],
    [
      'record provenance as a human reviewer',
      `insert into cro.provenance_event (study_id, actor_kind, actor_id, action, subject_kind, subject_id,
                                         retrieved_context, reviewer_user_id, payload)
       values ($1, 'human', $2, 'review', 'staging_record', $3, '[]'::jsonb, $4, '{}'::jsonb)`,
      [studyId, uid, stagingId, uid],
    ],
    [
      'record an approval through the provenance function',
      `select public.record_agent_provenance($1, 'approve', 'staging_record', $2, null, '[]'::jsonb, '{}'::jsonb)`,
      [studyId, stagingId],
    ],
    [
      "propose under another agent's id",
      `insert into cro.staging_record (entity_kind, study_id, agent_id, state, proposed_state, created_by)
       values ('study_risk', $1, 'agent:someone-else', 'proposed', '{"title":"not mine"}'::jsonb, $2)`,
      [studyId, uid],
    ],
    [
      "file a request into another sponsor organisation's intake",
      `insert into cro.sponsor_request (sponsor_id, study_id, subject, body, priority, status, created_by)
       values ('another-sponsor', $1, 'Forged', 'Forged request', 'normal', 'open', $2)`,
      [studyId, uid],
    ],
    [
      'append to the audit trail (audit.audit_log)',
      `insert into audit.audit_log (seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash)
       values (999999, now(), 'agent', 'forged.entry', '{}'::jsonb, $1, $1, $1)`,
      [fakeHash],
    ],
    [
      'create a protocol build (cro.study_database_build)',
      `insert into cro.study_database_build (study_id, build_number, build_version, build_type, amendment_reference)
       values ($1, 'B99', '99.0', 'AMENDMENT', 'Amendment the agent made up')`,
      [studyId],
    ],
    ['read the user accounts (auth.users)', 'select id, email, encrypted_password from auth.users', []],
  ];

  const results: RefusalAttempt[] = [];
  for (const [attempt, sql, params] of attempts) {
    await client.query('begin');
    try {
      const result = await client.query(sql, params);
      results.push({
        attempt,
        refused: false,
        sqlstate: null,
        message: `NOT REFUSED: ${result.command} affected ${result.rowCount ?? 0} rows (rolled back)`,
      });
    } catch (error) {
      const pgError = error as { code?: string; message?: string };
      results.push({
        attempt,
        refused: true,
        sqlstate: pgError.code ?? null,
        message: pgError.message ?? String(error),
      });
    } finally {
      await client.query('rollback').catch(() => undefined);
    }
  }
  return results;
}

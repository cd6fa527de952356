// The rows the sync benchmarks pull: one study under a completed build, an inspector of it, and N
// staging records with one provenance event each (about 1 KB per pair of jsonb documents), bulk
// inserted by the operator. sync.bench.ts (direct) and syncHosted.bench.ts (hosted) read the same rows.
import type pg from 'pg';
import { provisionPerson } from '../../src/main/backend/provisioning';
import type { BenchDatabase } from './benchServer';

export const syncBenchPassword = 'bench password, long enough';

export interface SyncBenchStudy {
  studyId: string;
  adminId: string;
  inspectorId: string;
  inspectorEmail: string;
}

/** The study, its admin and its inspector, with `records` proposals (and their provenance). */
export async function seedSyncStudy(
  db: BenchDatabase,
  records: number,
  log: (line: string) => void,
): Promise<SyncBenchStudy> {
  const password = syncBenchPassword;
  const admin = await provisionPerson(db.operator, {
    email: `admin.${db.name}@bench.test`,
    printedName: 'Bench admin',
    password,
    roles: [{ role: 'admin', studyId: null }],
  });
  await db.operator.query('begin');
  await db.operator.query(`set local countersign.bootstrap = 'on'`);
  const { rows: studies } = await db.operator.query<{ id: string }>(
    `insert into cro.study (code, sponsor, phase, therapeutic_area, indication, status, health, executive_summary,
       goals, start_date, planned_end_date, current_forecast_end_date, contracted_budget, ebv_spent, eac_budget,
       currency, created_by)
     values ('BENCH-1', 'Bench Sponsor', 'III', 'Cardiology', 'Heart failure', 'enrolling', 'green', 'Bench',
             '[]', '2026-01-01', '2027-01-01', '2027-02-01', 1, 1, 1, 'EUR', $1) returning id`,
    [admin],
  );
  // A study accepts proposals only under a completed protocol build (migration 0054).
  await db.operator.query(`select cs_private.complete_initial_build($1, $2, 'Bench INITIAL build')`, [
    studies[0]?.id,
    admin,
  ]);
  await db.operator.query('commit');
  const studyId = studies[0]?.id as string;
  const email = `inspector.${db.name}@bench.test`;
  const inspector = await provisionPerson(db.operator, {
    email,
    printedName: 'Bench inspector',
    password,
    roles: [{ role: 'inspector', studyId }],
  });
  log(`seeding ${records} staging records with provenance`);
  await seedProposals(db.operator, studyId, admin, records, 0);
  await db.operator.query('vacuum analyze cro.staging_record, cro.provenance_event');

  return { studyId, adminId: admin, inspectorId: inspector, inspectorEmail: email };
}

export async function seedProposals(
  operator: pg.Client,
  studyId: string,
  agentId: string,
  count: number,
  offset: number,
) {
  // Bulk SQL as the operator in a bootstrap session with row triggers off (session_replication_role):
  // the benchmark measures sync, not 100,000 audited proposals. sync_xid still gets its default; the
  // build the triggers would stamp is set here (the study's current build, migration 0054).
  await operator.query('begin');
  await operator.query(`set local countersign.bootstrap = 'on'`);
  await operator.query('set local session_replication_role = replica');
  await operator.query(
    `with p as (
       insert into cro.provenance_event (study_id, actor_kind, actor_id, model_provider, model_id, action,
         subject_kind, subject_id, retrieved_context, occurred_at, payload, build_id)
       select $1, 'agent', 'agent:bench', 'anthropic', 'claude-bench', 'propose', 'staging_record', 'bench-' || n,
              jsonb_build_array(jsonb_build_object('source', 'sop://monitoring-plan/' || n, 'chunk', n % 17,
                'excerpt', repeat('Monitoring visit findings and the enrolment log were compared. ', 3))),
              now() - make_interval(secs => n), jsonb_build_object('n', n, 'rationale', repeat('The source documents agree. ', 4)),
              cs_private.current_build($1)
       from generate_series($3::int + 1, $3::int + $4::int) as n
       returning id, subject_id
     )
     insert into cro.staging_record (entity_kind, entity_id, study_id, agent_id, provenance_id, state, proposed_state,
       created_at, updated_at, created_by, build_id)
     select 'study_risk', null, $1, 'agent:bench', p.id, 'proposed',
            jsonb_build_object('title', 'Risk ' || p.subject_id, 'owner', 'Clinical operations', 'severity', 'medium',
              'status', 'open', 'mitigation', repeat('Add a second monitoring visit and retrain the site staff. ', 5)),
            now(), now(), $2, cs_private.current_build($1)
     from p`,
    [studyId, agentId, offset, count],
  );
  await operator.query('commit');
}

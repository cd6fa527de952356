// The schema against its source: every column of the 15 tables of seed 000 (174 columns), with its
// type and whether it is required, and the ERD's 20 foreign keys. Countersign may add columns (the
// decisions in docs/decisions.md list them), never drop or retype one of these.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/testServer';

// "column type" with `!` for required (NOT NULL), `?` where the seed does not say (FK columns).
const seedTables: Record<string, string> = {
  'cro.provenance_event':
    'id uuid!, study_id uuid, actor_kind text!, actor_id text!, model_provider text, model_id text, ' +
    'model_version_id uuid?, action text!, subject_kind text!, subject_id text!, retrieved_context jsonb!, ' +
    'reviewer_user_id uuid, signature_id uuid, occurred_at timestamptz!, payload jsonb!',
  'cro.staging_record':
    'id uuid!, entity_kind text!, entity_id uuid, agent_id text!, model_version_id uuid?, provenance_id uuid?, ' +
    'state enum!, proposed_state jsonb!, created_at timestamptz!, updated_at timestamptz!, created_by uuid!',
  'cro.signature_event':
    'id uuid!, user_id uuid!, user_display_name text!, intent enum!, subject_kind text!, subject_id text!, ' +
    're_auth_at timestamptz!, meaning_of_signature text!, signed_at timestamptz!, created_at timestamptz!, ' +
    'updated_at timestamptz!, created_by uuid!, provenance_id uuid?',
  'cro.model_registry_version':
    'id uuid!, provider text!, model_id text!, prompt_hash text!, prompt_version text!, registered_at timestamptz!, ' +
    'retired_at timestamptz, notes text!, created_at timestamptz!, updated_at timestamptz!, created_by uuid!, ' +
    'provenance_id uuid?',
  'cro.validation_evidence_run':
    'id uuid!, pr_number integer, commit_sha text!, evidence_paths jsonb!, signed_by_user_id text, ' +
    'signed_at timestamptz, created_at timestamptz!, updated_at timestamptz!, created_by uuid!, provenance_id uuid?',
  'cro.live_essential_document':
    'id uuid!, promoted_from_staging_id uuid?, signature_id uuid?, study_id uuid, document_type text!, ' +
    'document_title text!, storage_uri text!, metadata jsonb!, created_at timestamptz!, updated_at timestamptz!, ' +
    'created_by uuid!, provenance_id uuid?',
  'cro.app_log':
    'id uuid!, level text!, component text!, message text!, provenance_id uuid?, payload jsonb!, logged_at timestamptz!',
  'cro.study':
    'id uuid!, code text!, sponsor text!, phase text!, therapeutic_area text!, indication text!, status text!, ' +
    'health text!, executive_summary text!, goals jsonb!, start_date date!, planned_end_date date!, ' +
    'current_forecast_end_date date!, contracted_budget numeric!, ebv_spent numeric!, eac_budget numeric!, ' +
    'currency text!, created_at timestamptz!, updated_at timestamptz!, created_by uuid!, provenance_id uuid?',
  'cro.study_kpi':
    'id uuid!, study_id uuid?, label text, value text, delta text, delta_direction text, threshold text, ' +
    'position integer!, created_at timestamptz!, updated_at timestamptz!, created_by uuid!, provenance_id uuid?',
  'cro.study_milestone':
    'id uuid!, study_id uuid?, name text, planned_date date, actual_or_forecast_date date, status text, ' +
    'position integer, created_at timestamptz!, updated_at timestamptz!, created_by uuid!, provenance_id uuid?',
  'cro.study_risk':
    'id uuid!, study_id uuid?, title text, owner text, severity text, mitigation text, status text, ' +
    'created_at timestamptz!, updated_at timestamptz!, created_by uuid!, provenance_id uuid?',
  'cro.study_resource':
    'id uuid!, study_id uuid?, role text, headcount integer, fte numeric, rate_per_month numeric, ' +
    'created_at timestamptz!, updated_at timestamptz!, created_by uuid!, provenance_id uuid?',
  'cro.vector_document':
    'id uuid!, source_kind text!, source_uri text!, chunk_index integer!, content text!, embedding jsonb!, ' +
    'metadata jsonb!, created_at timestamptz!, updated_at timestamptz!',
  'cro.sponsor_request':
    'id uuid!, sponsor_id text!, study_id uuid, subject text!, body text!, priority text!, status text!, ' +
    'provenance_id uuid?, created_at timestamptz!, updated_at timestamptz!, created_by uuid!',
  'auth.users':
    'id uuid!, email text, encrypted_password text, email_confirmed_at timestamptz, raw_app_meta_data jsonb, ' +
    'raw_user_meta_data jsonb, last_sign_in_at timestamptz, created_at timestamptz!, updated_at timestamptz!',
};

const seedForeignKeys = [
  'cro.provenance_event.model_version_id -> cro.model_registry_version',
  'cro.staging_record.model_version_id -> cro.model_registry_version',
  'cro.staging_record.provenance_id -> cro.provenance_event',
  'cro.signature_event.provenance_id -> cro.provenance_event',
  'cro.model_registry_version.provenance_id -> cro.provenance_event',
  'cro.validation_evidence_run.provenance_id -> cro.provenance_event',
  'cro.live_essential_document.promoted_from_staging_id -> cro.staging_record',
  'cro.live_essential_document.signature_id -> cro.signature_event',
  'cro.live_essential_document.provenance_id -> cro.provenance_event',
  'cro.app_log.provenance_id -> cro.provenance_event',
  'cro.study.provenance_id -> cro.provenance_event',
  'cro.study_kpi.study_id -> cro.study',
  'cro.study_kpi.provenance_id -> cro.provenance_event',
  'cro.study_milestone.study_id -> cro.study',
  'cro.study_milestone.provenance_id -> cro.provenance_event',
  'cro.study_risk.study_id -> cro.study',
  'cro.study_risk.provenance_id -> cro.provenance_event',
  'cro.study_resource.study_id -> cro.study',
  'cro.study_resource.provenance_id -> cro.provenance_event',
  'cro.sponsor_request.provenance_id -> cro.provenance_event',
];

const sqlTypes: Record<string, string> = {
  uuid: 'uuid',
  text: 'text',
  jsonb: 'jsonb',
  timestamptz: 'timestamp with time zone',
  integer: 'integer',
  numeric: 'numeric',
  date: 'date',
  enum: 'USER-DEFINED',
};

interface Column {
  table: string;
  column: string;
  data_type: string;
  is_nullable: 'YES' | 'NO';
}

describe('schema conforms to seed 000', () => {
  let db: TestDatabase;
  let columns: Map<string, Column>;

  beforeAll(async () => {
    db = await createTestDatabase();
    const { rows } = await db.operator.query<Column>(
      `select table_schema || '.' || table_name as table, column_name as column, data_type, is_nullable
       from information_schema.columns where table_schema in ('cro', 'auth')`,
    );
    columns = new Map(rows.map((row) => [`${row.table}.${row.column}`, row]));
  });
  afterAll(async () => {
    await db.drop();
  });

  it('the specification above is the whole seed: 15 tables, 174 columns, 20 foreign keys', () => {
    expect(Object.keys(seedTables)).toHaveLength(15);
    expect(Object.values(seedTables).flatMap((list) => list.split(', '))).toHaveLength(174);
    expect(seedForeignKeys).toHaveLength(20);
  });

  it.each(Object.entries(seedTables))(
    '%s has every seed column with its type and requiredness',
    (table, list) => {
      for (const spec of list.split(', ')) {
        const [name, typeAndFlag] = spec.split(' ') as [string, string];
        const flag = typeAndFlag.at(-1);
        const type = typeAndFlag.replace(/[!?]$/, '');
        const column = columns.get(`${table}.${name}`);
        expect(column, `${table}.${name}`).toBeDefined();
        expect(column?.data_type, `${table}.${name} type`).toBe(sqlTypes[type]);
        if (flag === '!') expect(column?.is_nullable, `${table}.${name} is required`).toBe('NO');
        if (flag === undefined || (flag !== '!' && flag !== '?')) {
          expect(column?.is_nullable, `${table}.${name} is nullable`).toBe('YES');
        }
      }
    },
  );

  it('has every foreign key of the ERD', async () => {
    const { rows } = await db.operator.query<{ fk: string }>(
      `select format('%s.%s.%s -> %s.%s', sn.nspname, sc.relname, a.attname, tn.nspname, tc.relname) as fk
       from pg_constraint c
       join pg_class sc on sc.oid = c.conrelid join pg_namespace sn on sn.oid = sc.relnamespace
       join pg_class tc on tc.oid = c.confrelid join pg_namespace tn on tn.oid = tc.relnamespace
       join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
       where c.contype = 'f' and array_length(c.conkey, 1) = 1`,
    );
    const present = new Set(rows.map((row) => row.fk));
    for (const fk of seedForeignKeys) expect(present, fk).toContain(fk);
  });

  it("uses the seed's enums for staging state and signature intent", async () => {
    const { rows } = await db.operator.query<{ name: string; labels: string[] }>(
      `select t.typname as name, array_agg(e.enumlabel order by e.enumsortorder)::text[] as labels
       from pg_type t join pg_enum e on e.enumtypid = t.oid
       where t.typname in ('staging_state', 'signature_intent') group by t.typname order by 1`,
    );
    expect(rows).toEqual([
      { name: 'signature_intent', labels: ['approve', 'reject', 'approve_release'] },
      { name: 'staging_state', labels: ['proposed', 'reviewing', 'signed', 'promoted', 'rejected'] },
    ]);
  });
});

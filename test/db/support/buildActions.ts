// Protocol builds (migration 0054) for the tests: a build written and advanced through a person's own
// login, exactly as an administrator's workstation would, and the configurations the tests vary.
import type pg from 'pg';
import type {
  BuildFieldConfiguration,
  BuildFormConfiguration,
} from '../../../src/main/backend/demo/demoContent';

export const buildStatuses = ['DRAFT', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type BuildStatus = (typeof buildStatuses)[number];

/** The seven steps the state machine allows (seed 004's lifecycle, with retry and cancel). */
export const legalTransitions = new Set([
  'DRAFT>IN_PROGRESS',
  'DRAFT>CANCELLED',
  'IN_PROGRESS>COMPLETED',
  'IN_PROGRESS>FAILED',
  'IN_PROGRESS>CANCELLED',
  'FAILED>IN_PROGRESS',
  'FAILED>CANCELLED',
]);

/** The legal steps that bring a new DRAFT build to each status. */
export const stepsTo: Record<BuildStatus, BuildStatus[]> = {
  DRAFT: [],
  IN_PROGRESS: ['IN_PROGRESS'],
  COMPLETED: ['IN_PROGRESS', 'COMPLETED'],
  FAILED: ['IN_PROGRESS', 'FAILED'],
  CANCELLED: ['CANCELLED'],
};

// The configuration snapshot's shape is the demo's (demoContent.ts), open to the unknown keys the
// validation tests send.
export type BuildField = BuildFieldConfiguration & { [key: string]: unknown };
export type BuildForm = Omit<BuildFormConfiguration, 'fields'> & {
  fields: BuildField[];
  [key: string]: unknown;
};
export interface BuildConfiguration {
  forms: BuildForm[];
  [key: string]: unknown;
}

export interface BuildRow {
  id: string;
  study_id: string;
  build_number: string;
  build_version: string;
  build_status: BuildStatus;
  build_type: string;
  amendment_reference: string | null;
  build_description: string;
  build_start_time: Date | null;
  build_end_time: Date | null;
  build_duration_seconds: number | null;
  configuration_snapshot: BuildConfiguration;
  configuration_sha256: string;
  total_visits: number;
  total_forms: number;
  total_fields: number;
  validation_rules_count: number;
  visits_built: number;
  forms_built: number;
  error_count: number;
  error_log: { attempt: number; at: string; by: string | null; errors: BuildError[] }[];
  completed_sequence: number | null;
  built_by: string;
  created_at: Date;
  updated_at: Date;
}
export interface BuildError {
  path: string | null;
  field: string | null;
  message: string;
}

/** The standard configuration (seed 003's diary form and every proposable entity kind). */
export async function standardConfiguration(client: pg.ClientBase): Promise<BuildConfiguration> {
  const { rows } = await client.query<{ c: BuildConfiguration }>(
    'select cs_private.standard_build_configuration() as c',
  );
  return rows[0]?.c as BuildConfiguration;
}

/** A copy of `config` whose diary form is changed by `change` (the entity forms stay as they are). */
export function withDiaryForm(config: BuildConfiguration, change: (form: BuildForm) => BuildForm) {
  return {
    ...config,
    forms: config.forms.map((form) => (form.kind === 'diary' ? change(structuredClone(form)) : form)),
  };
}

export interface NewBuild {
  study: string;
  number: string;
  type?: 'INITIAL' | 'AMENDMENT' | 'CORRECTION';
  reference?: string | null;
  version?: string;
  description?: string;
  configuration?: unknown;
}

/** Inserts a DRAFT build on `client` (an administrator's login, or the owner acting as one). */
export async function createBuild(client: pg.ClientBase, build: NewBuild): Promise<BuildRow> {
  const type = build.type ?? 'AMENDMENT';
  const { rows } = await client.query<BuildRow>(
    `insert into cro.study_database_build (study_id, build_number, build_version, build_type, amendment_reference,
       build_description, configuration_snapshot)
     values ($1, $2, $3, $4, $5, $6, $7) returning *`,
    [
      build.study,
      build.number,
      build.version ?? '2.0',
      type,
      build.reference === undefined
        ? type === 'AMENDMENT'
          ? `Protocol amendment ${build.number}`
          : null
        : build.reference,
      build.description ?? `Build ${build.number}`,
      JSON.stringify(build.configuration ?? { forms: [] }),
    ],
  );
  return rows[0] as BuildRow;
}

export async function setBuildStatus(
  client: pg.ClientBase,
  id: string,
  status: BuildStatus,
): Promise<BuildRow> {
  const { rows } = await client.query<BuildRow>(
    'update cro.study_database_build set build_status = $2 where id = $1 returning *',
    [id, status],
  );
  if (!rows[0]) throw new Error(`build ${id} was not changed (not visible or not the caller's to change)`);
  return rows[0];
}

/** A new build brought to `status` along the legal steps. */
export async function buildIn(
  client: pg.ClientBase,
  status: BuildStatus,
  build: NewBuild,
): Promise<BuildRow> {
  let row = await createBuild(client, build);
  for (const step of stepsTo[status]) row = await setBuildStatus(client, row.id, step);
  return row;
}

/** What completing build `id` directly does (COMPLETED set by an update, not through run_study_build). */
export function completionOutcome(client: pg.ClientBase, id: string) {
  return outcomeOf(client, `update cro.study_database_build set build_status = 'COMPLETED' where id = $1`, [
    id,
  ]);
}

export interface BuildRun {
  status: BuildStatus;
  errors: BuildError[];
  completed_sequence: number | null;
}

/** public.run_study_build: completes an IN_PROGRESS build, or records it FAILED with its errors. */
export async function runStudyBuild(client: pg.ClientBase, id: string): Promise<BuildRun> {
  const { rows } = await client.query<{ r: BuildRun }>('select public.run_study_build($1) as r', [id]);
  return rows[0]?.r as BuildRun;
}

/** The build the server stamped on a staging record. */
export async function stagingRecordBuild(client: pg.ClientBase, stagingId: string): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    'select build_id::text as id from cro.staging_record where id = $1',
    [stagingId],
  );
  return rows[0]?.id as string;
}

export async function readBuild(client: pg.ClientBase, id: string): Promise<BuildRow | undefined> {
  const { rows } = await client.query<BuildRow>('select * from cro.study_database_build where id = $1', [id]);
  return rows[0];
}

/** What a statement did: its row count, or the SQLSTATE and message it was refused with. */
export async function outcomeOf(
  client: pg.ClientBase,
  text: string,
  values: unknown[] = [],
): Promise<{ rows: number } | { code: string; message: string }> {
  try {
    const result = await client.query(text, values);
    return { rows: result.rowCount ?? 0 };
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    return { code: code ?? '?', message };
  }
}

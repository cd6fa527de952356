// Protocol builds as the workstation shows them (issue 20), from server rows whichever source holds
// them (the cache's study_build, or the server read directly before the first sync and in hosted
// mode): the build panel's StudyBuild, the BuildRef shown beside every value, and the diff of two
// builds. Whether a build is current or superseded is derived here from its study's completed builds
// (the highest completed_sequence is current), never stored, so it is right as soon as a new build
// of the study is synced.

import { buildDiff } from '../../shared/buildDiff';
import { buildFormsOf } from '../../shared/buildForms';
import {
  type BuildDiff,
  type BuildRef,
  buildStatuses,
  buildTypes,
  type StudyBuild,
} from '../../shared/contract';
import { UserFacingError } from '../userFacingError';

/** What a BuildRef needs of a build row (cheap to read for every build of the cache). */
export interface BuildRefRow {
  id: string;
  study_id: string;
  build_number: string;
  build_version: string;
  completed_sequence: number | null;
}

/** The highest completed_sequence of each study: its current build's. */
function currentSequences(rows: readonly BuildRefRow[]): Map<string, number> {
  const current = new Map<string, number>();
  for (const row of rows) {
    if (row.completed_sequence === null) continue;
    if (row.completed_sequence > (current.get(row.study_id) ?? 0))
      current.set(row.study_id, row.completed_sequence);
  }
  return current;
}

/** Each build as values name it, by id: a dictionary built once per read, like the study codes. */
export function buildRefsOf(rows: readonly BuildRefRow[]): Map<string, BuildRef> {
  const current = currentSequences(rows);
  return new Map(
    rows.map((row) => [
      row.id,
      {
        id: row.id,
        number: row.build_number,
        version: row.build_version,
        superseded:
          row.completed_sequence !== null && row.completed_sequence < (current.get(row.study_id) ?? 0),
      },
    ]),
  );
}

/**
 * The BuildRef of a value's build_id: from the dictionary, or, for a build the source does not hold
 * (not synced yet, or not visible), its id alone, so that what binds a signature is never lost.
 */
export function buildRefFor(refs: ReadonlyMap<string, BuildRef>, buildId: string | null): BuildRef | null {
  if (buildId === null) return null;
  return refs.get(buildId) ?? { id: buildId, number: '(build not cached)', version: '', superseded: false };
}

/** A build's server row (to_jsonb of cro.study_database_build), with its study's code when known. */
export interface StudyBuildDoc {
  doc: Record<string, unknown>;
  studyCode: string | null;
}

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const textOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const integer = (value: unknown): number =>
  typeof value === 'number' && Number.isInteger(value) ? value : 0;
const integerOrNull = (value: unknown): number | null =>
  typeof value === 'number' && Number.isInteger(value) ? value : null;
const uuidOrNull = (value: unknown): string | null =>
  typeof value === 'string' && uuidShape.test(value) ? value : null;

/** A server timestamp (to_jsonb renders it with the session's offset) as UTC with milliseconds. */
function isoOrNull(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

function oneOf<T extends string>(values: readonly T[], value: unknown, fallback: T): T {
  return values.includes(value as T) ? (value as T) : fallback;
}

function errorLogOf(value: unknown): StudyBuild['errorLog'] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((entry): entry is Record<string, unknown> => typeof entry === 'object' && entry !== null)
    .map((entry, index) => ({
      attempt: integerOrNull(entry.attempt) ?? index + 1,
      at: isoOrNull(entry.at),
      by: uuidOrNull(entry.by),
      errors: (Array.isArray(entry.errors) ? entry.errors : [])
        .filter((error): error is Record<string, unknown> => typeof error === 'object' && error !== null)
        .map((error) => ({
          path: textOrNull(error.path),
          field: textOrNull(error.field),
          message: text(error.message),
        })),
    }));
}

/** The build panel's builds: studies by code, and within a study the newest first. */
export function studyBuildsOf(sources: readonly StudyBuildDoc[]): StudyBuild[] {
  const refRows: BuildRefRow[] = sources.map(({ doc }) => ({
    id: text(doc.id),
    study_id: text(doc.study_id),
    build_number: text(doc.build_number),
    build_version: text(doc.build_version),
    completed_sequence: integerOrNull(doc.completed_sequence),
  }));
  const current = currentSequences(refRows);
  const builds = sources.map(({ doc, studyCode }): StudyBuild => {
    const studyId = text(doc.study_id);
    const completedSequence = integerOrNull(doc.completed_sequence);
    const currentSequence = current.get(studyId) ?? null;
    return {
      id: text(doc.id),
      studyId,
      studyCode: studyCode ?? '(study not cached)',
      buildNumber: text(doc.build_number),
      buildVersion: text(doc.build_version),
      status: oneOf(buildStatuses, doc.build_status, 'DRAFT'),
      type: oneOf(buildTypes, doc.build_type, 'INITIAL'),
      amendmentReference: textOrNull(doc.amendment_reference),
      description: text(doc.build_description),
      completedSequence,
      current: completedSequence !== null && completedSequence === currentSequence,
      superseded:
        completedSequence !== null && currentSequence !== null && completedSequence < currentSequence,
      startedAt: isoOrNull(doc.build_start_time),
      endedAt: isoOrNull(doc.build_end_time),
      durationSeconds: integerOrNull(doc.build_duration_seconds),
      totalForms: integer(doc.total_forms),
      totalFields: integer(doc.total_fields),
      validationRules: integer(doc.validation_rules_count),
      errorCount: integer(doc.error_count),
      errorLog: errorLogOf(doc.error_log),
      builtBy: text(doc.built_by),
      createdAt: isoOrNull(doc.created_at) ?? '',
      configurationSha256: text(doc.configuration_sha256),
      forms: buildFormsOf(doc.configuration_snapshot),
    };
  });
  return builds.sort(
    (a, b) =>
      a.studyCode.localeCompare(b.studyCode) ||
      a.studyId.localeCompare(b.studyId) ||
      b.createdAt.localeCompare(a.createdAt) ||
      b.id.localeCompare(a.id),
  );
}

/** What changed from one build to another of the same study, from the builds the source holds. */
export function studyBuildDiff(
  builds: readonly StudyBuild[],
  fromBuildId: string,
  toBuildId: string,
): BuildDiff {
  const from = builds.find((build) => build.id === fromBuildId);
  const to = builds.find((build) => build.id === toBuildId);
  const missing = !from ? fromBuildId : !to ? toBuildId : null;
  if (missing !== null || !from || !to) {
    throw new UserFacingError(`Build ${missing} is not known here: sync, or choose another build.`);
  }
  if (from.studyId !== to.studyId) {
    throw new UserFacingError(
      `Builds ${from.buildNumber} (${from.studyCode}) and ${to.buildNumber} (${to.studyCode}) belong to different studies: compare two builds of the same study.`,
    );
  }
  return { fromBuildId, toBuildId, changes: buildDiff(from.forms, to.forms) };
}

// How a build's facts read in the build panel: its duration, a field's range and allowed values, the
// short form of its configuration hash, the studies the builds belong to, and which two builds to
// compare first. Configuration text is untrusted (an administrator typed it): visibleText.
import type { BuildFieldDefinition, StudyBuild } from '../../../shared/contract';
import { visibleText } from '../common/visibleText';

/** "45 s", "3 min 12 s", "1 h 4 min"; null when the build has not ended. */
export function durationText(seconds: number | null): string | null {
  if (seconds === null) return null;
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return whole % 60 === 0 ? `${minutes} min` : `${minutes} min ${whole % 60} s`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

/** "1 to 240", "at least 0", "at most 20"; "—" without bounds. */
export function rangeText(field: Pick<BuildFieldDefinition, 'min' | 'max'>): string {
  if (field.min !== null && field.max !== null) return `${field.min} to ${field.max}`;
  if (field.min !== null) return `at least ${field.min}`;
  if (field.max !== null) return `at most ${field.max}`;
  return '—';
}

/** The allowed values of a choice, comma-separated; "—" when any value of the type is allowed. */
export function allowedValuesText(field: Pick<BuildFieldDefinition, 'values'>): string {
  if (field.values === null || field.values.length === 0) return '—';
  return field.values.map(visibleText).join(', ');
}

/** The first 12 hex digits of a SHA-256, enough to tell builds apart on screen (the whole is copied). */
export function shortSha(sha256: string): string {
  return sha256.slice(0, 12);
}

/** The studies of the builds, by code, each once. */
export function studiesOf(builds: readonly StudyBuild[]): { id: string; code: string }[] {
  const studies = new Map<string, string>();
  for (const build of builds) if (!studies.has(build.studyId)) studies.set(build.studyId, build.studyCode);
  return [...studies]
    .map(([id, code]) => ({ id, code }))
    .sort((a, b) => a.code.localeCompare(b.code, 'en', { numeric: true }));
}

/** A study's builds, the newest first (the latest completed one first among completed ones). */
export function buildsOfStudy(builds: readonly StudyBuild[], studyId: string | null): StudyBuild[] {
  return builds
    .filter((build) => build.studyId === studyId)
    .sort(
      (a, b) =>
        b.createdAt.localeCompare(a.createdAt) ||
        b.buildNumber.localeCompare(a.buildNumber, 'en', { numeric: true }),
    );
}

/**
 * The comparison a data manager asks for first: the build before the current one against the current
 * one (what the last amendment changed); with one build, nothing to compare.
 */
export function defaultComparison(builds: readonly StudyBuild[]): { from: string; to: string } | null {
  const completed = builds
    .filter((build) => build.completedSequence !== null)
    .sort((a, b) => (b.completedSequence ?? 0) - (a.completedSequence ?? 0));
  const [to, from] = completed;
  if (to && from) return { from: from.id, to: to.id };
  const [newest, older] = builds;
  return newest && older ? { from: older.id, to: newest.id } : null;
}

type Attempt = StudyBuild['errorLog'][number];

export interface ErrorRow {
  attempt: Attempt;
  /** null: the attempt failed without a recorded error. */
  error: Attempt['errors'][number] | null;
  /** The attempt's first row (it carries the attempt's number, time and author). */
  first: boolean;
  key: string;
}

/** Every error of every failed attempt, one row each, oldest attempt first. */
export function errorRows(build: Pick<StudyBuild, 'errorLog'>): ErrorRow[] {
  return build.errorLog.flatMap((attempt): ErrorRow[] =>
    attempt.errors.length === 0
      ? [{ attempt, error: null, first: true, key: `${attempt.attempt}` }]
      : attempt.errors.map((error, index) => ({
          attempt,
          error,
          first: index === 0,
          key: `${attempt.attempt}:${index}`,
        })),
  );
}

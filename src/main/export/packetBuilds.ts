// The protocol builds an inspection packet carries (issue 20): every build of the packet's studies
// and every build one of its values names, each as the cache holds it (the server row, with its
// configuration, timeline and error log) together with its audit entries (study_build.transition and
// study_build.configured), so that verifyPacket can bind each build to the chain through its
// configuration_sha256, and what changed from the build before it.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { buildDiff } from '../../shared/buildDiff';
import { buildFormsOf } from '../../shared/buildForms';
import type { BuildDiffChange } from '../../shared/contract';
import type { ChainRef } from './chainRef';
import { isoMillis } from './packetTime';

export interface PacketBuildEvent extends ChainRef {
  /** A transition's from and to status; a configuration change (study_build.configured) has no
   * from status, and as to status the one it was made in. */
  fromStatus: string | null;
  toStatus: string | null;
  configurationSha256: string | null;
}

export interface PacketBuildAttempt {
  attempt: number;
  at: string | null;
  by: string | null;
  byName: string | null;
  errors: { path: string | null; field: string | null; message: string }[];
}

export interface PacketBuild {
  id: string;
  studyId: string;
  studyCode: string;
  number: string;
  version: string;
  type: string;
  status: string;
  /** Its place among the study's completed builds (1, 2, ...); null until completed. */
  completedSequence: number | null;
  /** The study's latest completed build in the packet: values are captured under it now. */
  current: boolean;
  /** Completed, and a later build of its study has completed since. */
  superseded: boolean;
  amendmentReference: string | null;
  description: string;
  timeline: {
    createdAt: string;
    startedAt: string | null;
    endedAt: string | null;
    durationSeconds: number | null;
  };
  builtBy: string;
  builtByName: string | null;
  counts: { forms: number; fields: number; validationRules: number; errors: number };
  /** The configuration snapshot as the server holds it ({"forms": [...]}). */
  configuration: unknown;
  configurationSha256: string;
  /** One entry per failed attempt, oldest first. */
  errorLog: PacketBuildAttempt[];
  /** Its audit entries, in chain order. */
  events: PacketBuildEvent[];
  /** The build it is compared with (see previousBuildOf); null for a study's first. */
  previousBuildId: string | null;
  /** What changed from the previous build's forms to this one's (src/shared/buildDiff.ts). */
  changesFromPrevious: BuildDiffChange[];
}

/** How a build is named wherever a value shows it: "B2 (2.0)". */
export function buildName(build: Pick<PacketBuild, 'number' | 'version'>): string {
  return `${build.number} (${build.version})`;
}

/** The build a build is compared with: a completed one's predecessor; any other's, the latest completed. */
export function previousBuildOf(build: PacketBuild, studyBuilds: readonly PacketBuild[]): PacketBuild | null {
  const completed = studyBuilds
    .filter((b) => b.completedSequence !== null && b.id !== build.id)
    .sort((a, b) => (a.completedSequence as number) - (b.completedSequence as number));
  if (build.completedSequence === null) return completed.at(-1) ?? null;
  return (
    completed.filter((b) => (b.completedSequence as number) < (build.completedSequence as number)).at(-1) ??
    null
  );
}

/** The changes from `previous` to `build` as the packet states them. */
export function changesBetween(previous: PacketBuild | null, build: PacketBuild): BuildDiffChange[] {
  return buildDiff(buildFormsOf(previous?.configuration ?? { forms: [] }), buildFormsOf(build.configuration));
}

/** Whether a build is its study's current one / superseded, among the packet's builds of that study. */
export function buildStanding(
  build: Pick<PacketBuild, 'completedSequence'>,
  studyBuilds: readonly Pick<PacketBuild, 'completedSequence'>[],
): { current: boolean; superseded: boolean } {
  if (build.completedSequence === null) return { current: false, superseded: false };
  const latest = Math.max(...studyBuilds.map((b) => b.completedSequence ?? 0));
  return { current: build.completedSequence === latest, superseded: build.completedSequence < latest };
}

const str = (value: unknown): string => (value === null || value === undefined ? '' : String(value));
const strOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const intOrNull = (value: unknown): number | null => (typeof value === 'number' ? value : null);

function attemptsOf(errorLog: unknown, nameOf: (id: string) => string | null): PacketBuildAttempt[] {
  if (!Array.isArray(errorLog)) return [];
  return errorLog.map((entry: Record<string, unknown>) => ({
    attempt: Number(entry?.attempt ?? 0),
    at: entry?.at ? isoMillis(entry.at) : null,
    by: strOrNull(entry?.by),
    byName: typeof entry?.by === 'string' ? nameOf(entry.by) : null,
    errors: (Array.isArray(entry?.errors) ? entry.errors : []).map((e: Record<string, unknown>) => ({
      path: strOrNull(e?.path),
      field: strOrNull(e?.field),
      message: str(e?.message),
    })),
  }));
}

export interface GatherBuildsOptions {
  /** The packet's studies: all their builds are in it. */
  studyIds: readonly string[];
  /** Builds the packet's values name (normally of those studies already). */
  namedBuildIds: Iterable<string>;
  studyCode: (studyId: string) => string;
  nameOf: (userId: string) => string | null;
  /** The build's audit entries from the cached chain, in seq order. */
  eventsOf: (buildId: string) => { ref: ChainRef; payload: Record<string, unknown> }[];
}

export function gatherPacketBuilds(db: Database, options: GatherBuildsOptions): PacketBuild[] {
  const rows = db
    .prepare(
      `select doc from study_build
        where study_id in (select value from json_each(?)) or id in (select value from json_each(?))`,
    )
    .all(JSON.stringify(options.studyIds), JSON.stringify([...new Set(options.namedBuildIds)])) as {
    doc: string;
  }[];
  const builds: PacketBuild[] = rows.map(({ doc }) => {
    const b = JSON.parse(doc) as Record<string, unknown>;
    const id = str(b.id);
    const studyId = str(b.study_id);
    return {
      id,
      studyId,
      studyCode: options.studyCode(studyId),
      number: str(b.build_number),
      version: str(b.build_version),
      type: str(b.build_type),
      status: str(b.build_status),
      completedSequence: intOrNull(b.completed_sequence),
      current: false,
      superseded: false,
      amendmentReference: strOrNull(b.amendment_reference),
      description: str(b.build_description),
      timeline: {
        createdAt: isoMillis(b.created_at),
        startedAt: b.build_start_time ? isoMillis(b.build_start_time) : null,
        endedAt: b.build_end_time ? isoMillis(b.build_end_time) : null,
        durationSeconds: intOrNull(b.build_duration_seconds),
      },
      builtBy: str(b.built_by),
      builtByName: options.nameOf(str(b.built_by)),
      counts: {
        forms: Number(b.total_forms ?? 0),
        fields: Number(b.total_fields ?? 0),
        validationRules: Number(b.validation_rules_count ?? 0),
        errors: Number(b.error_count ?? 0),
      },
      configuration: b.configuration_snapshot ?? null,
      configurationSha256: str(b.configuration_sha256),
      errorLog: attemptsOf(b.error_log, options.nameOf),
      events: options.eventsOf(id).map(({ ref, payload }) => ({
        ...ref,
        fromStatus: strOrNull(payload.from_status),
        toStatus: strOrNull(payload.to_status ?? payload.status),
        configurationSha256: strOrNull(payload.configuration_sha256),
      })),
      previousBuildId: null,
      changesFromPrevious: [],
    };
  });
  // By study, then in the order the builds were made.
  builds.sort(
    (a, b) =>
      compare(a.studyCode, b.studyCode) ||
      compare(a.studyId, b.studyId) ||
      compare(a.timeline.createdAt, b.timeline.createdAt) ||
      compare(a.number, b.number) ||
      compare(a.id, b.id),
  );
  for (const build of builds) {
    const ofStudy = builds.filter((b) => b.studyId === build.studyId);
    Object.assign(build, buildStanding(build, ofStudy));
    const previous = previousBuildOf(build, ofStudy);
    build.previousBuildId = previous?.id ?? null;
    build.changesFromPrevious = changesBetween(previous, build);
  }
  return builds;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// The protocol builds the cache holds (study_build, cache schema 8): the dictionary every read uses
// to name a value's build (a few rows per study, read once per call, like the study codes), and the
// build panel's builds with their configuration.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import type { BuildRef, StudyBuild } from '../../shared/contract';
import { type BuildRefRow, buildRefsOf, studyBuildsOf } from '../builds/studyBuilds';

export function cachedBuildRefs(db: Database): Map<string, BuildRef> {
  return buildRefsOf(
    db
      .prepare('select id, study_id, build_number, build_version, completed_sequence from study_build')
      .all() as BuildRefRow[],
  );
}

/** A study's builds (every study's when null), with the study's code from the cached study row. */
export function cachedStudyBuilds(db: Database, studyId: string | null): StudyBuild[] {
  const rows = db
    .prepare(
      `select b.doc, json_extract(st.doc, '$.code') as study_code
         from study_build b
         left join live_row st on st.entity_kind = 'study' and st.id = b.study_id
        where ? is null or b.study_id = ?`,
    )
    .all(studyId, studyId) as { doc: string; study_code: string | null }[];
  return studyBuildsOf(
    rows.map((row) => ({ doc: JSON.parse(row.doc) as Record<string, unknown>, studyCode: row.study_code })),
  );
}

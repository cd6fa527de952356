// The builds that values read from the server name (cro.study_database_build, migration 0054), as
// BuildRefs: every build of the studies those builds belong to is read, since whether one is
// superseded depends on its study's later builds. One query, through the person's own login (RLS).
import type pg from 'pg';
import type { BuildRef } from '../../../shared/contract';
import { type BuildRefRow, buildRefsOf } from '../../builds/studyBuilds';

export async function serverBuildRefs(
  client: pg.ClientBase,
  buildIds: readonly (string | null)[],
): Promise<Map<string, BuildRef>> {
  const ids = [...new Set(buildIds.filter((id): id is string => id !== null))];
  if (ids.length === 0) return new Map();
  const { rows } = await client.query<BuildRefRow>(
    `select b.id, b.study_id, b.build_number, b.build_version, b.completed_sequence
       from cro.study_database_build b
      where b.study_id in (select c.study_id from cro.study_database_build c where c.id = any ($1::uuid[]))`,
    [ids],
  );
  return buildRefsOf(rows);
}

// The manifest's records as the cache holds them: the proposal and the live row it replaces, as the
// signer reviewed them. The server recomputes every hash at signing, so a cache that fell behind is
// caught there ("changed after the manifest was built"), never signed; so is a record whose build the
// cache does not have as the server does (the hash binds the build, content-hash version 2).
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { buildRefFor } from '../builds/studyBuilds';
import type { ManifestSubject } from '../signing/signingBackend';
import { cachedBuildRefs } from './cachedBuilds';

interface CachedSubjectRow {
  id: string;
  study_id: string;
  study_code: string | null;
  entity_kind: string;
  entity_id: string | null;
  state: string;
  proposed_state: string;
  live_doc: string | null;
  build_id: string | null;
}

export function cachedSigningSubjects(db: Database, stagingIds: string[]): ManifestSubject[] {
  const select = db.prepare(
    `select s.id, s.study_id, json_extract(st.doc, '$.code') as study_code, s.entity_kind, s.entity_id,
            s.state, s.proposed_state, l.doc as live_doc, s.build_id
       from staging_record s
       left join live_row st on st.entity_kind = 'study' and st.id = s.study_id
       left join live_row l on l.entity_kind = s.entity_kind and l.id = s.entity_id
      where s.id = ?`,
  );
  const builds = cachedBuildRefs(db);
  return stagingIds.flatMap((id) => {
    const row = select.get(id) as CachedSubjectRow | undefined;
    // A row cached before its build was (cache schema 8, not pulled again yet) cannot be hashed as
    // the server will: the ceremony reads it from the server instead.
    if (!row || row.build_id === null) return [];
    return [
      {
        stagingRecordId: row.id,
        studyId: row.study_id,
        studyCode: row.study_code ?? '(study not cached)',
        entityKind: row.entity_kind,
        entityId: row.entity_id,
        state: row.state,
        proposedState: JSON.parse(row.proposed_state),
        liveRow: row.live_doc === null ? null : JSON.parse(row.live_doc),
        buildId: row.build_id,
        build: buildRefFor(builds, row.build_id),
      },
    ];
  });
}

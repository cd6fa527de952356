// The manifest's records as the cache holds them: the proposal and the live row it replaces, as the
// signer reviewed them. The server recomputes every hash at signing, so a cache that fell behind is
// caught there ("changed after the manifest was built"), never signed.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import type { ManifestSubject } from '../signing/signingBackend';

interface CachedSubjectRow {
  id: string;
  study_id: string;
  study_code: string | null;
  entity_kind: string;
  entity_id: string | null;
  state: string;
  proposed_state: string;
  live_doc: string | null;
}

export function cachedSigningSubjects(db: Database, stagingIds: string[]): ManifestSubject[] {
  const select = db.prepare(
    `select s.id, s.study_id, json_extract(st.doc, '$.code') as study_code, s.entity_kind, s.entity_id,
            s.state, s.proposed_state, l.doc as live_doc
       from staging_record s
       left join live_row st on st.entity_kind = 'study' and st.id = s.study_id
       left join live_row l on l.entity_kind = s.entity_kind and l.id = s.entity_id
      where s.id = ?`,
  );
  return stagingIds.flatMap((id) => {
    const row = select.get(id) as CachedSubjectRow | undefined;
    if (!row) return [];
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
      },
    ];
  });
}

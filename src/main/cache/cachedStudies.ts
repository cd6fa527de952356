// The studies the cache holds, for the filters of the provenance and audit screen: id and code, by
// code. A study the person may not read is not in the cache, so it is not offered.
import type { Database } from 'better-sqlite3-multiple-ciphers';

export interface CachedStudy {
  id: string;
  code: string;
}

export function cachedStudies(db: Database): CachedStudy[] {
  return db
    .prepare(
      `select id, coalesce(json_extract(doc, '$.code'), id) as code
       from live_row where entity_kind = 'study'
       order by code, id`,
    )
    .all() as CachedStudy[];
}

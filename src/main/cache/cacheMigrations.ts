// The cache's schema versions, in the style of Signal Desktop: one function per version (one file
// each under migrations/), applied in a transaction while PRAGMA user_version tracks progress; a
// cache newer than this code is refused, never touched.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { CacheTooNewError } from './cacheErrors';
import { updateToSchemaVersion1 } from './migrations/0001_initial';
import { updateToSchemaVersion2 } from './migrations/0002_diary_screen';
import { updateToSchemaVersion3 } from './migrations/0003_queue_covering_index';
import { updateToSchemaVersion4 } from './migrations/0004_droppable_key_indexes';
import { updateToSchemaVersion5 } from './migrations/0005_people';
import { updateToSchemaVersion6 } from './migrations/0006_queue_change_summary';
import { updateToSchemaVersion7 } from './migrations/0007_query_close_reasons';
import { updateToSchemaVersion8 } from './migrations/0008_protocol_builds';
import { updateToSchemaVersion9 } from './migrations/0009_diary_event_outbox';
import { updateToSchemaVersion10 } from './migrations/0010_correction_reviews';
import { updateToSchemaVersion11 } from './migrations/0011_deidentified_entries';
import { updateToSchemaVersion12 } from './migrations/0012_audit_tree';
import { updateToSchemaVersion13 } from './migrations/0013_checkpoint_cosignatures';

export const cacheMigrations: ReadonlyArray<(db: Database) => void> = [
  updateToSchemaVersion1,
  updateToSchemaVersion2,
  updateToSchemaVersion3,
  updateToSchemaVersion4,
  updateToSchemaVersion5,
  updateToSchemaVersion6,
  updateToSchemaVersion7,
  updateToSchemaVersion8,
  updateToSchemaVersion9,
  updateToSchemaVersion10,
  updateToSchemaVersion11,
  updateToSchemaVersion12,
  updateToSchemaVersion13,
];
export const cacheSchemaVersion = cacheMigrations.length;

export function migrateCache(db: Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > cacheSchemaVersion) {
    throw new CacheTooNewError(
      `This offline cache was written by a newer Countersign (cache schema ${current}; this version knows up to ${cacheSchemaVersion}). ` +
        'Update Countersign, or remove the cache to sync it again from the server.',
    );
  }
  for (let version = current + 1; version <= cacheSchemaVersion; version++) {
    const update = cacheMigrations[version - 1] as (db: Database) => void;
    db.transaction(() => {
      update(db);
      db.pragma(`user_version = ${version}`);
    })();
  }
  return cacheSchemaVersion;
}

// Cache schema version 13: the cosignatures of audit-log checkpoints (server migration 0062, issue
// 24), as the server stores them, signatures unverified (the cosigner and the packet writer verify
// each one where they use it). Offline exports carry them, and a workstation sees the others'.
// `checked` is the cosigner's own mark (not from the server): 1 once the row's root was found equal to
// this cache's tree at its size. A row pulled again (insert or replace) or a cache emptied for a full
// resync starts unchecked, so a log pulled anew is compared with every cosignature again.
import type { Database } from 'better-sqlite3-multiple-ciphers';

export function updateToSchemaVersion13(db: Database): void {
  db.exec(`
    create table checkpoint_cosignature (
      id text primary key,
      tree_size integer not null,
      root_hash text not null,
      subject_root text not null,
      cosigned_at text not null,
      user_id text not null,
      public_key text not null,
      key_fingerprint text not null,
      signature text not null,
      recorded_at text not null,
      sync_xid text not null,
      checked integer not null default 0
    );
    create index checkpoint_cosignature_size_idx on checkpoint_cosignature (tree_size, key_fingerprint);
  `);
}

// Cache schema version 12: the RFC 9162 tree over the verified audit_log (issue 24,
// src/main/cache/auditTree.ts). audit_tree_node keeps the perfect subtrees of 256 leaves and more
// (level 8 and up; node idx covers leaves idx·2^level .. (idx+1)·2^level - 1, leaf i = seq i + 1), so
// a root or proof at any size reads O(log n) stored nodes plus at most one 256-entry block per
// level-below-8 range; audit_subject is the subject map (which entries are about which record), one
// indexed scan in subject order gives it at any size; audit_subject_leaf holds each subject's map leaf
// hash at the tree's current size (the map at the head without rebuilding 250,000 leaves from a
// million rows). audit_tree_state records how far they reach
// and the entry hash there, so a cache whose verified head moved back is rebuilt.
import type { Database } from 'better-sqlite3-multiple-ciphers';

export function updateToSchemaVersion12(db: Database): void {
  db.exec(`
    create table audit_tree_node (
      level integer not null,
      idx integer not null,
      hash blob not null,
      primary key (level, idx)
    ) without rowid;
    create table audit_subject (
      subject text not null,
      seq integer not null,
      primary key (subject, seq)
    ) without rowid;
    create table audit_subject_leaf (
      subject text primary key,
      hash blob not null
    ) without rowid;
    create table audit_tree_state (
      id integer primary key check (id = 1),
      size integer not null,
      head_hash text not null,
      subject_root_size integer,
      subject_root text
    );
  `);
}

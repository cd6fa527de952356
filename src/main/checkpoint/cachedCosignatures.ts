// The cosignatures the cache holds (sync stream checkpoint_cosignature, cache schema 13), as
// Cosignatures with printed names from the people directory, keeping only those whose Ed25519
// signatures verify (the server cannot check them: 0062). Read by the cosigner, the checkpoint file
// writer and the packet export (a light module: the export worker imports it).
import type { Database } from 'better-sqlite3-multiple-ciphers';
import type { Checkpoint, Cosignature } from './checkpoint';
import { cosignatureProblem } from './cosignatureCheck';

export interface CosignatureRow {
  tree_size: number;
  root_hash: string;
  subject_root: string;
  cosigned_at: string;
  user_id: string;
  public_key: string;
  key_fingerprint: string;
  signature: string;
}

export function cosignatureOf(row: CosignatureRow, printedName: string | null): Cosignature {
  return {
    treeSize: row.tree_size,
    rootHash: row.root_hash,
    subjectRoot: row.subject_root,
    cosignedAt: row.cosigned_at,
    userId: row.user_id,
    printedName,
    publicKey: row.public_key,
    keyFingerprint: row.key_fingerprint,
    signature: row.signature,
  };
}

function printedNames(db: Database): Map<string, string> {
  try {
    const rows = db.prepare('select user_id, printed_name from person').all() as {
      user_id: string;
      printed_name: string | null;
    }[];
    return new Map(rows.filter((r) => r.printed_name).map((r) => [r.user_id, r.printed_name as string]));
  } catch {
    return new Map(); // a cache without the people directory: names stay unknown
  }
}

/** The cache's cosignatures whose Ed25519 signatures verify, optionally of one checkpoint only. */
export function cachedCosignatures(db: Database, of?: Checkpoint): Cosignature[] {
  const rows = (
    of
      ? db
          .prepare(
            `select * from checkpoint_cosignature where tree_size = ? and root_hash = ? and subject_root = ?
              order by key_fingerprint, cosigned_at`,
          )
          .all(of.treeSize, of.rootHash, of.subjectRoot)
      : db
          .prepare('select * from checkpoint_cosignature order by tree_size, key_fingerprint, cosigned_at')
          .all()
  ) as CosignatureRow[];
  const names = printedNames(db);
  const seen = new Set<string>();
  const good: Cosignature[] = [];
  for (const row of rows) {
    const c = cosignatureOf(row, names.get(row.user_id) ?? null);
    const once = `${c.keyFingerprint}/${c.treeSize}/${c.rootHash}/${c.subjectRoot}`;
    if (seen.has(once) || cosignatureProblem(c) !== null) continue;
    seen.add(once);
    good.push(c);
  }
  return good;
}

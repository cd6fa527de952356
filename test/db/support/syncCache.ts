// Opens throwaway caches for the sync tests, and lists what a cache holds per stream in the same
// terms as the server (keys as text), so a test can compare both sides.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import type pg from 'pg';
import { FileCacheKeyStore } from '../../../src/main/cache/cacheKeyStore';
import { openCache } from '../../../src/main/cache/openCache';
import { type StreamDefinition, streamDefinitions } from '../../../src/main/sync/streamDefinitions';

export const testBackendId = '0123456789abcdef';

export interface TempCaches {
  dir: string;
  open(userId: string): Database;
  path(userId: string): string;
  remove(): void;
}

export function tempCaches(): TempCaches {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-cache-'));
  const keys = new FileCacheKeyStore(join(dir, 'keys'));
  const path = (userId: string) => join(dir, `${userId}.sqlite`);
  return {
    dir,
    path,
    open: (userId) =>
      openCache({
        path: path(userId),
        key: keys.keyFor(userId, testBackendId),
        userId,
        backendId: testBackendId,
      }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const cacheKeySql: Record<string, string> = {
  staging_record: 'select id as k from staging_record',
  provenance_event: 'select id as k from provenance_event',
  signature_event: 'select id as k from signature_event',
  model_registry_version: 'select id as k from model_registry_version',
  sponsor_request: 'select id as k from sponsor_request',
  study_build: 'select id as k from study_build',
  site: 'select site_id as k from site',
  enrolment: 'select patient_id as k from enrolment',
  record_state: 'select event_uuid as k from record_state',
  record_audit: 'select cast(audit_id as text) as k from record_audit',
  annotation: 'select annotation_id as k from annotation',
  annotation_resolution: 'select request_id as k from annotation_resolution',
  deidentified_entry: 'select entry_id as k from deidentified_entry',
  correction_review: 'select review_id as k from correction_review',
  diary_conflict: 'select cast(conflict_id as text) as k from diary_conflict',
  audit_log: 'select cast(seq as text) as k from audit_log',
  checkpoint_cosignature: 'select id as k from checkpoint_cosignature',
};

export function cachedKeys(db: Database, stream: StreamDefinition): string[] {
  const sql = cacheKeySql[stream.name] ?? `select id as k from live_row where entity_kind = '${stream.name}'`;
  return (db.prepare(sql).all() as { k: string }[]).map((row) => row.k).sort();
}

export async function serverKeys(client: pg.ClientBase, stream: StreamDefinition): Promise<string[]> {
  const { rows } = await client.query<{ k: string }>(
    `select ${stream.keyColumn}::text as k from ${stream.serverTable}`,
  );
  return rows.map((row) => row.k).sort();
}

/** The streams' deferred indexes (keys included) that the cache lacks: none, once a pull is through. */
export function missingDeferredIndexes(
  db: Database,
  streams: readonly StreamDefinition[] = streamDefinitions,
): string[] {
  const present = new Set(
    (db.prepare(`select name from sqlite_schema where type = 'index'`).all() as { name: string }[]).map(
      (row) => row.name,
    ),
  );
  return streams
    .flatMap((stream) => (stream.deferredIndexes ?? []).map((index) => index.name))
    .filter((name) => !present.has(name));
}

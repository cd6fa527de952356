// One staging record from the cache, shaped like the server's answer (PostgresSession.stagingDetail):
// the proposal, the live row it changes, its signatures and its provenance, for reading offline.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import type { StagingDetail, StagingQueueRow } from '../../shared/contract';
import { stagingRowColumns, stagingRowSource } from './cacheReads';

/** Timestamps as the contract carries them: UTC with milliseconds. */
function isoMillis(value: unknown): string {
  const date = new Date(String(value));
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}

export function cachedStagingDetail(db: Database, id: string): StagingDetail | null {
  const record = db
    .prepare(
      `select ${stagingRowColumns}, s.proposed_state as proposed, s.provenance_id as provenanceId,
              l.doc as liveDoc
         from ${stagingRowSource}
         left join live_row l on l.entity_kind = s.entity_kind and l.id = s.entity_id
        where s.id = ?`,
    )
    .get(id) as
    | (StagingQueueRow & { proposed: string; provenanceId: string | null; liveDoc: string | null })
    | undefined;
  if (!record) return null;
  const { proposed, provenanceId, liveDoc, ...row } = record;
  const signatures = (
    db
      .prepare(
        `select doc from signature_event where subject_kind = 'staging_record' and subject_id = ? order by signed_at`,
      )
      .all(id) as { doc: string }[]
  ).map(({ doc }) => {
    const s = JSON.parse(doc) as Record<string, unknown>;
    return {
      id: String(s.id),
      printedName: String(s.user_display_name),
      intent: s.intent as StagingDetail['signatures'][number]['intent'],
      meaning: String(s.meaning_of_signature),
      comment: typeof s.signature_comment === 'string' ? s.signature_comment : null,
      signedAt: isoMillis(s.signed_at),
      reAuthAt: isoMillis(s.re_auth_at),
      contentHash: String(s.content_hash),
      ceremonyId: typeof s.ceremony_id === 'string' ? s.ceremony_id : null,
    };
  });
  const provenance = (
    db
      .prepare(
        `select id, action, actor_kind as actorKind, actor_id as actorId, occurred_at as occurredAt
           from provenance_event
          where subject_id = ? or id = ? or json_extract(payload, '$.staging_id') = ?
          order by occurred_at, id`,
      )
      .all(id, provenanceId, id) as StagingDetail['provenance']
  ).map((event) => ({ ...event, occurredAt: isoMillis(event.occurredAt) }));
  return {
    record: {
      ...row,
      proposedState: JSON.parse(proposed),
      liveRow: liveDoc === null ? null : JSON.parse(liveDoc),
    },
    signatures,
    provenance,
  };
}

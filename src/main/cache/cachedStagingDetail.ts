// One staging record from the cache, shaped like the server's answer (public.staging_detail): the
// proposal, the live row it changes, its signatures, its provenance (with the agent's retrieved
// context and the payloads the server completed) and its model registry version, for reading offline.
// The record names the protocol build it was written under, and each signature the content-hash
// version it was computed at (0054).
import type { Database } from 'better-sqlite3-multiple-ciphers';
import type { ModelRegistryEntry, StagingDetailRead, StagingQueueRow } from '../../shared/contract';
import { buildRefFor } from '../builds/studyBuilds';
import { contentHashVersionOf } from '../signing/contentHash';
import { signatureRejection } from '../signing/signatureRejection';
import { cachedBuildRefs } from './cachedBuilds';
import { stagingRowColumns, stagingRowSource } from './cacheReads';

/** Timestamps as the contract carries them: UTC with milliseconds. */
function isoMillis(value: unknown): string {
  const date = new Date(String(value));
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}

/** A cached JSON text (a document, a live row), or null when there is none or it does not parse. */
export function parsed(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The cached model registry row (the server's to_jsonb), as the detail names it. */
function modelEntry(doc: string | null): ModelRegistryEntry | null {
  const m = parsed(doc) as Record<string, unknown> | null;
  if (m === null || typeof m !== 'object') return null;
  return {
    id: String(m.id),
    provider: String(m.provider ?? ''),
    modelId: String(m.model_id ?? ''),
    promptVersion: String(m.prompt_version ?? ''),
    promptHash: String(m.prompt_hash ?? ''),
    registeredAt: isoMillis(m.registered_at),
    retiredAt: m.retired_at === null || m.retired_at === undefined ? null : isoMillis(m.retired_at),
  };
}

export function cachedStagingDetail(db: Database, id: string): StagingDetailRead | null {
  const record = db
    .prepare(
      `select ${stagingRowColumns}, s.proposed_state as proposed, s.provenance_id as provenanceId,
              s.build_id as buildId, l.doc as liveDoc, m.doc as modelDoc
         from ${stagingRowSource}
         left join live_row l on l.entity_kind = s.entity_kind and l.id = s.entity_id
        where s.id = ?`,
    )
    .get(id) as
    | (Omit<StagingQueueRow, 'build'> & {
        proposed: string;
        provenanceId: string | null;
        buildId: string | null;
        liveDoc: string | null;
        modelDoc: string | null;
      })
    | undefined;
  if (!record) return null;
  const { proposed, provenanceId, buildId, liveDoc, modelDoc, ...row } = record;
  const builds = cachedBuildRefs(db);
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
      intent: s.intent as StagingDetailRead['signatures'][number]['intent'],
      meaning: String(s.meaning_of_signature),
      comment: typeof s.signature_comment === 'string' ? s.signature_comment : null,
      signedAt: isoMillis(s.signed_at),
      reAuthAt: isoMillis(s.re_auth_at),
      contentHash: String(s.content_hash),
      ceremonyId: typeof s.ceremony_id === 'string' ? s.ceremony_id : null,
      rejection: signatureRejection(s),
      contentHashVersion: contentHashVersionOf(s.content_hash_version),
    };
  });
  const provenance = (
    db
      .prepare(
        `select id, action, actor_kind as actorKind, actor_id as actorId, occurred_at as occurredAt,
                retrieved_context as retrievedContext, payload, build_id as buildId
           from provenance_event
          where subject_id = ? or id = ? or json_extract(payload, '$.staging_id') = ?
          order by occurred_at, id`,
      )
      .all(id, provenanceId, id) as {
      id: string;
      action: string;
      actorKind: string;
      actorId: string;
      occurredAt: string;
      retrievedContext: string;
      payload: string;
      buildId: string | null;
    }[]
  ).map(({ buildId: eventBuildId, ...event }) => ({
    ...event,
    occurredAt: isoMillis(event.occurredAt),
    retrievedContext: parsed(event.retrievedContext),
    payload: parsed(event.payload),
    build: buildRefFor(builds, eventBuildId),
  }));
  return {
    record: {
      ...row,
      build: buildRefFor(builds, buildId),
      proposedState: JSON.parse(proposed),
      liveRow: liveDoc === null ? null : JSON.parse(liveDoc),
      provenanceId,
    },
    model: modelEntry(modelDoc),
    signatures,
    provenance,
  };
}

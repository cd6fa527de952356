// The read side of the cache: every view the renderer shows offline, answered from SQLite in the
// shapes of the contract. JSON columns are parsed here, once, for the rows a view returns.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import type { BuildRef, QueueRow } from '../../shared/contract';
import { type StagingState, stagingStates } from '../../shared/domain';
import { buildRefFor } from '../builds/studyBuilds';
import { signatureRejection } from '../signing/signatureRejection';
import { entryHashInput, sha256Hex } from '../sync/chainVerifier';
import { cachedBuildRefs } from './cachedBuilds';
import { paperSourceOf } from './paperSource';

export interface StagingQueueQuery {
  limit: number;
  after: { createdAt: string; id: string } | null;
  states: StagingState[];
  studyId: string | null;
  /** Only proposals written under this protocol build. */
  buildId?: string | null;
}

/** How a study and a model registry version are named (from their cached documents). */
const studyCodeSql = (alias: string) => `json_extract(${alias}.doc, '$.code')`;
const modelVersionSql = (alias: string) =>
  `json_extract(${alias}.doc, '$.provider') || ' ' || json_extract(${alias}.doc, '$.model_id') ||
   ' (prompt ' || json_extract(${alias}.doc, '$.prompt_version') || ')'`;
const studyNotCached = '(study not cached)';

/**
 * A staging row (StagingQueueRow) with its study code and model version, joined per row: for a
 * record's detail. The queue names them once per page instead (cachedStagingQueue).
 */
export const stagingRowColumns = `s.id, s.state, s.entity_kind as entityKind, s.entity_id as entityId,
  s.study_id as studyId, coalesce(${studyCodeSql('st')}, '${studyNotCached}') as studyCode,
  s.agent_id as agentId,
  case when m.id is null then null else ${modelVersionSql('m')} end as modelVersion,
  s.created_at as createdAt, s.updated_at as updatedAt`;
export const stagingRowSource = `staging_record s
  left join live_row st on st.entity_kind = 'study' and st.id = s.study_id
  left join model_registry_version m on m.id = s.model_version_id`;

/** The columns of the queue's select, in order. */
type QueueSelect = [
  id: string,
  state: QueueRow['state'],
  entityKind: QueueRow['entityKind'],
  studyId: string,
  agentId: string,
  modelVersionId: string | null,
  createdAt: string,
  changeSummary: string | null,
  targetTitle: string | null,
  buildId: string | null,
];

export function cachedStagingQueue(db: Database, query: StagingQueueQuery) {
  const filters = ['(? is null or s.study_id = ?)'];
  const params: unknown[] = [query.studyId, query.studyId];
  const buildId = query.buildId ?? null;
  // Read from the covering index, which holds build_id (cache schema 8): no table row is read.
  if (buildId !== null) {
    filters.push('s.build_id = ?');
    params.push(buildId);
  }
  if (query.states.length > 0) {
    filters.push(`s.state in (${query.states.map(() => '?').join(', ')})`);
    params.push(...query.states);
  }
  if (query.after) {
    filters.push('(s.created_at, s.id) > (?, ?)');
    params.push(query.after.createdAt, query.after.id);
  }
  // A queue page is up to 20,000 rows: the few studies and model versions are named once here and
  // joined in memory, rather than looked up (and their JSON parsed) once per row.
  const studyCodes = new Map(
    (
      db
        .prepare(`select id, ${studyCodeSql('l')} as code from live_row l where entity_kind = 'study'`)
        .all() as {
        id: string;
        code: string | null;
      }[]
    ).map((row) => [row.id, row.code]),
  );
  const modelVersions = new Map(
    (
      db.prepare(`select id, ${modelVersionSql('m')} as label from model_registry_version m`).all() as {
        id: string;
        label: string | null;
      }[]
    ).map((row) => [row.id, row.label]),
  );
  const builds = cachedBuildRefs(db);
  // Rows come as arrays (better-sqlite3's raw mode) and are built here in one loop: at 100,000 rows
  // per load this is a third of the time of named rows reshaped with a spread per row.
  const raw = db
    .prepare(
      `select s.id, s.state, s.entity_kind, s.study_id, s.agent_id, s.model_version_id, s.created_at,
              s.change_summary, s.target_title, s.build_id
       from staging_record s
       where ${filters.join(' and ')}
       order by s.created_at, s.id
       limit ?`,
    )
    .raw(true)
    .all(...params, query.limit + 1) as QueueSelect[];
  const rows: QueueRow[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const [
      id,
      state,
      entityKind,
      studyId,
      agentId,
      modelVersionId,
      createdAt,
      changeSummary,
      targetTitle,
      rowBuildId,
    ] = raw[i] as QueueSelect;
    rows[i] = {
      id,
      state,
      entityKind,
      studyId,
      studyCode: studyCodes.get(studyId) ?? studyNotCached,
      agentId,
      modelVersion: modelVersionId === null ? null : (modelVersions.get(modelVersionId) ?? null),
      createdAt,
      changeSummary,
      targetTitle,
      build: buildRefFor(builds, rowBuildId),
    };
  }
  // The counts scan the whole queue: once per load (with its first page), not once per page.
  let countsByState: Record<StagingState, number> | null = null;
  if (query.after === null) {
    countsByState = Object.fromEntries(stagingStates.map((state) => [state, 0])) as Record<
      StagingState,
      number
    >;
    const counts = db
      .prepare(
        `select state, count(*) as n from staging_record
          where (? is null or study_id = ?) and (? is null or build_id = ?) group by state`,
      )
      .all(query.studyId, query.studyId, buildId, buildId) as { state: StagingState; n: number }[];
    for (const row of counts) countsByState[row.state] = row.n;
  }
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    rows: page,
    nextCursor: rows.length > query.limit && last ? { createdAt: last.createdAt, id: last.id } : null,
    countsByState,
  };
}

function parse(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

export interface ProvenanceRow {
  id: string;
  studyId: string | null;
  actorKind: string;
  actorId: string;
  modelProvider: string | null;
  modelId: string | null;
  action: string;
  subjectKind: string;
  subjectId: string;
  signatureId: string | null;
  occurredAt: string;
  retrievedContext: unknown;
  payload: unknown;
  /** The protocol build it was recorded under; null: none (no study). */
  build: BuildRef | null;
}

/** Keyset position in a newest-first list of events: the time and id of the last one shown. */
export interface TimelineCursor {
  at: string;
  id: string;
}

export interface TimelineQuery {
  subjectId: string | null;
  limit: number;
  studyId?: string | null;
  /** Only events older than this one (occurred or signed at, then id, both descending). */
  before?: TimelineCursor | null;
}

export function cachedProvenance(db: Database, query: TimelineQuery): ProvenanceRow[] {
  const before = query.before ?? null;
  const studyId = query.studyId ?? null;
  const rows = db
    .prepare(
      `select id, study_id, actor_kind, actor_id, model_provider, model_id, action, subject_kind, subject_id,
              signature_id, occurred_at, retrieved_context, payload, build_id
       from provenance_event
       where (? is null or subject_id = ? or json_extract(payload, '$.staging_id') = ?)
         and (? is null or study_id = ?)
         and (? is null or (occurred_at, id) < (?, ?))
       order by occurred_at desc, id desc limit ?`,
    )
    .all(
      query.subjectId,
      query.subjectId,
      query.subjectId,
      studyId,
      studyId,
      before?.at ?? null,
      before?.at ?? null,
      before?.id ?? null,
      query.limit,
    ) as Record<string, string | null>[];
  const builds = cachedBuildRefs(db);
  return rows.map((r) => ({
    id: r.id as string,
    studyId: r.study_id ?? null,
    actorKind: r.actor_kind as string,
    actorId: r.actor_id as string,
    modelProvider: r.model_provider ?? null,
    modelId: r.model_id ?? null,
    action: r.action as string,
    subjectKind: r.subject_kind as string,
    subjectId: r.subject_id as string,
    signatureId: r.signature_id ?? null,
    occurredAt: r.occurred_at as string,
    retrievedContext: parse(r.retrieved_context ?? null),
    payload: parse(r.payload ?? null),
    build: buildRefFor(builds, r.build_id ?? null),
  }));
}

export interface SignatureRow {
  id: string;
  studyId: string | null;
  subjectKind: string;
  subjectId: string;
  signerName: string;
  intent: string;
  meaning: string;
  signedAt: string;
  contentHash: string;
  /** A rejection's reason and explanation (0050), or null. */
  rejection: { reason: string; explanation: string } | null;
}

export function cachedSignatures(db: Database, query: TimelineQuery): SignatureRow[] {
  const before = query.before ?? null;
  const studyId = query.studyId ?? null;
  const rows = db
    .prepare(
      `select id, study_id, subject_kind, subject_id, signed_at, doc from signature_event
       where (? is null or subject_id = ?)
         and (? is null or study_id = ?)
         and (? is null or (signed_at, id) < (?, ?))
       order by signed_at desc, id desc limit ?`,
    )
    .all(
      query.subjectId,
      query.subjectId,
      studyId,
      studyId,
      before?.at ?? null,
      before?.at ?? null,
      before?.id ?? null,
      query.limit,
    ) as Record<string, string | null>[];
  return rows.map((r) => {
    const doc = JSON.parse(r.doc as string) as Record<string, string>;
    return {
      id: r.id as string,
      studyId: r.study_id ?? null,
      subjectKind: r.subject_kind as string,
      subjectId: r.subject_id as string,
      signerName: doc.user_display_name ?? '',
      intent: doc.intent ?? '',
      meaning: doc.meaning_of_signature ?? '',
      signedAt: r.signed_at as string,
      contentHash: doc.content_hash ?? '',
      rejection: signatureRejection(doc),
    };
  });
}

export interface DiaryRecordRow {
  eventUuid: string;
  patientId: string;
  siteId: string;
  version: number;
  lastAuditId: number;
  isDeleted: boolean;
  currentData: Record<string, unknown>;
  /** The build of the record's latest entry. */
  build: BuildRef | null;
  /** Its entries were captured under more than one build. */
  spansBuilds: boolean;
  /** Transcribed from paper: the latest transcription's page id and paper date. */
  paperSource: { pageId: string; entryDate: string } | null;
  annotations: {
    annotationId: string;
    kind: string;
    text: string;
    parentAuditId: number;
    requiresResponse: boolean;
    resolved: boolean;
    inReplyTo: string | null;
    createdAt: string;
  }[];
}

export function cachedDiaryRecords(
  db: Database,
  query: { siteId: string | null; patientId?: string | null; buildId?: string | null; limit: number },
): DiaryRecordRow[] {
  const patientId = query.patientId ?? null;
  const buildId = query.buildId ?? null;
  // Builds per record from its history (index on record_audit (event_uuid, build_id), cache schema 8).
  const records = db
    .prepare(
      `select r.event_uuid, r.patient_id, r.site_id, r.version, r.last_audit_id, r.is_deleted, r.current_data,
              r.build_id,
              (select count(distinct a.build_id) from record_audit a where a.event_uuid = r.event_uuid) as builds,
              (select json_extract(a.doc, '$.source_reference') from record_audit a
                where a.event_uuid = r.event_uuid and json_extract(a.doc, '$.operation') = 'INVESTIGATOR_TRANSCRIPTION'
                order by a.audit_id desc limit 1) as paper_source
       from record_state r
       where (? is null or r.site_id = ?) and (? is null or r.patient_id = ?)
         and (? is null or exists (select 1 from record_audit a where a.event_uuid = r.event_uuid and a.build_id = ?))
       order by r.site_id, r.event_uuid limit ?`,
    )
    .all(query.siteId, query.siteId, patientId, patientId, buildId, buildId, query.limit) as Record<
    string,
    string | number | null
  >[];
  const builds = cachedBuildRefs(db);
  const annotationsOf = db.prepare(
    `select annotation_id, parent_audit_id, doc from annotation where event_uuid = ?
     order by json_extract(doc, '$.created_at'), annotation_id`,
  );
  return records.map((r) => ({
    eventUuid: r.event_uuid as string,
    patientId: r.patient_id as string,
    siteId: r.site_id as string,
    version: r.version as number,
    lastAuditId: r.last_audit_id as number,
    isDeleted: r.is_deleted === 1,
    currentData: JSON.parse(r.current_data as string) as Record<string, unknown>,
    build: buildRefFor(builds, (r.build_id as string | null) ?? null),
    spansBuilds: Number(r.builds) > 1,
    paperSource: r.paper_source ? paperSourceOf(JSON.parse(r.paper_source as string)) : null,
    annotations: (
      annotationsOf.all(r.event_uuid) as { annotation_id: string; parent_audit_id: number; doc: string }[]
    ).map((a) => {
      const doc = JSON.parse(a.doc) as Record<string, unknown>;
      return {
        annotationId: a.annotation_id,
        kind: String(doc.annotation_kind),
        text: String(doc.annotation_text),
        parentAuditId: a.parent_audit_id,
        requiresResponse: doc.requires_response === true,
        resolved: doc.resolved === true,
        inReplyTo: (doc.in_reply_to as string | null | undefined) ?? null,
        createdAt: String(doc.created_at),
      };
    }),
  }));
}

export interface RecordTrail {
  stagingId: string;
  found: boolean;
  state: string | null;
  /** The build the record was written under (its latest proposal or revision); null: not known. */
  build: BuildRef | null;
  provenance: ProvenanceRow[];
  signatures: (SignatureRow & { inChain: boolean })[];
  chain: {
    seq: number;
    eventType: string;
    occurredAt: string;
    /** As the chain records it (a person's id, or db:<role>). */
    actor: string;
    /** Its payload and entry hashes recompute to what it carries. */
    hashesOk: boolean;
    /** At or below the verified head of the whole chain. */
    withinVerifiedChain: boolean;
  }[];
  ok: boolean;
  problems: string[];
}

/**
 * One staging record's trail: its provenance, its signatures and its audit entries, each entry
 * re-hashed on its own and placed against the verified head of the whole chain; a signature counts
 * only if a signature.recorded entry with the same content hash is in the chain.
 */
export function cachedRecordTrail(db: Database, stagingId: string): RecordTrail {
  const record = db.prepare('select state, build_id from staging_record where id = ?').get(stagingId) as
    | { state: string; build_id: string | null }
    | undefined;
  const provenanceRows = cachedProvenance(db, { subjectId: stagingId, limit: 1000 });
  const head = db.prepare('select seq from chain_head where id = 1').get() as { seq: number } | undefined;
  const entries = db
    .prepare(
      `select seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash from audit_log
       where json_extract(payload, '$.staging_id') = ?
          or (event_type = 'signature.recorded' and json_extract(payload, '$.subject_id') = ?)
       order by seq`,
    )
    .all(stagingId, stagingId) as {
    seq: number;
    occurred_at: string;
    actor: string;
    event_type: string;
    payload: string;
    payload_hash: string;
    prev_hash: string;
    entry_hash: string;
  }[];
  const problems: string[] = [];
  const chain = entries.map((e) => {
    const hashesOk =
      sha256Hex(e.payload) === e.payload_hash &&
      sha256Hex(entryHashInput(e.seq, e.occurred_at, e.actor, e.event_type, e.payload_hash, e.prev_hash)) ===
        e.entry_hash;
    if (!hashesOk) problems.push(`audit entry ${e.seq} does not match its hashes`);
    return {
      seq: e.seq,
      eventType: e.event_type,
      occurredAt: e.occurred_at,
      actor: e.actor,
      hashesOk,
      withinVerifiedChain: head !== undefined && e.seq <= head.seq,
    };
  });
  const signatures = cachedSignatures(db, { subjectId: stagingId, limit: 1000 }).map((signature) => {
    const inChain = entries.some((e) => {
      if (e.event_type !== 'signature.recorded') return false;
      const payload = JSON.parse(e.payload) as {
        signature_id?: string;
        content_hash?: string;
        rejection_reason?: string;
        rejection_explanation_sha256?: string;
      };
      // A rejection's reason and explanation are bound by the same entry (0050).
      const rejection = signature.rejection ?? null;
      return (
        payload.signature_id === signature.id &&
        payload.content_hash === signature.contentHash &&
        (payload.rejection_reason ?? null) === (rejection?.reason ?? null) &&
        (payload.rejection_explanation_sha256 ?? null) ===
          (rejection ? sha256Hex(rejection.explanation) : null)
      );
    });
    if (!inChain) problems.push(`signature ${signature.id} has no matching entry in the audit chain`);
    return { ...signature, inChain };
  });
  if (!record) problems.push('the record is not in the cache');
  return {
    stagingId,
    found: record !== undefined,
    state: record?.state ?? null,
    build: buildRefFor(cachedBuildRefs(db), record?.build_id ?? null),
    provenance: provenanceRows,
    signatures,
    chain,
    ok: problems.length === 0,
    problems,
  };
}

export function cachedQuarantine(db: Database) {
  return db
    .prepare(
      'select id, stream, row_key as rowKey, problem, received_at as receivedAt from quarantine order by id',
    )
    .all() as { id: number; stream: string; rowKey: string | null; problem: string; receivedAt: string }[];
}

/** A newest-first page of events (read with limit + 1) and where the next, older page starts. */
export function timelinePage<T extends { id: string }>(
  rows: T[],
  limit: number,
  at: (row: T) => string,
): { rows: T[]; nextCursor: TimelineCursor | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, nextCursor: rows.length > limit && last ? { at: at(last), id: last.id } : null };
}

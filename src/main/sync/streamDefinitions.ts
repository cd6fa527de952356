// The streams the cache mirrors: for each, the server table, how it is paged, the columns selected
// (through the user's own connection, so RLS decides what arrives), the zod schema every row is
// validated with on arrival, and where it lands in the cache. jsonb is selected as text and stored
// as text (parsed once, where a view needs it); timestamps as ISO text in UTC.
import { z } from 'zod';
import { canonicalJson } from '../../shared/canonicalJson';
import { buildStatuses, buildTypes } from '../../shared/contract';
import { entityKinds, queryReasonCodes, stagingStates } from '../../shared/domain';
import {
  provenanceEventKeyIndexSql,
  provenanceSubjectIndexSql,
  stagingRecordKeyIndexSql,
} from '../cache/migrations/0004_droppable_key_indexes';
import { stagingQueueIndexSql } from '../cache/migrations/0008_protocol_builds';

export interface StreamDefinition {
  name: string;
  serverTable: string;
  /** 'xid': keyset on (sync_xid, key) below the snapshot's xmin; 'seq': audit_log's seq (see 0020). */
  cursor: 'xid' | 'seq';
  keyColumn: string;
  keyType: 'uuid' | 'text' | 'bigint';
  /** Server select list; each alias is a property of the row the schema validates. */
  selectList: string;
  schema: z.ZodType<Record<string, unknown>>;
  /** Cache insert (insert or replace: a page applied twice changes nothing). */
  insertSql: string;
  params(row: Record<string, unknown>, syncXid: string): unknown[];
  /** Removes this stream's rows from the cache (a full resync). */
  clearSql: string;
  /**
   * For a stream whose server rows can be deleted (an enrolment an admin withdraws), which a keyset
   * pull never sees: how to list the cache's keys (as `k`) and drop one. The pull engine compares the
   * server's row count with the cache's after each pull and, when they differ, drops the keys the
   * server no longer has (pullEngine.ts `dropDeletedRows`). Streams without it are append-only or
   * change only by update on the server (their triggers refuse deletes).
   */
  deletions?: { cacheKeysSql: string; deleteSql: string };
  /**
   * Cache indexes (name, create statement as in the cache migrations) that an initial sync drops and
   * builds once at the end: a sorted build is cheaper than maintaining them row by row. A stream
   * whose key is one of them (a unique index, cache schema 4) relies on its first pull delivering
   * each key once (key order, resumed after the last key written); the build fails if not.
   */
  deferredIndexes?: { name: string; create: string }[];
}

/**
 * A row's schema, compiled ahead of time (zod's `z.compile`: generated code instead of walking the
 * schema per row; the same result and the same issues, and a schema it cannot compile fails here,
 * at load, rather than falling back quietly). Validation was about a fifth of the sync thread's work
 * (measured: 200,000 rows 245 -> 150 ms).
 */
function rowSchema<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.compile(z.object(shape), { strict: true });
}

const guid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/);
const iso = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
const jsonObjectText = z.string().refine((text) => text.startsWith('{'), 'must be a JSON object');
const jsonText = z.string().refine((text) => /^[[{]/.test(text), 'must be a JSON object or array');
const bigintText = z.string().regex(/^\d{1,18}$/);
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

const isoOf = (column: string) =>
  `to_char(t.${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ${column}`;
const docOf = `(to_jsonb(t) - 'sync_xid')::text as doc`;

const stagingRecord: StreamDefinition = {
  name: 'staging_record',
  serverTable: 'cro.staging_record',
  cursor: 'xid',
  keyColumn: 'id',
  keyType: 'uuid',
  selectList: [
    't.id',
    't.entity_kind',
    't.entity_id',
    't.study_id',
    't.agent_id',
    't.model_version_id',
    't.provenance_id',
    't.state::text as state',
    't.proposed_state::text as proposed_state',
    isoOf('created_at'),
    isoOf('updated_at'),
    't.created_by',
    't.build_id',
  ].join(', '),
  schema: rowSchema({
    id: guid,
    entity_kind: z.enum(entityKinds),
    entity_id: guid.nullable(),
    study_id: guid,
    agent_id: z.string(),
    model_version_id: guid.nullable(),
    provenance_id: guid.nullable(),
    state: z.enum(stagingStates),
    proposed_state: jsonObjectText,
    created_at: iso,
    updated_at: iso,
    created_by: guid,
    // Set by the server from the study's current build (0054): every proposal has one.
    build_id: guid,
  }),
  insertSql: `insert or replace into staging_record (id, entity_kind, entity_id, study_id, agent_id,
    model_version_id, provenance_id, state, proposed_state, created_at, updated_at, created_by, build_id,
    sync_xid) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  params: (r, xid) => [
    r.id,
    r.entity_kind,
    r.entity_id,
    r.study_id,
    r.agent_id,
    r.model_version_id,
    r.provenance_id,
    r.state,
    r.proposed_state,
    r.created_at,
    r.updated_at,
    r.created_by,
    r.build_id,
    xid,
  ],
  clearSql: 'delete from staging_record',
  deferredIndexes: [
    { name: 'staging_record_id_idx', create: stagingRecordKeyIndexSql },
    { name: 'staging_record_queue_idx', create: stagingQueueIndexSql },
  ],
};

const provenanceEvent: StreamDefinition = {
  name: 'provenance_event',
  serverTable: 'cro.provenance_event',
  cursor: 'xid',
  keyColumn: 'id',
  keyType: 'uuid',
  selectList: [
    't.id',
    't.study_id',
    't.actor_kind',
    't.actor_id',
    't.model_provider',
    't.model_id',
    't.model_version_id',
    't.action',
    't.subject_kind',
    't.subject_id',
    't.retrieved_context::text as retrieved_context',
    't.reviewer_user_id',
    't.signature_id',
    isoOf('occurred_at'),
    't.payload::text as payload',
    't.build_id',
  ].join(', '),
  schema: rowSchema({
    id: guid,
    study_id: guid.nullable(),
    actor_kind: z.enum(['human', 'agent', 'system']),
    actor_id: z.string(),
    model_provider: z.string().nullable(),
    model_id: z.string().nullable(),
    model_version_id: guid.nullable(),
    action: z.string(),
    subject_kind: z.string(),
    subject_id: z.string(),
    retrieved_context: jsonText,
    reviewer_user_id: guid.nullable(),
    signature_id: guid.nullable(),
    occurred_at: iso,
    payload: jsonText,
    // A staging record's build, else the study's current one; none without a study (0054).
    build_id: guid.nullable(),
  }),
  insertSql: `insert or replace into provenance_event (id, study_id, actor_kind, actor_id, model_provider,
    model_id, model_version_id, action, subject_kind, subject_id, retrieved_context, reviewer_user_id,
    signature_id, occurred_at, payload, build_id, sync_xid)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  params: (r, xid) => [
    r.id,
    r.study_id,
    r.actor_kind,
    r.actor_id,
    r.model_provider,
    r.model_id,
    r.model_version_id,
    r.action,
    r.subject_kind,
    r.subject_id,
    r.retrieved_context,
    r.reviewer_user_id,
    r.signature_id,
    r.occurred_at,
    r.payload,
    r.build_id,
    xid,
  ],
  clearSql: 'delete from provenance_event',
  deferredIndexes: [
    { name: 'provenance_event_id_idx', create: provenanceEventKeyIndexSql },
    { name: 'provenance_event_subject_idx', create: provenanceSubjectIndexSql },
  ],
};

const signatureEvent: StreamDefinition = {
  name: 'signature_event',
  serverTable: 'cro.signature_event',
  cursor: 'xid',
  keyColumn: 'id',
  keyType: 'uuid',
  selectList: `t.id, t.study_id, t.subject_kind, t.subject_id, ${isoOf('signed_at')}, ${docOf}`,
  schema: rowSchema({
    id: guid,
    study_id: guid.nullable(),
    subject_kind: z.string(),
    subject_id: z.string(),
    signed_at: iso,
    doc: jsonObjectText,
  }),
  insertSql: `insert or replace into signature_event (id, study_id, subject_kind, subject_id, signed_at, doc, sync_xid)
    values (?, ?, ?, ?, ?, ?, ?)`,
  params: (r, xid) => [r.id, r.study_id, r.subject_kind, r.subject_id, r.signed_at, r.doc, xid],
  clearSql: 'delete from signature_event',
};

function liveRowStream(entityKind: (typeof entityKinds)[number]): StreamDefinition {
  return {
    name: entityKind,
    serverTable: `cro.${entityKind}`,
    cursor: 'xid',
    keyColumn: 'id',
    keyType: 'uuid',
    selectList: `t.id, ${entityKind === 'study' ? 't.id' : 't.study_id'} as study_id, ${docOf}`,
    schema: rowSchema({ id: guid, study_id: guid.nullable(), doc: jsonObjectText }),
    insertSql: `insert or replace into live_row (entity_kind, id, study_id, doc, sync_xid) values ('${entityKind}', ?, ?, ?, ?)`,
    params: (r, xid) => [r.id, r.study_id, r.doc, xid],
    clearSql: `delete from live_row where entity_kind = '${entityKind}'`,
  };
}

const modelRegistryVersion: StreamDefinition = {
  name: 'model_registry_version',
  serverTable: 'cro.model_registry_version',
  cursor: 'xid',
  keyColumn: 'id',
  keyType: 'uuid',
  selectList: `t.id, ${docOf}`,
  schema: rowSchema({ id: guid, doc: jsonObjectText }),
  insertSql: 'insert or replace into model_registry_version (id, doc, sync_xid) values (?, ?, ?)',
  params: (r, xid) => [r.id, r.doc, xid],
  clearSql: 'delete from model_registry_version',
};

const sponsorRequest: StreamDefinition = {
  name: 'sponsor_request',
  serverTable: 'cro.sponsor_request',
  cursor: 'xid',
  keyColumn: 'id',
  keyType: 'uuid',
  selectList: `t.id, t.study_id, ${docOf}`,
  schema: rowSchema({ id: guid, study_id: guid.nullable(), doc: jsonObjectText }),
  insertSql: 'insert or replace into sponsor_request (id, study_id, doc, sync_xid) values (?, ?, ?, ?)',
  params: (r, xid) => [r.id, r.study_id, r.doc, xid],
  clearSql: 'delete from sponsor_request',
};

/**
 * A study's protocol builds (0054): every status, for the build panel; the server row whole in `doc`
 * (configuration snapshot, error log, timeline, counts), as to_jsonb renders it.
 */
const studyBuild: StreamDefinition = {
  name: 'study_build',
  serverTable: 'cro.study_database_build',
  cursor: 'xid',
  keyColumn: 'id',
  keyType: 'uuid',
  selectList:
    't.id, t.study_id, t.build_number, t.build_version, t.build_status::text as build_status, ' +
    `t.build_type::text as build_type, t.completed_sequence, ${docOf}`,
  schema: rowSchema({
    id: guid,
    study_id: guid,
    build_number: z.string().min(1).max(50),
    build_version: z.string().min(1).max(50),
    build_status: z.enum(buildStatuses),
    build_type: z.enum(buildTypes),
    completed_sequence: z.number().int().positive().nullable(),
    doc: jsonObjectText,
  }),
  insertSql: `insert or replace into study_build (id, study_id, build_number, build_version, build_status, build_type,
    completed_sequence, doc, sync_xid) values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  params: (r, xid) => [
    r.id,
    r.study_id,
    r.build_number,
    r.build_version,
    r.build_status,
    r.build_type,
    r.completed_sequence,
    r.doc,
    xid,
  ],
  clearSql: 'delete from study_build',
};

const site: StreamDefinition = {
  name: 'site',
  serverTable: 'diary.sites',
  cursor: 'xid',
  keyColumn: 'site_id',
  keyType: 'text',
  selectList: `t.site_id, t.study_id, ${docOf}`,
  schema: rowSchema({
    site_id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
    study_id: guid,
    doc: jsonObjectText,
  }),
  insertSql: 'insert or replace into site (site_id, study_id, doc, sync_xid) values (?, ?, ?, ?)',
  params: (r, xid) => [r.site_id, r.study_id, r.doc, xid],
  clearSql: 'delete from site',
};

/** Enrolments: the patient's study identifier (subject code) and site, for the diary screen (0042). */
const enrolment: StreamDefinition = {
  name: 'enrolment',
  serverTable: 'diary.user_site_assignments',
  cursor: 'xid',
  keyColumn: 'patient_id',
  keyType: 'uuid',
  selectList: `t.patient_id, t.site_id, t.subject_code, ${isoOf('enrolled_at')}`,
  schema: rowSchema({
    patient_id: guid,
    site_id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
    subject_code: z.string().min(1).max(200),
    enrolled_at: iso,
  }),
  insertSql: `insert or replace into enrolment (patient_id, site_id, subject_code, enrolled_at, sync_xid)
    values (?, ?, ?, ?, ?)`,
  params: (r, xid) => [r.patient_id, r.site_id, r.subject_code, r.enrolled_at, xid],
  clearSql: 'delete from enrolment',
  deletions: {
    cacheKeysSql: 'select patient_id as k from enrolment',
    deleteSql: 'delete from enrolment where patient_id = ?',
  },
};

const recordState: StreamDefinition = {
  name: 'record_state',
  serverTable: 'diary.record_state',
  cursor: 'xid',
  keyColumn: 'event_uuid',
  keyType: 'uuid',
  selectList:
    't.event_uuid, t.patient_id, t.site_id, t.current_data::text as current_data, t.version, ' +
    't.last_audit_id::text as last_audit_id, t.is_deleted, t.build_id',
  schema: rowSchema({
    event_uuid: guid,
    patient_id: guid,
    site_id: z.string(),
    current_data: jsonObjectText,
    version: z.number().int().positive(),
    last_audit_id: bigintText,
    is_deleted: z.boolean(),
    /** The build of the record's latest entry (0054). */
    build_id: guid,
  }),
  insertSql: `insert or replace into record_state (event_uuid, patient_id, site_id, current_data, version,
    last_audit_id, is_deleted, build_id, sync_xid) values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  params: (r, xid) => [
    r.event_uuid,
    r.patient_id,
    r.site_id,
    r.current_data,
    r.version,
    Number(r.last_audit_id),
    r.is_deleted ? 1 : 0,
    r.build_id,
    xid,
  ],
  clearSql: 'delete from record_state',
};

const recordAudit: StreamDefinition = {
  name: 'record_audit',
  serverTable: 'diary.record_audit',
  cursor: 'xid',
  keyColumn: 'audit_id',
  keyType: 'bigint',
  selectList: `t.audit_id::text as audit_id, t.event_uuid, t.build_id, ${docOf}`,
  schema: rowSchema({ audit_id: bigintText, event_uuid: guid, build_id: guid, doc: jsonObjectText }),
  insertSql:
    'insert or replace into record_audit (audit_id, event_uuid, build_id, doc, sync_xid) values (?, ?, ?, ?, ?)',
  params: (r, xid) => [Number(r.audit_id), r.event_uuid, r.build_id, r.doc, xid],
  clearSql: 'delete from record_audit',
};

const annotation: StreamDefinition = {
  name: 'annotation',
  serverTable: 'diary.investigator_annotations',
  cursor: 'xid',
  keyColumn: 'annotation_id',
  keyType: 'uuid',
  selectList: `t.annotation_id, t.event_uuid, t.parent_audit_id::text as parent_audit_id, t.client_request_id, t.build_id, ${docOf}`,
  schema: rowSchema({
    annotation_id: guid,
    event_uuid: guid,
    parent_audit_id: bigintText,
    client_request_id: guid.nullable(),
    build_id: guid,
    doc: jsonObjectText,
  }),
  insertSql: `insert or replace into annotation (annotation_id, event_uuid, parent_audit_id, client_request_id, build_id,
    doc, sync_xid) values (?, ?, ?, ?, ?, ?, ?)`,
  params: (r, xid) => [
    r.annotation_id,
    r.event_uuid,
    Number(r.parent_audit_id),
    r.client_request_id,
    r.build_id,
    r.doc,
    xid,
  ],
  clearSql: 'delete from annotation',
};

/** Every close and reopen of a query, with its reason (0041, 0051): append-only on the server. */
const annotationResolution: StreamDefinition = {
  name: 'annotation_resolution',
  serverTable: 'diary.annotation_resolutions',
  cursor: 'xid',
  keyColumn: 'request_id',
  keyType: 'uuid',
  selectList:
    't.request_id, t.annotation_id, t.event_uuid, t.site_id, t.resolved, t.reason_code, t.reason_text, ' +
    `t.requested_by, ${isoOf('requested_at')}`,
  schema: rowSchema({
    request_id: guid,
    annotation_id: guid,
    event_uuid: guid,
    site_id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
    resolved: z.boolean(),
    reason_code: z.enum(queryReasonCodes).nullable(),
    reason_text: z.string().min(1).max(2000).nullable(),
    requested_by: guid,
    requested_at: iso,
  }),
  insertSql: `insert or replace into annotation_resolution (request_id, annotation_id, event_uuid, site_id, resolved,
    reason_code, reason_text, requested_by, requested_at, sync_xid) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  params: (r, xid) => [
    r.request_id,
    r.annotation_id,
    r.event_uuid,
    r.site_id,
    r.resolved ? 1 : 0,
    r.reason_code,
    r.reason_text,
    r.requested_by,
    r.requested_at,
    xid,
  ],
  clearSql: 'delete from annotation_resolution',
};

/**
 * The analyst's diary (0059): diary.deidentified_entry, a view over record_state limited by the
 * server to the analyst's sites, with record_state's sync_xid. Rows leave it when an enrolment is
 * withdrawn or the analyst loses a site, which a keyset pull never sees: `deletions` drops them.
 */
const deidentifiedEntry: StreamDefinition = {
  name: 'deidentified_entry',
  serverTable: 'diary.deidentified_entry',
  cursor: 'xid',
  keyColumn: 'entry_id',
  keyType: 'uuid',
  selectList:
    't.entry_id, t.subject_code, t.site_id, t.build_id, t.version, t.is_deleted, t.data::text as data, ' +
    't.origin, t.corrected',
  schema: rowSchema({
    entry_id: guid,
    subject_code: z.string().min(1).max(200),
    site_id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
    build_id: guid,
    version: z.number().int().positive(),
    is_deleted: z.boolean(),
    data: jsonObjectText,
    origin: z.enum(['patient', 'paper']),
    corrected: z.boolean(),
  }),
  insertSql: `insert or replace into deidentified_entry (entry_id, subject_code, site_id, build_id, version,
    is_deleted, data, origin, corrected, sync_xid) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  params: (r, xid) => [
    r.entry_id,
    r.subject_code,
    r.site_id,
    r.build_id,
    r.version,
    r.is_deleted ? 1 : 0,
    r.data,
    r.origin,
    r.corrected ? 1 : 0,
    xid,
  ],
  clearSql: 'delete from deidentified_entry',
  deletions: {
    cacheKeysSql: 'select entry_id as k from deidentified_entry',
    deleteSql: 'delete from deidentified_entry where entry_id = ?',
  },
};

/**
 * The diary's conflicts (0059): diary.audit_conflicts as the person may read it (the conflicts of
 * their own writes, their sites' conflicts as an investigator), kept whole in `doc`, to show both
 * versions field by field and whether the conflict is still open.
 */
const diaryConflict: StreamDefinition = {
  name: 'diary_conflict',
  serverTable: 'diary.audit_conflicts',
  cursor: 'xid',
  keyColumn: 'conflict_id',
  keyType: 'bigint',
  selectList:
    't.conflict_id::text as conflict_id, t.event_uuid, t.patient_id, t.site_id, t.submitted_by, ' +
    `t.client_request_id, ${isoOf('resolved_at')}, ${docOf}`,
  schema: rowSchema({
    conflict_id: bigintText,
    event_uuid: guid,
    patient_id: guid,
    site_id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
    submitted_by: guid.nullable(),
    client_request_id: guid.nullable(),
    resolved_at: iso.nullable(),
    doc: jsonObjectText,
  }),
  insertSql: `insert or replace into diary_conflict (conflict_id, event_uuid, patient_id, site_id, submitted_by,
    client_request_id, resolved_at, doc, sync_xid) values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  params: (r, xid) => [
    Number(r.conflict_id),
    r.event_uuid,
    r.patient_id,
    r.site_id,
    r.submitted_by,
    r.client_request_id,
    r.resolved_at,
    r.doc,
    xid,
  ],
  clearSql: 'delete from diary_conflict',
};

/** Admin corrections waiting for (or given) the site's investigators' review (0059). */
const correctionReview: StreamDefinition = {
  name: 'correction_review',
  serverTable: 'diary.correction_review',
  cursor: 'xid',
  keyColumn: 'review_id',
  keyType: 'uuid',
  selectList: `t.review_id, t.audit_id::text as audit_id, t.event_uuid, t.site_id, t.status, ${isoOf('corrected_at')}, ${docOf}`,
  schema: rowSchema({
    review_id: guid,
    audit_id: bigintText,
    event_uuid: guid,
    site_id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
    status: z.enum(['pending', 'acknowledged', 'disputed']),
    corrected_at: iso,
    doc: jsonObjectText,
  }),
  insertSql: `insert or replace into correction_review (review_id, audit_id, event_uuid, site_id, status, corrected_at,
    doc, sync_xid) values (?, ?, ?, ?, ?, ?, ?, ?)`,
  params: (r, xid) => [
    r.review_id,
    Number(r.audit_id),
    r.event_uuid,
    r.site_id,
    r.status,
    r.corrected_at,
    r.doc,
    xid,
  ],
  clearSql: 'delete from correction_review',
};

/** The payload is stored canonical (RFC 8785), the form its hash was computed over. */
const canonicalPayload = z.string().transform((text, context) => {
  try {
    return canonicalJson(JSON.parse(text));
  } catch (error) {
    context.addIssue({
      code: 'custom',
      message: `payload is not canonicalisable JSON: ${(error as Error).name}`,
    });
    return z.NEVER;
  }
});

export const auditLogStream: StreamDefinition = {
  name: 'audit_log',
  serverTable: 'audit.audit_log',
  cursor: 'seq',
  keyColumn: 'seq',
  keyType: 'bigint',
  selectList:
    't.seq::text as seq, audit.occurred_at_text(t.occurred_at) as occurred_at, t.actor, t.event_type, ' +
    't.payload::text as payload, t.payload_hash, t.prev_hash, t.entry_hash',
  schema: rowSchema({
    seq: bigintText,
    occurred_at: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    actor: z.string(),
    event_type: z.string().regex(/^[a-z][a-z0-9_.]*$/),
    payload: canonicalPayload,
    payload_hash: sha256Hex,
    prev_hash: sha256Hex,
    entry_hash: sha256Hex,
  }),
  insertSql: `insert or replace into audit_log (seq, occurred_at, actor, event_type, payload, payload_hash,
    prev_hash, entry_hash) values (?, ?, ?, ?, ?, ?, ?, ?)`,
  params: (r) => [
    Number(r.seq),
    r.occurred_at,
    r.actor,
    r.event_type,
    r.payload,
    r.payload_hash,
    r.prev_hash,
    r.entry_hash,
  ],
  clearSql: 'delete from audit_log',
};

/**
 * Cosignatures of audit-log checkpoints by workstations that verified the chain (0062, issue 24):
 * append-only on the server; readable by inspectors and administrators. Signatures are verified
 * where they are used (src/main/checkpoint/cosigner.ts), not here.
 */
export const checkpointCosignatureStream: StreamDefinition = {
  name: 'checkpoint_cosignature',
  serverTable: 'audit.checkpoint_cosignature',
  cursor: 'xid',
  keyColumn: 'id',
  keyType: 'uuid',
  selectList:
    't.id, t.tree_size::text as tree_size, t.root_hash, t.subject_root, ' +
    'audit.occurred_at_text(t.cosigned_at) as cosigned_at, t.user_id, t.public_key, t.key_fingerprint, ' +
    `t.signature, ${isoOf('recorded_at')}`,
  schema: rowSchema({
    id: guid,
    tree_size: bigintText,
    root_hash: sha256Hex,
    subject_root: sha256Hex,
    cosigned_at: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    user_id: guid,
    public_key: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
    key_fingerprint: sha256Hex,
    signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/),
    recorded_at: iso,
  }),
  insertSql: `insert or replace into checkpoint_cosignature (id, tree_size, root_hash, subject_root, cosigned_at,
    user_id, public_key, key_fingerprint, signature, recorded_at, sync_xid) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  params: (r, xid) => [
    r.id,
    Number(r.tree_size),
    r.root_hash,
    r.subject_root,
    r.cosigned_at,
    r.user_id,
    r.public_key,
    r.key_fingerprint,
    r.signature,
    r.recorded_at,
    xid,
  ],
  clearSql: 'delete from checkpoint_cosignature',
};

export const streamDefinitions: readonly StreamDefinition[] = [
  stagingRecord,
  provenanceEvent,
  signatureEvent,
  ...entityKinds.map(liveRowStream),
  modelRegistryVersion,
  sponsorRequest,
  studyBuild,
  site,
  enrolment,
  recordState,
  recordAudit,
  annotation,
  annotationResolution,
  deidentifiedEntry,
  diaryConflict,
  correctionReview,
  auditLogStream,
  checkpointCosignatureStream,
];

export function streamNamed(name: string): StreamDefinition {
  const stream = streamDefinitions.find((candidate) => candidate.name === name);
  if (!stream) throw new Error(`no stream named ${name}`);
  return stream;
}

// The diary screen's reads, answered from the cache (online and offline alike): patients by site,
// and one diary record's patient-entered history (record_audit, field by field against the entry
// before) beside its annotations, merged with what this workstation's outbox still holds for it.
// Every entry and annotation names the protocol build it was captured under (cache schema 8).
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { canonicalJson } from '../../shared/canonicalJson';
import type {
  BuildRef,
  DiaryAnnotation,
  DiaryHistory,
  DiaryHistoryEntry,
  DiaryPatients,
  ResolutionEvent,
} from '../../shared/contract';
import { buildRefFor } from '../builds/studyBuilds';
import { listOutbox, type OutboxItem } from '../sync/outbox';
import { UserFacingError } from '../userFacingError';
import { cachedBuildRefs } from './cachedBuilds';
import { paperSourceOf } from './paperSource';

type Json = Record<string, unknown>;

function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return JSON.stringify(a) === JSON.stringify(b);
  }
}

/** Field by field, in the order of the newer entry, then the fields it dropped; `before` null for the first entry. */
export function diaryFieldChanges(before: Json | null, after: Json): DiaryHistoryEntry['changes'] {
  const changes: DiaryHistoryEntry['changes'] = [];
  for (const [field, value] of Object.entries(after)) {
    if (before === null || !Object.hasOwn(before, field)) {
      changes.push({ field, change: 'added', before: null, after: value });
    } else if (!sameJson(before[field], value)) {
      changes.push({ field, change: 'changed', before: before[field], after: value });
    }
  }
  for (const [field, value] of Object.entries(before ?? {})) {
    if (!Object.hasOwn(after, field)) changes.push({ field, change: 'removed', before: value, after: null });
  }
  return changes;
}

/** Patients by site; with `buildId`, only patients with a record that has an entry captured under it. */
export function cachedDiaryPatients(db: Database, query: { buildId?: string | null } = {}): DiaryPatients {
  const buildId = query.buildId ?? null;
  const sites = db
    .prepare(
      `select site_id, json_extract(doc, '$.site_name') as site_name, json_extract(doc, '$.site_number') as site_number
       from site order by site_id`,
    )
    .all() as { site_id: string; site_name: string | null; site_number: string | null }[];
  // Patients known by enrolment or by their records (an enrolment may not be visible or pulled yet).
  const patients = db
    .prepare(
      `with patient as (
         select patient_id, site_id from enrolment where @build is null
         union select distinct r.patient_id, r.site_id from record_state r
          where @build is null
             or exists (select 1 from record_audit a where a.event_uuid = r.event_uuid and a.build_id = @build)
       ),
       records as (
         select patient_id, site_id, count(*) as n, max(json_extract(current_data, '$.date')) as last_date
         from record_state group by patient_id, site_id
       ),
       open_queries as (
         select r.patient_id, count(*) as n from annotation a join record_state r on r.event_uuid = a.event_uuid
         where json_extract(a.doc, '$.requires_response') = 1 and json_extract(a.doc, '$.resolved') = 0
         group by r.patient_id
       ),
       waiting as (
         select patient_id, sum(n) as n from (
           select r.patient_id, count(*) as n from outbox o join record_state r on r.event_uuid = o.event_uuid
            where o.state in ('pending', 'conflict', 'failed') group by r.patient_id
           union all
           select patient_id, count(*) from diary_event_outbox
            where state in ('pending', 'conflict', 'failed') group by patient_id)
         group by patient_id
       )
       select p.site_id, p.patient_id, e.subject_code, coalesce(rec.n, 0) as records, rec.last_date,
              coalesce(q.n, 0) as open_queries, coalesce(w.n, 0) as outbox_waiting
       from patient p
       left join enrolment e on e.patient_id = p.patient_id
       left join records rec on rec.patient_id = p.patient_id and rec.site_id = p.site_id
       left join open_queries q on q.patient_id = p.patient_id
       left join waiting w on w.patient_id = p.patient_id
       order by p.site_id, e.subject_code is null, e.subject_code, p.patient_id`,
    )
    .all({ build: buildId }) as {
    site_id: string;
    patient_id: string;
    subject_code: string | null;
    records: number;
    last_date: string | null;
    open_queries: number;
    outbox_waiting: number;
  }[];
  const bySite = new Map<string, DiaryPatients['sites'][number]>();
  for (const site of sites) {
    bySite.set(site.site_id, {
      siteId: site.site_id,
      siteName: site.site_name,
      siteNumber: site.site_number,
      patients: [],
    });
  }
  for (const patient of patients) {
    let site = bySite.get(patient.site_id);
    if (!site) {
      site = { siteId: patient.site_id, siteName: null, siteNumber: null, patients: [] };
      bySite.set(patient.site_id, site);
    }
    site.patients.push({
      patientId: patient.patient_id,
      subjectCode: patient.subject_code,
      records: patient.records,
      lastEntryDate: typeof patient.last_date === 'string' ? patient.last_date : null,
      openQueries: patient.open_queries,
      outboxWaiting: patient.outbox_waiting,
    });
  }
  return { sites: [...bySite.values()].sort((a, b) => a.siteId.localeCompare(b.siteId)) };
}

const annotationKinds = ['note', 'query', 'correction'] as const;
type AnnotationKind = (typeof annotationKinds)[number];
const kindOf = (value: unknown): AnnotationKind =>
  annotationKinds.includes(value as AnnotationKind) ? (value as AnnotationKind) : 'note';
const textOf = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A person's id from a cached document, if it is one (the contract checks the shape). */
const uuidOrNull = (value: unknown): string | null =>
  typeof value === 'string' && uuidShape.test(value) ? value : null;

/** Replies after the annotation they answer (depth first), each level in the order given. */
function threadOrder(annotations: DiaryAnnotation[]): DiaryAnnotation[] {
  const ids = new Set(annotations.map((annotation) => annotation.annotationId));
  const repliesTo = new Map<string, DiaryAnnotation[]>();
  const roots: DiaryAnnotation[] = [];
  for (const annotation of annotations) {
    const parent = annotation.inReplyTo;
    if (parent !== null && ids.has(parent) && parent !== annotation.annotationId) {
      repliesTo.set(parent, [...(repliesTo.get(parent) ?? []), annotation]);
    } else {
      roots.push(annotation);
    }
  }
  const ordered: DiaryAnnotation[] = [];
  const seen = new Set<string>();
  const visit = (annotation: DiaryAnnotation) => {
    if (seen.has(annotation.annotationId)) return;
    seen.add(annotation.annotationId);
    ordered.push(annotation);
    for (const reply of repliesTo.get(annotation.annotationId) ?? []) visit(reply);
  };
  for (const root of roots) visit(root);
  // A reply cycle cannot come from the server (in_reply_to names an earlier row); keep anything left.
  for (const annotation of annotations) visit(annotation);
  return ordered;
}

const strategies = ['keep_mine', 'keep_theirs', 'field_merge'] as const;
function conflictResolutionOf(
  value: unknown,
): { conflictId: number; strategy: (typeof strategies)[number] } | null {
  if (typeof value !== 'object' || value === null) return null;
  const resolution = value as Json;
  const strategy = strategies.find((known) => known === resolution.strategy);
  return strategy && Number.isInteger(Number(resolution.conflict_id))
    ? { conflictId: Number(resolution.conflict_id), strategy }
    : null;
}

export function cachedDiaryHistory(db: Database, eventUuid: string): DiaryHistory {
  const record = db
    .prepare(
      `select r.event_uuid, r.patient_id, r.site_id, r.version, r.last_audit_id, r.is_deleted, e.subject_code
       from record_state r left join enrolment e on e.patient_id = r.patient_id where r.event_uuid = ?`,
    )
    .get(eventUuid) as
    | {
        event_uuid: string;
        patient_id: string;
        site_id: string;
        version: number;
        last_audit_id: number;
        is_deleted: number;
        subject_code: string | null;
      }
    | undefined;
  if (!record) throw new UserFacingError('That diary record is not in your cache; sync, then open it again.');
  const owner = db.prepare('select user_id from cache_owner where id = 1').get() as
    | { user_id: string }
    | undefined;

  const builds = cachedBuildRefs(db);
  let previous: Json | null = null;
  const entries = (
    db
      .prepare('select audit_id, build_id, doc from record_audit where event_uuid = ? order by audit_id')
      .all(eventUuid) as {
      audit_id: number;
      build_id: string | null;
      doc: string;
    }[]
  ).map((row): DiaryHistoryEntry => {
    const doc = JSON.parse(row.doc) as Json;
    const data =
      typeof doc.data === 'object' && doc.data !== null && !Array.isArray(doc.data) ? (doc.data as Json) : {};
    const entry: DiaryHistoryEntry = {
      auditId: row.audit_id,
      parentAuditId:
        doc.parent_audit_id === null || doc.parent_audit_id === undefined
          ? null
          : Number(doc.parent_audit_id),
      operation: String(doc.operation ?? ''),
      role: String(doc.role ?? ''),
      createdBy: uuidOrNull(doc.created_by),
      data,
      changes: diaryFieldChanges(previous, data),
      changeReason: String(doc.change_reason ?? ''),
      clientTimestamp: String(doc.client_timestamp ?? ''),
      serverTimestamp: String(doc.server_timestamp ?? ''),
      build: buildRefFor(builds, row.build_id),
      sourceReference: paperSourceOf(doc.source_reference),
      conflictResolution: conflictResolutionOf(doc.conflict_resolution),
    };
    previous = data;
    return entry;
  });
  // The builds the history spans, in the order its entries first name them (entries are in the
  // order they were written, and a study's current build only ever moves on).
  const recordBuilds = new Map<string, BuildRef>();
  for (const entry of entries) if (entry.build) recordBuilds.set(entry.build.id, entry.build);

  const outbox = listOutbox(db, { includeSent: true }).filter(
    (item) => item.eventUuid === eventUuid && item.state !== 'discarded',
  );
  const createdBy = new Map<string, OutboxItem>();
  const resolutionsOf = new Map<string, OutboxItem[]>();
  for (const item of outbox) {
    if (item.annotationId === null) continue;
    if (item.kind === 'close' || item.kind === 'reopen') {
      resolutionsOf.set(item.annotationId, [...(resolutionsOf.get(item.annotationId) ?? []), item]);
    } else {
      createdBy.set(item.annotationId, item);
    }
  }

  // Every close and reopen the server recorded for this record's annotations, oldest first.
  const historyOf = new Map<string, ResolutionEvent[]>();
  for (const row of db
    .prepare(
      `select request_id, annotation_id, resolved, reason_code, reason_text, requested_by, requested_at
         from annotation_resolution where event_uuid = ? order by requested_at, request_id`,
    )
    .all(eventUuid) as {
    request_id: string;
    annotation_id: string;
    resolved: number;
    reason_code: ResolutionEvent['reasonCode'];
    reason_text: string | null;
    requested_by: string;
    requested_at: string;
  }[]) {
    historyOf.set(row.annotation_id, [
      ...(historyOf.get(row.annotation_id) ?? []),
      {
        requestId: row.request_id,
        resolved: row.resolved === 1,
        reasonCode: row.reason_code,
        reasonText: row.reason_text,
        requestedBy: row.requested_by,
        requestedAt: row.requested_at,
      },
    ]);
  }

  const onServer = (
    db
      .prepare(
        `select annotation_id, parent_audit_id, build_id, doc from annotation where event_uuid = ?
         order by json_extract(doc, '$.created_at'), annotation_id`,
      )
      .all(eventUuid) as {
      annotation_id: string;
      parent_audit_id: number;
      build_id: string | null;
      doc: string;
    }[]
  ).map((row): DiaryAnnotation => {
    const doc = JSON.parse(row.doc) as Json;
    return {
      annotationId: row.annotation_id,
      kind: kindOf(doc.annotation_kind),
      text: String(doc.annotation_text ?? ''),
      parentAuditId: row.parent_audit_id,
      requiresResponse: doc.requires_response === true,
      resolved: doc.resolved === true,
      resolvedAt: textOf(doc.resolved_at),
      inReplyTo: textOf(doc.in_reply_to),
      createdAt: textOf(doc.created_at),
      byMe: owner !== undefined && doc.investigator_id === owner.user_id,
      authorId: uuidOrNull(doc.investigator_id),
      fromServer: true,
      outbox: createdBy.get(row.annotation_id) ?? null,
      resolutions: resolutionsOf.get(row.annotation_id) ?? [],
      resolutionHistory: historyOf.get(row.annotation_id) ?? [],
      build: buildRefFor(builds, row.build_id),
    };
  });
  const pulled = new Set(onServer.map((annotation) => annotation.annotationId));
  const madeHere = [...createdBy.values()]
    .filter((item) => item.annotationId !== null && !pulled.has(item.annotationId))
    .map(
      (item): DiaryAnnotation => ({
        annotationId: item.annotationId as string,
        kind: kindOf(item.kind),
        text: item.text,
        parentAuditId: item.parentAuditId,
        requiresResponse: item.requiresResponse,
        resolved: false,
        resolvedAt: null,
        inReplyTo: item.inReplyTo,
        createdAt: null,
        byMe: true,
        authorId: owner?.user_id ?? null,
        fromServer: false,
        outbox: item,
        resolutions: resolutionsOf.get(item.annotationId as string) ?? [],
        resolutionHistory: [],
        // The server sets it when the annotation arrives: not known while it waits here.
        build: null,
      }),
    );

  return {
    record: {
      eventUuid: record.event_uuid,
      patientId: record.patient_id,
      subjectCode: record.subject_code,
      siteId: record.site_id,
      version: record.version,
      lastAuditId: record.last_audit_id,
      isDeleted: record.is_deleted === 1,
    },
    entries,
    builds: [...recordBuilds.values()],
    annotations: threadOrder([...onServer, ...madeHere]),
  };
}

// The diary event outbox (cache schema 9): an investigator's paper transcriptions, made in the cache
// offline or online and sent to public.submit_diary_events (0059) in the order they were made, in
// the same flush as annotations and before them. Each carries the client_request_id chosen when it
// was made: a resend after a lost reply returns the first result (replayed) and writes nothing, so an
// item lands exactly once. A conflict (the record moved on) is kept with the server's conflict_id and
// current state until its submitter resolves it (keep mine, keep theirs, field merge: online, through
// public.resolve_diary_conflict); a refusal is kept with its reason and the field it names. Nothing is
// dropped silently.
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import type { BuildFormDefinition } from '../../shared/contract';
import { diaryFormProblems, isCalendarDate } from '../../shared/diaryFormValidation';
import { cachedStudyBuilds } from '../cache/cachedBuilds';
import { UserFacingError } from '../userFacingError';
import type { OutboxState } from './outbox';
import { isConnectionError } from './serverReader';
import { type SyncServer, SyncSessionExpiredError } from './syncServer';

type Json = Record<string, unknown>;
export type ConflictStrategy = 'keep_mine' | 'keep_theirs' | 'field_merge';

export interface DiaryEventItem {
  id: number;
  clientRequestId: string;
  kind: 'transcription';
  eventUuid: string;
  patientId: string;
  parentAuditId: number | null;
  data: Json;
  changeReason: string;
  pageId: string;
  entryDate: string;
  clientTimestamp: string;
  state: OutboxState;
  createdAt: string;
  sentAt: string | null;
  auditId: number | null;
  conflictId: number | null;
  problem: string | null;
  /** The field a refusal names (a form field, page_id, entry_date, source_reference), if any. */
  problemField: string | null;
  currentAuditId: number | null;
  currentData: Json | null;
  resolution: ConflictStrategy | null;
  resolutionAuditId: number | null;
  attempts: number;
}

interface DiaryEventRow {
  id: number;
  client_request_id: string;
  kind: 'transcription';
  event_uuid: string;
  patient_id: string;
  parent_audit_id: number | null;
  data: string;
  change_reason: string;
  source_reference: string;
  client_timestamp: string;
  state: OutboxState;
  created_at: string;
  sent_at: string | null;
  audit_id: number | null;
  conflict_id: number | null;
  problem: string | null;
  problem_field: string | null;
  current_audit_id: number | null;
  current_data: string | null;
  resolution: ConflictStrategy | null;
  resolution_audit_id: number | null;
  attempts: number;
}

function itemOf(row: DiaryEventRow): DiaryEventItem {
  const source = JSON.parse(row.source_reference) as { page_id: string; entry_date: string };
  return {
    id: row.id,
    clientRequestId: row.client_request_id,
    kind: row.kind,
    eventUuid: row.event_uuid,
    patientId: row.patient_id,
    parentAuditId: row.parent_audit_id,
    data: JSON.parse(row.data) as Json,
    changeReason: row.change_reason,
    pageId: source.page_id,
    entryDate: source.entry_date,
    clientTimestamp: row.client_timestamp,
    state: row.state,
    createdAt: row.created_at,
    sentAt: row.sent_at,
    auditId: row.audit_id,
    conflictId: row.conflict_id,
    problem: row.problem,
    problemField: row.problem_field,
    currentAuditId: row.current_audit_id,
    currentData: row.current_data === null ? null : (JSON.parse(row.current_data) as Json),
    resolution: row.resolution,
    resolutionAuditId: row.resolution_audit_id,
    attempts: row.attempts,
  };
}

export function diaryEventItem(db: Database, id: number): DiaryEventItem {
  const row = db.prepare('select * from diary_event_outbox where id = ?').get(id) as
    | DiaryEventRow
    | undefined;
  if (!row) throw new UserFacingError(`There is no diary outbox item ${id}.`);
  return itemOf(row);
}

export function listDiaryEvents(db: Database, options: { includeSent?: boolean } = {}): DiaryEventItem[] {
  const rows = db
    .prepare(
      `select * from diary_event_outbox ${options.includeSent ? '' : "where state not in ('sent', 'discarded')"} order by id`,
    )
    .all() as DiaryEventRow[];
  return rows.map(itemOf);
}

/** The diary form of the current build of the patient's study, from the cache; null if it is not there. */
export function diaryFormForPatient(db: Database, patientId: string): BuildFormDefinition | null {
  const study = db
    .prepare(`select s.study_id from enrolment e join site s on s.site_id = e.site_id where e.patient_id = ?`)
    .get(patientId) as { study_id: string } | undefined;
  if (!study) return null;
  const current = cachedStudyBuilds(db, study.study_id).find((build) => build.current);
  return current?.forms.find((form) => form.kind === 'diary') ?? null;
}

export interface NewTranscription {
  patientId: string;
  /** A transcribed record to continue (a later page, or the transcriber's own correction); null: a new record. */
  eventUuid: string | null;
  data: Json;
  pageId: string;
  entryDate: string;
  reason: string;
}

/** A transcription's problems by field, as the server would name them, before anything is queued. */
export function transcriptionProblems(
  db: Database,
  transcription: NewTranscription,
  now = new Date(),
): { field: string | null; message: string }[] {
  const form = diaryFormForPatient(db, transcription.patientId);
  const problems = form
    ? diaryFormProblems(form, transcription.data)
    : [{ field: null, message: "The study's diary form is not in your cache; sync, then transcribe." }];
  const pageId = transcription.pageId.trim();
  if (pageId.length === 0 || pageId.length > 200) {
    problems.push({ field: 'page_id', message: 'The paper page id is required (at most 200 characters).' });
  }
  const tomorrow = new Date(now.getTime() + 86_400_000).toISOString().slice(0, 10);
  if (!isCalendarDate(transcription.entryDate)) {
    problems.push({ field: 'entry_date', message: 'The date of the paper entry is required (YYYY-MM-DD).' });
  } else if (transcription.entryDate > tomorrow) {
    problems.push({ field: 'entry_date', message: 'The date of the paper entry is in the future.' });
  }
  if (transcription.reason.trim().length === 0) {
    problems.push({ field: 'reason', message: 'Say why you transcribe this entry (a reason is required).' });
  }
  return problems;
}

/** Queues a paper transcription (offline too); refused here, by field, if the server would refuse it. */
export function enqueueTranscription(
  db: Database,
  transcription: NewTranscription,
  now = new Date(),
): DiaryEventItem {
  const enrolled = db.prepare('select 1 from enrolment where patient_id = ?').get(transcription.patientId);
  if (!enrolled) {
    throw new UserFacingError(
      'That patient is not enrolled at one of your sites (or not in your cache yet); sync, then transcribe.',
    );
  }
  const problems = transcriptionProblems(db, transcription, now);
  if (problems.length > 0) {
    throw new UserFacingError(`The transcription was not saved: ${problems.map((p) => p.message).join(' ')}`);
  }
  let parentAuditId: number | null = null;
  const eventUuid = transcription.eventUuid ?? randomUUID();
  if (transcription.eventUuid) {
    const record = db
      .prepare('select last_audit_id, patient_id from record_state where event_uuid = ?')
      .get(transcription.eventUuid) as { last_audit_id: number; patient_id: string } | undefined;
    if (!record || record.patient_id !== transcription.patientId) {
      throw new UserFacingError(
        "That diary record is not this patient's record in your cache; sync, then transcribe.",
      );
    }
    parentAuditId = record.last_audit_id;
  }
  const result = db
    .prepare(
      `insert into diary_event_outbox (client_request_id, kind, event_uuid, patient_id, parent_audit_id, data,
         change_reason, source_reference, client_timestamp, state, created_at)
       values (?, 'transcription', ?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
    )
    .run(
      randomUUID(),
      eventUuid,
      transcription.patientId,
      parentAuditId,
      JSON.stringify(transcription.data),
      transcription.reason.trim(),
      JSON.stringify({ page_id: transcription.pageId.trim(), entry_date: transcription.entryDate }),
      now.toISOString(),
      now.toISOString(),
    );
  return diaryEventItem(db, Number(result.lastInsertRowid));
}

export interface DiaryFlushReport {
  sent: number;
  conflicts: number;
  failed: number;
  unreachable: boolean;
}

interface SubmitResult {
  status: 'applied' | 'conflict';
  events?: { client_request_id: string; audit_id: number; replayed: boolean }[];
  conflicts?: { conflict_id: number; current_audit_id: number | null; current_data: Json | null }[];
}

function detailOf(error: { detail?: string }): Json {
  try {
    return JSON.parse(error.detail ?? '{}') as Json;
  } catch {
    return {};
  }
}

/**
 * Sends the pending diary events, oldest first, one request each (a conflict holds back only its
 * own item). Stops at a lost connection: the rest stay pending, in order.
 */
export async function flushDiaryEvents(
  db: Database,
  server: SyncServer,
  now = () => new Date(),
): Promise<DiaryFlushReport> {
  const report: DiaryFlushReport = { sent: 0, conflicts: 0, failed: 0, unreachable: false };
  const pending = db
    .prepare(`select * from diary_event_outbox where state = 'pending' order by id`)
    .all() as DiaryEventRow[];
  const sent = db.prepare(
    `update diary_event_outbox set state = 'sent', sent_at = ?, audit_id = ?, problem = null, problem_field = null,
       attempts = attempts + 1 where id = ?`,
  );
  const conflict = db.prepare(
    `update diary_event_outbox set state = 'conflict', conflict_id = ?, current_audit_id = ?, current_data = ?,
       problem = ?, attempts = attempts + 1 where id = ?`,
  );
  const failed = db.prepare(
    `update diary_event_outbox set state = 'failed', problem = ?, problem_field = ?, attempts = attempts + 1 where id = ?`,
  );
  for (const row of pending) {
    const event = {
      client_request_id: row.client_request_id,
      event_uuid: row.event_uuid,
      patient_id: row.patient_id,
      operation: 'INVESTIGATOR_TRANSCRIPTION',
      data: JSON.parse(row.data) as Json,
      parent_audit_id: row.parent_audit_id,
      change_reason: row.change_reason,
      client_timestamp: row.client_timestamp,
      source_reference: JSON.parse(row.source_reference) as Json,
    };
    try {
      const result = (await server.submitDiaryEvents([event])) as SubmitResult;
      if (result.status === 'applied') {
        sent.run(now().toISOString(), Number(result.events?.[0]?.audit_id), row.id);
        report.sent++;
      } else {
        const found = result.conflicts?.[0];
        conflict.run(
          Number(found?.conflict_id),
          found?.current_audit_id ?? null,
          found?.current_data ? JSON.stringify(found.current_data) : null,
          'The record moved on since it was read: choose keep mine, keep theirs or a field merge.',
          row.id,
        );
        report.conflicts++;
      }
    } catch (error) {
      // A hosted session that could not be renewed: this item and the rest stay pending, in order.
      if (error instanceof SyncSessionExpiredError) throw error;
      if (isConnectionError(error)) {
        report.unreachable = true;
        break;
      }
      const failure = error as { message?: string; detail?: string };
      const field = detailOf(failure).field;
      failed.run(failure.message ?? String(error), typeof field === 'string' ? field : null, row.id);
      report.failed++;
    }
  }
  return report;
}

/** Fields whose values differ between two versions (keys of either), sorted. */
export function changedFields(before: Json, after: Json): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key])).sort();
}

export interface DiaryConflictView {
  conflictId: number;
  eventUuid: string;
  patientId: string;
  /** The outbox item whose send conflicted, if it was made on this workstation. */
  outboxId: number | null;
  /** A transcription's paper page; null for another kind of write. */
  pageId: string | null;
  /** The entry the write was made against (null: not in the cache, or a new record). */
  base: Json | null;
  /** The record's current entry as last seen: the conflict's answer or the cache, whichever is newer. */
  theirs: Json;
  theirsAuditId: number;
  mine: Json;
  fieldsMine: string[];
  fieldsTheirs: string[];
  /** Changed on both sides to different values: a field merge cannot choose. */
  overlapping: string[];
}

interface ConflictSource {
  conflictId: number;
  eventUuid: string;
  patientId: string;
  outboxId: number | null;
  pageId: string | null;
  parentAuditId: number | null;
  mine: Json;
  currentAuditId: number | null;
  currentData: Json | null;
}

const objectOr = (value: unknown): Json | null =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null;

/**
 * The open conflicts of the person's own diary writes: pulled from the server (diary_conflict), and
 * those this workstation's outbox holds that are not pulled yet. Oldest first.
 */
function openConflictSources(db: Database): ConflictSource[] {
  const owner = db.prepare('select user_id from cache_owner where id = 1').get() as
    | { user_id: string }
    | undefined;
  const outboxOf = new Map(
    (
      db
        .prepare(`select * from diary_event_outbox where state = 'conflict' and conflict_id is not null`)
        .all() as DiaryEventRow[]
    ).map((row) => [row.conflict_id as number, itemOf(row)]),
  );
  const sources: ConflictSource[] = [];
  for (const row of db
    .prepare(
      `select conflict_id, event_uuid, patient_id, doc from diary_conflict
        where submitted_by = ? and resolved_at is null order by conflict_id`,
    )
    .all(owner?.user_id ?? '') as {
    conflict_id: number;
    event_uuid: string;
    patient_id: string;
    doc: string;
  }[]) {
    const doc = JSON.parse(row.doc) as Json;
    const source = objectOr(doc.submitted_source_reference);
    const parent = doc.submitted_parent_audit_id;
    sources.push({
      conflictId: row.conflict_id,
      eventUuid: row.event_uuid,
      patientId: row.patient_id,
      outboxId: outboxOf.get(row.conflict_id)?.id ?? null,
      pageId: typeof source?.page_id === 'string' ? source.page_id : null,
      parentAuditId: parent === null || parent === undefined ? null : Number(parent),
      mine: objectOr(doc.submitted_data) ?? {},
      currentAuditId:
        doc.current_audit_id === null || doc.current_audit_id === undefined
          ? null
          : Number(doc.current_audit_id),
      currentData: objectOr(doc.current_data),
    });
    outboxOf.delete(row.conflict_id);
  }
  const resolvedHere = db.prepare(
    'select 1 from diary_conflict where conflict_id = ? and resolved_at is not null',
  );
  for (const item of outboxOf.values()) {
    if (resolvedHere.get(item.conflictId)) continue;
    sources.push({
      conflictId: item.conflictId as number,
      eventUuid: item.eventUuid,
      patientId: item.patientId,
      outboxId: item.id,
      pageId: item.pageId,
      parentAuditId: item.parentAuditId,
      mine: item.data,
      currentAuditId: item.currentAuditId,
      currentData: item.currentData,
    });
  }
  return sources.sort((a, b) => a.conflictId - b.conflictId);
}

function viewOf(db: Database, source: ConflictSource): DiaryConflictView {
  const baseRow = source.parentAuditId
    ? (db
        .prepare(`select json_extract(doc, '$.data') as data from record_audit where audit_id = ?`)
        .get(source.parentAuditId) as { data: string | null } | undefined)
    : undefined;
  const base = baseRow?.data ? (JSON.parse(baseRow.data) as Json) : null;
  const cached = db
    .prepare('select last_audit_id, current_data from record_state where event_uuid = ?')
    .get(source.eventUuid) as { last_audit_id: number; current_data: string } | undefined;
  const useCache = cached !== undefined && cached.last_audit_id >= (source.currentAuditId ?? 0);
  const theirs = useCache ? (JSON.parse(cached.current_data) as Json) : (source.currentData ?? {});
  const theirsAuditId = useCache ? cached.last_audit_id : (source.currentAuditId ?? 0);
  const fieldsMine = changedFields(base ?? {}, source.mine);
  const fieldsTheirs = changedFields(base ?? {}, theirs);
  const overlapping = fieldsMine.filter(
    (field) =>
      fieldsTheirs.includes(field) && JSON.stringify(source.mine[field]) !== JSON.stringify(theirs[field]),
  );
  return {
    conflictId: source.conflictId,
    eventUuid: source.eventUuid,
    patientId: source.patientId,
    outboxId: source.outboxId,
    pageId: source.pageId,
    base,
    theirs,
    theirsAuditId,
    mine: source.mine,
    fieldsMine,
    fieldsTheirs,
    overlapping,
  };
}

/** The person's open diary conflicts, each with both versions field by field against the entry the write was made against. */
export function openDiaryConflicts(db: Database): DiaryConflictView[] {
  return openConflictSources(db).map((source) => viewOf(db, source));
}

/** One open conflict of the person's own writes. */
export function diaryConflictView(db: Database, conflictId: number): DiaryConflictView {
  const source = openConflictSources(db).find((candidate) => candidate.conflictId === conflictId);
  if (!source)
    throw new UserFacingError(
      `Conflict ${conflictId} is not an open conflict of yours in the cache; sync, then look again.`,
    );
  return viewOf(db, source);
}

/**
 * Resolves a conflict on the server as its submitter, against the entry shown (seenAuditId): the
 * resolution is a new event there; an outbox item that conflicted is marked with the strategy and
 * that event.
 */
export async function resolveDiaryConflict(
  db: Database,
  server: SyncServer,
  conflictId: number,
  strategy: ConflictStrategy,
  seenAuditId: number,
): Promise<{ auditId: number }> {
  try {
    const result = await server.resolveDiaryConflict(conflictId, strategy, seenAuditId);
    const auditId = Number((result as { audit_id?: number } | undefined)?.audit_id);
    db.prepare(
      `update diary_event_outbox set state = 'sent', sent_at = ?, resolution = ?, resolution_audit_id = ?, problem = null
        where conflict_id = ? and state = 'conflict'`,
    ).run(new Date().toISOString(), strategy, auditId, conflictId);
    return { auditId };
  } catch (error) {
    if (isConnectionError(error) || error instanceof SyncSessionExpiredError) throw error;
    const failure = error as { code?: string; message?: string; detail?: string };
    const detail = detailOf(failure);
    if (failure.code === 'CS409' && typeof detail.current_audit_id === 'number') {
      // The record moved on again: keep its newer state, to be shown and resolved against.
      db.prepare(
        `update diary_event_outbox set current_audit_id = ?, current_data = ? where conflict_id = ? and state = 'conflict'`,
      ).run(detail.current_audit_id, JSON.stringify(detail.current_data ?? {}), conflictId);
      throw new UserFacingError(
        'The record moved on again while you decided: sync to see its newest entry, then choose again.',
      );
    }
    throw new UserFacingError(failure.message ?? 'The conflict was not resolved.');
  }
}

/** A refused transcription the person gives up: kept, marked discarded, so the choice stays on record. */
export function discardDiaryEvent(db: Database, id: number): DiaryEventItem {
  const item = diaryEventItem(db, id);
  if (item.state !== 'failed') {
    throw new UserFacingError(
      `Diary outbox item ${id} is ${item.state}; only a refused one can be discarded.`,
    );
  }
  db.prepare(`update diary_event_outbox set state = 'discarded' where id = ?`).run(id);
  return diaryEventItem(db, id);
}

// The outbox: investigator annotations (notes, queries, replies, corrections) and the closing or
// reopening of a query, made in the cache, offline or online, and sent to the server in the order
// they were made (SyncServer.annotate / resolveAnnotation: public.submit_annotation and
// public.submit_annotation_resolution, 0061, whichever the transport). Each carries a
// client_request_id chosen when it was made, so a resend after a lost reply is recognised by the
// server (0021 for annotations, 0041 for close / reopen) and lands exactly once: the server answers
// "replayed" and writes nothing; an annotation also carries the parent_audit_id the investigator saw and the
// annotation id it will have on the server, so that a reply to it or its closing can be made before
// it is sent. A conflict (the record moved on, or someone else already closed or reopened the query:
// CS409) or a refusal is kept with its reason for the person to resolve; nothing is ever dropped
// silently.
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import type { QueryReasonCode } from '../../shared/domain';
import { UserFacingError } from '../userFacingError';
import { isConnectionError } from './serverReader';
import { type SyncServer, SyncSessionExpiredError } from './syncServer';

export type OutboxState = 'pending' | 'sent' | 'conflict' | 'failed' | 'discarded';
export type AnnotationKind = 'note' | 'query' | 'correction';
/** What an outbox item does: add an annotation of a kind, or close / reopen an annotation. */
export type OutboxKind = AnnotationKind | 'close' | 'reopen';
const annotationKinds: readonly OutboxKind[] = ['note', 'query', 'correction'];

export interface OutboxItem {
  id: number;
  clientRequestId: string;
  kind: OutboxKind;
  eventUuid: string;
  parentAuditId: number;
  inReplyTo: string | null;
  text: string;
  requiresResponse: boolean;
  state: OutboxState;
  createdAt: string;
  sentAt: string | null;
  /** The annotation this item adds (its id on the server, chosen here) or closes / reopens. */
  annotationId: string | null;
  problem: string | null;
  currentAuditId: number | null;
  attempts: number;
  /** For a close or reopen: why (0051). */
  reasonCode: QueryReasonCode | null;
  reasonText: string | null;
}

export interface NewAnnotation {
  eventUuid: string;
  /** The entry the investigator read; defaults to the cached record's current entry. */
  parentAuditId?: number | null;
  kind: AnnotationKind;
  text: string;
  requiresResponse: boolean;
  inReplyTo?: string | null;
}

interface OutboxRow {
  id: number;
  client_request_id: string;
  kind: OutboxKind;
  event_uuid: string;
  parent_audit_id: number;
  in_reply_to: string | null;
  annotation_text: string;
  requires_response: number;
  state: OutboxState;
  created_at: string;
  sent_at: string | null;
  annotation_id: string | null;
  problem: string | null;
  current_audit_id: number | null;
  attempts: number;
  reason_code: QueryReasonCode | null;
  reason_text: string | null;
}

function itemOf(row: OutboxRow): OutboxItem {
  return {
    id: row.id,
    clientRequestId: row.client_request_id,
    kind: row.kind,
    eventUuid: row.event_uuid,
    parentAuditId: row.parent_audit_id,
    inReplyTo: row.in_reply_to,
    text: row.annotation_text,
    requiresResponse: row.requires_response === 1,
    state: row.state,
    createdAt: row.created_at,
    sentAt: row.sent_at,
    annotationId: row.annotation_id,
    problem: row.problem,
    currentAuditId: row.current_audit_id,
    attempts: row.attempts,
    reasonCode: row.reason_code ?? null,
    reasonText: row.reason_text ?? null,
  };
}

export function outboxItem(db: Database, id: number): OutboxItem {
  const row = db.prepare('select * from outbox where id = ?').get(id) as OutboxRow | undefined;
  if (!row) throw new UserFacingError(`There is no outbox item ${id}.`);
  return itemOf(row);
}

export function listOutbox(db: Database, options: { includeSent?: boolean } = {}): OutboxItem[] {
  const rows = db
    .prepare(
      `select * from outbox ${options.includeSent ? '' : "where state not in ('sent', 'discarded')"} order by id`,
    )
    .all() as OutboxRow[];
  return rows.map(itemOf);
}

/** An annotation the person can refer to (answer, close, reopen): in the cache, or made here and not discarded. */
interface KnownAnnotation {
  eventUuid: string;
  /** Resolved as the cache last saw it on the server, then as this outbox's own pending items leave it. */
  resolved: boolean;
}

function knownAnnotation(db: Database, annotationId: string): KnownAnnotation | null {
  const cached = db
    .prepare(
      `select event_uuid, json_extract(doc, '$.resolved') as resolved from annotation where annotation_id = ?`,
    )
    .get(annotationId) as { event_uuid: string; resolved: number | null } | undefined;
  const own = db
    .prepare(
      `select event_uuid from outbox where annotation_id = ? and kind in ('note', 'query', 'correction')
         and state <> 'discarded'`,
    )
    .get(annotationId) as { event_uuid: string } | undefined;
  if (!cached && !own) return null;
  let resolved = cached?.resolved === 1;
  const waiting = db
    .prepare(
      `select kind from outbox where annotation_id = ? and kind in ('close', 'reopen')
         and state in ('pending', 'conflict', 'failed') order by id`,
    )
    .all(annotationId) as { kind: 'close' | 'reopen' }[];
  for (const item of waiting) resolved = item.kind === 'close';
  return { eventUuid: (cached?.event_uuid ?? own?.event_uuid) as string, resolved };
}

export function enqueueAnnotation(db: Database, annotation: NewAnnotation, now = new Date()): OutboxItem {
  const record = db
    .prepare('select last_audit_id from record_state where event_uuid = ?')
    .get(annotation.eventUuid) as { last_audit_id: number } | undefined;
  if (!record) {
    throw new UserFacingError('That diary record is not in your cache; sync, then annotate it.');
  }
  if (annotation.inReplyTo) {
    const answered = knownAnnotation(db, annotation.inReplyTo);
    if (!answered || answered.eventUuid !== annotation.eventUuid) {
      throw new UserFacingError(
        'A reply answers an annotation of the same diary record; that one is not there.',
      );
    }
  }
  const result = db
    .prepare(
      `insert into outbox (client_request_id, kind, event_uuid, parent_audit_id, in_reply_to, annotation_text,
         requires_response, state, created_at, annotation_id)
       values (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
    )
    .run(
      randomUUID(),
      annotation.kind,
      annotation.eventUuid,
      annotation.parentAuditId ?? record.last_audit_id,
      annotation.inReplyTo ?? null,
      annotation.text,
      annotation.requiresResponse ? 1 : 0,
      now.toISOString(),
      randomUUID(),
    );
  return outboxItem(db, Number(result.lastInsertRowid));
}

export interface NewResolution {
  annotationId: string;
  /** true: close the query; false: reopen it. */
  resolved: boolean;
  /** Why (0051): closing needs one; the server checks again. */
  reasonCode: QueryReasonCode | null;
  reasonText: string | null;
}

/** Closes or reopens an annotation (usually a query) through the outbox: offline too, sent once. */
export function enqueueResolution(db: Database, resolution: NewResolution, now = new Date()): OutboxItem {
  const target = knownAnnotation(db, resolution.annotationId);
  if (!target) {
    throw new UserFacingError('That annotation is not in your cache; sync, then close or reopen it.');
  }
  if (target.resolved === resolution.resolved) {
    throw new UserFacingError(
      `That annotation is already ${resolution.resolved ? 'closed' : 'open'} (or about to be: see the outbox).`,
    );
  }
  const record = db
    .prepare('select last_audit_id from record_state where event_uuid = ?')
    .get(target.eventUuid) as { last_audit_id: number } | undefined;
  if (!record) {
    throw new UserFacingError(
      'That diary record is not in your cache; sync, then close or reopen the query.',
    );
  }
  const result = db
    .prepare(
      `insert into outbox (client_request_id, kind, event_uuid, parent_audit_id, in_reply_to, annotation_text,
         requires_response, state, created_at, annotation_id, reason_code, reason_text)
       values (?, ?, ?, ?, null, '', 0, 'pending', ?, ?, ?, ?)`,
    )
    .run(
      randomUUID(),
      resolution.resolved ? 'close' : 'reopen',
      target.eventUuid,
      record.last_audit_id,
      now.toISOString(),
      resolution.annotationId,
      resolution.reasonCode,
      resolution.reasonText,
    );
  return outboxItem(db, Number(result.lastInsertRowid));
}

export interface FlushReport {
  sent: number;
  conflicts: number;
  failed: number;
  /** The server could not be reached: the remaining items stay pending, in order. */
  unreachable: boolean;
}

/** The annotation an item needs on the server first: the one it answers, closes or reopens. */
function dependencyOf(item: OutboxRow): string | null {
  return annotationKinds.includes(item.kind) ? item.in_reply_to : item.annotation_id;
}

export async function flushOutbox(
  db: Database,
  server: SyncServer,
  now = () => new Date(),
): Promise<FlushReport> {
  const report: FlushReport = { sent: 0, conflicts: 0, failed: 0, unreachable: false };
  const pending = db.prepare(`select * from outbox where state = 'pending' order by id`).all() as OutboxRow[];
  const mark = db.prepare(
    `update outbox set state = ?, sent_at = ?, annotation_id = coalesce(?, annotation_id), problem = ?,
       current_audit_id = ?, attempts = attempts + 1 where id = ?`,
  );
  const creatorOf = db.prepare(
    `select id, state from outbox where annotation_id = ? and kind in ('note', 'query', 'correction') and id <> ?`,
  );
  const wait = db.prepare('update outbox set problem = ? where id = ?');
  for (const item of pending) {
    // An answer to (or the closing of) an annotation made here waits until that one is on the server.
    const dependency = dependencyOf(item);
    const creator = dependency
      ? (creatorOf.get(dependency, item.id) as { id: number; state: OutboxState } | undefined)
      : undefined;
    if (creator && creator.state !== 'sent') {
      if (creator.state === 'discarded') {
        mark.run(
          'failed',
          null,
          null,
          `It refers to outbox item ${creator.id}, which was discarded.`,
          null,
          item.id,
        );
        report.failed++;
      } else {
        wait.run(`Waits for outbox item ${creator.id} (${creator.state}) to reach the server.`, item.id);
      }
      continue;
    }
    // The site is set by the server from the record; this only fills the column until it does.
    const site = db.prepare('select site_id from record_state where event_uuid = ?').get(item.event_uuid) as
      | { site_id: string }
      | undefined;
    const isAnnotation = annotationKinds.includes(item.kind);
    try {
      // A resend of what landed before (its reply was lost) comes back "replayed": the server has it
      // once, under its request id, and names the annotation it made.
      if (isAnnotation) {
        const { annotationId } = await server.annotate({
          clientRequestId: item.client_request_id,
          annotationId: item.annotation_id,
          eventUuid: item.event_uuid,
          parentAuditId: item.parent_audit_id,
          siteId: site?.site_id ?? '',
          kind: item.kind,
          text: item.annotation_text,
          requiresResponse: item.requires_response === 1,
          inReplyTo: item.in_reply_to,
        });
        mark.run('sent', now().toISOString(), annotationId, null, null, item.id);
      } else {
        await server.resolveAnnotation({
          requestId: item.client_request_id,
          annotationId: item.annotation_id as string,
          eventUuid: item.event_uuid,
          siteId: site?.site_id ?? '',
          resolved: item.kind === 'close',
          reasonCode: item.reason_code,
          reasonText: item.reason_text,
        });
        mark.run('sent', now().toISOString(), null, null, null, item.id);
      }
      report.sent++;
    } catch (error) {
      // A hosted session that could not be renewed: this item and the rest stay pending, in order.
      if (error instanceof SyncSessionExpiredError) throw error;
      const failure = error as { code?: string; detail?: string; message?: string };
      if (isConnectionError(error)) {
        report.unreachable = true;
        break;
      }
      if (failure.code === 'CS409') {
        let current: number | null = null;
        try {
          const parsed = JSON.parse(failure.detail ?? '{}') as { current_audit_id?: number | string | null };
          current =
            parsed.current_audit_id === null || parsed.current_audit_id === undefined
              ? null
              : Number(parsed.current_audit_id);
        } catch {
          current = null;
        }
        const problem = isAnnotation
          ? (failure.message ?? 'the record moved on')
          : `${failure.message ?? 'the annotation changed'}: someone else ${item.kind === 'close' ? 'closed' : 'reopened'} it first.`;
        mark.run('conflict', null, null, problem, current, item.id);
        report.conflicts++;
      } else {
        mark.run('failed', null, null, failure.message ?? String(error), null, item.id);
        report.failed++;
      }
    }
  }
  return report;
}

/**
 * The person's answer to a conflict or a refusal: `rebase` re-sends the item (an annotation against
 * the record's current entry, what they have now read; a close or reopen as it was, the server
 * checks the query's state again), `discard` keeps it in the outbox marked discarded, so even that
 * choice stays on record.
 */
export function resolveOutboxItem(db: Database, id: number, action: 'rebase' | 'discard'): OutboxItem {
  const item = outboxItem(db, id);
  if (item.state !== 'conflict' && item.state !== 'failed') {
    throw new UserFacingError(
      `Outbox item ${id} is ${item.state}; only a conflict or a refusal can be resolved.`,
    );
  }
  if (action === 'discard') {
    db.prepare(`update outbox set state = 'discarded' where id = ?`).run(id);
  } else {
    const record = db
      .prepare('select last_audit_id from record_state where event_uuid = ?')
      .get(item.eventUuid) as { last_audit_id: number } | undefined;
    const parent = item.currentAuditId ?? record?.last_audit_id ?? item.parentAuditId;
    db.prepare(`update outbox set state = 'pending', parent_audit_id = ?, problem = null where id = ?`).run(
      parent,
      id,
    );
  }
  return outboxItem(db, id);
}

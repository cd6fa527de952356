// The outbox: investigator annotations (notes, queries, replies, corrections) made in the cache,
// offline or online, and sent to the server in the order they were made. Each carries the
// parent_audit_id the investigator saw and a client_request_id chosen when it was made, so a resend
// after a lost reply is recognised by the server's unique constraint and lands exactly once
// (0021_annotation_outbox.sql). A conflict (the record moved on: CS409) or a refusal is kept with
// its reason for the person to resolve; nothing is ever dropped silently.
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { UserFacingError } from '../userFacingError';
import { isConnectionError, type ServerReader } from './serverReader';

export type OutboxState = 'pending' | 'sent' | 'conflict' | 'failed' | 'discarded';
export type AnnotationKind = 'note' | 'query' | 'correction';

export interface OutboxItem {
  id: number;
  clientRequestId: string;
  kind: AnnotationKind;
  eventUuid: string;
  parentAuditId: number;
  inReplyTo: string | null;
  text: string;
  requiresResponse: boolean;
  state: OutboxState;
  createdAt: string;
  sentAt: string | null;
  annotationId: string | null;
  problem: string | null;
  currentAuditId: number | null;
  attempts: number;
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
  kind: AnnotationKind;
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

export function enqueueAnnotation(db: Database, annotation: NewAnnotation, now = new Date()): OutboxItem {
  const record = db
    .prepare('select last_audit_id from record_state where event_uuid = ?')
    .get(annotation.eventUuid) as { last_audit_id: number } | undefined;
  if (!record) {
    throw new UserFacingError('That diary record is not in your cache; sync, then annotate it.');
  }
  const result = db
    .prepare(
      `insert into outbox (client_request_id, kind, event_uuid, parent_audit_id, in_reply_to, annotation_text,
         requires_response, state, created_at)
       values (?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
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

const insertAnnotation = `
  insert into diary.investigator_annotations (event_uuid, parent_audit_id, patient_id, investigator_id, site_id,
    annotation_kind, annotation_text, requires_response, client_request_id, in_reply_to)
  values ($1::uuid, $2::bigint, auth.uid(), auth.uid(), $3, $4, $5, $6, $7::uuid, $8::uuid)
  returning annotation_id::text as annotation_id`;

export async function flushOutbox(
  db: Database,
  server: ServerReader,
  now = () => new Date(),
): Promise<FlushReport> {
  const report: FlushReport = { sent: 0, conflicts: 0, failed: 0, unreachable: false };
  const pending = db.prepare(`select * from outbox where state = 'pending' order by id`).all() as OutboxRow[];
  const mark = db.prepare(
    `update outbox set state = ?, sent_at = ?, annotation_id = ?, problem = ?, current_audit_id = ?,
       attempts = attempts + 1 where id = ?`,
  );
  for (const item of pending) {
    // The site is set by the server from the record; this only fills the column until it does.
    const site = db.prepare('select site_id from record_state where event_uuid = ?').get(item.event_uuid) as
      | { site_id: string }
      | undefined;
    try {
      const { rows } = await server.query({
        text: insertAnnotation,
        values: [
          item.event_uuid,
          item.parent_audit_id,
          site?.site_id ?? '',
          item.kind,
          item.annotation_text,
          item.requires_response === 1,
          item.client_request_id,
          item.in_reply_to,
        ],
      });
      mark.run('sent', now().toISOString(), String(rows[0]?.annotation_id), null, null, item.id);
      report.sent++;
    } catch (error) {
      const failure = error as { code?: string; constraint?: string; detail?: string; message?: string };
      if (isConnectionError(error)) {
        report.unreachable = true;
        break;
      }
      if (
        failure.code === '23505' &&
        failure.constraint === 'investigator_annotations_client_request_id_key'
      ) {
        // Sent before, the reply was lost: the server has it once; record which row it is.
        const { rows } = await server.query({
          text: 'select annotation_id::text as annotation_id from diary.investigator_annotations where client_request_id = $1',
          values: [item.client_request_id],
        });
        mark.run('sent', now().toISOString(), String(rows[0]?.annotation_id ?? ''), null, null, item.id);
        report.sent++;
      } else if (failure.code === 'CS409') {
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
        mark.run('conflict', null, null, failure.message ?? 'the record moved on', current, item.id);
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
 * The person's answer to a conflict or a refusal: `rebase` re-sends the annotation against the
 * record's current entry (what they have now read), `discard` keeps it in the outbox marked
 * discarded, so even that choice stays on record.
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

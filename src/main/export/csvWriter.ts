// CSV per entity (RFC 4180: comma, CRLF, every field quoted, quotes doubled), rendered from the
// packet content. Values are written exactly (no spreadsheet-formula prefixing: these are copies of
// records); JSON values are written as RFC 8785 text. The verifier renders them again to check them.
import { canonicalJson } from '../../shared/canonicalJson';
import type { PacketContent } from './packetContent';

function field(value: unknown): string {
  const text =
    value === null || value === undefined
      ? ''
      : typeof value === 'string'
        ? value
        : typeof value === 'number' || typeof value === 'boolean'
          ? String(value)
          : canonicalJson(value);
  return `"${text.replaceAll('"', '""')}"`;
}

function table(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((row) => `${row.map(field).join(',')}\r\n`).join('');
}

export function renderCsvFiles(content: PacketContent): Map<string, string> {
  const files = new Map<string, string>();
  // Name columns come with the people a packet names (packets made before issue 19 have neither).
  const named = Array.isArray(content.people);
  if (content.people) {
    files.set(
      'csv/people.csv',
      table(
        ['user_id', 'name', 'roles', 'agent_id'],
        content.people.map((p) => [p.userId, p.name, p.roles.join(' '), p.agentId]),
      ),
    );
  }
  const staging = content.stagingRecords;
  files.set(
    'csv/staging_records.csv',
    table(
      [
        'staging_id',
        'study_code',
        'entity_kind',
        'entity_id',
        'state',
        'agent_id',
        'created_at',
        'updated_at',
        'proposed_state',
        'proposed_state_sha256',
        'live_row',
      ],
      staging.map((r) => [
        r.id,
        r.studyCode,
        r.entityKind,
        r.entityId,
        r.state,
        r.agentId,
        r.createdAt,
        r.updatedAt,
        r.proposedState,
        r.proposedStateSha256,
        r.liveRow,
      ]),
    ),
  );
  files.set(
    'csv/staging_changes.csv',
    table(
      ['staging_id', 'field', 'live_value', 'proposed_value'],
      staging.flatMap((r) => r.changes.map((c) => [r.id, c.field, c.old, c.new])),
    ),
  );
  files.set(
    'csv/staging_history.csv',
    table(
      [
        'staging_id',
        'chain_seq',
        'event_type',
        'occurred_at',
        'actor',
        'actor_name',
        'from_state',
        'to_state',
        'signature_id',
      ],
      staging.flatMap((r) =>
        r.history.map((h) => [
          r.id,
          h.seq,
          h.eventType,
          h.occurredAt,
          h.actor,
          h.actorName,
          h.fromState,
          h.toState,
          h.signatureId,
        ]),
      ),
    ),
  );
  files.set(
    'csv/signatures.csv',
    table(
      [
        'signature_id',
        'staging_id',
        'printed_name',
        'user_id',
        'intent',
        'meaning',
        'comment',
        'rejection_reason',
        'rejection_explanation',
        'signed_at_utc',
        'signed_at_local',
        're_auth_at_utc',
        'content_hash',
        'ceremony_id',
        'chain_seq',
        'signing_content',
      ],
      staging.flatMap((r) =>
        r.signatures.map((s) => [
          s.id,
          r.id,
          s.printedName,
          s.userId,
          s.intent,
          s.meaning,
          s.comment,
          s.rejection?.reason ?? null,
          s.rejection?.explanation ?? null,
          s.signedAtUtc,
          s.signedAtLocal,
          s.reAuthAtUtc,
          s.contentHash,
          s.ceremonyId,
          s.chainSeq,
          s.signingContent,
        ]),
      ),
    ),
  );
  files.set(
    'csv/provenance.csv',
    table(
      [
        'provenance_id',
        'staging_id',
        'action',
        'actor_kind',
        'actor_id',
        ...(named ? ['actor_name'] : []),
        'occurred_at',
        'model_provider',
        'model_id',
        'model_version_id',
        'model_version',
        'citations',
        'payload',
      ],
      staging.flatMap((r) =>
        r.provenance.map((p) => [
          p.id,
          r.id,
          p.action,
          p.actorKind,
          p.actorId,
          ...(named ? [p.actorName] : []),
          p.occurredAt,
          p.model.provider,
          p.model.modelId,
          p.model.versionId,
          p.model.version,
          p.citations,
          p.payload,
        ]),
      ),
    ),
  );
  const diary = content.diaryRecords;
  files.set(
    'csv/diary_records.csv',
    table(
      ['event_uuid', 'patient_id', 'site_id', 'version', 'is_deleted', 'current_data'],
      diary.map((d) => [d.eventUuid, d.patientId, d.siteId, d.version, d.isDeleted, d.currentData]),
    ),
  );
  files.set(
    'csv/diary_history.csv',
    table(
      [
        'event_uuid',
        'audit_id',
        'chain_seq',
        'operation',
        'created_by',
        ...(named ? ['created_by_name'] : []),
        'role',
        'client_timestamp',
        'server_timestamp',
        'parent_audit_id',
        'change_reason',
        'field',
        'old_value',
        'new_value',
      ],
      diary.flatMap((d) =>
        d.history.flatMap((v) =>
          (v.changes.length > 0 ? v.changes : [{ field: null, old: null, new: null }]).map((c) => [
            d.eventUuid,
            v.auditId,
            v.chainSeq,
            v.operation,
            v.createdBy,
            ...(named ? [v.createdByName] : []),
            v.role,
            v.clientTimestamp,
            v.serverTimestamp,
            v.parentAuditId,
            v.changeReason,
            c.field,
            c.old,
            c.new,
          ]),
        ),
      ),
    ),
  );
  files.set(
    'csv/annotations.csv',
    table(
      [
        'annotation_id',
        'event_uuid',
        'kind',
        'text',
        'investigator_id',
        ...(named ? ['investigator_name'] : []),
        'parent_audit_id',
        'in_reply_to',
        'requires_response',
        'resolved',
        'created_at',
        'chain_seqs',
      ],
      diary.flatMap((d) =>
        d.annotations.map((a) => [
          a.annotationId,
          d.eventUuid,
          a.kind,
          a.text,
          a.investigatorId,
          ...(named ? [a.investigatorName] : []),
          a.parentAuditId,
          a.inReplyTo,
          a.requiresResponse,
          a.resolved,
          a.createdAt,
          a.events.map((e) => e.seq).join(' '),
        ]),
      ),
    ),
  );
  // Who closed or reopened each query, when and why (0051); packets made before reasons have none.
  if (diary.some((d) => d.annotations.some((a) => a.resolutions !== undefined))) {
    files.set(
      'csv/query_resolutions.csv',
      table(
        [
          'request_id',
          'annotation_id',
          'event_uuid',
          'resolved',
          'reason_code',
          'reason_label',
          'reason_text',
          'requested_by',
          'requested_by_name',
          'requested_at',
        ],
        diary.flatMap((d) =>
          d.annotations.flatMap((a) =>
            (a.resolutions ?? []).map((r) => [
              r.requestId,
              a.annotationId,
              d.eventUuid,
              r.resolved,
              r.reasonCode,
              r.reasonLabel,
              r.reasonText,
              r.requestedBy,
              r.requestedByName,
              r.requestedAt,
            ]),
          ),
        ),
      ),
    );
  }
  return files;
}

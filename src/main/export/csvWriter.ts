// CSV per entity (RFC 4180: comma, CRLF, every field quoted, quotes doubled), rendered from the
// packet content. Values are written exactly (no spreadsheet-formula prefixing: these are copies of
// records); JSON values are written as RFC 8785 text. The verifier renders them again to check them.
import { buildFormsOf } from '../../shared/buildForms';
import { canonicalJson } from '../../shared/canonicalJson';
import { buildName, type PacketBuild } from './packetBuilds';
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

/** RFC 4180 text of a header and rows (the packet's CSV convention; also the analyst's export). */
export function table(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((row) => `${row.map(field).join(',')}\r\n`).join('');
}

export function renderCsvFiles(content: PacketContent): Map<string, string> {
  const files = new Map<string, string>();
  // Name columns come with the people a packet names (packets made before issue 19 have neither).
  const named = Array.isArray(content.people);
  // Build columns come with the builds (format 2): the id, and the build's number and version.
  const built = Array.isArray(content.builds);
  const buildsById = new Map((content.builds ?? []).map((b) => [b.id, b]));
  const buildColumns = built ? ['build_id', 'build'] : [];
  const buildCells = (id: string | null | undefined): unknown[] => {
    if (!built) return [];
    const build = id ? buildsById.get(id) : undefined;
    return [id ?? null, build ? buildName(build) : null];
  };
  if (content.builds) writeBuildFiles(files, content.builds);
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
        ...buildColumns,
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
        ...buildCells(r.buildId),
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
        ...buildColumns,
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
          ...buildCells(h.buildId),
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
        ...(built ? ['content_hash_version', ...buildColumns] : []),
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
          ...(built ? [s.contentHashVersion ?? 1, ...buildCells(s.buildId)] : []),
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
        ...buildColumns,
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
          ...buildCells(p.buildId),
        ]),
      ),
    ),
  );
  const diary = content.diaryRecords;
  files.set(
    'csv/diary_records.csv',
    table(
      [
        'event_uuid',
        'patient_id',
        'site_id',
        'version',
        'is_deleted',
        'current_data',
        ...buildColumns,
        ...(built ? ['spans_builds'] : []),
      ],
      diary.map((d) => [
        d.eventUuid,
        d.patientId,
        d.siteId,
        d.version,
        d.isDeleted,
        d.currentData,
        ...buildCells(d.buildId),
        ...(built ? [new Set(d.history.map((v) => v.buildId ?? null)).size > 1] : []),
      ]),
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
        ...buildColumns,
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
            ...buildCells(v.buildId),
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
        ...buildColumns,
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
          ...buildCells(a.buildId),
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

/**
 * builds.csv: each build with its status, timeline, who built it, its configuration (and hash),
 * error log and audit entries; build_fields.csv: each field of each build's forms with its rules;
 * build_changes.csv: what changed from each build's previous one.
 */
function writeBuildFiles(files: Map<string, string>, builds: PacketBuild[]) {
  files.set(
    'csv/builds.csv',
    table(
      [
        'build_id',
        'study_code',
        'build_number',
        'build_version',
        'build_type',
        'status',
        'completed_sequence',
        'current',
        'superseded',
        'amendment_reference',
        'description',
        'created_at',
        'started_at',
        'ended_at',
        'duration_seconds',
        'built_by',
        'built_by_name',
        'total_forms',
        'total_fields',
        'validation_rules',
        'error_count',
        'error_log',
        'configuration_sha256',
        'configuration',
        'previous_build_id',
        'chain_seqs',
      ],
      builds.map((b) => [
        b.id,
        b.studyCode,
        b.number,
        b.version,
        b.type,
        b.status,
        b.completedSequence,
        b.current,
        b.superseded,
        b.amendmentReference,
        b.description,
        b.timeline.createdAt,
        b.timeline.startedAt,
        b.timeline.endedAt,
        b.timeline.durationSeconds,
        b.builtBy,
        b.builtByName,
        b.counts.forms,
        b.counts.fields,
        b.counts.validationRules,
        b.counts.errors,
        b.errorLog,
        b.configurationSha256,
        b.configuration,
        b.previousBuildId,
        b.events.map((e) => e.seq).join(' '),
      ]),
    ),
  );
  files.set(
    'csv/build_fields.csv',
    table(
      [
        'build_id',
        'build',
        'form_code',
        'form_kind',
        'form_title',
        'field_code',
        'label',
        'type',
        'required',
        'values',
        'min',
        'max',
        'max_length',
      ],
      builds.flatMap((b) =>
        buildFormsOf(b.configuration).flatMap((form) =>
          form.fields.map((f) => [
            b.id,
            buildName(b),
            form.code,
            form.kind,
            form.title,
            f.code,
            f.label,
            f.type,
            f.required,
            f.values,
            f.min,
            f.max,
            f.maxLength,
          ]),
        ),
      ),
    ),
  );
  files.set(
    'csv/build_changes.csv',
    table(
      ['build_id', 'build', 'previous_build_id', 'form_code', 'field_code', 'change', 'details'],
      builds.flatMap((b) =>
        b.changesFromPrevious.map((c) => [
          b.id,
          buildName(b),
          b.previousBuildId,
          c.form,
          c.field,
          c.change,
          c.details.join('; '),
        ]),
      ),
    ),
  );
}

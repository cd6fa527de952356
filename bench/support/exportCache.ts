// The encrypted cache the export benchmarks read: one study (BENCH-001) of `records` staging records
// with their history (proposed, reviewing, signed; a signature and a provenance event each) and the
// study's protocol build B1 with its three transitions (4 entries per record + 4), written with the
// server's formulas; every value names build B1 and every signature is of content-hash version 2, as
// since migration 0054.
import { hash } from 'node:crypto';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { openCache } from '../../src/main/cache/openCache';
import { contentHash } from '../../src/main/signing/contentHash';
import { entryHashInput } from '../../src/main/sync/chainVerifier';
import { genesisPrevHash } from '../../src/shared/auditChain';
import { canonicalJson } from '../../src/shared/canonicalJson';

const sha = (text: string) => hash('sha256', text, 'hex');
export const uuidOf = (seed: string) => {
  const h = sha(seed);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export interface ExportCache {
  db: Database;
  path: string;
  key: Buffer;
  userId: string;
  /** Audit entries written (the chain's head seq). */
  entries: number;
}

export function writeExportCache(dir: string, records: number, log: (line: string) => void): ExportCache {
  const key = Buffer.alloc(32, 7);
  const path = join(dir, 'cache.sqlite');
  const userId = uuidOf('inspector');
  const db = openCache({
    path,
    key,
    userId,
    backendId: 'eeeeeeeeeeeeeeee',
  });
  const studyId = uuidOf('study');
  const signer = uuidOf('signer');
  const agent = 'agent:bench';
  log(`writing a cache with ${records} staging records and their history`);
  let seq = 0;
  let prev = genesisPrevHash;
  let clock = Date.UTC(2026, 0, 1);
  const appendEntry = db.prepare(
    'insert into audit_log (seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash) values (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const append = (actor: string, eventType: string, payload: unknown) => {
    seq++;
    clock += 1000;
    const occurredAt = new Date(clock).toISOString();
    const text = canonicalJson(payload);
    const payloadHash = sha(text);
    const entryHash = sha(entryHashInput(seq, occurredAt, actor, eventType, payloadHash, prev));
    appendEntry.run(seq, occurredAt, actor, eventType, text, payloadHash, prev, entryHash);
    prev = entryHash;
    return occurredAt;
  };
  const buildId = uuidOf('build B1');
  db.transaction(() => {
    append('db:postgres', 'genesis', { chain: 'countersign audit_log' });
    // The study's INITIAL build, completed before any value (as createStudy and the demo make it).
    const configuration = {
      forms: [
        {
          code: 'study_milestone',
          kind: 'entity',
          title: 'study_milestone',
          fields: ['title', 'due_date', 'status', 'notes'].map((code) => ({ code, type: 'text' })),
        },
      ],
    };
    const configurationSha256 = sha(canonicalJson(configuration));
    let buildAt = '';
    for (const [from, to] of [
      [null, 'DRAFT'],
      ['DRAFT', 'IN_PROGRESS'],
      ['IN_PROGRESS', 'COMPLETED'],
    ] as const) {
      buildAt = append(userId, 'study_build.transition', {
        build_id: buildId,
        study_id: studyId,
        build_number: 'B1',
        build_version: '1.0',
        build_type: 'INITIAL',
        from_status: from,
        to_status: to,
        completed_sequence: to === 'COMPLETED' ? 1 : null,
        configuration_sha256: configurationSha256,
        error_count: 0,
      });
    }
    db.prepare(
      `insert into study_build (id, study_id, build_number, build_version, build_status, build_type,
         completed_sequence, doc, sync_xid) values (?, ?, 'B1', '1.0', 'COMPLETED', 'INITIAL', 1, ?, '1')`,
    ).run(
      buildId,
      studyId,
      JSON.stringify({
        id: buildId,
        study_id: studyId,
        build_number: 'B1',
        build_version: '1.0',
        build_status: 'COMPLETED',
        build_description: 'Benchmark build',
        build_type: 'INITIAL',
        amendment_reference: null,
        build_start_time: buildAt,
        build_end_time: buildAt,
        build_duration_seconds: 0,
        configuration_snapshot: configuration,
        configuration_sha256: configurationSha256,
        total_visits: 0,
        total_forms: 1,
        total_fields: 4,
        validation_rules_count: 0,
        visits_built: 0,
        forms_built: 1,
        error_count: 0,
        error_log: [],
        completed_sequence: 1,
        built_by: userId,
        created_at: buildAt,
        updated_at: buildAt,
      }),
    );
    db.prepare(
      `insert into live_row (entity_kind, id, study_id, doc, sync_xid) values ('study', ?, ?, ?, '1')`,
    ).run(studyId, studyId, JSON.stringify({ id: studyId, code: 'BENCH-001', title: 'Benchmark study' }));
    db.prepare(`insert into sync_meta (name, value) values ('last_synced_at', ?)`).run(
      new Date(clock).toISOString(),
    );
    const staging = db.prepare(
      `insert into staging_record (id, entity_kind, entity_id, study_id, agent_id, model_version_id, provenance_id, state,
         proposed_state, created_at, updated_at, created_by, build_id, sync_xid)
       values (?, 'study_milestone', null, ?, ?, null, ?, 'signed', ?, ?, ?, ?, ?, '1')`,
    );
    const provenance = db.prepare(
      `insert into provenance_event (id, study_id, actor_kind, actor_id, model_provider, model_id, model_version_id, action,
         subject_kind, subject_id, retrieved_context, reviewer_user_id, signature_id, occurred_at, payload, build_id, sync_xid)
       values (?, ?, 'agent', ?, 'bench', 'model-1', null, 'propose', 'staging_record', ?, ?, null, null, ?, '{}', ?, '1')`,
    );
    const signature = db.prepare(
      `insert into signature_event (id, study_id, subject_kind, subject_id, signed_at, doc, sync_xid)
       values (?, ?, 'staging_record', ?, ?, ?, '1')`,
    );
    for (let i = 0; i < records; i++) {
      const id = uuidOf(`staging ${i}`);
      const proposed = {
        title: `Milestone ${i}`,
        due_date: `2026-${String((i % 12) + 1).padStart(2, '0')}-15`,
        status: 'planned',
        notes: `Proposed from the monitoring visit report, section ${i % 40}; the sponsor asked for this date.`,
      };
      const proposedSha = sha(canonicalJson(proposed));
      const createdAt = append(agent, 'staging.proposed', {
        staging_id: id,
        study_id: studyId,
        entity_kind: 'study_milestone',
        entity_id: null,
        agent_id: agent,
        proposed_state_sha256: proposedSha,
        build_id: buildId,
      });
      append(signer, 'staging.reviewing', {
        staging_id: id,
        study_id: studyId,
        from_state: 'proposed',
        to_state: 'reviewing',
        entity_kind: 'study_milestone',
        entity_id: null,
        signature_id: null,
        proposed_state_sha256: proposedSha,
        build_id: buildId,
      });
      const signatureId = uuidOf(`signature ${i}`);
      const hashOfContent = contentHash({
        stagingRecordId: id,
        studyId,
        entityKind: 'study_milestone',
        entityId: null,
        proposedState: proposed,
        liveRow: null,
        buildId,
      });
      const signedAt = new Date(clock + 500).toISOString();
      append(signer, 'signature.recorded', {
        signature_id: signatureId,
        user_id: signer,
        intent: 'approve',
        subject_kind: 'staging_record',
        subject_id: id,
        study_id: studyId,
        meaning_of_signature: 'I approve this change',
        content_hash: hashOfContent,
        signed_at: signedAt,
        re_auth_at: signedAt,
        ceremony_id: null,
      });
      const updatedAt = append(signer, 'staging.signed', {
        staging_id: id,
        study_id: studyId,
        from_state: 'reviewing',
        to_state: 'signed',
        entity_kind: 'study_milestone',
        entity_id: null,
        signature_id: signatureId,
        proposed_state_sha256: proposedSha,
        build_id: buildId,
      });
      const provenanceId = uuidOf(`provenance ${i}`);
      staging.run(
        id,
        studyId,
        agent,
        provenanceId,
        JSON.stringify(proposed),
        createdAt,
        updatedAt,
        agent,
        buildId,
      );
      provenance.run(
        provenanceId,
        studyId,
        agent,
        id,
        JSON.stringify([{ source: 'visit-report.pdf', chunk: i % 40 }]),
        createdAt,
        buildId,
      );
      signature.run(
        signatureId,
        studyId,
        id,
        signedAt,
        JSON.stringify({
          id: signatureId,
          user_id: signer,
          user_display_name: 'Dr. Bench Signer',
          intent: 'approve',
          subject_kind: 'staging_record',
          subject_id: id,
          meaning_of_signature: 'I approve this change',
          signed_at: signedAt,
          re_auth_at: signedAt,
          study_id: studyId,
          content_hash: hashOfContent,
          content_hash_version: 2,
          ceremony_id: null,
        }),
      );
    }
  })();
  return { db, path, key, userId, entries: seq };
}

/**
 * Lengthens the cache's chain to `total` entries with entries about other records (diary notes, four
 * per diary event), as a long-lived study's chain is mostly about records outside a given packet:
 * export.record's chain of 1,000,000 entries (issue 24). Written with the server's formulas; the
 * payload is built canonical by hand (keys in order) to write a million quickly.
 */
export function lengthenChain(cache: ExportCache, total: number, log: (line: string) => void): void {
  const { db } = cache;
  const last = db.prepare('select seq, entry_hash from audit_log order by seq desc limit 1').get() as {
    seq: number;
    entry_hash: string;
  };
  if (last.seq >= total) return;
  log(`lengthening the chain from ${last.seq} to ${total} entries`);
  const insert = db.prepare(
    'insert into audit_log (seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash) values (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  let prev = last.entry_hash;
  const clock = Date.UTC(2026, 3, 1);
  const actor = uuidOf('investigator');
  const batch = 50_000;
  for (let from = last.seq + 1; from <= total; from += batch) {
    db.transaction(() => {
      for (let seq = from; seq < Math.min(total + 1, from + batch); seq++) {
        const occurredAt = new Date(clock + seq * 1000).toISOString();
        const payload = `{"audit_id":${seq},"event_uuid":"${uuidOf(`diary ${Math.floor(seq / 4)}`)}","note_sha256":"${sha(String(seq))}"}`;
        const payloadHash = sha(payload);
        const entryHash = sha(entryHashInput(seq, occurredAt, actor, 'diary.note', payloadHash, prev));
        insert.run(seq, occurredAt, actor, 'diary.note', payload, payloadHash, prev, entryHash);
        prev = entryHash;
      }
    })();
  }
  cache.entries = total;
}

// Per table of the access matrix: how to name a row (`key`, an SQL expression giving text), which
// fixture row is in the acting role's scope and which is out of it, the two rows an INSERT tries (in
// scope and out of scope), and the change an UPDATE tries. Every insert candidate is a row the
// database owner could insert (the probes check that whenever a role is refused), so a refusal is
// the access rules at work, never a broken fixture.
import { randomUUID } from 'node:crypto';
import type { MatrixRole, Pair, Person, World } from './accessWorld';
import { cosignatureRow } from './cosignatureRows';

export interface Actor {
  role: MatrixRole;
  /** The acting person (null for anon). */
  self: Person | null;
}

export type Row = Record<string, unknown>;

export interface TableProbe {
  /** SQL expression naming one row of the table as text. */
  key: string;
  /** Keys of the fixture rows in and out of the actor's scope. */
  rows(world: World, actor: Actor): Pair;
  /** Two rows to insert: one in the actor's scope, one out of it. */
  candidates(world: World, actor: Actor): Pair<Row>;
  /** SET clause of the UPDATE that is tried. */
  update: string;
  /** false where not even the database owner may insert (rows written only by triggers). */
  ownerCanInsert?: boolean;
  /** A view no one can write (not updatable, no INSTEAD trigger): the rewriter's refusal counts as denied. */
  readOnlyView?: boolean;
}

const hash = (c: string) => c.repeat(64);
const now = () => new Date().toISOString();

/** For the tables about people: the actor's own row, and another person's (anon: the signer's). */
function ownPerson(world: World, actor: Actor): Person {
  return actor.self ?? world.people.signer;
}
function otherPerson(world: World, actor: Actor): Person {
  return actor.role === 'anon' || actor.role === 'admin'
    ? world.counterparts.signer
    : world.counterparts[actor.role];
}
/** A valid auth.users id to put in created_by and similar columns. */
function actorId(world: World, actor: Actor): string {
  return actor.self?.id ?? world.spareUserId;
}
const studies = (world: World) => ({ in: world.studyA, out: world.studyB });
const both = <T>(make: (scope: 'in' | 'out') => T): Pair<T> => ({ in: make('in'), out: make('out') });

function liveTable(
  pick: (world: World) => Pair,
  row: (study: string, createdBy: string) => Row,
  update: string,
) {
  return {
    key: 'id::text',
    rows: (world: World) => pick(world),
    candidates: (world: World, actor: Actor) => both((s) => row(studies(world)[s], actorId(world, actor))),
    update,
  } satisfies TableProbe;
}

export const tableProbes: Record<string, TableProbe> = {
  'auth.users': {
    key: 'id::text',
    rows: (w, a) => ({ in: ownPerson(w, a).id, out: otherPerson(w, a).id }),
    candidates: () => both((s) => ({ email: `candidate-${s}@example.test` })),
    update: "email = 'changed@example.test'",
  },
  'cro.user_profile': {
    key: 'user_id::text',
    rows: (w, a) => ({ in: ownPerson(w, a).id, out: otherPerson(w, a).id }),
    candidates: (w) => both((s) => ({ user_id: w.spareUserId, printed_name: `Candidate ${s}` })),
    update: "printed_name = 'Changed Name'",
  },
  'cro.role_assignment': {
    key: 'id::text',
    rows: (w, a) => ({ in: ownPerson(w, a).assignmentId, out: otherPerson(w, a).assignmentId }),
    // Granting oneself admin (in scope: one's own assignments), or someone else (out of scope).
    candidates: (w, a) => ({
      in: { user_id: actorId(w, a), role: a.role === 'admin' ? 'inspector' : 'admin', study_id: null },
      out: { user_id: otherPerson(w, a).id, role: 'admin', study_id: null },
    }),
    update: "role = 'admin'",
  },
  'cro.study': {
    key: 'id::text',
    rows: (w) => studies(w),
    candidates: (w, a) =>
      both((s) => ({
        code: `CANDIDATE-${s}`,
        sponsor: s === 'in' ? 'S1' : 'S2',
        phase: 'II',
        therapeutic_area: 'Oncology',
        indication: 'NSCLC',
        status: 'planned',
        health: 'green',
        executive_summary: 'candidate',
        goals: '[]',
        start_date: '2026-01-01',
        planned_end_date: '2028-01-01',
        current_forecast_end_date: '2028-01-01',
        contracted_budget: 1,
        ebv_spent: 0,
        eac_budget: 1,
        currency: 'EUR',
        created_by: actorId(w, a),
      })),
    update: "status = 'closed'",
  },
  'cro.study_kpi': liveTable(
    (w) => w.rows.kpi,
    (study, createdBy) => ({ study_id: study, label: 'Candidate', position: 9, created_by: createdBy }),
    "value = 'changed'",
  ),
  'cro.study_milestone': liveTable(
    (w) => w.rows.milestone,
    (study, createdBy) => ({ study_id: study, name: 'Candidate', created_by: createdBy }),
    "status = 'changed'",
  ),
  'cro.study_risk': liveTable(
    (w) => w.rows.risk,
    (study, createdBy) => ({ study_id: study, title: 'Candidate', created_by: createdBy }),
    "status = 'closed'",
  ),
  'cro.study_resource': liveTable(
    (w) => w.rows.resource,
    (study, createdBy) => ({ study_id: study, role: 'Candidate', headcount: 1, created_by: createdBy }),
    'headcount = 99',
  ),
  'cro.live_essential_document': liveTable(
    (w) => w.rows.document,
    (study, createdBy) => ({
      study_id: study,
      document_type: 'candidate',
      document_title: 'Candidate',
      storage_uri: 's3://documents/candidate.pdf',
      metadata: '{}',
      created_by: createdBy,
    }),
    "document_title = 'changed'",
  ),
  'cro.staging_record': {
    key: 'id::text',
    rows: (w) => w.rows.staging,
    candidates: (w, a) =>
      both((s) => ({
        entity_kind: 'study_kpi',
        study_id: studies(w)[s],
        // The in-scope agent's own agent id (a proposal names its own agent, 0046).
        agent_id: 'agent-A',
        state: 'proposed',
        proposed_state: JSON.stringify({ label: 'Candidate', position: 3 }),
        created_by: actorId(w, a),
      })),
    update: "state = 'reviewing'",
  },
  'cro.provenance_event': {
    key: 'id::text',
    rows: (w) => w.rows.provenance,
    candidates: (w, a) =>
      both((s) => ({
        study_id: studies(w)[s],
        actor_kind: 'agent',
        actor_id: actorId(w, a),
        action: 'propose',
        subject_kind: 'study_kpi',
        subject_id: 'candidate',
        retrieved_context: '[]',
        payload: '{}',
      })),
    update: "action = 'forged'",
  },
  'cro.signature_event': {
    key: 'id::text',
    rows: (w) => w.rows.signature,
    candidates: (w, a) =>
      both((s) => ({
        user_id: actorId(w, a),
        user_display_name: 'Candidate',
        intent: 'approve',
        subject_kind: 'staging_record',
        subject_id: w.rows.staging[s],
        re_auth_at: now(),
        meaning_of_signature: 'I approve this change',
        signed_at: now(),
        created_by: actorId(w, a),
        study_id: studies(w)[s],
        content_hash: hash('a'),
      })),
    update: "meaning_of_signature = 'forged'",
  },
  'cro.model_registry_version': {
    key: 'id::text',
    rows: (w) => w.rows.modelVersion,
    candidates: (w, a) =>
      both((s) => ({
        provider: 'candidate',
        model_id: `model-${s}`,
        prompt_hash: 'h',
        prompt_version: '1',
        notes: 'candidate',
        created_by: actorId(w, a),
      })),
    update: 'retired_at = now()',
  },
  'cro.validation_evidence_run': {
    key: 'id::text',
    rows: (w) => w.rows.validationRun,
    candidates: (w, a) =>
      both((s) => ({
        commit_sha: `candidate-${s}`,
        evidence_paths: '[]',
        manifest_sha256: '0'.repeat(64),
        created_by: actorId(w, a),
      })),
    update: 'signed_at = now()',
  },
  'cro.app_log': {
    key: 'id::text',
    rows: (w) => w.rows.appLog,
    candidates: () => both((s) => ({ level: 'info', component: 'candidate', message: s, payload: '{}' })),
    update: "message = 'changed'",
  },
  'cro.vector_document': {
    key: 'id::text',
    rows: (w) => w.rows.vectorDocument,
    candidates: () =>
      both((s) => ({
        source_kind: 'sop',
        source_uri: `sop://candidate-${s}`,
        chunk_index: 0,
        content: 'candidate',
        embedding: '[]',
        metadata: '{}',
      })),
    update: "content = 'changed'",
  },
  'cro.sponsor_request': {
    key: 'id::text',
    rows: (w) => w.rows.sponsorRequest,
    candidates: (w, a) =>
      both((s) => ({
        sponsor_id: s === 'in' ? 'S1' : 'S2',
        study_id: studies(w)[s],
        subject: 'Candidate',
        body: 'candidate',
        priority: 'normal',
        status: 'open',
        created_by: actorId(w, a),
      })),
    update: "status = 'closed'",
  },
  'diary.sites': {
    key: 'site_id',
    rows: () => ({ in: 'A1', out: 'B1' }),
    candidates: (w) =>
      both((s) => ({
        site_id: s === 'in' ? 'A2' : 'B2',
        site_name: 'Candidate',
        site_number: s === 'in' ? '102' : '202',
        study_id: studies(w)[s],
      })),
    update: "site_name = 'Changed'",
  },
  'diary.user_site_assignments': {
    key: 'patient_id::text',
    rows: (w) => ({ in: w.people.patient.id, out: w.counterparts.patient.id }),
    candidates: (w) =>
      both((s) => ({
        patient_id: w.spareUserId,
        site_id: s === 'in' ? 'A1' : 'B1',
        subject_code: `CANDIDATE-${s}`,
      })),
    update: "subject_code = subject_code || '-x'",
  },
  'diary.investigator_site_assignments': {
    key: "investigator_id::text || '/' || site_id",
    rows: (w) => ({ in: `${w.people.investigator.id}/A1`, out: `${w.counterparts.investigator.id}/B1` }),
    candidates: (w) =>
      both((s) => ({
        investigator_id: w.spareUserId,
        site_id: s === 'in' ? 'A1' : 'B1',
        access_level: 'full',
      })),
    update: "access_level = 'read'",
  },
  'diary.analyst_site_assignments': {
    key: "analyst_id::text || '/' || site_id",
    rows: (w) => ({ in: `${w.people.analyst.id}/A1`, out: `${w.counterparts.analyst.id}/B1` }),
    candidates: (w) => both((s) => ({ analyst_id: w.spareUserId, site_id: s === 'in' ? 'A1' : 'B1' })),
    update: "access_level = 'deidentified'",
  },
  'diary.record_audit': {
    key: 'audit_id::text',
    rows: (w) => ({ in: w.records.in.auditId, out: w.records.out.auditId }),
    // An admin tries a correction of an existing record, an investigator a paper transcription
    // (both only through their functions since 0059, never by a direct insert); everyone else a new
    // entry for P1 (in) or for the B1 patient (out). created_by and role are overwritten by the
    // trigger for a signed-in caller.
    candidates: (w, a) =>
      both((s) => {
        const patient = s === 'in' ? w.people.patient : w.counterparts.patient;
        const site = s === 'in' ? 'A1' : 'B1';
        const correction = a.role === 'admin';
        const transcription = a.role === 'investigator';
        return {
          event_uuid: correction ? w.records[s].eventUuid : randomUUID(),
          patient_id: patient.id,
          site_id: site,
          operation: correction
            ? 'ADMIN_CORRECTION'
            : transcription
              ? 'INVESTIGATOR_TRANSCRIPTION'
              : 'USER_CREATE',
          data: JSON.stringify({ event_type: 'nausea', date: '2026-03-03', intensity: 'mild' }),
          created_by: patient.id,
          role: correction ? 'ADMIN' : transcription ? 'INVESTIGATOR' : 'USER',
          client_timestamp: now(),
          parent_audit_id: correction ? w.records[s].auditId : null,
          change_reason: correction ? 'transcription error' : transcription ? 'paper diary' : 'new entry',
          ...(transcription
            ? { source_reference: JSON.stringify({ page_id: `PAGE-${s}`, entry_date: '2026-03-03' }) }
            : {}),
        };
      }),
    update: "change_reason = 'forged'",
  },
  'diary.record_state': {
    key: 'event_uuid::text',
    rows: (w) => ({ in: w.records.in.eventUuid, out: w.records.out.eventUuid }),
    candidates: (w) =>
      both((s) => ({
        event_uuid: randomUUID(),
        patient_id: (s === 'in' ? w.people.patient : w.counterparts.patient).id,
        site_id: s === 'in' ? 'A1' : 'B1',
        current_data: '{}',
        version: 1,
        last_audit_id: w.records[s].auditId,
      })),
    update: 'is_deleted = true',
    ownerCanInsert: false,
  },
  'diary.investigator_annotations': {
    key: 'annotation_id::text',
    rows: (w) => w.rows.annotation,
    candidates: (w, a) =>
      both((s) => ({
        event_uuid: w.records[s].eventUuid,
        parent_audit_id: w.records[s].auditId,
        patient_id: (s === 'in' ? w.people.patient : w.counterparts.patient).id,
        investigator_id: actorId(w, a),
        site_id: s === 'in' ? 'A1' : 'B1',
        annotation_kind: 'note',
        annotation_text: 'Candidate note',
      })),
    update: 'resolved = not resolved',
  },
  'diary.annotation_resolutions': {
    key: 'request_id::text',
    rows: (w) => w.rows.resolution,
    // The fixture annotations are open: each candidate closes one.
    candidates: (w, a) =>
      both((s) => ({
        request_id: randomUUID(),
        annotation_id: w.rows.annotation[s],
        event_uuid: w.records[s].eventUuid,
        site_id: s === 'in' ? 'A1' : 'B1',
        resolved: true,
        requested_by: actorId(w, a),
        reason_code: 'answered',
      })),
    update: 'resolved = not resolved',
  },
  'diary.audit_conflicts': {
    key: 'conflict_id::text',
    rows: (w) => w.rows.conflict,
    candidates: (w, a) =>
      both((s) => ({
        event_uuid: w.records[s].eventUuid,
        patient_id: (s === 'in' ? w.people.patient : w.counterparts.patient).id,
        site_id: s === 'in' ? 'A1' : 'B1',
        current_audit_id: w.records[s].auditId,
        submitted_data: '{}',
        submitted_by: actorId(w, a),
      })),
    update: "resolution = 'keep_mine', resolved_at = now()",
  },
  'diary.event_request': {
    key: 'client_request_id::text',
    // A request is its submitter's: the patient's and the investigator's own against their
    // counterparts' at B1; every other role is shown the patients' (none of theirs).
    rows: (w, a) =>
      a.role === 'investigator' ? w.rows.eventRequest.investigator : w.rows.eventRequest.patient,
    candidates: (w, a) =>
      both((s) => ({
        client_request_id: randomUUID(),
        event_uuid: w.records[s].eventUuid,
        audit_id: w.records[s].auditId,
        submitted_by: actorId(w, a),
      })),
    update: 'audit_id = audit_id + 1',
  },
  'diary.correction_review': {
    key: 'review_id::text',
    rows: (w) => w.rows.correctionReview,
    candidates: (w, a) =>
      both((s) => ({
        audit_id: w.records[s].auditId,
        event_uuid: w.records[s].eventUuid,
        patient_id: (s === 'in' ? w.people.patient : w.counterparts.patient).id,
        site_id: s === 'in' ? 'A1' : 'B1',
        corrected_by: actorId(w, a),
        corrected_at: now(),
        justification: 'Candidate correction',
        changed_fields: '{intensity}',
      })),
    update: "status = 'acknowledged', decided_at = now()",
  },
  'cs_private.analyst_diary_scope': {
    key: 'event_uuid::text',
    rows: (w) => ({ in: w.records.in.eventUuid, out: w.records.out.eventUuid }),
    candidates: () =>
      both((s) => ({
        event_uuid: randomUUID(),
        subject_code: `CANDIDATE-${s}`,
        site_id: s === 'in' ? 'A1' : 'B1',
      })),
    update: "subject_code = 'changed'",
    ownerCanInsert: false,
    readOnlyView: true,
  },
  'diary.deidentified_entry': {
    key: 'entry_id::text',
    rows: (w) => ({ in: w.records.in.eventUuid, out: w.records.out.eventUuid }),
    candidates: () =>
      both((s) => ({
        entry_id: randomUUID(),
        subject_code: `CANDIDATE-${s}`,
        site_id: s === 'in' ? 'A1' : 'B1',
      })),
    update: "subject_code = 'changed'",
    ownerCanInsert: false,
    readOnlyView: true,
  },
  'audit.audit_log': {
    key: 'seq::text',
    rows: (w) => w.rows.auditSeq,
    // The chain trigger computes seq, time, actor and hashes; these placeholders are replaced.
    candidates: () =>
      both((s) => ({
        seq: 0,
        occurred_at: now(),
        actor: '',
        event_type: `candidate.${s}`,
        payload: '{}',
        payload_hash: '',
        prev_hash: '',
        entry_hash: '',
      })),
    update: "event_type = 'forged'",
  },
  'cro.signature_meaning': {
    key: "intent::text || ':' || meaning",
    rows: (w) => w.rows.signatureMeaning,
    candidates: () => both((s) => ({ intent: 'approve', meaning: `candidate meaning ${s}`, position: 9 })),
    update: 'position = position + 1',
  },
  'cro.rejection_reason': {
    key: 'reason',
    rows: () => ({ in: 'Not supported by the cited sources', out: 'Duplicate of another proposal' }),
    candidates: () => both((s) => ({ reason: `candidate reason ${s}`, position: 9 })),
    update: 'position = position + 1',
  },
  'audit.security_alert': {
    key: 'id::text',
    rows: (w) => w.rows.securityAlert,
    candidates: (w) => both(() => ({ kind: 'candidate', user_id: w.spareUserId })),
    update: "kind = 'forged'",
  },
  'audit.checkpoint_cosignature': {
    key: 'id::text',
    rows: (w) => w.rows.checkpointCosignature,
    // In scope: a cosignature as the actor; out of scope: as someone else.
    candidates: (w, actor) => ({
      in: cosignatureRow(actorId(w, actor)),
      out: cosignatureRow(otherPerson(w, actor).id),
    }),
    update: 'tree_size = tree_size + 1',
  },
  'cs_private.reauth_attempt': {
    key: 'id::text',
    rows: (w) => w.rows.reauthAttempt,
    candidates: (w) => both(() => ({ user_id: w.spareUserId, ceremony_id: randomUUID() })),
    update: "outcome = 'verified'",
  },
  'cs_private.signing_lock': {
    key: 'id::text',
    rows: (w) => w.rows.signingLock,
    candidates: (w) => both(() => ({ user_id: w.spareUserId, failed_attempts: 5 })),
    update: 'unlocked_at = now()',
  },
  'cs_private.signing_ceremony': {
    key: 'id::text',
    rows: (w) => w.rows.signingCeremony,
    candidates: (w) =>
      both((s) => ({
        id: randomUUID(),
        user_id: w.spareUserId,
        nonce: `candidate-nonce-${s}-${randomUUID()}`,
        request_sha256: hash('a'),
        result: '{}',
        signed_at: now(),
      })),
    update: "result = '{}'",
  },
  'cs_private.sign_in_failure': {
    key: 'id::text',
    rows: (w) => w.rows.signInFailure,
    candidates: (w) => both(() => ({ user_id: w.spareUserId, failed_at: now(), source: 'server_log' })),
    update: 'failed_at = now()',
  },
  'cs_private.sign_in_lock': {
    key: 'id::text',
    rows: (w) => w.rows.signInLock,
    candidates: (w) => both(() => ({ user_id: w.spareUserId, reason: 'failed_sign_ins' })),
    update: 'unlocked_at = null',
  },
  'cs_private.password_change_demand': {
    key: 'id::text',
    rows: (w) => w.rows.passwordChangeDemand,
    candidates: (w, a) =>
      both(() => ({ user_id: w.spareUserId, demanded_by: actorId(w, a), reason: 'candidate' })),
    update: 'met_at = null',
  },
  'cs_private.deactivation': {
    key: 'id::text',
    rows: (w) => w.rows.deactivation,
    candidates: (w, a) =>
      both(() => ({ user_id: w.spareUserId, deactivated_by: actorId(w, a), reason: 'candidate' })),
    update: 'reactivated_at = null',
  },
  'cs_private.role_change_request': {
    key: 'id::text',
    rows: (w) => w.rows.roleChangeRequest,
    candidates: (w, a) =>
      both(() => ({
        user_id: w.spareUserId,
        change: 'grant',
        role: 'admin',
        reason: 'candidate',
        requested_by: actorId(w, a),
      })),
    update: "status = 'approved'",
  },
  'cs_private.security_setting': {
    key: 'name',
    rows: (w) => w.rows.securitySetting,
    // One row per known setting, and every known one exists: not even the owner inserts another.
    candidates: () =>
      both((s) => ({ name: s === 'in' ? 'sign_in_lock_threshold' : 'sign_in_guard_seen_at', value: '1' })),
    update: "value = '3'",
    ownerCanInsert: false,
  },
  'cs_private.sync_stream': {
    key: 'name',
    // The registry of sync streams (0061): migrations write it, everyone signed in reads it whole.
    rows: () => ({ in: 'staging_record', out: 'audit_log' }),
    candidates: () =>
      both((s) => ({
        name: `candidate_${s}`,
        server_table: 'cro.study',
        cursor_kind: 'xid',
        key_column: 'id',
        key_type: 'uuid',
        deletions: false,
        select_list: 't.id',
      })),
    update: 'deletions = not deletions',
  },
  'cs_private.login_role': {
    key: 'role_name::text',
    rows: (w, a) => ({ in: ownPerson(w, a).email, out: otherPerson(w, a).email }),
    candidates: (w) => both((s) => ({ role_name: `candidate-${s}`, user_id: w.spareUserId })),
    update: 'user_id = user_id',
  },
  'cs_private.recovery_code': {
    key: 'id::text',
    rows: (w) => w.rows.recoveryCode,
    candidates: (w) => both(() => ({ user_id: w.spareUserId, code_hash: '$2a$08$candidate' })),
    update: "code_hash = '$2a$08$changed'",
  },
  'cs_private.totp_factor': {
    key: 'user_id::text',
    rows: (w, a) => ({ in: ownPerson(w, a).id, out: otherPerson(w, a).id }),
    candidates: (w) => both(() => ({ user_id: w.spareUserId, secret_base32: 'KRSXG5CTMVRXEZLU' })),
    update: "secret_base32 = 'KRSXG5CTMVRXEZLU'",
  },
  'cro.study_database_build': {
    key: 'id::text',
    rows: (w) => w.rows.build,
    // A person's insert may not name its author (the server sets built_by from auth.uid()); the owner,
    // acting for nobody (anon's candidate), must.
    candidates: (w, a) =>
      both((s) => ({
        study_id: studies(w)[s],
        build_number: `B9-${s}`,
        build_version: '9.0',
        build_type: 'AMENDMENT',
        amendment_reference: 'Amendment 9',
        build_description: 'Candidate build',
        ...(a.self ? {} : { built_by: w.spareUserId }),
      })),
    update: "build_description = 'changed'",
  },
  'cro.build_form': {
    key: "build_id::text || '/' || form_code",
    rows: (w) => w.rows.buildForm,
    // Written only by a build's completion: not even the owner inserts one directly.
    candidates: (w) =>
      both((s) => ({
        build_id: w.initialBuild[s],
        form_code: 'candidate_form',
        form_kind: 'diary',
        title: 'Candidate',
        ordinal: 9,
        field_codes: '{note}',
      })),
    update: "title = 'changed'",
    ownerCanInsert: false,
  },
  'cro.build_form_field': {
    key: "build_id::text || '/' || form_code || '/' || field_code",
    rows: (w) => w.rows.buildFormField,
    candidates: (w) =>
      both((s) => ({
        build_id: w.initialBuild[s],
        form_code: 'diary_entry',
        field_code: 'candidate_field',
        ordinal: 99,
        label: 'Candidate',
        data_type: 'text',
        required: false,
      })),
    update: 'max_length = 1',
    ownerCanInsert: false,
  },
  'countersign_meta.schema_migrations': {
    key: 'name',
    rows: (w) => w.rows.migration,
    candidates: () => both((s) => ({ name: `9999_candidate_${s}.sql`, checksum: hash('c') })),
    update: 'applied_at = now()',
  },
};

// The world the access tests run in, built once per test database by the operator: studies A and B,
// diary sites A1 (study A) and B1 (study B), sponsor organisations S1 and S2, one person per
// application role scoped to A (admin: global) plus a counterpart scoped to B, a second patient at
// A1, and one row in scope A and one in scope B in every table. Roles connect as themselves; `anon`
// connects as a LOGIN role that is a member of `anon` only.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { type AppRole, appRoles } from '../../../src/shared/domain';
import { cosignatureRow } from './cosignatureRows';
import type { TestDatabase } from './testServer';

export const matrixRoles = ['anon', ...appRoles] as const;
export type MatrixRole = (typeof matrixRoles)[number];

/** Roles that have an out-of-scope counterpart (everyone but admin, who is global). */
export type ScopedRole = Exclude<AppRole, 'admin'>;

export interface Person {
  id: string;
  email: string;
  role: AppRole;
  /** The person's cro.role_assignment row. */
  assignmentId: string;
}

/** A fixture row in scope A (`in`) and its counterpart in scope B (`out`). */
export interface Pair<T = string> {
  in: T;
  out: T;
}

export interface DiaryRecord {
  eventUuid: string;
  auditId: string;
}

export interface World {
  db: TestDatabase;
  studyA: string;
  studyB: string;
  /** Each study's completed INITIAL build (migration 0054): its current build. */
  initialBuild: Pair;
  /** The person of each role in scope A (admin: global). */
  people: Record<AppRole, Person>;
  /** The person of each scoped role in scope B (sponsor S2, study B, site B1). */
  counterparts: Record<ScopedRole, Person>;
  /** A second patient enrolled at site A1. */
  patient2: Person;
  /** An auth.users row with no login, role or enrolment: the subject of insert candidates. */
  spareUserId: string;
  /** diary records: P1 at A1 (`in`), the B1 patient (`out`), and the second A1 patient's. */
  records: Pair<DiaryRecord> & { patient2: DiaryRecord };
  /** Primary keys of the fixture rows, per table. */
  rows: {
    kpi: Pair;
    milestone: Pair;
    risk: Pair;
    resource: Pair;
    document: Pair;
    provenance: Pair;
    staging: Pair;
    signature: Pair;
    modelVersion: Pair;
    validationRun: Pair;
    appLog: Pair;
    vectorDocument: Pair;
    sponsorRequest: Pair;
    annotation: Pair;
    /** A close request of each annotation (each was then reopened: the annotations are open). */
    resolution: Pair;
    /** Conflicts of P1's and of the B1 patient's records, each submitted by that patient. */
    conflict: Pair;
    /** Requests written through public.submit_diary_events (0059): the patients' and the investigators'. */
    eventRequest: { patient: Pair; investigator: Pair };
    /** A pending admin correction at A1 and one at B1 (0059). */
    correctionReview: Pair;
    auditSeq: Pair;
    migration: Pair;
    signatureMeaning: Pair;
    securityAlert: Pair;
    /** A checkpoint cosignature by the inspector of A and one by the admin (0062). */
    checkpointCosignature: Pair;
    reauthAttempt: Pair;
    signingLock: Pair;
    signingCeremony: Pair;
    signInFailure: Pair;
    signInLock: Pair;
    /** A recovery code hash of each signer (0055). */
    recoveryCode: Pair;
    /** A met demand to change the password, of each signer (0058). */
    passwordChangeDemand: Pair;
    /** Ended deactivations and decided role-change requests of each signer (0057). */
    deactivation: Pair;
    roleChangeRequest: Pair;
    securitySetting: Pair;
    /** A DRAFT build of each study (an amendment in preparation), which an admin may still change. */
    build: Pair;
    /** The diary form of each study's INITIAL build, and its notes field. */
    buildForm: Pair;
    buildFormField: Pair;
  };
  /** One reused connection per role of the matrix (the A-scoped person; anon: the anon login). */
  clients: Record<MatrixRole, pg.Client>;
  /** Connects as any person of the world (a new connection). */
  connect(person: Person): Promise<pg.Client>;
  /** Ends the anon connection and drops the anon login role. */
  teardown(): Promise<void>;
}

export const worldPassword = 'correct horse battery staple';
const totpSecret = 'JBSWY3DPEHPK3PXP';

/** Runs `work` in an operator transaction, as `sub` (auth.uid() honours claims for the owner). */
export async function operatorTransaction<T>(
  operator: pg.ClientBase,
  options: { sub?: string | null; bootstrap?: boolean },
  work: () => Promise<T>,
  commit = true,
): Promise<T> {
  await operator.query('begin');
  try {
    if (options.bootstrap) await operator.query("set local countersign.bootstrap = 'on'");
    if (options.sub) {
      await operator.query("select set_config('request.jwt.claims', $1, true)", [
        JSON.stringify({ sub: options.sub }),
      ]);
    }
    const result = await work();
    await operator.query(commit ? 'commit' : 'rollback');
    return result;
  } catch (error) {
    await operator.query('rollback');
    throw error;
  }
}

async function insertReturning(
  client: pg.ClientBase,
  table: string,
  values: Record<string, unknown>,
  returning = 'id',
): Promise<string> {
  const columns = Object.keys(values);
  const { rows } = await client.query<{ key: string }>(
    `insert into ${table} (${columns.join(', ')}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')}) ` +
      `returning ${returning}::text as key`,
    Object.values(values),
  );
  return rows[0]?.key as string;
}

function studyRow(code: string, sponsor: string, createdBy: string) {
  return {
    code,
    sponsor,
    phase: 'III',
    therapeutic_area: 'Cardiology',
    indication: 'Heart failure',
    status: 'enrolling',
    health: 'green',
    executive_summary: `Study ${code}`,
    goals: '[]',
    start_date: '2025-01-01',
    planned_end_date: '2027-01-01',
    current_forecast_end_date: '2027-03-01',
    contracted_budget: 1000000,
    ebv_spent: 250000,
    eac_budget: 1100000,
    currency: 'EUR',
    created_by: createdBy,
  };
}

export async function buildWorld(db: TestDatabase): Promise<World> {
  const op = db.operator;
  const provision = async (
    short: string,
    role: AppRole,
    studyId: string | null,
    sponsorId?: string,
    agentId?: string,
  ) => {
    const email = db.email(short);
    const id = await db.provision({
      email,
      printedName: `${short} person`,
      password: worldPassword,
      roles: [{ role, studyId }],
      sponsorId: sponsorId ?? null,
      agentId: agentId ?? null,
      totpSecretBase32: totpSecret,
    });
    const { rows } = await op.query<{ id: string }>('select id from cro.role_assignment where user_id = $1', [
      id,
    ]);
    return { id, email, role, assignmentId: rows[0]?.id as string } satisfies Person;
  };

  const admin = await provision('admin', 'admin', null);
  const [studyA, studyB] = await operatorTransaction(op, { bootstrap: true }, async () => [
    await insertReturning(op, 'cro.study', studyRow('STUDY-A', 'S1', admin.id)),
    await insertReturning(op, 'cro.study', studyRow('STUDY-B', 'S2', admin.id)),
  ]);
  // A study accepts data only under a completed build (0054): each gets the standard INITIAL one,
  // and a DRAFT amendment the admin is still preparing (the matrix's build rows).
  const completeInitialBuild = async (study: string) => {
    const { rows } = await op.query<{ id: string }>(
      `select cs_private.complete_initial_build($1, $2, 'World INITIAL build') as id`,
      [study, admin.id],
    );
    return rows[0]?.id as string;
  };
  const initialBuild = {
    in: await completeInitialBuild(studyA as string),
    out: await completeInitialBuild(studyB as string),
  };
  const draftBuild = (study: string, s: 'A' | 'B') =>
    operatorTransaction(op, { sub: admin.id }, () =>
      insertReturning(op, 'cro.study_database_build', {
        study_id: study,
        build_number: 'B2',
        build_version: '2.0',
        build_type: 'AMENDMENT',
        amendment_reference: `Amendment 1 (${s})`,
        build_description: `Draft amendment of study ${s}`,
      }),
    );
  const build = { in: await draftBuild(studyA as string, 'A'), out: await draftBuild(studyB as string, 'B') };
  const pair = async (make: (study: string, scope: 'A' | 'B') => Promise<string>): Promise<Pair> => ({
    in: await make(studyA as string, 'A'),
    out: await make(studyB as string, 'B'),
  });

  const scoped: ScopedRole[] = [
    'sponsor',
    'monitor',
    'coordinator',
    'signer',
    'inspector',
    'agent',
    'patient',
    'investigator',
    'analyst',
  ];
  const people = { admin } as Record<AppRole, Person>;
  const counterparts = {} as Record<ScopedRole, Person>;
  for (const role of scoped) {
    people[role] = await provision(
      role,
      role,
      studyA as string,
      role === 'sponsor' ? 'S1' : undefined,
      role === 'agent' ? 'agent-A' : undefined,
    );
    counterparts[role] = await provision(
      `${role}-b`,
      role,
      studyB as string,
      role === 'sponsor' ? 'S2' : undefined,
      role === 'agent' ? 'agent-B' : undefined,
    );
  }
  const patient2 = await provision('patient-2', 'patient', studyA as string);
  const spareUserId = await insertReturning(op, 'auth.users', { email: db.email('spare') });

  // Diary: sites, enrolments, assignments.
  await op.query(
    `insert into diary.sites (site_id, site_name, site_number, study_id)
     values ('A1', 'Site A1', '101', $1), ('B1', 'Site B1', '201', $2)`,
    [studyA, studyB],
  );
  await op.query(
    `insert into diary.user_site_assignments (patient_id, site_id, subject_code)
     values ($1, 'A1', 'A1-001'), ($2, 'A1', 'A1-002'), ($3, 'B1', 'B1-001')`,
    [people.patient.id, patient2.id, counterparts.patient.id],
  );
  await op.query(
    `insert into diary.investigator_site_assignments (investigator_id, site_id, access_level)
     values ($1, 'A1', 'full'), ($2, 'B1', 'full')`,
    [people.investigator.id, counterparts.investigator.id],
  );
  await op.query(
    `insert into diary.analyst_site_assignments (analyst_id, site_id) values ($1, 'A1'), ($2, 'B1')`,
    [people.analyst.id, counterparts.analyst.id],
  );

  // Diary records, created by their patients (auth.uid() from claims on the operator connection).
  const createRecord = (patient: Person, site: string) =>
    operatorTransaction(op, { sub: patient.id }, async () => {
      const eventUuid = randomUUID();
      const auditId = await insertReturning(
        op,
        'diary.record_audit',
        {
          event_uuid: eventUuid,
          patient_id: patient.id,
          site_id: site,
          operation: 'USER_CREATE',
          data: JSON.stringify({ event_type: 'headache', date: '2026-03-02', intensity: 'moderate' }),
          client_timestamp: new Date().toISOString(),
          change_reason: 'initial entry',
        },
        'audit_id',
      );
      return { eventUuid, auditId } satisfies DiaryRecord;
    });
  const records = {
    in: await createRecord(people.patient, 'A1'),
    out: await createRecord(counterparts.patient, 'B1'),
    patient2: await createRecord(patient2, 'A1'),
  };
  const annotate = (investigator: Person, record: DiaryRecord) =>
    operatorTransaction(op, { sub: investigator.id }, () =>
      insertReturning(
        op,
        'diary.investigator_annotations',
        {
          event_uuid: record.eventUuid,
          parent_audit_id: record.auditId,
          patient_id: investigator.id, // replaced by the trigger with the record's patient
          investigator_id: investigator.id,
          site_id: 'A1', // replaced by the trigger with the record's site
          annotation_kind: 'query',
          annotation_text: 'Please confirm the severity.',
          requires_response: true,
        },
        'annotation_id',
      ),
    );
  const annotation = {
    in: await annotate(people.investigator, records.in),
    out: await annotate(counterparts.investigator, records.out),
  };
  const resolve = async (investigator: Person, annotationId: string, record: DiaryRecord, site: string) => {
    const request = (resolved: boolean) =>
      operatorTransaction(op, { sub: investigator.id }, () =>
        insertReturning(
          op,
          'diary.annotation_resolutions',
          {
            request_id: randomUUID(),
            annotation_id: annotationId,
            event_uuid: record.eventUuid, // replaced by the trigger with the annotation's record
            site_id: site, // replaced by the trigger with the annotation's site
            resolved,
            requested_by: investigator.id,
            // Closing needs a reason (0051); the reopen carries one too.
            reason_code: resolved ? 'answered' : 'other',
            reason_text: resolved ? null : 'The answer did not cover the second dose.',
          },
          'request_id',
        ),
      );
    const closed = await request(true);
    await request(false);
    return closed;
  };
  const resolution = {
    in: await resolve(people.investigator, annotation.in, records.in, 'A1'),
    out: await resolve(counterparts.investigator, annotation.out, records.out, 'B1'),
  };
  // Conflicts are written by the server's diary functions only (0059); the fixture writes them as the
  // operator's bootstrap.
  await op.query("select set_config('countersign.bootstrap', 'on', false)");
  const conflict = {
    in: await insertReturning(
      op,
      'diary.audit_conflicts',
      {
        event_uuid: records.in.eventUuid,
        patient_id: people.patient.id,
        site_id: 'A1',
        submitted_parent_audit_id: null,
        current_audit_id: records.in.auditId,
        submitted_data: '{}',
        submitted_by: people.patient.id,
      },
      'conflict_id',
    ),
    out: await insertReturning(
      op,
      'diary.audit_conflicts',
      {
        event_uuid: records.out.eventUuid,
        patient_id: counterparts.patient.id,
        site_id: 'B1',
        submitted_parent_audit_id: null,
        current_audit_id: records.out.auditId,
        submitted_data: '{}',
        submitted_by: counterparts.patient.id,
      },
      'conflict_id',
    ),
  };
  const request = (record: DiaryRecord, submittedBy: Person) =>
    insertReturning(
      op,
      'diary.event_request',
      {
        client_request_id: randomUUID(),
        event_uuid: record.eventUuid,
        audit_id: record.auditId,
        submitted_by: submittedBy.id,
      },
      'client_request_id',
    );
  const eventRequest = {
    patient: {
      in: await request(records.in, people.patient),
      out: await request(records.out, counterparts.patient),
    },
    investigator: {
      in: await request(records.in, people.investigator),
      out: await request(records.out, counterparts.investigator),
    },
  };
  const review = (record: DiaryRecord, patient: Person, site: string) =>
    insertReturning(
      op,
      'diary.correction_review',
      {
        audit_id: record.auditId,
        event_uuid: record.eventUuid,
        patient_id: patient.id,
        site_id: site,
        corrected_by: admin.id,
        corrected_at: new Date().toISOString(),
        justification: 'World fixture correction',
        changed_fields: '{intensity}',
      },
      'review_id',
    );
  const correctionReview = {
    in: await review(records.in, people.patient, 'A1'),
    out: await review(records.out, counterparts.patient, 'B1'),
  };
  await op.query("select set_config('countersign.bootstrap', '', false)");

  // CRO: live rows (bootstrap), reference data, provenance, staging, signatures, requests.
  const live = await operatorTransaction(op, { bootstrap: true }, async () => ({
    kpi: await pair((study, s) =>
      insertReturning(op, 'cro.study_kpi', {
        study_id: study,
        label: `Enrolment ${s}`,
        value: '42',
        position: 1,
        created_by: admin.id,
      }),
    ),
    milestone: await pair((study, s) =>
      insertReturning(op, 'cro.study_milestone', {
        study_id: study,
        name: `First patient in ${s}`,
        status: 'done',
        position: 1,
        created_by: admin.id,
      }),
    ),
    risk: await pair((study, s) =>
      insertReturning(op, 'cro.study_risk', {
        study_id: study,
        title: `Slow enrolment ${s}`,
        severity: 'medium',
        status: 'open',
        created_by: admin.id,
      }),
    ),
    resource: await pair((study) =>
      insertReturning(op, 'cro.study_resource', {
        study_id: study,
        role: 'CRA',
        headcount: 2,
        created_by: admin.id,
      }),
    ),
    document: await pair((study, s) =>
      insertReturning(op, 'cro.live_essential_document', {
        study_id: study,
        document_type: 'protocol',
        document_title: `Protocol ${s}`,
        storage_uri: `s3://documents/${s}/protocol.pdf`,
        metadata: '{}',
        created_by: admin.id,
      }),
    ),
  }));
  const reference = (make: (n: 'in' | 'out') => Promise<string>) =>
    (async (): Promise<Pair> => ({ in: await make('in'), out: await make('out') }))();
  const modelVersion = await reference((n) =>
    insertReturning(op, 'cro.model_registry_version', {
      provider: 'anthropic',
      model_id: `model-${n}`,
      prompt_hash: `hash-${n}`,
      prompt_version: '1',
      notes: 'fixture',
      created_by: admin.id,
    }),
  );
  const validationRun = await reference((n) =>
    insertReturning(op, 'cro.validation_evidence_run', {
      commit_sha: `sha-${n}`,
      evidence_paths: '[]',
      created_by: admin.id,
    }),
  );
  const appLog = await reference((n) =>
    insertReturning(op, 'cro.app_log', { level: 'info', component: 'fixture', message: n, payload: '{}' }),
  );
  const vectorDocument = await reference((n) =>
    insertReturning(op, 'cro.vector_document', {
      source_kind: 'sop',
      source_uri: `sop://${n}`,
      chunk_index: 0,
      content: 'fixture',
      embedding: '[]',
      metadata: '{}',
    }),
  );
  const agentOf = (s: 'A' | 'B') => (s === 'A' ? people.agent : counterparts.agent);
  const provenance = await pair((study, s) =>
    insertReturning(op, 'cro.provenance_event', {
      study_id: study,
      actor_kind: 'agent',
      actor_id: agentOf(s).id,
      action: 'propose',
      subject_kind: 'study_kpi',
      subject_id: `kpi-${s}`,
      retrieved_context: '[]',
      payload: '{}',
    }),
  );
  const staging = await pair((study, s) =>
    insertReturning(op, 'cro.staging_record', {
      entity_kind: 'study_kpi',
      study_id: study,
      agent_id: `agent-${s}`,
      state: 'proposed',
      proposed_state: JSON.stringify({ label: `Screen failures ${s}`, value: '3', position: 2 }),
      created_by: agentOf(s).id,
    }),
  );
  const signature = await pair((study, s) => {
    const signer = s === 'A' ? people.signer : counterparts.signer;
    return insertReturning(op, 'cro.signature_event', {
      user_id: signer.id,
      user_display_name: `signer ${s}`,
      intent: 'approve',
      subject_kind: 'staging_record',
      subject_id: s === 'A' ? staging.in : staging.out,
      re_auth_at: new Date().toISOString(),
      meaning_of_signature: 'I approve this change',
      signed_at: new Date().toISOString(),
      created_by: signer.id,
      study_id: study,
      content_hash: '0'.repeat(64),
    });
  });
  const sponsorRequest = await pair((study, s) =>
    insertReturning(op, 'cro.sponsor_request', {
      sponsor_id: s === 'A' ? 'S1' : 'S2',
      study_id: study,
      subject: `Request ${s}`,
      body: 'Please send the enrolment forecast.',
      priority: 'normal',
      status: 'open',
      created_by: s === 'A' ? people.sponsor.id : counterparts.sponsor.id,
    }),
  );

  // Signing: the signer of A's and of B's re-authentication, lock, ceremony and alert.
  const signers = { in: people.signer, out: counterparts.signer };
  const securityAlert = {
    in: await insertReturning(op, 'audit.security_alert', { kind: 'signing_locked', user_id: signers.in.id }),
    out: await insertReturning(op, 'audit.security_alert', {
      kind: 'signing_locked',
      user_id: signers.out.id,
    }),
  };
  const checkpointCosignature = {
    in: await insertReturning(op, 'audit.checkpoint_cosignature', cosignatureRow(people.inspector.id)),
    out: await insertReturning(op, 'audit.checkpoint_cosignature', cosignatureRow(people.admin.id)),
  };
  const reauthAttempt = {
    in: await insertReturning(op, 'cs_private.reauth_attempt', {
      user_id: signers.in.id,
      ceremony_id: randomUUID(),
    }),
    out: await insertReturning(op, 'cs_private.reauth_attempt', {
      user_id: signers.out.id,
      ceremony_id: randomUUID(),
    }),
  };
  const signingLock = {
    in: await insertReturning(op, 'cs_private.signing_lock', {
      user_id: signers.in.id,
      failed_attempts: 5,
      unlocked_at: new Date().toISOString(),
    }),
    out: await insertReturning(op, 'cs_private.signing_lock', {
      user_id: signers.out.id,
      failed_attempts: 5,
      unlocked_at: new Date().toISOString(),
    }),
  };
  const ceremony = (signer: Person, nonce: string) =>
    insertReturning(op, 'cs_private.signing_ceremony', {
      id: randomUUID(),
      user_id: signer.id,
      nonce,
      request_sha256: '0'.repeat(64),
      result: '{}',
      signed_at: new Date().toISOString(),
    });
  const signingCeremony = {
    in: await ceremony(signers.in, `world-nonce-in-${randomUUID()}`),
    out: await ceremony(signers.out, `world-nonce-out-${randomUUID()}`),
  };
  // Sign-in protection (0048): a failed sign-in and an ended lock of each signer, and the settings.
  const signInFailure = {
    in: await insertReturning(op, 'cs_private.sign_in_failure', {
      user_id: signers.in.id,
      failed_at: new Date().toISOString(),
      source: 'server_log',
    }),
    out: await insertReturning(op, 'cs_private.sign_in_failure', {
      user_id: signers.out.id,
      failed_at: new Date().toISOString(),
      source: 'server_log',
    }),
  };
  // Role changes and deactivation (0057): an ended deactivation and a refused request of each signer.
  const deactivation = {
    in: await insertReturning(op, 'cs_private.deactivation', {
      user_id: signers.in.id,
      deactivated_by: admin.id,
      reason: 'world fixture',
      reactivated_at: new Date().toISOString(),
    }),
    out: await insertReturning(op, 'cs_private.deactivation', {
      user_id: signers.out.id,
      deactivated_by: admin.id,
      reason: 'world fixture',
      reactivated_at: new Date().toISOString(),
    }),
  };
  const refusedRequest = (signer: Person) =>
    insertReturning(op, 'cs_private.role_change_request', {
      user_id: signer.id,
      change: 'revoke',
      role: 'signer',
      reason: 'world fixture',
      requested_by: admin.id,
      status: 'refused',
      decided_by: counterparts.signer.id,
      decided_at: new Date().toISOString(),
      decision_reason: 'world fixture',
    });
  const roleChangeRequest = { in: await refusedRequest(signers.in), out: await refusedRequest(signers.out) };
  const signInLock = {
    in: await insertReturning(op, 'cs_private.sign_in_lock', {
      user_id: signers.in.id,
      reason: 'failed_sign_ins',
      unlocked_at: new Date().toISOString(),
    }),
    out: await insertReturning(op, 'cs_private.sign_in_lock', {
      user_id: signers.out.id,
      reason: 'failed_sign_ins',
      unlocked_at: new Date().toISOString(),
    }),
  };
  // A bcrypt-shaped hash: the table's check wants one; nobody can read it anyway.
  const recoveryCodeOf = (person: { id: string }) =>
    insertReturning(op, 'cs_private.recovery_code', {
      user_id: person.id,
      code_hash: '$2a$08$worldfixtureworldfixtureuworldfixtureworldfixtureworl',
    });
  const recoveryCode = { in: await recoveryCodeOf(signers.in), out: await recoveryCodeOf(signers.out) };
  const metPasswordChangeDemand = (person: { id: string }) =>
    insertReturning(op, 'cs_private.password_change_demand', {
      user_id: person.id,
      reason: 'world fixture',
      demanded_by: admin.id,
      met_at: new Date().toISOString(),
    });
  const passwordChangeDemand = {
    in: await metPasswordChangeDemand(signers.in),
    out: await metPasswordChangeDemand(signers.out),
  };
  await op.query(
    `insert into cs_private.security_setting (name, value) values ('sign_in_guard_seen_at', now()::text)
     on conflict (name) do nothing`,
  );

  const { rows: seqs } = await op.query<{ first: string; last: string }>(
    'select min(seq)::text as first, max(seq)::text as last from audit.audit_log',
  );
  const { rows: migrations } = await op.query<{ first: string; last: string }>(
    'select min(name) as first, max(name) as last from countersign_meta.schema_migrations',
  );

  // Connections: one per role, reused by every case.
  const anonEmail = db.email('anon');
  await op.query(
    `create role ${op.escapeIdentifier(anonEmail)} with login password ${op.escapeLiteral(worldPassword)} in role anon`,
  );
  const connect = async (person: Person) => {
    const client = await db.connectAs(person.email, worldPassword);
    await client.query("set lock_timeout = '5s'; set statement_timeout = '20s'");
    return client;
  };
  const clients = {} as Record<MatrixRole, pg.Client>;
  const anonClient = await db.connectAs(anonEmail, worldPassword);
  clients.anon = anonClient;
  for (const role of matrixRoles) if (role !== 'anon') clients[role] = await connect(people[role]);

  return {
    db,
    studyA: studyA as string,
    studyB: studyB as string,
    initialBuild,
    people,
    counterparts,
    patient2,
    spareUserId,
    records,
    rows: {
      ...live,
      provenance,
      staging,
      signature,
      modelVersion,
      validationRun,
      appLog,
      vectorDocument,
      sponsorRequest,
      annotation,
      resolution,
      conflict,
      eventRequest,
      correctionReview,
      auditSeq: { in: seqs[0]?.first as string, out: seqs[0]?.last as string },
      migration: { in: migrations[0]?.first as string, out: migrations[0]?.last as string },
      signatureMeaning: { in: 'approve:I approve this change', out: 'reject:I reject this change' },
      signInFailure,
      signInLock,
      recoveryCode,
      passwordChangeDemand,
      deactivation,
      roleChangeRequest,
      securitySetting: { in: 'sign_in_lock_threshold', out: 'sign_in_guard_seen_at' },
      securityAlert,
      checkpointCosignature,
      reauthAttempt,
      signingLock,
      signingCeremony,
      build,
      buildForm: { in: `${initialBuild.in}/diary_entry`, out: `${initialBuild.out}/diary_entry` },
      buildFormField: {
        in: `${initialBuild.in}/diary_entry/notes`,
        out: `${initialBuild.out}/diary_entry/notes`,
      },
    },
    clients,
    connect,
    async teardown() {
      await anonClient.end().catch(() => undefined);
      await op.query(`drop role if exists ${op.escapeIdentifier(anonEmail)}`);
    },
  };
}

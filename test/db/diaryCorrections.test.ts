// Admin corrections of diary data and the investigators' review of them (migration 0059, seed 003:
// "admins can perform data corrections (with justification and audit trail)", "all admin actions
// require additional authentication", "admin modifications flagged for investigator review"). Every
// person acts over their own PostgreSQL login, as the threat model has them.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { correctDiaryRecord, DiaryRecordMovedOn } from '../../src/main/diary/diaryCorrections';
import { createStudy } from './support/operatorActions';
import { newReauthenticatingAdmin, type ReauthenticatingAdmin } from './support/reauthenticatingAdmin';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const password = 'diary-correction-pass-1';

interface ServerError {
  code?: string;
  message?: string;
  detail?: string;
}

describe('admin corrections of diary data and their review', () => {
  let db: TestDatabase;
  /** Each administrator re-authenticates at most three times (one TOTP step of drift each way). */
  let newAdmin: () => Promise<ReauthenticatingAdmin>;
  const admins: ReauthenticatingAdmin[] = [];
  let patientId: string;
  let patient: pg.Client;
  let otherPatient: pg.Client;
  let investigatorA: pg.Client;
  let investigatorB: pg.Client;
  let investigatorElsewhere: pg.Client;
  let analyst: pg.Client;
  let investigatorAId: string;
  let investigatorBId: string;

  /** An entry valid under the study's build (the standard diary form). */
  const entry = (fields: object = {}) => ({ event_type: 'epistaxis', date: '2026-02-10', ...fields });

  /** A new record of the patient's, written by the patient; resolves its id and head. */
  const patientRecord = async (data: object = entry({ duration_minutes: 15 })) => {
    const eventUuid = randomUUID();
    const { rows } = await patient.query<{ audit_id: string }>(
      `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp, parent_audit_id, change_reason)
       values ($1, $2, 'CR1', 'USER_CREATE', $3, now() - interval '1 minute', null, 'new entry') returning audit_id`,
      [eventUuid, patientId, JSON.stringify(data)],
    );
    return { eventUuid, head: Number(rows[0]?.audit_id) };
  };
  const correct = (
    client: pg.Client,
    eventUuid: string,
    parent: number,
    data: object,
    justification: string | null,
    ceremonyId: string,
  ) =>
    client.query<{ r: { audit_id: number; review_id: string; changed_fields: string[] } }>(
      'select public.correct_diary_record($1, $2, $3, $4, $5) as r',
      [eventUuid, parent, JSON.stringify(data), justification, ceremonyId],
    );
  const review = (client: pg.Client, reviewId: string, decision: string, comment: string | null) =>
    client.query<{ r: { review_id: string; status: string } }>(
      'select public.review_diary_correction($1, $2, $3) as r',
      [reviewId, decision, comment],
    );
  const refusal = async (work: Promise<unknown>): Promise<ServerError> => {
    const error = (await work.then(
      () => null,
      (caught: unknown) => caught,
    )) as ServerError | null;
    expect(error, 'the server accepted it').not.toBeNull();
    return error as ServerError;
  };
  const head = async (eventUuid: string) =>
    (
      await db.operator.query(
        'select version, last_audit_id, current_data from diary.record_state where event_uuid = $1',
        [eventUuid],
      )
    ).rows[0] as { version: number; last_audit_id: string; current_data: Record<string, unknown> };
  /** A correction made properly: a fresh re-authentication, a justification, the current head. */
  const corrected = async (fields: object, justification = 'Patient phoned: the duration was misread') => {
    const record = await patientRecord();
    const admin = await newAdmin();
    const result = await correct(
      admin.client,
      record.eventUuid,
      record.head,
      entry({ duration_minutes: 15, ...fields }),
      justification,
      await admin.reauthenticate(),
    );
    return {
      ...record,
      admin,
      ...(result.rows[0]?.r as { audit_id: number; review_id: string; changed_fields: string[] }),
    };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    const ownerId = await db.provision({
      email: db.email('owner'),
      printedName: 'Owner',
      password,
      roles: [],
    });
    const studyId = await createStudy(db.operator, ownerId, `CR-${db.tag}`);
    await db.operator.query(
      `insert into diary.sites (site_id, site_name, site_number, study_id)
       values ('CR1', 'Site one', 'CR-001', $1), ('CR2', 'Site two', 'CR-002', $1)`,
      [studyId],
    );
    const person = (name: string, role: string) =>
      db.provision({
        email: db.email(name),
        printedName: name,
        password,
        roles: [{ role: role as never, studyId }],
      });
    patientId = await person('patient', 'patient');
    const otherPatientId = await person('patient2', 'patient');
    investigatorAId = await person('investigatorA', 'investigator');
    investigatorBId = await person('investigatorB', 'investigator');
    const elsewhereId = await person('investigatorC', 'investigator');
    const analystId = await person('analyst', 'analyst');
    await db.operator.query(
      `insert into diary.user_site_assignments (patient_id, site_id, subject_code)
       values ($1, 'CR1', 'CR-0001'), ($2, 'CR2', 'CR-0002')`,
      [patientId, otherPatientId],
    );
    await db.operator.query(
      `insert into diary.investigator_site_assignments (investigator_id, site_id)
       values ($1, 'CR1'), ($2, 'CR1'), ($3, 'CR2')`,
      [investigatorAId, investigatorBId, elsewhereId],
    );
    await db.operator.query(
      `insert into diary.analyst_site_assignments (analyst_id, site_id) values ($1, 'CR1')`,
      [analystId],
    );
    const address = { host: db.server.host, port: db.server.port, database: db.name };
    newAdmin = async () => {
      const admin = await newReauthenticatingAdmin(
        (spec) => db.provision(spec),
        address,
        (email, secret) => db.connectAs(email, secret),
        db.email(`admin${admins.length + 1}`),
        password,
      );
      admins.push(admin);
      return admin;
    };
    patient = await db.connectAs(db.email('patient'), password);
    otherPatient = await db.connectAs(db.email('patient2'), password);
    investigatorA = await db.connectAs(db.email('investigatorA'), password);
    investigatorB = await db.connectAs(db.email('investigatorB'), password);
    investigatorElsewhere = await db.connectAs(db.email('investigatorC'), password);
    analyst = await db.connectAs(db.email('analyst'), password);
  });
  afterAll(async () => {
    await Promise.all(admins.map((admin) => admin.close()));
    await db?.drop();
  });

  describe('the correction [DIARY-ADMIN-CORRECTION]', () => {
    it('is refused to everyone but an administrator, and changes nothing', async () => {
      const admin = await newAdmin();
      const record = await patientRecord();
      for (const client of [patient, investigatorA, analyst]) {
        const error = await refusal(
          correct(
            client,
            record.eventUuid,
            record.head,
            entry({ duration_minutes: 5 }),
            'a reason',
            randomUUID(),
          ),
        );
        expect(error.code).toBe('CS403');
      }
      // Nor can anyone write the operation into the event store directly (0010's admin policy is gone).
      const direct = await refusal(
        admin.client.query(
          `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp, parent_audit_id, change_reason)
           values ($1, $2, 'CR1', 'ADMIN_CORRECTION', $3, now(), $4, 'no reauthentication')`,
          [record.eventUuid, patientId, JSON.stringify(entry({ duration_minutes: 5 })), record.head],
        ),
      );
      expect(direct.code).toBe('42501');
      expect(await head(record.eventUuid)).toMatchObject({
        version: 1,
        current_data: { duration_minutes: 15 },
      });
    });

    it('needs a justification', async () => {
      const admin = await newAdmin();
      const record = await patientRecord();
      for (const justification of [null, '', '   ']) {
        const error = await refusal(
          correct(
            admin.client,
            record.eventUuid,
            record.head,
            entry({ duration_minutes: 5 }),
            justification,
            await admin.reauthenticate(),
          ),
        );
        expect(error).toMatchObject({ code: 'CS422', message: expect.stringMatching(/needs a reason/) });
      }
      expect(await head(record.eventUuid)).toMatchObject({ version: 1 });
    });

    it('needs a verified re-authentication of this ceremony, at most 5 minutes old, spent once', async () => {
      const [admin, otherAdmin] = [await newAdmin(), await newAdmin()];
      const record = await patientRecord();
      const fix = entry({ duration_minutes: 5 });
      // None at all.
      const none = await refusal(
        correct(admin.client, record.eventUuid, record.head, fix, 'reason', randomUUID()),
      );
      expect(none).toMatchObject({ code: 'CS403', message: expect.stringMatching(/no re-authentication/) });
      // One older than 5 minutes.
      const stale = await admin.reauthenticate();
      await db.operator.query(
        `update cs_private.reauth_attempt set password_verified_at = password_verified_at - interval '6 minutes',
                totp_verified_at = totp_verified_at - interval '6 minutes' where ceremony_id = $1`,
        [stale],
      );
      const old = await refusal(correct(admin.client, record.eventUuid, record.head, fix, 'reason', stale));
      expect(old).toMatchObject({ code: 'CS403', message: expect.stringMatching(/older than 5 minutes/) });
      expect(await head(record.eventUuid)).toMatchObject({ version: 1 });
      // A good one works once; the same ceremony for a second correction is refused.
      const ceremonyId = await admin.reauthenticate();
      const first = await correct(admin.client, record.eventUuid, record.head, fix, 'reason', ceremonyId);
      const audit = first.rows[0]?.r.audit_id as number;
      const again = await refusal(
        correct(admin.client, record.eventUuid, audit, entry({ duration_minutes: 6 }), 'reason', ceremonyId),
      );
      expect(again).toMatchObject({ code: 'CS403', message: expect.stringMatching(/no re-authentication/) });
      expect(await head(record.eventUuid)).toMatchObject({
        version: 2,
        current_data: { duration_minutes: 5 },
      });
      // Another admin cannot spend this admin's ceremony either.
      const stolen = await admin.reauthenticate();
      const theft = await refusal(
        correct(otherAdmin.client, record.eventUuid, audit, entry({ duration_minutes: 7 }), 'reason', stolen),
      );
      expect(theft.code).toBe('CS403');
    });

    it('refuses a correction of an entry that moved on, with the current state, and spends nothing', async () => {
      const admin = await newAdmin();
      const record = await patientRecord();
      const { rows } = await patient.query<{ audit_id: string }>(
        `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp, parent_audit_id, change_reason)
         values ($1, $2, 'CR1', 'USER_UPDATE', $3, now(), $4, 'patient changed it') returning audit_id`,
        [record.eventUuid, patientId, JSON.stringify(entry({ duration_minutes: 25 })), record.head],
      );
      const current = Number(rows[0]?.audit_id);
      const ceremonyId = await admin.reauthenticate();
      const error = await refusal(
        correct(
          admin.client,
          record.eventUuid,
          record.head,
          entry({ duration_minutes: 5 }),
          'reason',
          ceremonyId,
        ),
      );
      expect(error.code).toBe('CS409');
      expect(JSON.parse(error.detail ?? '{}')).toMatchObject({
        current_audit_id: current,
        current_version: 2,
        current_data: { duration_minutes: 25 },
      });
      // The re-authentication was not spent by the refusal: it still corrects against the new head.
      await correct(
        admin.client,
        record.eventUuid,
        current,
        entry({ duration_minutes: 5 }),
        'reason',
        ceremonyId,
      );
      expect(await head(record.eventUuid)).toMatchObject({
        version: 3,
        current_data: { duration_minutes: 5 },
      });
    });

    it('keeps old and new values, written by the administrator as ADMIN_CORRECTION, in the audit chain', async () => {
      const result = await corrected({ duration_minutes: 45 }, 'Source document says 45 minutes');
      expect(result.changed_fields).toEqual(['duration_minutes']);
      const { rows } = await db.operator.query(
        `select operation, role, created_by, previous_data, data, parent_audit_id, change_reason
           from diary.record_audit where audit_id = $1`,
        [result.audit_id],
      );
      expect(rows[0]).toEqual({
        operation: 'ADMIN_CORRECTION',
        role: 'ADMIN',
        created_by: result.admin.id,
        previous_data: entry({ duration_minutes: 15 }),
        data: entry({ duration_minutes: 45 }),
        parent_audit_id: String(result.head),
        change_reason: 'Source document says 45 minutes',
      });
      const chain = await db.operator.query(
        `select payload from audit.audit_log where event_type = 'diary.correction' and payload ->> 'review_id' = $1`,
        [result.review_id],
      );
      expect(chain.rows).toHaveLength(1);
      const payload = chain.rows[0].payload;
      expect(payload).toMatchObject({
        audit_id: result.audit_id,
        event_uuid: result.eventUuid,
        corrected_by: result.admin.id,
        changed_fields: ['duration_minutes'],
        site_id: 'CR1',
      });
      // The re-authentication it spent is named, and is spent.
      const attempt = await db.operator.query(
        'select user_id, outcome from cs_private.reauth_attempt where id = $1',
        [payload.reauth_attempt_id],
      );
      expect(attempt.rows[0]).toEqual({ user_id: result.admin.id, outcome: 'consumed' });
    });

    it('leaves the patient reading their record with the corrected values and the correction in its history', async () => {
      const result = await corrected({ duration_minutes: 30 });
      const state = await patient.query(
        'select current_data, version from diary.record_state where event_uuid = $1',
        [result.eventUuid],
      );
      expect(state.rows[0]).toMatchObject({ version: 2, current_data: { duration_minutes: 30 } });
      const history = await patient.query(
        'select operation, previous_data, data from diary.record_audit where event_uuid = $1 order by audit_id',
        [result.eventUuid],
      );
      expect(history.rows.map((row) => row.operation)).toEqual(['USER_CREATE', 'ADMIN_CORRECTION']);
      expect(history.rows[1]).toMatchObject({
        previous_data: { duration_minutes: 15 },
        data: { duration_minutes: 30 },
      });
    });
  });

  describe('the investigators review [DIARY-CORRECTION-REVIEW]', () => {
    it('is pending for every investigator of the site and for no one at another site, no patient, no analyst', async () => {
      const result = await corrected({ duration_minutes: 20 });
      for (const client of [investigatorA, investigatorB]) {
        const { rows } = await client.query(
          'select status, corrected_by, justification, changed_fields from diary.correction_review where review_id = $1',
          [result.review_id],
        );
        expect(rows).toEqual([
          {
            status: 'pending',
            corrected_by: result.admin.id,
            justification: 'Patient phoned: the duration was misread',
            changed_fields: ['duration_minutes'],
          },
        ]);
      }
      for (const client of [investigatorElsewhere, patient, otherPatient, analyst]) {
        const { rows } = await client.query('select 1 from diary.correction_review where review_id = $1', [
          result.review_id,
        ]);
        expect(rows).toEqual([]);
      }
      // Nobody writes a review row directly, an administrator included.
      const forged = await refusal(
        result.admin.client.query(
          `update diary.correction_review set status = 'acknowledged' where review_id = $1`,
          [result.review_id],
        ),
      );
      expect(forged.code).toBe('42501');
    });

    it('is acknowledged by one investigator of the site, comment optional; the first decision wins for all', async () => {
      const result = await corrected({ duration_minutes: 21 });
      const otherAdmin = await newAdmin();
      for (const [client, decision] of [
        [investigatorElsewhere, 'acknowledged'],
        [result.admin.client, 'acknowledged'],
        [otherAdmin.client, 'acknowledged'],
        [patient, 'acknowledged'],
        [analyst, 'acknowledged'],
      ] as const) {
        const error = await refusal(review(client, result.review_id, decision, null));
        expect(error.code).toBe('CS403');
      }
      const done = await review(investigatorA, result.review_id, 'acknowledged', null);
      expect(done.rows[0]?.r).toEqual({ review_id: result.review_id, status: 'acknowledged' });
      for (const [client, decision] of [
        [investigatorA, 'disputed'],
        [investigatorB, 'disputed'],
        [investigatorB, 'acknowledged'],
      ] as const) {
        const error = await refusal(review(client, result.review_id, decision, 'I disagree'));
        expect(error).toMatchObject({
          code: 'CS409',
          message: expect.stringMatching(/already acknowledged/),
        });
      }
      const { rows } = await investigatorB.query(
        'select status, decided_by, decision_comment, decided_at is not null as decided from diary.correction_review where review_id = $1',
        [result.review_id],
      );
      expect(rows[0]).toEqual({
        status: 'acknowledged',
        decided_by: investigatorAId,
        decision_comment: null,
        decided: true,
      });
    });

    it('is disputed only with a comment, kept with the decision', async () => {
      const result = await corrected({ duration_minutes: 22 });
      for (const comment of [null, '', '  ']) {
        const error = await refusal(review(investigatorB, result.review_id, 'disputed', comment));
        expect(error.code).toBe('CS422');
      }
      await review(investigatorB, result.review_id, 'disputed', 'The paper diary says 15 minutes');
      const { rows } = await investigatorA.query(
        'select status, decided_by, decision_comment from diary.correction_review where review_id = $1',
        [result.review_id],
      );
      expect(rows[0]).toEqual({
        status: 'disputed',
        decided_by: investigatorBId,
        decision_comment: 'The paper diary says 15 minutes',
      });
      const error = await refusal(review(investigatorA, result.review_id, 'acknowledged', null));
      expect(error.code).toBe('CS409');
    });

    it('records each decision in the audit chain after the correction', async () => {
      const result = await corrected({ duration_minutes: 23 });
      await review(investigatorA, result.review_id, 'acknowledged', 'Checked against the source');
      const { rows } = await db.operator.query(
        `select event_type, payload from audit.audit_log
          where event_type in ('diary.correction', 'diary.correction_reviewed') and payload ->> 'review_id' = $1
          order by seq`,
        [result.review_id],
      );
      expect(rows.map((row) => row.event_type)).toEqual(['diary.correction', 'diary.correction_reviewed']);
      expect(rows[1].payload).toMatchObject({
        decision: 'acknowledged',
        decided_by: investigatorAId,
        audit_id: result.audit_id,
        comment_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    });
  });

  describe('through the workstation backend [UI-DIARY-CORRECTION]', () => {
    it('re-authenticates, corrects, and answers a record that moved on with its current values', async () => {
      const admin = await newAdmin();
      const record = await patientRecord();
      const corrections = admin.session.diaryCorrections();
      // Against the head: corrected, with the review opened.
      const done = await corrections.correct({
        eventUuid: record.eventUuid,
        parentAuditId: record.head,
        data: entry({ duration_minutes: 16 }),
        justification: 'Checked with the patient',
        ceremonyId: await admin.reauthenticate(),
      });
      expect(done).toMatchObject({ changedFields: ['duration_minutes'], reviewId: expect.any(String) });
      // Against the entry it replaced: the server's CS409 carries the current entry.
      const stale = await corrections
        .correct({
          eventUuid: record.eventUuid,
          parentAuditId: record.head,
          data: entry({ duration_minutes: 17 }),
          justification: 'Checked with the patient',
          ceremonyId: await admin.reauthenticate(),
        })
        .then(
          () => null,
          (error: unknown) => error,
        );
      expect(stale).toBeInstanceOf(DiaryRecordMovedOn);
      expect((stale as DiaryRecordMovedOn).current).toEqual({
        auditId: done.auditId,
        version: 2,
        data: entry({ duration_minutes: 16 }),
      });
    });

    it('names the password when it is wrong, and corrects nothing', async () => {
      const admin = await newAdmin();
      const record = await patientRecord();
      const outcome = await correctDiaryRecord(
        admin.session.signingBackend(),
        admin.session.diaryCorrections(),
        {
          eventUuid: record.eventUuid,
          parentAuditId: record.head,
          data: entry({ duration_minutes: 18 }),
          justification: 'Checked with the patient',
          password: 'not the password',
          totpCode: '123456',
        },
        () => undefined,
      );
      expect(outcome).toMatchObject({ ok: false, field: 'password', locked: false });
      expect(await head(record.eventUuid)).toMatchObject({ version: 1 });
    });
  });
});

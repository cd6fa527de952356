// Paper transcription and diary conflicts (0059), as the people themselves: an investigator with full
// access transcribes a paper entry for a patient enrolled at their site through
// public.submit_diary_events, validated like any entry and never over a patient's own entry; a batch
// is all-or-nothing and idempotent by client_request_id; a stale parent is a conflict kept with the
// current state, which only its submitter resolves (keep mine, keep theirs, or a field merge where
// the fields do not overlap) by a new event that names it.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStudy } from './support/operatorActions';
import { createTestDatabase, type TestDatabase } from './support/testServer';

interface DiaryEvent {
  client_request_id: string;
  event_uuid: string;
  patient_id: string;
  operation: string;
  data: Record<string, unknown>;
  parent_audit_id: number | null;
  change_reason?: string;
  client_timestamp?: string;
  source_reference?: Record<string, unknown> | null;
}

interface Applied {
  status: 'applied';
  events: { client_request_id: string; event_uuid: string; audit_id: number; replayed: boolean }[];
}
interface Conflicted {
  status: 'conflict';
  conflicts: {
    conflict_id: number;
    client_request_id: string;
    event_uuid: string;
    submitted_parent_audit_id: number | null;
    current_audit_id: number;
    current_version: number;
    current_data: Record<string, unknown>;
  }[];
}

describe('paper transcription and diary conflicts', () => {
  let db: TestDatabase;
  const password = 'diary-roles-pass-1234';
  const ids = {} as Record<
    'patient' | 'otherPatient' | 'unenrolled' | 'investigator' | 'colleague' | 'reader',
    string
  >;
  const clients = {} as Record<keyof typeof ids, pg.Client>;
  const paper = { page_id: 'PAPER-0007', entry_date: '2026-02-09' };
  const base = { event_type: 'epistaxis', date: '2026-02-09', intensity: 'mild' };

  const submit = async (client: pg.Client, events: DiaryEvent[]) =>
    (
      await client.query<{ r: Applied | Conflicted }>('select public.submit_diary_events($1::jsonb) as r', [
        JSON.stringify(events),
      ])
    ).rows[0]?.r as Applied | Conflicted;
  const transcription = (fields: Partial<DiaryEvent> = {}): DiaryEvent => ({
    client_request_id: randomUUID(),
    event_uuid: randomUUID(),
    patient_id: ids.patient,
    operation: 'INVESTIGATOR_TRANSCRIPTION',
    data: base,
    parent_audit_id: null,
    change_reason: 'Paper diary handed in at the visit',
    client_timestamp: new Date().toISOString(),
    source_reference: paper,
    ...fields,
  });
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('not refused');
      },
      (error: { code?: string; message: string; detail?: string }) => error,
    );
  const state = async (eventUuid: string) =>
    (
      await db.operator.query(
        'select version, last_audit_id::bigint as last_audit_id, current_data from diary.record_state where event_uuid = $1',
        [eventUuid],
      )
    ).rows[0] as
      | { version: number; last_audit_id: string; current_data: Record<string, unknown> }
      | undefined;
  const eventsOf = async (eventUuid: string) =>
    (
      await db.operator.query(
        `select audit_id::int, operation, created_by::text, patient_id::text, role, source_reference, previous_data,
                conflict_resolution, data, change_reason
           from diary.record_audit where event_uuid = $1 order by audit_id`,
        [eventUuid],
      )
    ).rows;
  const auditEntries = async (eventType: string, conflictId: number) =>
    (
      await db.operator.query(
        `select payload from audit.audit_log where event_type = $1 and (payload ->> 'conflict_id')::bigint = $2`,
        [eventType, conflictId],
      )
    ).rows;

  beforeAll(async () => {
    db = await createTestDatabase();
    const ownerId = await db.provision({
      email: db.email('owner'),
      printedName: 'Owner',
      password,
      roles: [],
    });
    const studyId = await createStudy(db.operator, ownerId, `TX-${db.tag}`);
    await db.operator.query(
      `insert into diary.sites (site_id, site_name, site_number, study_id)
       values ('TX1', 'Site one', 'TX-001', $1), ('TX2', 'Site two', 'TX-002', $1)`,
      [studyId],
    );
    const person = (short: keyof typeof ids, role: 'patient' | 'investigator') =>
      db.provision({ email: db.email(short), printedName: short, password, roles: [{ role, studyId }] });
    for (const short of ['patient', 'otherPatient', 'unenrolled'] as const)
      ids[short] = await person(short, 'patient');
    for (const short of ['investigator', 'colleague', 'reader'] as const)
      ids[short] = await person(short, 'investigator');
    await db.operator.query(
      `insert into diary.user_site_assignments (patient_id, site_id, subject_code)
       values ($1, 'TX1', 'TX-0001'), ($2, 'TX2', 'TX-0002')`,
      [ids.patient, ids.otherPatient],
    );
    await db.operator.query(
      `insert into diary.investigator_site_assignments (investigator_id, site_id, access_level)
       values ($1, 'TX1', 'full'), ($2, 'TX1', 'full'), ($3, 'TX1', 'read')`,
      [ids.investigator, ids.colleague, ids.reader],
    );
    for (const short of Object.keys(ids) as (keyof typeof ids)[]) {
      clients[short] = await db.connectAs(db.email(short), password);
    }
  });
  afterAll(async () => {
    for (const client of Object.values(clients)) await client.end();
    await db.drop();
  });

  describe('an investigator transcribes a paper entry [DIARY-TRANSCRIBE]', () => {
    it('writes it for the patient at their site, as the investigator, with the paper source kept [DIARY-TRANSCRIBE]', async () => {
      const event = transcription();
      const result = await submit(clients.investigator, [event]);
      expect(result).toMatchObject({
        status: 'applied',
        events: [
          { client_request_id: event.client_request_id, event_uuid: event.event_uuid, replayed: false },
        ],
      });
      expect(await eventsOf(event.event_uuid)).toMatchObject([
        {
          operation: 'INVESTIGATOR_TRANSCRIPTION',
          created_by: ids.investigator,
          patient_id: ids.patient,
          role: 'INVESTIGATOR',
          source_reference: paper,
          previous_data: null,
          data: base,
        },
      ]);
      // Patient data from now on: the patient reads it as their own.
      const own = await clients.patient.query(
        'select current_data from diary.record_state where event_uuid = $1',
        [event.event_uuid],
      );
      expect(own.rows).toEqual([{ current_data: base }]);
    });

    it("validates it against the study build's diary form, naming the field [DIARY-TRANSCRIBE]", async () => {
      const event = transcription({ data: { ...base, event_type: 'sneezing' } });
      const error = await refusal(submit(clients.investigator, [event]));
      expect(error.code).toBe('CS422');
      expect(JSON.parse(error.detail ?? '{}')).toMatchObject({ field: 'event_type' });
      expect(await state(event.event_uuid)).toBeUndefined();
    });

    it('refuses another site, a patient not enrolled, read-only access, a patient, and a missing source or reason [DIARY-TRANSCRIBE]', async () => {
      const refusals = [
        [clients.investigator, transcription({ patient_id: ids.otherPatient }), 'CS403', /full access/],
        [clients.investigator, transcription({ patient_id: ids.unenrolled }), 'CS403', /not enrolled/],
        [clients.reader, transcription(), 'CS403', /full access/],
        [clients.patient, transcription(), 'CS403', /full access/],
        [clients.investigator, transcription({ source_reference: null }), 'CS422', /paper source/],
        [
          clients.investigator,
          transcription({ source_reference: { page_id: ' ', entry_date: '2026-02-09' } }),
          'CS422',
          /page id/,
        ],
        [clients.investigator, transcription({ change_reason: '  ' }), 'CS422', /reason/],
      ] as const;
      for (const [client, event, code, message] of refusals) {
        const error = await refusal(submit(client, [event]));
        expect({ code: error.code, message: error.message }).toMatchObject({
          code,
          message: expect.stringMatching(message),
        });
        expect(await state(event.event_uuid)).toBeUndefined();
      }
    });

    it("never overwrites a patient's own entry, and a later transcription continues a transcribed record [DIARY-TRANSCRIBE]", async () => {
      const own = {
        client_request_id: randomUUID(),
        event_uuid: randomUUID(),
        patient_id: ids.patient,
        operation: 'USER_CREATE',
        data: base,
        parent_audit_id: null,
        change_reason: 'new entry',
      };
      const created = (await submit(clients.patient, [own])) as Applied;
      const ownHead = created.events[0]?.audit_id as number;
      const error = await refusal(
        submit(clients.investigator, [
          transcription({
            event_uuid: own.event_uuid,
            parent_audit_id: ownHead,
            data: { ...base, intensity: 'severe' },
          }),
        ]),
      );
      expect(error).toMatchObject({ code: 'CS403', message: expect.stringMatching(/never overwrites/) });
      expect(await state(own.event_uuid)).toMatchObject({ version: 1, current_data: base });

      const first = transcription();
      const written = (await submit(clients.investigator, [first])) as Applied;
      const second = transcription({
        event_uuid: first.event_uuid,
        parent_audit_id: written.events[0]?.audit_id as number,
        data: { ...base, duration_minutes: 30 },
        source_reference: { page_id: 'PAPER-0008', entry_date: '2026-02-10' },
        change_reason: 'Second page of the same entry',
      });
      expect(await submit(clients.investigator, [second])).toMatchObject({ status: 'applied' });
      expect(await state(first.event_uuid)).toMatchObject({
        version: 2,
        current_data: { duration_minutes: 30 },
      });
      expect((await eventsOf(first.event_uuid))[1]).toMatchObject({
        operation: 'INVESTIGATOR_TRANSCRIPTION',
        previous_data: base,
        source_reference: { page_id: 'PAPER-0008' },
      });
    });

    it('returns the first result for a resend of the same request and writes nothing [DIARY-TRANSCRIBE]', async () => {
      const event = transcription();
      const first = (await submit(clients.investigator, [event])) as Applied;
      const again = (await submit(clients.investigator, [event])) as Applied;
      expect(again).toEqual({
        status: 'applied',
        events: [{ ...first.events[0], replayed: true }],
      });
      expect(await eventsOf(event.event_uuid)).toHaveLength(1);
      // The same request id for another record is not a resend.
      const reused = await refusal(submit(clients.investigator, [{ ...event, event_uuid: randomUUID() }]));
      expect(reused).toMatchObject({ code: 'CS422', message: expect.stringMatching(/already used/) });
    });

    it('leaves annotations unable to modify the transcribed data [DIARY-TRANSCRIBE]', async () => {
      const event = transcription();
      const written = (await submit(clients.investigator, [event])) as Applied;
      const before = await state(event.event_uuid);
      await clients.investigator.query(
        `insert into diary.investigator_annotations (event_uuid, parent_audit_id, patient_id, investigator_id, site_id,
           annotation_kind, annotation_text, requires_response)
         values ($1, $2, $3, $3, 'TX1', 'correction', 'The paper says severe.', false)`,
        [event.event_uuid, written.events[0]?.audit_id, ids.investigator],
      );
      expect(await state(event.event_uuid)).toEqual(before);
      expect(await eventsOf(event.event_uuid)).toHaveLength(1);
    });
  });

  /** A transcribed record the patient then updated (theirs), and the investigator's write against the older entry (mine). */
  const conflictOn = async (theirs: Record<string, unknown>, mine: Record<string, unknown>) => {
    const created = transcription();
    const createdAt = ((await submit(clients.investigator, [created])) as Applied).events[0]
      ?.audit_id as number;
    const update = {
      client_request_id: randomUUID(),
      event_uuid: created.event_uuid,
      patient_id: ids.patient,
      operation: 'USER_UPDATE',
      data: { ...base, ...theirs },
      parent_audit_id: createdAt,
      change_reason: 'patient updated it on the phone',
    };
    const theirsAt = ((await submit(clients.patient, [update])) as Applied).events[0]?.audit_id as number;
    const stale = transcription({
      event_uuid: created.event_uuid,
      parent_audit_id: createdAt,
      data: { ...base, ...mine },
      source_reference: { page_id: 'PAPER-0009', entry_date: '2026-02-09' },
      change_reason: 'Amended against the paper page',
    });
    const result = (await submit(clients.investigator, [stale])) as Conflicted;
    return {
      eventUuid: created.event_uuid,
      createdAt,
      theirsAt,
      stale,
      result,
      conflictId: result.conflicts?.[0]?.conflict_id as number,
    };
  };

  describe('a stale parent is a conflict, and a batch is all-or-nothing [DIARY-BATCH-ATOMIC]', () => {
    it('writes nothing of a batch with one stale parent, records the conflict with the current state, and a resend returns the same conflict [DIARY-BATCH-ATOMIC]', async () => {
      const { eventUuid, theirsAt, stale, result } = await conflictOn(
        { duration_minutes: 10 },
        { intensity: 'severe' },
      );
      expect(result.status).toBe('conflict');
      const fresh = transcription();
      const batch = [fresh, { ...stale, client_request_id: randomUUID() }];
      const refused = (await submit(clients.investigator, batch)) as Conflicted;
      expect(refused).toEqual({
        status: 'conflict',
        conflicts: [
          {
            conflict_id: expect.any(Number),
            client_request_id: batch[1]?.client_request_id,
            event_uuid: eventUuid,
            submitted_parent_audit_id: stale.parent_audit_id,
            current_audit_id: theirsAt,
            current_version: 2,
            current_data: { ...base, duration_minutes: 10 },
          },
        ],
      });
      expect(await state(fresh.event_uuid)).toBeUndefined();
      expect(await state(eventUuid)).toMatchObject({ version: 2 });
      const { rows } = await db.operator.query(
        `select submitted_by::text, submitted_operation, submitted_data, current_data, resolved_at
           from diary.audit_conflicts where conflict_id = $1`,
        [refused.conflicts[0]?.conflict_id],
      );
      expect(rows).toEqual([
        {
          submitted_by: ids.investigator,
          submitted_operation: 'INVESTIGATOR_TRANSCRIPTION',
          submitted_data: stale.data,
          current_data: { ...base, duration_minutes: 10 },
          resolved_at: null,
        },
      ]);
      expect(await auditEntries('diary.conflict', refused.conflicts[0]?.conflict_id as number)).toHaveLength(
        1,
      );
      // The resend of the same batch: the same conflict, recorded once.
      expect(await submit(clients.investigator, batch)).toEqual(refused);
      expect(await auditEntries('diary.conflict', refused.conflicts[0]?.conflict_id as number)).toHaveLength(
        1,
      );
      expect(await state(fresh.event_uuid)).toBeUndefined();
    });
  });

  describe('the submitter resolves a conflict by a new event that names it [DIARY-CONFLICT]', () => {
    const resolve = (client: pg.Client, conflictId: number, strategy: string, seen: number) =>
      client
        .query<{
          r: { audit_id: number; conflict_id: number; strategy: string; data: Record<string, unknown> };
        }>('select public.resolve_diary_conflict($1, $2, $3) as r', [conflictId, strategy, seen])
        .then((result) => result.rows[0]?.r);

    const strategies = [
      ['keep_mine', { ...base, intensity: 'severe' }],
      ['keep_theirs', { ...base, duration_minutes: 10 }],
      ['field_merge', { ...base, intensity: 'severe', duration_minutes: 10 }],
    ] as const;
    for (const [strategy, expected] of strategies) {
      it(`${strategy} writes the chosen values as a new event carrying the resolution and closes the conflict [DIARY-CONFLICT]`, async () => {
        const { eventUuid, theirsAt, conflictId } = await conflictOn(
          { duration_minutes: 10 },
          { intensity: 'severe' },
        );
        const resolved = await resolve(clients.investigator, conflictId, strategy, theirsAt);
        expect(resolved).toMatchObject({ conflict_id: conflictId, strategy, data: expected });
        expect(await state(eventUuid)).toMatchObject({ version: 3, current_data: expected });
        const last = (await eventsOf(eventUuid))[2];
        expect(last).toMatchObject({
          audit_id: resolved?.audit_id,
          operation: 'INVESTIGATOR_TRANSCRIPTION',
          created_by: ids.investigator,
          source_reference: { page_id: 'PAPER-0009' },
          previous_data: { ...base, duration_minutes: 10 },
          conflict_resolution: {
            conflict_id: conflictId,
            strategy,
            conflicting_audit_id: theirsAt,
            resolved_against_audit_id: theirsAt,
            fields_mine: ['intensity'],
            fields_theirs: ['duration_minutes'],
          },
        });
        const { rows } = await db.operator.query(
          `select resolution, resolved_by::text, resolution_audit_id::int, resolved_at is not null as closed
             from diary.audit_conflicts where conflict_id = $1`,
          [conflictId],
        );
        expect(rows).toEqual([
          {
            resolution: strategy,
            resolved_by: ids.investigator,
            resolution_audit_id: resolved?.audit_id,
            closed: true,
          },
        ]);
        expect(await auditEntries('diary.conflict_resolved', conflictId)).toMatchObject([
          { payload: { strategy, audit_id: resolved?.audit_id } },
        ]);
        // Closed: a second resolution is refused.
        const again = await refusal(
          resolve(clients.investigator, conflictId, strategy, resolved?.audit_id as number),
        );
        expect(again).toMatchObject({ code: 'CS409', message: expect.stringMatching(/already resolved/) });
      });
    }

    it('refuses a field merge where both changed the same field, naming it [DIARY-CONFLICT]', async () => {
      const { eventUuid, theirsAt, conflictId } = await conflictOn(
        { duration_minutes: 10, side: 'left' },
        { duration_minutes: 20, intensity: 'severe' },
      );
      const error = await refusal(resolve(clients.investigator, conflictId, 'field_merge', theirsAt));
      expect(error).toMatchObject({ code: 'CS409', message: expect.stringMatching(/duration_minutes/) });
      expect(JSON.parse(error.detail ?? '{}')).toEqual({ fields: ['duration_minutes'] });
      expect(await state(eventUuid)).toMatchObject({ version: 2 });
    });

    it('lets only the submitter resolve, and refuses a stale seen entry with the new state [DIARY-CONFLICT]', async () => {
      const { eventUuid, theirsAt, conflictId } = await conflictOn(
        { duration_minutes: 10 },
        { intensity: 'severe' },
      );
      for (const other of [clients.colleague, clients.patient]) {
        const error = await refusal(resolve(other, conflictId, 'keep_theirs', theirsAt));
        expect(error).toMatchObject({ code: 'CS403' });
      }
      // The patient moves on once more: the entry the investigator saw is no longer the head.
      const moved = (await submit(clients.patient, [
        {
          client_request_id: randomUUID(),
          event_uuid: eventUuid,
          patient_id: ids.patient,
          operation: 'USER_UPDATE',
          data: { ...base, duration_minutes: 12 },
          parent_audit_id: theirsAt,
          change_reason: 'again',
        },
      ])) as Applied;
      const stale = await refusal(resolve(clients.investigator, conflictId, 'keep_mine', theirsAt));
      expect(stale.code).toBe('CS409');
      expect(JSON.parse(stale.detail ?? '{}')).toEqual({
        current_audit_id: moved.events[0]?.audit_id,
        current_version: 3,
        current_data: { ...base, duration_minutes: 12 },
      });
      expect(await state(eventUuid)).toMatchObject({ version: 3 });
      // Against the head now shown, the merge goes through.
      const merged = await resolve(
        clients.investigator,
        conflictId,
        'field_merge',
        moved.events[0]?.audit_id as number,
      );
      expect(merged?.data).toEqual({ ...base, intensity: 'severe', duration_minutes: 12 });
    });
  });
});

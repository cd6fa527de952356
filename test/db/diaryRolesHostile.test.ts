// The diary roles of migration 0059 attacked as the threat model has it (docs/security.md): a person
// with their own PostgreSQL login and psql's freedom, who writes tables directly, sets any setting,
// calls any function they may execute, rolls transactions back, and races themselves over many
// connections. Each case says what they try and what the server must leave behind.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStudy } from './support/operatorActions';
import { newReauthenticatingAdmin, type ReauthenticatingAdmin } from './support/reauthenticatingAdmin';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const password = 'diary-hostile-pass-9876';

type Name =
  | 'patient'
  | 'neighbour'
  | 'farPatient'
  | 'investigator'
  | 'colleague'
  | 'farInvestigator'
  | 'analyst';

interface DiaryEvent {
  client_request_id: string;
  event_uuid: string;
  patient_id: string;
  operation: string;
  data: Record<string, unknown>;
  parent_audit_id: number | null;
  change_reason?: string;
  source_reference?: Record<string, unknown>;
}

interface ServerError {
  code?: string;
  message?: string;
}

describe("the diary roles against a person's own login (0059, 0060)", () => {
  let db: TestDatabase;
  let admin: ReauthenticatingAdmin;
  /** A second administrator (each re-authenticates a few times per 30-second code step at most). */
  let investigatingAdmin: ReauthenticatingAdmin;
  const ids = {} as Record<Name, string>;
  const clients = {} as Record<Name, pg.Client>;
  /** A connection that is not signed in (a LOGIN role that is a member of anon only). */
  let anon: pg.Client;
  let anonRole: string;
  const entry = (fields: object = {}) => ({
    event_type: 'nausea',
    date: '2026-02-10',
    intensity: 'mild',
    ...fields,
  });
  const paper = { page_id: 'PAPER-0042', entry_date: '2026-02-09' };

  const refusal = async (work: Promise<unknown>, what = 'it'): Promise<ServerError> => {
    const error = (await work.then(
      () => null,
      (caught: unknown) => caught,
    )) as ServerError | null;
    expect(error, `the server accepted ${what}`).not.toBeNull();
    return error as ServerError;
  };
  const submit = async (client: pg.Client, events: DiaryEvent[]) =>
    (
      await client.query<{
        r: {
          status: string;
          events?: { audit_id: number }[];
          conflicts?: { conflict_id: number; current_audit_id: number }[];
        };
      }>('select public.submit_diary_events($1::jsonb) as r', [JSON.stringify(events)])
    ).rows[0]?.r;
  const event = (fields: Partial<DiaryEvent> = {}): DiaryEvent => ({
    client_request_id: randomUUID(),
    event_uuid: randomUUID(),
    patient_id: ids.patient,
    operation: 'USER_CREATE',
    data: entry(),
    parent_audit_id: null,
    change_reason: 'new entry',
    ...fields,
  });
  /** A record of the patient's own, written by them through the API; resolves its id and head. */
  const ownRecord = async (patient: Name = 'patient', data: object = entry()) => {
    const created = event({ patient_id: ids[patient], data: data as Record<string, unknown> });
    const result = await submit(clients[patient], [created]);
    return { eventUuid: created.event_uuid, head: Number(result?.events?.[0]?.audit_id) };
  };
  const eventsOf = async (eventUuid: string) =>
    (
      await db.operator.query(
        `select audit_id::int, operation, role, created_by::text, source_reference, previous_data, conflict_resolution, data
           from diary.record_audit where event_uuid = $1 order by audit_id`,
        [eventUuid],
      )
    ).rows;
  const count = async (sql: string, params: unknown[] = []) =>
    Number(
      (await db.operator.query<{ n: string }>(`select count(*)::text as n from (${sql}) x`, params)).rows[0]
        ?.n,
    );
  /** Waits until a backend is blocked on a lock (so a race is really a race, not two turns). */
  const waitUntilBlocked = async (client: pg.Client) => {
    const pid = (client as unknown as { processID: number }).processID;
    for (let tries = 0; tries < 200; tries += 1) {
      const { rows } = await db.operator.query<{ waiting: boolean }>(
        "select wait_event_type = 'Lock' as waiting from pg_stat_activity where pid = $1",
        [pid],
      );
      if (rows[0]?.waiting) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`connection ${pid} never waited for the lock`);
  };
  const correct = (client: pg.Client, eventUuid: string, parent: number, data: object, ceremonyId: string) =>
    client.query<{ r: { audit_id: number; review_id: string } }>(
      'select public.correct_diary_record($1, $2, $3, $4, $5) as r',
      [eventUuid, parent, JSON.stringify(data), 'Patient phoned: the intensity was misread', ceremonyId],
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    const ownerId = await db.provision({
      email: db.email('owner'),
      printedName: 'Owner',
      password,
      roles: [],
    });
    const studyId = await createStudy(db.operator, ownerId, `HX-${db.tag}`);
    await db.operator.query(
      `insert into diary.sites (site_id, site_name, site_number, study_id)
       values ('HX1', 'Hostile one', 'HX-001', $1), ('HX2', 'Hostile two', 'HX-002', $1)`,
      [studyId],
    );
    const roles: Record<Name, string> = {
      patient: 'patient',
      neighbour: 'patient',
      farPatient: 'patient',
      investigator: 'investigator',
      colleague: 'investigator',
      farInvestigator: 'investigator',
      analyst: 'analyst',
    };
    for (const [name, role] of Object.entries(roles) as [Name, string][]) {
      ids[name] = await db.provision({
        email: db.email(name.toLowerCase()),
        printedName: `${name} person`,
        password,
        roles: [{ role: role as never, studyId }],
      });
    }
    await db.operator.query(
      `insert into diary.user_site_assignments (patient_id, site_id, subject_code)
       values ($1, 'HX1', 'HX-0001'), ($2, 'HX1', 'HX-0003'), ($3, 'HX2', 'HX-0101')`,
      [ids.patient, ids.neighbour, ids.farPatient],
    );
    await db.operator.query(
      `insert into diary.investigator_site_assignments (investigator_id, site_id, access_level)
       values ($1, 'HX1', 'full'), ($2, 'HX1', 'full'), ($3, 'HX2', 'full')`,
      [ids.investigator, ids.colleague, ids.farInvestigator],
    );
    await db.operator.query(
      `insert into diary.analyst_site_assignments (analyst_id, site_id) values ($1, 'HX1')`,
      [ids.analyst],
    );
    const newAdmin = (name: string) =>
      newReauthenticatingAdmin(
        (spec) => db.provision(spec),
        { host: db.server.host, port: db.server.port, database: db.name },
        (email, secret) => db.connectAs(email, secret),
        db.email(name),
        password,
      );
    admin = await newAdmin('admin');
    investigatingAdmin = await newAdmin('admin2');
    for (const name of Object.keys(roles) as Name[]) {
      clients[name] = await db.connectAs(db.email(name.toLowerCase()), password);
      await clients[name].query("set lock_timeout = '10s'; set statement_timeout = '30s'");
    }
    anonRole = db.email('anon-login');
    await db.operator.query(
      `create role ${db.operator.escapeIdentifier(anonRole)} with login password ${db.operator.escapeLiteral(password)} in role anon`,
    );
    anon = await db.connectAs(anonRole, password);
  });
  afterAll(async () => {
    await anon?.end().catch(() => undefined);
    await admin?.close();
    await investigatingAdmin?.close();
    if (anonRole) await db?.operator.query(`drop role if exists ${db.operator.escapeIdentifier(anonRole)}`);
    await db?.drop();
  });

  describe('direct writes to the event store [DIARY-HOSTILE-LOGIN]', () => {
    it("refuses an admin's ADMIN_CORRECTION and an investigator's INVESTIGATOR_TRANSCRIPTION inserted directly", async () => {
      const record = await ownRecord();
      const direct = (client: pg.Client, operation: string, role: string, fields: Record<string, unknown>) =>
        client.query(
          `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, created_by, role,
                                           client_timestamp, parent_audit_id, change_reason, source_reference)
           values ($1, $2, 'HX1', $3, $4, $2, $5, now(), $6, 'psql', $7)`,
          [
            fields.event_uuid ?? record.eventUuid,
            ids.patient,
            operation,
            JSON.stringify(entry({ intensity: 'severe' })),
            role,
            'parent' in fields ? fields.parent : record.head,
            fields.source ? JSON.stringify(fields.source) : null,
          ],
        );
      // Forging created_by and role changes nothing: no policy lets these operations in.
      for (const role of ['ADMIN', 'SYSTEM', 'USER']) {
        expect(await refusal(direct(admin.client, 'ADMIN_CORRECTION', role, {}))).toMatchObject({
          code: '42501',
        });
      }
      // The investigator's: refused by RLS, or before it by the event rules (a refusal either way).
      for (const [operation, fields] of [
        ['INVESTIGATOR_TRANSCRIPTION', { source: paper }],
        ['INVESTIGATOR_TRANSCRIPTION', { event_uuid: randomUUID(), parent: null, source: paper }],
        ['ADMIN_CORRECTION', {}],
        ['USER_UPDATE', {}],
      ] as const) {
        const error = await refusal(direct(clients.investigator, operation, 'INVESTIGATOR', fields));
        expect(['42501', 'CS403'], `investigator ${operation}`).toContain(error.code);
      }
      // The patient may not dress up their own write as a correction or a transcription either.
      for (const operation of ['ADMIN_CORRECTION', 'INVESTIGATOR_TRANSCRIPTION']) {
        const error = await refusal(
          direct(clients.patient, operation, 'ADMIN', {
            source: operation.startsWith('I') ? paper : undefined,
          }),
        );
        expect(['42501', 'CS403'], `patient ${operation}`).toContain(error.code);
      }
      expect(await eventsOf(record.eventUuid)).toHaveLength(1);
    });

    it('refuses a source reference from a patient, and replaces the previous_data a patient sends with the server’s', async () => {
      const record = await ownRecord();
      const insert = (
        operation: string,
        eventUuid: string,
        parent: number | null,
        extra: Record<string, unknown>,
      ) =>
        clients.patient.query<{ audit_id: number }>(
          `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp,
                                           parent_audit_id, change_reason, source_reference, previous_data)
           values ($1, $2, 'HX1', $3, $4, now(), $5, 'my own write', $6, $7) returning audit_id::int`,
          [
            eventUuid,
            ids.patient,
            operation,
            JSON.stringify(entry({ intensity: 'moderate' })),
            parent,
            extra.source ? JSON.stringify(extra.source) : null,
            extra.previous ? JSON.stringify(extra.previous) : null,
          ],
        );
      // A paper source on the patient's own entry, directly and through the API.
      expect(
        await refusal(insert('USER_UPDATE', record.eventUuid, record.head, { source: paper })),
      ).toMatchObject({
        code: 'CS422',
      });
      expect(await refusal(insert('USER_CREATE', randomUUID(), null, { source: paper }))).toMatchObject({
        code: 'CS422',
      });
      expect(await refusal(submit(clients.patient, [event({ source_reference: paper })]))).toMatchObject({
        code: 'CS422',
      });
      // Forged previous values: the server's own take their place, on an update and on a creation.
      const forged = { event_type: 'other', date: '1999-01-01', notes: 'never was' };
      const updated = await insert('USER_UPDATE', record.eventUuid, record.head, { previous: forged });
      const created = randomUUID();
      await insert('USER_CREATE', created, null, { previous: forged });
      const history = await eventsOf(record.eventUuid);
      expect(history[1]).toMatchObject({
        audit_id: updated.rows[0]?.audit_id,
        previous_data: entry(),
        source_reference: null,
      });
      expect((await eventsOf(created))[0]).toMatchObject({ previous_data: null, source_reference: null });
    });
  });

  describe('the ids of the event store [DIARY-HOSTILE-LOGIN]', () => {
    it("refuses an audit_id a patient chooses ahead of the sequence, so nobody else's next write is taken", async () => {
      const record = await ownRecord();
      const { rows } = await db.operator.query<{ last: string }>(
        "select pg_sequence_last_value(pg_get_serial_sequence('diary.record_audit', 'audit_id'))::text as last",
      );
      const ahead = Number(rows[0]?.last) + 3;
      // OVERRIDING SYSTEM VALUE is open to anyone who may insert into the table.
      const error = await refusal(
        clients.patient.query(
          `insert into diary.record_audit (audit_id, event_uuid, patient_id, site_id, operation, data, client_timestamp,
                                           parent_audit_id, change_reason)
           overriding system value
           values ($1, $2, $3, 'HX1', 'USER_UPDATE', $4, now(), $5, 'an id of my choosing')`,
          [ahead, record.eventUuid, ids.patient, JSON.stringify(entry({ intensity: 'severe' })), record.head],
        ),
      );
      expect(['CS422', '42501', 'CS403']).toContain(error.code);
      // The ids after it are still everyone's: five writes of the patient next door all land.
      for (let i = 0; i < 5; i += 1) {
        expect((await submit(clients.neighbour, [event({ patient_id: ids.neighbour })]))?.status).toBe(
          'applied',
        );
      }
      expect(await eventsOf(record.eventUuid)).toHaveLength(1);
    });
  });

  describe('the partitioned event store (0060) [DIARY-HOSTILE-LOGIN]', () => {
    it('lets only an administrator make partitions, and nobody route a row or reach a partition themselves', async () => {
      for (const name of ['patient', 'investigator', 'analyst'] as const) {
        const error = await refusal(clients[name].query('select public.ensure_diary_partitions(1)'));
        expect(error.code, name).toBe('CS403');
      }
      expect((await refusal(anon.query('select public.ensure_diary_partitions(1)'))).code).toBe('42501');
      const record = await ownRecord();
      // A server_timestamp of the patient's choosing would route the row to another month.
      const routed = await refusal(
        clients.patient.query(
          `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp,
                                           parent_audit_id, change_reason, server_timestamp)
           values ($1, $2, 'HX1', 'USER_UPDATE', $3, now(), $4, 'next year', now() + interval '13 months')`,
          [record.eventUuid, ids.patient, JSON.stringify(entry({ intensity: 'severe' })), record.head],
        ),
      );
      expect(routed.code).toBe('CS422');
      const { rows } = await db.operator.query<{ name: string }>(
        `select c.oid::regclass::text as name from pg_catalog.pg_inherits i join pg_catalog.pg_class c on c.oid = i.inhrelid
          where i.inhparent = 'diary.record_audit'::regclass`,
      );
      expect(rows.length).toBeGreaterThan(1);
      for (const { name } of rows) {
        expect((await refusal(clients.patient.query(`select count(*) from ${name}`))).code, name).toBe(
          '42501',
        );
      }
      expect(await eventsOf(record.eventUuid)).toHaveLength(1);
    });
  });

  describe('conflicts [DIARY-HOSTILE-LOGIN]', () => {
    /** A transcribed record of the patient's with a conflict the investigator's stale write left. */
    const investigatorsConflict = async () => {
      const created = event({
        operation: 'INVESTIGATOR_TRANSCRIPTION',
        source_reference: paper,
        change_reason: 'paper',
      });
      const first = await submit(clients.investigator, [created]);
      const createdAt = Number(first?.events?.[0]?.audit_id);
      // The patient moves the record on; the investigator's next page is written against the old head.
      const moved = await submit(clients.patient, [
        event({
          event_uuid: created.event_uuid,
          operation: 'USER_UPDATE',
          parent_audit_id: createdAt,
          data: entry({ intensity: 'severe' }),
        }),
      ]);
      const stale = await submit(clients.investigator, [
        event({
          event_uuid: created.event_uuid,
          operation: 'INVESTIGATOR_TRANSCRIPTION',
          parent_audit_id: createdAt,
          source_reference: paper,
          change_reason: 'paper, page 2',
          data: entry({ duration_minutes: 20 }),
        }),
      ]);
      expect(stale?.status).toBe('conflict');
      return {
        eventUuid: created.event_uuid,
        head: Number(moved?.events?.[0]?.audit_id),
        conflictId: Number(stale?.conflicts?.[0]?.conflict_id),
      };
    };
    const isOpen = async (conflictId: number) =>
      (
        await db.operator.query(
          'select resolved_at is null as open from diary.audit_conflicts where conflict_id = $1',
          [conflictId],
        )
      ).rows[0]?.open;

    it("refuses a patient closing someone else's conflict by an event that names it", async () => {
      const conflict = await investigatorsConflict();
      for (const strategy of ['keep_mine', 'keep_theirs', 'field_merge']) {
        // The record is the patient's own, so they may write to it; naming the investigator's conflict is refused.
        const error = await refusal(
          clients.patient.query(
            `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp,
                                             parent_audit_id, change_reason, conflict_resolution)
             values ($1, $2, 'HX1', 'USER_UPDATE', $3, now(), $4, 'closing it', $5)`,
            [
              conflict.eventUuid,
              ids.patient,
              JSON.stringify(entry()),
              conflict.head,
              JSON.stringify({ conflict_id: conflict.conflictId, strategy }),
            ],
          ),
        );
        expect(['42501', 'CS403']).toContain(error.code);
        expect(
          await refusal(
            clients.patient.query('select public.resolve_diary_conflict($1, $2, $3)', [
              conflict.conflictId,
              strategy,
              conflict.head,
            ]),
          ),
        ).toMatchObject({ code: 'CS403' });
      }
      // Another patient names it from their own record: not a conflict of that record.
      const neighbours = await ownRecord('neighbour');
      const other = await refusal(
        clients.neighbour.query(
          `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp,
                                           parent_audit_id, change_reason, conflict_resolution)
           values ($1, $2, 'HX1', 'USER_UPDATE', $3, now(), $4, 'closing it', $5)`,
          [
            neighbours.eventUuid,
            ids.neighbour,
            JSON.stringify(entry()),
            neighbours.head,
            JSON.stringify({ conflict_id: conflict.conflictId, strategy: 'keep_mine' }),
          ],
        ),
      );
      expect(['42501', 'CS403', 'CS422']).toContain(other.code);
      expect(await isOpen(conflict.conflictId)).toBe(true);
      expect(await eventsOf(conflict.eventUuid)).toHaveLength(2);
    });

    it('records a resolution only as the server computes it: a direct event naming even their own conflict is refused', async () => {
      // The patient's own stale write leaves a conflict of theirs.
      const record = await ownRecord();
      await submit(clients.patient, [
        event({
          event_uuid: record.eventUuid,
          operation: 'USER_UPDATE',
          parent_audit_id: record.head,
          data: entry({ intensity: 'severe' }),
        }),
      ]);
      const stale = await submit(clients.patient, [
        event({
          event_uuid: record.eventUuid,
          operation: 'USER_UPDATE',
          parent_audit_id: record.head,
          data: entry({ side: 'left' }),
        }),
      ]);
      const conflictId = Number(stale?.conflicts?.[0]?.conflict_id);
      const head = Number(stale?.conflicts?.[0]?.current_audit_id);
      // A "field merge" the server never computed, with made-up metadata, written directly.
      const forged = await refusal(
        clients.patient.query(
          `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp,
                                           parent_audit_id, change_reason, conflict_resolution)
           values ($1, $2, 'HX1', 'USER_UPDATE', $3, now(), $4, 'merged', $5)`,
          [
            record.eventUuid,
            ids.patient,
            JSON.stringify(entry({ intensity: 'mild', duration_minutes: 999 })),
            head,
            JSON.stringify({
              conflict_id: conflictId,
              strategy: 'field_merge',
              fields_mine: [],
              fields_theirs: [],
            }),
          ],
        ),
      );
      expect(forged.code).toBe('42501');
      expect(await isOpen(conflictId)).toBe(true);
      // Through the function it is the server's merge.
      const { rows } = await clients.patient.query('select public.resolve_diary_conflict($1, $2, $3) as r', [
        conflictId,
        'field_merge',
        head,
      ]);
      expect(rows[0]?.r).toMatchObject({
        strategy: 'field_merge',
        data: entry({ intensity: 'severe', side: 'left' }),
      });
      expect(await isOpen(conflictId)).toBe(false);
    });

    it("keeps a request id its submitter's: another's conflicted request id is refused, not answered with their conflict", async () => {
      /** A record moved on by its patient, and that patient's stale write to it: a conflict. */
      const staleWrite = async (patient: Name, requestId: string) => {
        const record = await ownRecord(patient);
        await submit(clients[patient], [
          event({
            patient_id: ids[patient],
            event_uuid: record.eventUuid,
            operation: 'USER_UPDATE',
            parent_audit_id: record.head,
            data: entry({ intensity: 'severe' }),
          }),
        ]);
        return submit(clients[patient], [
          event({
            client_request_id: requestId,
            patient_id: ids[patient],
            event_uuid: record.eventUuid,
            operation: 'USER_UPDATE',
            parent_audit_id: record.head,
            data: entry({ side: 'right' }),
          }),
        ]);
      };
      const requestId = randomUUID();
      const theirs = await staleWrite('neighbour', requestId);
      expect(theirs?.status).toBe('conflict');
      // The patient sends a stale write of their own under the neighbour's request id.
      const before = await count('select 1 from diary.audit_conflicts where submitted_by = $1', [
        ids.patient,
      ]);
      const error = await refusal(staleWrite('patient', requestId));
      expect(error.code).toBe('CS422');
      expect(await count('select 1 from diary.audit_conflicts where submitted_by = $1', [ids.patient])).toBe(
        before,
      );
    });

    it('lets nobody write conflicts or correction reviews, whatever settings they make', async () => {
      const record = await ownRecord();
      const people: [string, pg.Client][] = [
        ['anon', anon],
        ['patient', clients.patient],
        ['investigator', clients.investigator],
        ['analyst', clients.analyst],
        ['admin', admin.client],
      ];
      const attempts = (table: string) => [
        table === 'diary.audit_conflicts'
          ? {
              sql: `insert into diary.audit_conflicts (event_uuid, patient_id, site_id, current_audit_id, submitted_data, submitted_by)
                    values ($1, $2, 'HX1', $3, '{}', $2)`,
              params: [record.eventUuid, ids.patient, record.head],
            }
          : {
              sql: `insert into diary.correction_review (audit_id, event_uuid, patient_id, site_id, corrected_by, corrected_at, justification, changed_fields)
                    values ($3, $1, $2, 'HX1', $2, now(), 'forged', '{intensity}')`,
              params: [record.eventUuid, ids.patient, record.head],
            },
        {
          sql:
            table === 'diary.audit_conflicts'
              ? `update diary.audit_conflicts set resolved_at = now(), resolution = 'keep_mine'`
              : `update diary.correction_review set status = 'acknowledged', decided_at = now()`,
          params: [],
        },
        { sql: `delete from ${table}`, params: [] },
        { sql: `truncate ${table}`, params: [] },
      ];
      for (const [who, client] of people) {
        for (const table of ['diary.audit_conflicts', 'diary.correction_review']) {
          for (const setting of ['audit_conflicts', 'correction_review']) {
            await client.query('begin');
            try {
              await client.query("select set_config('countersign.server_write', $1, true)", [setting]);
              await client.query("select set_config('countersign.bootstrap', 'on', true)");
              for (const { sql, params } of attempts(table)) {
                await client.query('savepoint attempt');
                const error = await refusal(client.query(sql, params));
                expect(error.code, `${who}: ${sql} (server_write ${setting})`).toBe('42501');
                await client.query('rollback to savepoint attempt');
              }
            } finally {
              await client.query('rollback');
            }
          }
        }
      }
    });
  });

  describe("the analyst's reach [DIARY-HOSTILE-LOGIN]", () => {
    it('reads no raw diary row, whatever claims, settings or role they set', async () => {
      await ownRecord();
      await ownRecord('farPatient');
      const analyst = clients.analyst;
      const raw = [
        'diary.record_state',
        'diary.record_audit',
        'diary.audit_conflicts',
        'diary.correction_review',
        'diary.event_request',
        'diary.investigator_annotations',
      ];
      const tricks = [
        [],
        [
          "select set_config('request.jwt.claims', $1, true)",
          JSON.stringify({ sub: admin.id, role: 'authenticated' }),
        ],
        ["select set_config('request.jwt.claim.sub', $1, true)", admin.id],
        ["select set_config('countersign.bootstrap', 'on', true)"],
        ["select set_config('countersign.server_write', 'record_state', true)"],
        ['set local role authenticated'],
      ] as const;
      for (const [sql, ...params] of tricks) {
        await analyst.query('begin');
        try {
          if (sql) await analyst.query(sql, [...params]);
          for (const table of raw) {
            const { rows } = await analyst.query(`select count(*)::int as n from ${table}`);
            expect(rows[0]?.n, `${table} after ${sql ?? 'nothing'}`).toBe(0);
          }
          const { rows } = await analyst.query('select auth.uid()::text as uid');
          expect(rows[0]?.uid).toBe(ids.analyst);
        } finally {
          await analyst.query('rollback');
        }
      }
    });

    it('reads the de-identified entries of their own sites only, every column evaluated', async () => {
      const own = await ownRecord(
        'patient',
        entry({ notes: 'My neighbour Jane drove me to hospital', time: '08:30' }),
      );
      const far = await ownRecord('farPatient');
      const { rows } = await clients.analyst.query('select * from diary.deidentified_entry');
      const byId = new Map(rows.map((row) => [row.entry_id, row]));
      expect(byId.has(far.eventUuid)).toBe(false);
      expect(rows.every((row) => row.site_id === 'HX1')).toBe(true);
      expect(byId.get(own.eventUuid)).toMatchObject({
        subject_code: 'HX-0001',
        origin: 'patient',
        corrected: false,
        data: { event_type: 'nausea', intensity: 'mild', time: '08:30', date_study_day: expect.any(Number) },
      });
      expect(JSON.stringify(byId.get(own.eventUuid))).not.toMatch(/Jane|neighbour|2026-02-10/);
      expect(Object.keys(byId.get(own.eventUuid) ?? {})).not.toContain('patient_id');
      // Nobody else reads it: the investigator of the site, the patient, the admin (they read the raw rows).
      for (const client of [clients.investigator, clients.patient, admin.client]) {
        const { rows: seen } = await client.query('select count(*)::int as n from diary.deidentified_entry');
        expect(seen[0]?.n).toBe(0);
      }
      expect((await refusal(anon.query('select * from diary.deidentified_entry'))).code).toBe('42501');
    });

    it("learns nothing more from the view's helpers, and cannot call any rule's internals", async () => {
      const own = await ownRecord();
      const { rows: build } = await db.operator.query(
        'select build_id::text from diary.record_state where event_uuid = $1',
        [own.eventUuid],
      );
      // The view's own helpers run as its reader, so they are callable; called directly they answer
      // only about entries at the caller's analyst sites (as the view does), and nothing to anyone else.
      const far = await ownRecord('farPatient');
      const helpers =
        'select cs_private.diary_entry_origin($1) as origin, cs_private.diary_entry_corrected($1) as corrected';
      expect((await clients.analyst.query(helpers, [own.eventUuid])).rows[0]).toEqual({
        origin: 'patient',
        corrected: false,
      });
      expect((await clients.analyst.query(helpers, [far.eventUuid])).rows[0]).toEqual({
        origin: null,
        corrected: false,
      });
      for (const client of [clients.patient, clients.investigator, admin.client]) {
        expect((await client.query(helpers, [own.eventUuid])).rows[0]).toEqual({
          origin: null,
          corrected: false,
        });
      }
      expect(
        (
          await clients.analyst.query('select cs_private.deidentified_diary_data($1, $2, $3) as d', [
            build[0]?.build_id,
            JSON.stringify(entry({ notes: 'Jane Doe, 12 Elm Street' })),
            '2026-02-01',
          ])
        ).rows[0]?.d,
      ).toEqual({ event_type: 'nausea', intensity: 'mild', date_study_day: 10 });
      for (const [sql, params] of [
        ["select cs_private.study_day('2026-02-10', '2026-01-01')", []],
        ['select cs_private.changed_fields($1, $2)', ['{}', '{}']],
        ['select cs_private.check_conflict_resolution($1, $2)', ['{}', own.eventUuid]],
        ['select cs_private.spend_reauth($1)', [randomUUID()]],
        ['select cs_private.check_source_reference($1)', [JSON.stringify(paper)]],
        ['select cs_private.client_time($1)', ['2026-01-01T00:00:00Z']],
      ] as const) {
        expect((await refusal(clients.analyst.query(sql, [...params]), sql)).code, sql).toBe('42501');
      }
    });
  });

  describe('submit_diary_events as someone else [DIARY-HOSTILE-LOGIN]', () => {
    it("refuses another patient's id, another site's patient and operations it does not write, writing nothing", async () => {
      const neighbours = await ownRecord('neighbour');
      const before = await count('select 1 from diary.record_audit');
      const cases: [string, pg.Client, DiaryEvent, string][] = [
        [
          'a patient writes for the patient next door',
          clients.patient,
          event({ patient_id: ids.neighbour }),
          'CS403',
        ],
        [
          'a patient writes for a patient at another site',
          clients.patient,
          event({ patient_id: ids.farPatient }),
          'CS403',
        ],
        [
          "a patient writes their own id onto the neighbour's record",
          clients.patient,
          event({
            event_uuid: neighbours.eventUuid,
            operation: 'USER_UPDATE',
            parent_audit_id: neighbours.head,
          }),
          'CS403',
        ],
        [
          'an investigator transcribes for a patient at another site',
          clients.investigator,
          event({
            patient_id: ids.farPatient,
            operation: 'INVESTIGATOR_TRANSCRIPTION',
            source_reference: paper,
          }),
          'CS403',
        ],
        [
          'an investigator writes as the patient',
          clients.investigator,
          event({ operation: 'USER_CREATE' }),
          'CS403',
        ],
        [
          'a patient transcribes for themselves',
          clients.patient,
          event({ operation: 'INVESTIGATOR_TRANSCRIPTION', source_reference: paper }),
          'CS403',
        ],
        [
          'an admin corrects through it',
          admin.client,
          event({
            event_uuid: neighbours.eventUuid,
            patient_id: ids.neighbour,
            operation: 'ADMIN_CORRECTION',
            parent_audit_id: neighbours.head,
          }),
          'CS422',
        ],
        [
          'a patient corrects their own record through it',
          clients.patient,
          event({ operation: 'ADMIN_CORRECTION' }),
          'CS422',
        ],
        ['the analyst writes', clients.analyst, event(), 'CS403'],
      ];
      for (const [what, client, written, code] of cases) {
        expect((await refusal(submit(client, [written]))).code, what).toBe(code);
        // Nor does an allowed event beside it get through: the batch is refused whole.
        expect(
          (await refusal(submit(client, [event({ patient_id: ids.patient }), written].reverse()))).code,
          what,
        ).toMatch(/^CS4(03|22)$/);
      }
      expect(await count('select 1 from diary.record_audit')).toBe(before);
      expect((await refusal(anon.query('select public.submit_diary_events($1::jsonb)', ['[]']))).code).toBe(
        '42501',
      );
    });
  });

  describe('the review of a correction [DIARY-HOSTILE-LOGIN]', () => {
    it('is never decided by the administrator who made the correction, even as an investigator of the site', async () => {
      await db.operator.query(
        `insert into diary.investigator_site_assignments (investigator_id, site_id, access_level) values ($1, 'HX1', 'full')`,
        [investigatingAdmin.id],
      );
      try {
        const record = await ownRecord();
        const made = await correct(
          investigatingAdmin.client,
          record.eventUuid,
          record.head,
          entry({ intensity: 'severe' }),
          await investigatingAdmin.reauthenticate(),
        );
        const reviewId = made.rows[0]?.r.review_id as string;
        const own = await refusal(
          investigatingAdmin.client.query('select public.review_diary_correction($1, $2, $3)', [
            reviewId,
            'acknowledged',
            null,
          ]),
        );
        expect(own.code).toBe('CS403');
        const { rows } = await db.operator.query(
          'select status from diary.correction_review where review_id = $1',
          [reviewId],
        );
        expect(rows).toEqual([{ status: 'pending' }]);
        // Another investigator of the site still can.
        await clients.colleague.query('select public.review_diary_correction($1, $2, $3)', [
          reviewId,
          'acknowledged',
          null,
        ]);
      } finally {
        await db.operator.query(
          "delete from diary.investigator_site_assignments where investigator_id = $1 and site_id = 'HX1'",
          [investigatingAdmin.id],
        );
      }
    });
  });

  describe("the admin's re-authentication [DIARY-HOSTILE-LOGIN]", () => {
    const attemptOutcome = async (ceremonyId: string) =>
      (
        await db.operator.query('select outcome from cs_private.reauth_attempt where ceremony_id = $1', [
          ceremonyId,
        ])
      ).rows[0]?.outcome;

    it('is not spent by a correction the admin rolls back, which writes nothing; a committed one spends it for good', async () => {
      const record = await ownRecord();
      const ceremonyId = await admin.reauthenticate();
      const auditBefore = await count("select 1 from audit.audit_log where event_type = 'diary.correction'");
      await admin.client.query('begin');
      try {
        const tried = await correct(
          admin.client,
          record.eventUuid,
          record.head,
          entry({ intensity: 'severe' }),
          ceremonyId,
        );
        expect(tried.rows[0]?.r.review_id).toBeTruthy();
      } finally {
        await admin.client.query('rollback');
      }
      // Nothing was written: no event, no review, no audit entry, and the attempt is as it was.
      expect(await eventsOf(record.eventUuid)).toHaveLength(1);
      expect(
        await count('select 1 from diary.correction_review where event_uuid = $1', [record.eventUuid]),
      ).toBe(0);
      expect(await count("select 1 from audit.audit_log where event_type = 'diary.correction'")).toBe(
        auditBefore,
      );
      expect(await attemptOutcome(ceremonyId)).toBe('verified');
      // So it can still be used, once.
      const done = await correct(
        admin.client,
        record.eventUuid,
        record.head,
        entry({ intensity: 'severe' }),
        ceremonyId,
      );
      expect(await attemptOutcome(ceremonyId)).toBe('consumed');
      const again = await refusal(
        correct(
          admin.client,
          record.eventUuid,
          done.rows[0]?.r.audit_id as number,
          entry({ intensity: 'moderate' }),
          ceremonyId,
        ),
      );
      expect(again.code).toBe('CS403');
      // Spent stays spent, in a new transaction and a savepoint too.
      await admin.client.query('begin');
      await admin.client.query('savepoint s');
      const inSavepoint = await refusal(
        correct(
          admin.client,
          record.eventUuid,
          done.rows[0]?.r.audit_id as number,
          entry({ intensity: 'moderate' }),
          ceremonyId,
        ),
      );
      await admin.client.query('rollback');
      expect(inSavepoint.code).toBe('CS403');
      expect(await eventsOf(record.eventUuid)).toHaveLength(2);
      expect(
        await count('select 1 from diary.correction_review where event_uuid = $1', [record.eventUuid]),
      ).toBe(1);
    });

    it("is the admin's own: a patient who knows its ceremony id corrects nothing and spends nothing", async () => {
      const record = await ownRecord();
      const ceremonyId = await admin.reauthenticate();
      // The patient knows the ceremony id (say, from a screen): it is not theirs, and they are not an admin.
      expect(
        (
          await refusal(
            correct(
              clients.patient,
              record.eventUuid,
              record.head,
              entry({ intensity: 'severe' }),
              ceremonyId,
            ),
          )
        ).code,
      ).toBe('CS403');
      expect(await attemptOutcome(ceremonyId)).toBe('verified');
    });
  });

  describe('races over many connections [DIARY-HOSTILE-CONCURRENCY]', () => {
    it('two submissions creating one record, one held open: exactly one record, the other a conflict', async () => {
      const deviceA = await db.connectAs(db.email('patient'), password);
      const deviceB = await db.connectAs(db.email('patient'), password);
      try {
        const eventUuid = randomUUID();
        const first = event({ event_uuid: eventUuid, data: entry({ intensity: 'mild' }) });
        const second = event({ event_uuid: eventUuid, data: entry({ intensity: 'severe' }) });
        await deviceA.query('begin');
        const applied = await submit(deviceA, [first]);
        expect(applied?.status).toBe('applied');
        const racing = submit(deviceB, [second]);
        await waitUntilBlocked(deviceB);
        await deviceA.query('commit');
        const lost = await racing;
        expect(lost).toMatchObject({
          status: 'conflict',
          conflicts: [{ event_uuid: eventUuid, current_audit_id: applied?.events?.[0]?.audit_id }],
        });
        expect(await eventsOf(eventUuid)).toHaveLength(1);
        expect(await count('select 1 from diary.audit_conflicts where event_uuid = $1', [eventUuid])).toBe(1);
        expect(await count('select 1 from diary.record_state where event_uuid = $1', [eventUuid])).toBe(1);
      } finally {
        await deviceA.end();
        await deviceB.end();
      }
    });

    it('a submission whose snapshot predates the other creation is refused, not written twice', async () => {
      const deviceA = await db.connectAs(db.email('patient'), password);
      const deviceB = await db.connectAs(db.email('patient'), password);
      try {
        const eventUuid = randomUUID();
        await deviceB.query('begin isolation level repeatable read');
        await deviceB.query('select count(*) from diary.record_state');
        expect((await submit(deviceA, [event({ event_uuid: eventUuid })]))?.status).toBe('applied');
        const late = await submit(deviceB, [
          event({ event_uuid: eventUuid, data: entry({ intensity: 'severe' }) }),
        ]).then(
          (result) => ({ result, error: null as ServerError | null }),
          (error: ServerError) => ({ result: null, error }),
        );
        await deviceB.query('rollback');
        // Either refused outright or returned as a conflict; never a second creation.
        if (late.error) expect(late.error.code).toMatch(/^(40001|23505|CS409)$/);
        else expect(late.result?.status).toBe('conflict');
        expect(await eventsOf(eventUuid)).toHaveLength(1);
      } finally {
        await deviceA.end();
        await deviceB.end();
      }
    });

    it('six devices creating one record at once: one applied, five conflicts', async () => {
      const devices = await Promise.all(
        Array.from({ length: 6 }, () => db.connectAs(db.email('patient'), password)),
      );
      try {
        const eventUuid = randomUUID();
        const results = await Promise.all(
          devices.map((device, i) =>
            submit(device, [event({ event_uuid: eventUuid, data: entry({ duration_minutes: i }) })]),
          ),
        );
        expect(results.filter((result) => result?.status === 'applied')).toHaveLength(1);
        expect(results.filter((result) => result?.status === 'conflict')).toHaveLength(5);
        expect(await eventsOf(eventUuid)).toHaveLength(1);
        expect(await count('select 1 from diary.audit_conflicts where event_uuid = $1', [eventUuid])).toBe(5);
      } finally {
        await Promise.all(devices.map((device) => device.end()));
      }
    });

    it("a refused write to someone else's record, its transaction left open, holds no lock on it", async () => {
      // PostgreSQL releases a transaction's locks when a statement fails in it (the transaction
      // waits for ROLLBACK holding nothing), so the record's locks the refused write took are gone.
      const record = await ownRecord();
      const direct = `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp, parent_audit_id, change_reason)
                      values ($1, $2, 'HX1', 'USER_UPDATE', $3, now(), $4, 'psql')`;
      const attempts: [string, pg.Client, (head: number) => [string, unknown[]]][] = [
        [
          'the analyst inserts into it directly',
          clients.analyst,
          (head) => [direct, [record.eventUuid, ids.patient, JSON.stringify(entry()), head]],
        ],
        [
          "another site's investigator inserts into it directly",
          clients.farInvestigator,
          (head) => [direct, [record.eventUuid, ids.patient, JSON.stringify(entry()), head]],
        ],
        [
          'the patient next door names it as their own',
          clients.neighbour,
          (head) => [direct, [record.eventUuid, ids.neighbour, JSON.stringify(entry()), head]],
        ],
        [
          'the patient next door sends it through the API',
          clients.neighbour,
          (head) => [
            'select public.submit_diary_events($1::jsonb)',
            [
              JSON.stringify([
                event({
                  event_uuid: record.eventUuid,
                  patient_id: ids.neighbour,
                  operation: 'USER_UPDATE',
                  parent_audit_id: head,
                }),
              ]),
            ],
          ],
        ],
      ];
      let head = record.head;
      for (const [what, attacker, attempt] of attempts) {
        const [sql, params] = attempt(head);
        await attacker.query('begin');
        try {
          const error = await refusal(attacker.query(sql, params), what);
          expect(['42501', 'CS403'], what).toContain(error.code);
          const device = await db.connectAs(db.email('patient'), password);
          try {
            await device.query("set lock_timeout = '2s'");
            const result = await submit(device, [
              event({
                event_uuid: record.eventUuid,
                operation: 'USER_UPDATE',
                parent_audit_id: head,
                data: entry({ duration_minutes: head % 1000 }),
              }),
            ]);
            expect(result?.status, what).toBe('applied');
            head = Number(result?.events?.[0]?.audit_id);
          } finally {
            await device.end();
          }
        } finally {
          await attacker.query('rollback');
        }
      }
    });

    it('two investigators deciding one correction at once: exactly one decision', async () => {
      const record = await ownRecord();
      const corrected = await correct(
        admin.client,
        record.eventUuid,
        record.head,
        entry({ intensity: 'severe' }),
        await admin.reauthenticate(),
      );
      const reviewId = corrected.rows[0]?.r.review_id as string;
      const decide = (client: pg.Client, decision: string, comment: string | null) =>
        client.query('select public.review_diary_correction($1, $2, $3) as r', [reviewId, decision, comment]);
      await clients.investigator.query('begin');
      await decide(clients.investigator, 'acknowledged', null);
      const racing = decide(clients.colleague, 'disputed', 'The paper says mild').then(
        () => null,
        (error: ServerError) => error,
      );
      await waitUntilBlocked(clients.colleague);
      await clients.investigator.query('commit');
      expect(await racing).toMatchObject({ code: 'CS409' });
      const { rows } = await db.operator.query(
        'select status, decided_by::text, decision_comment from diary.correction_review where review_id = $1',
        [reviewId],
      );
      expect(rows).toEqual([
        { status: 'acknowledged', decided_by: ids.investigator, decision_comment: null },
      ]);
      expect(
        await count(
          "select 1 from audit.audit_log where event_type = 'diary.correction_reviewed' and payload ->> 'review_id' = $1",
          [reviewId],
        ),
      ).toBe(1);
      // An investigator of another site is refused whatever the state.
      expect((await refusal(decide(clients.farInvestigator, 'acknowledged', null))).code).toBe('CS403');
    });
  });
});

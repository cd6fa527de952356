// Protocol builds read from the cache (schema 8): the build panel's builds (current and superseded
// derived from the study's completed builds), the build named beside every value (queue rows,
// provenance, diary records, history entries and annotations), a record whose history spans builds,
// and the filters by build of the queue (from its covering index) and of the diary lists.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { studyBuildDiff } from '../../../src/main/builds/studyBuilds';
import { cachedBuildRefs, cachedStudyBuilds } from '../../../src/main/cache/cachedBuilds';
import { cachedStagingDetail } from '../../../src/main/cache/cachedStagingDetail';
import {
  cachedDiaryRecords,
  cachedProvenance,
  cachedRecordTrail,
  cachedStagingQueue,
} from '../../../src/main/cache/cacheReads';
import { cachedDiaryHistory, cachedDiaryPatients } from '../../../src/main/cache/diaryReads';
import { openCache } from '../../../src/main/cache/openCache';
import { UserFacingError } from '../../../src/main/userFacingError';

const study = randomUUID();
const otherStudy = randomUUID();
const b1 = randomUUID();
const b2 = randomUUID();
const failed = randomUUID();
const otherB1 = randomUUID();
const patient = randomUUID();
const spanning = randomUUID();
const single = randomUUID();
const admin = randomUUID();

const diaryForm = (max: number, extra: object[] = []) => ({
  forms: [
    {
      code: 'diary_entry',
      kind: 'diary',
      title: 'Patient diary entry',
      fields: [
        { code: 'date', label: 'Date', type: 'date', required: true },
        { code: 'duration_minutes', label: 'Duration (minutes)', type: 'integer', min: 0, max },
        ...extra,
      ],
    },
  ],
});

/** A build's server row as to_jsonb renders it (timestamps with the session's offset). */
function buildDoc(row: {
  id: string;
  study: string;
  number: string;
  status: string;
  type: string;
  sequence: number | null;
  created: string;
  configuration: unknown;
  errorLog?: unknown[];
}) {
  return {
    id: row.id,
    study_id: row.study,
    build_number: row.number,
    build_version: `${row.number.slice(1)}.0`,
    build_status: row.status,
    build_description: `Build ${row.number}`,
    build_type: row.type,
    amendment_reference: row.type === 'AMENDMENT' ? 'Amendment 1' : null,
    build_start_time: '2026-03-01T10:00:00+01:00',
    build_end_time:
      row.status === 'COMPLETED' || row.status === 'FAILED' ? '2026-03-01T10:00:02.5+01:00' : null,
    build_duration_seconds: row.status === 'COMPLETED' ? 2 : null,
    configuration_snapshot: row.configuration,
    configuration_sha256: 'a'.repeat(64),
    total_visits: 0,
    total_forms: 1,
    total_fields: 2,
    validation_rules_count: 3,
    visits_built: 0,
    forms_built: 1,
    error_count: row.errorLog ? 1 : 0,
    error_log: row.errorLog ?? [],
    completed_sequence: row.sequence,
    built_by: admin,
    created_at: row.created,
    updated_at: row.created,
  };
}

describe('protocol builds from the cache', () => {
  let dir: string;
  let db: Database;
  const staging = { underB1: randomUUID(), underB2: randomUUID(), unknownBuild: randomUUID() };
  const annotation = { before: randomUUID(), after: randomUUID() };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-builds-'));
    db = openCache({ path: join(dir, 'c.sqlite'), key: randomBytes(32), userId: admin, backendId: 'b' });
    const insertBuild = db.prepare(
      `insert into study_build (id, study_id, build_number, build_version, build_status, build_type,
         completed_sequence, doc, sync_xid) values (?, ?, ?, ?, ?, ?, ?, ?, '1')`,
    );
    for (const doc of [
      buildDoc({
        id: b1,
        study,
        number: 'B1',
        status: 'COMPLETED',
        type: 'INITIAL',
        sequence: 1,
        created: '2026-03-01T09:00:00+00:00',
        configuration: diaryForm(1440),
      }),
      buildDoc({
        id: b2,
        study,
        number: 'B2',
        status: 'COMPLETED',
        type: 'AMENDMENT',
        sequence: 2,
        created: '2026-03-02T09:00:00+00:00',
        configuration: diaryForm(240, [{ code: 'rescue', label: 'Rescue medication', type: 'boolean' }]),
      }),
      buildDoc({
        id: failed,
        study,
        number: 'B3',
        status: 'FAILED',
        type: 'CORRECTION',
        sequence: null,
        created: '2026-03-03T09:00:00+00:00',
        configuration: { forms: [{ code: 'diary_entry', kind: 'diary', fields: [{ code: 'x' }] }] },
        errorLog: [
          {
            attempt: 1,
            at: '2026-03-03T09:00:01+00:00',
            by: admin,
            errors: [
              { path: 'forms[diary_entry].fields[x].type', field: 'x', message: 'type must be one of …' },
            ],
          },
        ],
      }),
      buildDoc({
        id: otherB1,
        study: otherStudy,
        number: 'B1',
        status: 'COMPLETED',
        type: 'INITIAL',
        sequence: 1,
        created: '2026-03-01T08:00:00+00:00',
        configuration: diaryForm(60),
      }),
    ]) {
      insertBuild.run(
        doc.id,
        doc.study_id,
        doc.build_number,
        doc.build_version,
        doc.build_status,
        doc.build_type,
        doc.completed_sequence,
        JSON.stringify(doc),
      );
    }
    db.prepare(
      `insert into live_row (entity_kind, id, study_id, doc, sync_xid) values ('study', ?, ?, ?, '1')`,
    ).run(study, study, JSON.stringify({ code: 'AUR-HHT-201' }));

    const insertStaging = db.prepare(
      `insert into staging_record (id, entity_kind, entity_id, study_id, agent_id, model_version_id, provenance_id,
         state, proposed_state, created_at, updated_at, created_by, build_id, sync_xid)
       values (?, 'study_kpi', null, ?, 'agent:test', null, null, ?, '{"label":"KPI"}', ?, ?, ?, ?, '1')`,
    );
    insertStaging.run(
      staging.underB1,
      study,
      'reviewing',
      '2026-03-01T10:00:00.000000Z',
      '2026-03-01T10:00:00.000000Z',
      admin,
      b1,
    );
    insertStaging.run(
      staging.underB2,
      study,
      'proposed',
      '2026-03-02T10:00:00.000000Z',
      '2026-03-02T10:00:00.000000Z',
      admin,
      b2,
    );
    insertStaging.run(
      staging.unknownBuild,
      study,
      'proposed',
      '2026-03-02T11:00:00.000000Z',
      '2026-03-02T11:00:00.000000Z',
      admin,
      randomUUID(),
    );
    db.prepare(
      `insert into provenance_event (id, study_id, actor_kind, actor_id, action, subject_kind, subject_id,
         retrieved_context, occurred_at, payload, build_id, sync_xid)
       values (?, ?, 'agent', 'agent:test', 'propose', 'staging_record', ?, '[]', '2026-03-01T10:00:00.000000Z', '{}', ?, '1'),
              (?, null, 'system', 'system', 'note', 'system', 'x', '[]', '2026-03-01T10:00:01.000000Z', '{}', null, '1')`,
    ).run(randomUUID(), study, staging.underB1, b1, randomUUID());

    // A diary record entered under B1 and corrected under B2, and one entered under B2 only.
    db.prepare(
      `insert into site (site_id, study_id, doc, sync_xid) values ('A1', ?, '{"site_name":"Site A1"}', '1')`,
    ).run(study);
    db.prepare(
      `insert into enrolment (patient_id, site_id, subject_code, enrolled_at, sync_xid) values (?, 'A1', 'A1-001', '2026-03-01T00:00:00Z', '1')`,
    ).run(patient);
    const insertState = db.prepare(
      `insert into record_state (event_uuid, patient_id, site_id, current_data, version, last_audit_id, is_deleted,
         build_id, sync_xid) values (?, ?, 'A1', ?, ?, ?, 0, ?, '1')`,
    );
    insertState.run(spanning, patient, '{"date":"2026-03-01","duration_minutes":30}', 2, 2, b2);
    insertState.run(single, patient, '{"date":"2026-03-02"}', 1, 3, b2);
    const insertAudit = db.prepare(
      'insert into record_audit (audit_id, event_uuid, build_id, doc, sync_xid) values (?, ?, ?, ?, ?)',
    );
    const entry = (auditId: number, eventUuid: string, build: string, data: object) =>
      insertAudit.run(
        auditId,
        eventUuid,
        build,
        JSON.stringify({
          audit_id: auditId,
          event_uuid: eventUuid,
          operation: auditId === 2 ? 'USER_UPDATE' : 'USER_CREATE',
          role: 'patient',
          data,
          change_reason: 'entry',
          client_timestamp: '2026-03-01T10:00:00Z',
          server_timestamp: '2026-03-01T10:00:01Z',
          build_id: build,
        }),
        '1',
      );
    entry(1, spanning, b1, { date: '2026-03-01', duration_minutes: 600 });
    entry(2, spanning, b2, { date: '2026-03-01', duration_minutes: 30 });
    entry(3, single, b2, { date: '2026-03-02' });
    const insertAnnotation = db.prepare(
      `insert into annotation (annotation_id, event_uuid, parent_audit_id, client_request_id, build_id, doc, sync_xid)
       values (?, ?, ?, null, ?, ?, '1')`,
    );
    insertAnnotation.run(
      annotation.before,
      spanning,
      1,
      b1,
      JSON.stringify({
        annotation_kind: 'query',
        annotation_text: 'Six hundred minutes?',
        created_at: '2026-03-01T12:00:00Z',
      }),
    );
    insertAnnotation.run(
      annotation.after,
      spanning,
      2,
      b2,
      JSON.stringify({
        annotation_kind: 'note',
        annotation_text: 'Corrected.',
        created_at: '2026-03-02T12:00:00Z',
      }),
    );
  });
  afterAll(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ref = (id: string, number: string, superseded: boolean) => ({
    id,
    number,
    version: `${number.slice(1)}.0`,
    superseded,
  });

  it('lists a study’s builds newest first, the latest completed current and earlier ones superseded [BUILD-DIFF]', () => {
    const builds = cachedStudyBuilds(db, study);
    expect(builds.map((b) => [b.buildNumber, b.status, b.current, b.superseded])).toEqual([
      ['B3', 'FAILED', false, false],
      ['B2', 'COMPLETED', true, false],
      ['B1', 'COMPLETED', false, true],
    ]);
    const [failedBuild, amendment] = builds;
    expect(amendment).toMatchObject({
      studyId: study,
      studyCode: 'AUR-HHT-201',
      type: 'AMENDMENT',
      amendmentReference: 'Amendment 1',
      completedSequence: 2,
      startedAt: '2026-03-01T09:00:00.000Z',
      endedAt: '2026-03-01T09:00:02.500Z',
      durationSeconds: 2,
      totalForms: 1,
      totalFields: 2,
      validationRules: 3,
      builtBy: admin,
      createdAt: '2026-03-02T09:00:00.000Z',
    });
    expect(amendment?.forms[0]?.fields.map((f) => f.code)).toEqual(['date', 'duration_minutes', 'rescue']);
    // A failed build's configuration is read leniently, and its attempts' errors kept.
    expect(failedBuild?.forms).toEqual([
      {
        code: 'diary_entry',
        kind: 'diary',
        title: 'diary_entry',
        fields: [
          {
            code: 'x',
            label: 'x',
            type: '',
            required: false,
            values: null,
            min: null,
            max: null,
            maxLength: null,
          },
        ],
      },
    ]);
    expect(failedBuild?.errorLog).toEqual([
      {
        attempt: 1,
        at: '2026-03-03T09:00:01.000Z',
        by: admin,
        errors: [{ path: 'forms[diary_entry].fields[x].type', field: 'x', message: 'type must be one of …' }],
      },
    ]);
    // Every study's when none is named; a study not cached is said so.
    const all = cachedStudyBuilds(db, null);
    expect(all).toHaveLength(4);
    expect(all.find((b) => b.id === otherB1)).toMatchObject({
      studyCode: '(study not cached)',
      current: true,
    });
  });

  it('diffs two builds of a study and refuses builds of different studies or unknown ones [BUILD-DIFF]', () => {
    const builds = cachedStudyBuilds(db, null);
    expect(studyBuildDiff(builds, b1, b2)).toEqual({
      fromBuildId: b1,
      toBuildId: b2,
      changes: [
        { form: 'diary_entry', field: 'duration_minutes', change: 'changed', details: ['max: 1440 → 240'] },
        { form: 'diary_entry', field: 'rescue', change: 'added', details: ['type: boolean'] },
      ],
    });
    expect(() => studyBuildDiff(builds, b1, otherB1)).toThrow(UserFacingError);
    expect(() => studyBuildDiff(builds, b1, otherB1)).toThrow(/different studies/);
    expect(() => studyBuildDiff(builds, b1, randomUUID())).toThrow(/not known here/);
  });

  it('names the build of every queue row, superseded or current, and keeps the id of one not cached [BUILD-HISTORY]', () => {
    const rows = cachedStagingQueue(db, { limit: 10, after: null, states: [], studyId: null }).rows;
    const byId = new Map(rows.map((row) => [row.id, row.build]));
    expect(byId.get(staging.underB1)).toEqual(ref(b1, 'B1', true));
    expect(byId.get(staging.underB2)).toEqual(ref(b2, 'B2', false));
    expect(byId.get(staging.unknownBuild)).toMatchObject({ number: '(build not cached)', superseded: false });
    expect(cachedBuildRefs(db).get(otherB1)).toEqual(ref(otherB1, 'B1', false));
  });

  it('filters the queue by build, with the counts of that build, from the covering index [BUILD-FILTER]', () => {
    const page = cachedStagingQueue(db, { limit: 10, after: null, states: [], studyId: null, buildId: b1 });
    expect(page.rows.map((row) => row.id)).toEqual([staging.underB1]);
    expect(page.countsByState).toEqual({ proposed: 0, reviewing: 1, signed: 0, promoted: 0, rejected: 0 });
    expect(
      cachedStagingQueue(db, { limit: 10, after: null, states: [], studyId: null, buildId: b2 }).rows.map(
        (r) => r.id,
      ),
    ).toEqual([staging.underB2]);
    const plan = (
      db
        .prepare(
          `explain query plan select s.id, s.state, s.entity_kind, s.study_id, s.agent_id, s.model_version_id,
             s.created_at, s.change_summary, s.target_title, s.build_id from staging_record s
           where (? is null or s.study_id = ?) and s.build_id = ? order by s.created_at, s.id limit 10`,
        )
        .all(null, null, b1) as { detail: string }[]
    )
      .map((step) => step.detail)
      .join('; ');
    expect(plan).toMatch(/USING COVERING INDEX staging_record_queue_idx/);
  });

  it('names the build of provenance, a record’s detail and its trail; none for provenance without a study [BUILD-HISTORY]', () => {
    const provenance = cachedProvenance(db, { subjectId: null, limit: 10 });
    expect(provenance.map((row) => row.build)).toEqual([null, ref(b1, 'B1', true)]);
    expect(cachedStagingDetail(db, staging.underB1)?.record.build).toEqual(ref(b1, 'B1', true));
    expect(cachedStagingDetail(db, staging.underB1)?.provenance.map((p) => p.build)).toEqual([
      ref(b1, 'B1', true),
    ]);
    expect(cachedRecordTrail(db, staging.underB2).build).toEqual(ref(b2, 'B2', false));
  });

  it('names each history entry’s and annotation’s build, and a record whose entries span builds lists them [BUILD-HISTORY]', () => {
    const history = cachedDiaryHistory(db, spanning);
    expect(history.entries.map((entry) => entry.build)).toEqual([ref(b1, 'B1', true), ref(b2, 'B2', false)]);
    expect(history.builds).toEqual([ref(b1, 'B1', true), ref(b2, 'B2', false)]);
    expect(Object.fromEntries(history.annotations.map((a) => [a.annotationId, a.build]))).toEqual({
      [annotation.before]: ref(b1, 'B1', true),
      [annotation.after]: ref(b2, 'B2', false),
    });
    expect(cachedDiaryHistory(db, single).builds).toEqual([ref(b2, 'B2', false)]);

    const records = cachedDiaryRecords(db, { siteId: null, limit: 10 });
    const byId = new Map(records.map((record) => [record.eventUuid, record]));
    expect(byId.get(spanning)).toMatchObject({ build: ref(b2, 'B2', false), spansBuilds: true });
    expect(byId.get(single)).toMatchObject({ build: ref(b2, 'B2', false), spansBuilds: false });
  });

  it('filters diary records and patients to those with an entry captured under a build [BUILD-FILTER]', () => {
    const under = (buildId: string) =>
      cachedDiaryRecords(db, { siteId: null, buildId, limit: 10 }).map((record) => record.eventUuid);
    expect(under(b1)).toEqual([spanning]);
    expect(under(b2).sort()).toEqual([single, spanning].sort());
    expect(under(randomUUID())).toEqual([]);
    const patients = (buildId: string | null) =>
      cachedDiaryPatients(db, { buildId }).sites.flatMap((site) => site.patients.map((p) => p.patientId));
    expect(patients(null)).toEqual([patient]);
    expect(patients(b1)).toEqual([patient]);
    expect(patients(randomUUID())).toEqual([]);
  });
});

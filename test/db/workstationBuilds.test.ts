// Protocol builds through the contract (issue 20), on a postgres-mode workstation: the two new
// channels (builds.list, builds.diff) and the build named on queue rows, a record's detail and trail,
// diary records, history entries and annotations, with the filters by build, each request and answer
// checked against the contract's zod schemas; the same builds read from the server (before a cache
// holds them) and from the cache.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresSession } from '../../src/main/backend/postgres/postgresSession';
import { dispatchContractCall } from '../../src/main/ipc/dispatchContractCall';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import type { BuildRef, Channel, StudyBuild } from '../../src/shared/contract';
import { queueRowsOf } from '../../src/shared/stagingQueueColumns';
import { buildWorld, operatorTransaction, type World, worldPassword } from './support/accessWorld';
import { type BuildField, buildIn, standardConfiguration, withDiaryForm } from './support/buildActions';
import { propose } from './support/operatorActions';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('protocol builds through the contract', () => {
  let db: TestDatabase;
  let world: World;
  let workstation: Workstation;
  let amendment: { id: string; build_number: string; build_version: string };
  let proposalUnderAmendment: string;
  let correctionAuditId: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-builds-'));
  const address = () => ({ host: db.server.host, port: db.server.port, database: db.name });

  /** A channel called as the renderer calls it: request and answer checked against the contract. */
  async function call<T = unknown>(channel: Channel, request: unknown): Promise<T> {
    const result = await dispatchContractCall(workstation.handlers, channel, request);
    if (!result.ok) throw result.error.cause ?? result.error;
    return result.response as T;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildWorld(db);
    const admin = await db.connectAs(world.people.admin.email, worldPassword);
    try {
      // Study A's amendment: a field added and a range tightened; completed after the world's data.
      const configuration = withDiaryForm(await standardConfiguration(db.operator), (form) => ({
        ...form,
        fields: [
          ...form.fields.map((field) => (field.code === 'duration_minutes' ? { ...field, max: 240 } : field)),
          {
            code: 'rescue_medication',
            label: 'Rescue medication taken',
            type: 'boolean',
          } satisfies BuildField,
        ],
      }));
      amendment = await buildIn(admin, 'COMPLETED', {
        study: world.studyA,
        number: 'B7',
        reference: 'Protocol amendment 7',
        configuration,
      });
    } finally {
      await admin.end();
    }
    // The A1 patient corrects their entry under the amendment; the investigator notes it; a proposal.
    const record = world.records.in;
    correctionAuditId = await operatorTransaction(db.operator, { sub: world.people.patient.id }, async () => {
      const { rows } = await db.operator.query<{ id: string }>(
        `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, parent_audit_id,
           client_timestamp, change_reason)
         values ($1, $2, 'A1', 'USER_UPDATE', $3, $4, now(), 'corrected') returning audit_id::text as id`,
        [
          record.eventUuid,
          world.people.patient.id,
          JSON.stringify({
            event_type: 'headache',
            date: '2026-03-02',
            intensity: 'mild',
            rescue_medication: true,
          }),
          record.auditId,
        ],
      );
      return rows[0]?.id as string;
    });
    await operatorTransaction(db.operator, { sub: world.people.investigator.id }, () =>
      db.operator.query(
        `insert into diary.investigator_annotations (event_uuid, parent_audit_id, patient_id, investigator_id, site_id,
           annotation_kind, annotation_text, requires_response)
         values ($1, $2, $3, $3, 'A1', 'note', 'Correction seen.', false)`,
        [record.eventUuid, correctionAuditId, world.people.investigator.id],
      ),
    );
    proposalUnderAmendment = await propose(db.operator, world.people.agent.id, {
      entityKind: 'study_kpi',
      entityId: null,
      studyId: world.studyA,
      proposedState: { label: 'Rescue medication use', value: '4%', position: 9 },
    });

    workstation = await createWorkstation({
      dataDir,
      env: {
        COUNTERSIGN_BACKEND: 'postgres',
        COUNTERSIGN_PG_HOST: '127.0.0.1',
        COUNTERSIGN_PG_PORT: String(db.server.port),
        COUNTERSIGN_PG_DATABASE: db.name,
      },
    });
    await workstation.backendSettled;
    const signedIn = await call<{ ok: boolean }>('session.signIn', {
      email: world.people.admin.email,
      password: worldPassword,
    });
    expect(signedIn.ok).toBe(true);
    await call('sync.now', {});
  });
  afterAll(async () => {
    await workstation?.close();
    await world?.teardown();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const refOf = (
    build: Pick<StudyBuild, 'id' | 'buildNumber' | 'buildVersion'>,
    superseded: boolean,
  ): BuildRef => ({
    id: build.id,
    number: build.buildNumber,
    version: build.buildVersion,
    superseded,
  });
  const initial = () => refOf({ id: world.initialBuild.in, buildNumber: 'B1', buildVersion: '1.0' }, true);
  const current = () =>
    refOf(
      { id: amendment.id, buildNumber: amendment.build_number, buildVersion: amendment.build_version },
      false,
    );

  it('lists a study’s builds with the current one and the superseded, the same from the server as from the cache [BUILD-DIFF]', async () => {
    const { builds } = await call<{ builds: StudyBuild[] }>('builds.list', { studyId: world.studyA });
    const byNumber = new Map(builds.map((build) => [build.buildNumber, build]));
    expect(byNumber.get('B7')).toMatchObject({
      status: 'COMPLETED',
      type: 'AMENDMENT',
      amendmentReference: 'Protocol amendment 7',
      completedSequence: 2,
      current: true,
      superseded: false,
      studyCode: 'STUDY-A',
    });
    expect(byNumber.get('B1')).toMatchObject({ type: 'INITIAL', current: false, superseded: true });
    expect(byNumber.get('B2')).toMatchObject({ status: 'DRAFT', current: false, superseded: false });
    expect(builds.every((build) => build.studyId === world.studyA)).toBe(true);
    // Before a cache holds them (and in hosted mode), the server answers the same.
    const session = await PostgresSession.signIn(address(), world.people.admin.email, worldPassword);
    try {
      expect(await session.studyBuilds(world.studyA)).toEqual(builds);
    } finally {
      await session.close();
    }
  });

  it('diffs two builds of a study, and refuses two of different studies with a message [BUILD-DIFF]', async () => {
    const diff = await call<{ changes: unknown[] }>('builds.diff', {
      fromBuildId: world.initialBuild.in,
      toBuildId: amendment.id,
    });
    expect(diff.changes).toEqual([
      { form: 'diary_entry', field: 'duration_minutes', change: 'changed', details: ['max: 1440 → 240'] },
      {
        form: 'diary_entry',
        field: 'rescue_medication',
        change: 'added',
        details: ['type: boolean'],
      },
    ]);
    const refused = await dispatchContractCall(workstation.handlers, 'builds.diff', {
      fromBuildId: world.initialBuild.in,
      toBuildId: world.initialBuild.out,
    });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect((refused.error.cause as Error).message).toMatch(/different studies/);
  });

  it('names the build of each queue row and filters the queue by build, from the cache and from the server [BUILD-FILTER]', async () => {
    const queue = async (buildId: string | null) => {
      const page = await call<{
        columns: Parameters<typeof queueRowsOf>[0];
        countsByState: Record<string, number>;
      }>('staging.queue', { limit: 500, buildId });
      return { rows: queueRowsOf(page.columns), counts: page.countsByState };
    };
    const all = await queue(null);
    expect(all.rows.find((row) => row.id === proposalUnderAmendment)?.build).toEqual(current());
    expect(all.rows.find((row) => row.id === world.rows.staging.in)?.build).toEqual(initial());
    const underAmendment = await queue(amendment.id);
    expect(underAmendment.rows.map((row) => row.id)).toEqual([proposalUnderAmendment]);
    expect(Object.values(underAmendment.counts).reduce((sum, n) => sum + n, 0)).toBe(1);
    expect((await queue(world.initialBuild.in)).rows.map((row) => row.id)).not.toContain(
      proposalUnderAmendment,
    );
    // The server's queue (before the first sync) names and filters the same way.
    const session = await PostgresSession.signIn(address(), world.people.admin.email, worldPassword);
    try {
      const served = await session.stagingQueue({
        limit: 500,
        after: null,
        states: [],
        studyId: null,
        buildId: amendment.id,
      });
      expect(served.rows.map((row) => [row.id, row.build])).toEqual([[proposalUnderAmendment, current()]]);
      expect((await session.stagingDetail(world.rows.staging.in)).record.build).toEqual(initial());
    } finally {
      await session.close();
    }
  });

  it('names the build of a record’s detail, its provenance and its trail [BUILD-HISTORY]', async () => {
    const detail = await call<{ record: { build: BuildRef } }>('staging.detail', {
      id: proposalUnderAmendment,
    });
    expect(detail.record.build).toEqual(current());
    const trail = await call<{ build: BuildRef; provenance: { build: BuildRef | null }[] }>('record.trail', {
      stagingId: world.rows.staging.in,
    });
    expect(trail.build).toEqual(initial());
    const provenance = await call<{ rows: { studyId: string | null; build: BuildRef | null }[] }>(
      'provenance.list',
      { subjectId: null, limit: 100 },
    );
    for (const row of provenance.rows) {
      if (row.studyId === world.studyA) expect(row.build?.id).toMatch(/^[0-9a-f-]{36}$/);
      if (row.studyId === null) expect(row.build).toBeNull();
    }
  });

  it('names each diary entry’s and annotation’s build, says the record spans builds, and filters by build [BUILD-HISTORY]', async () => {
    const record = world.records.in;
    const history = await call<{
      entries: { auditId: number; build: BuildRef }[];
      builds: BuildRef[];
      annotations: { text: string; build: BuildRef | null }[];
    }>('diary.history', { eventUuid: record.eventUuid });
    expect(history.entries.map((entry) => entry.build)).toEqual([initial(), current()]);
    expect(history.builds).toEqual([initial(), current()]);
    expect(history.annotations.find((a) => a.text === 'Correction seen.')?.build).toEqual(current());
    expect(history.annotations.find((a) => a.text !== 'Correction seen.')?.build).toEqual(initial());

    const records = await call<{ rows: { eventUuid: string; build: BuildRef; spansBuilds: boolean }[] }>(
      'diary.records',
      { siteId: 'A1', limit: 100 },
    );
    expect(records.rows.find((row) => row.eventUuid === record.eventUuid)).toMatchObject({
      build: current(),
      spansBuilds: true,
    });
    expect(records.rows.find((row) => row.eventUuid === world.records.patient2.eventUuid)).toMatchObject({
      build: initial(),
      spansBuilds: false,
    });
    const underAmendment = await call<{ rows: { eventUuid: string }[] }>('diary.records', {
      siteId: null,
      buildId: amendment.id,
      limit: 100,
    });
    expect(underAmendment.rows.map((row) => row.eventUuid)).toEqual([record.eventUuid]);
    const patients = await call<{ sites: { patients: { patientId: string }[] }[] }>('diary.patients', {
      buildId: amendment.id,
    });
    expect(patients.sites.flatMap((site) => site.patients.map((p) => p.patientId))).toEqual([
      world.people.patient.id,
    ]);
  });
});

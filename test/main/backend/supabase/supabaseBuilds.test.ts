// Protocol builds in hosted mode, which has no cache: the builds and the build of each value are read
// through PostgREST (schema cro, the person's token) beside the workstation's RPCs, which do not
// carry them; a project that does not expose cro is told what to change.
import { afterEach, describe, expect, it } from 'vitest';
import { SupabaseSession } from '../../../../src/main/backend/supabase/supabaseSession';
import { contentHash } from '../../../../src/main/signing/contentHash';
import { FakeSupabase, fakeAnonKey, fakeUrl } from './fakeSupabase';

const project = { url: fakeUrl, anonKey: fakeAnonKey };
const study = '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d';
const b1 = '0198a1b2-0000-7000-8000-000000000001';
const b2 = '0198a1b2-0000-7000-8000-000000000002';
const ids = [
  '12345678-1234-4234-8234-000000000001',
  '12345678-1234-4234-8234-000000000002',
  '12345678-1234-4234-8234-000000000003',
];
const buildOf: Record<string, string> = {
  [ids[0] as string]: b1,
  [ids[1] as string]: b2,
  [ids[2] as string]: b2,
};
const sessions: SupabaseSession[] = [];

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
});

const queueRow = (id: string, n: number) => ({
  id,
  state: 'reviewing',
  entityKind: 'study_kpi',
  entityId: null,
  studyId: study,
  studyCode: 'CS-001',
  agentId: 'agent',
  modelVersion: null,
  createdAt: `2026-05-01T10:00:0${n}.000000Z`,
  updatedAt: `2026-05-01T10:00:0${n}.000000Z`,
});

/** The fake project's cro tables, answering PostgREST's filters the adapter uses. */
function withBuildTables(fake: FakeSupabase): FakeSupabase {
  return fake
    .onTable('cro.study_database_build', (query) => {
      const rows = [
        {
          id: b1,
          study_id: study,
          build_number: 'B1',
          build_version: '1.0',
          build_status: 'COMPLETED',
          build_type: 'INITIAL',
          completed_sequence: 1,
          configuration_snapshot: {
            forms: [{ code: 'diary_entry', kind: 'diary', fields: [{ code: 'date', type: 'date' }] }],
          },
          created_at: '2026-05-01T09:00:00+00:00',
          built_by: study,
          sync_xid: '12',
        },
        {
          id: b2,
          study_id: study,
          build_number: 'B2',
          build_version: '2.0',
          build_status: 'COMPLETED',
          build_type: 'AMENDMENT',
          completed_sequence: 2,
          configuration_snapshot: {
            forms: [
              {
                code: 'diary_entry',
                kind: 'diary',
                fields: [
                  { code: 'date', type: 'date', required: true },
                  { code: 'pain', type: 'integer', min: 0, max: 10 },
                ],
              },
            ],
          },
          created_at: '2026-05-02T09:00:00+00:00',
          built_by: study,
          sync_xid: '13',
        },
      ];
      const select = query.get('select');
      return {
        status: 200,
        body:
          select === '*'
            ? rows
            : rows.map(({ id, study_id, build_number, build_version, completed_sequence }) => ({
                id,
                study_id,
                build_number,
                build_version,
                completed_sequence,
              })),
      };
    })
    .onTable('cro.study', () => ({ status: 200, body: [{ id: study, code: 'CS-001' }] }))
    .onTable('cro.staging_record', (query, request) => {
      if (request.method === 'HEAD') {
        const state = query.get('state')?.replace(/^eq\./, '');
        const build = query.get('build_id')?.replace(/^eq\./, '');
        const n = build === b2 && state === 'reviewing' ? 2 : 0;
        return { status: 200, body: null, headers: { 'content-range': `*/${n}` } };
      }
      const wanted = (query.get('id') ?? '').replace(/^in\.\(|\)$/g, '').split(',');
      return {
        status: 200,
        body: wanted.filter((id) => buildOf[id]).map((id) => ({ id, build_id: buildOf[id] })),
      };
    })
    .onTable('cro.signature_event', () => ({
      status: 200,
      body: [{ id: '0198a1b2-0000-7000-8000-0000000000aa', content_hash_version: 2 }],
    }))
    .onTable('cro.provenance_event', () => ({ status: 200, body: [] }));
}

async function signedIn(fake: FakeSupabase) {
  const session = await SupabaseSession.signIn(project, fake.email, fake.password, fake.totpCode, {
    fetch: fake.fetch,
    autoRefreshToken: false,
  });
  sessions.push(session);
  return session;
}

const ref = (id: string, number: string, superseded: boolean) => ({
  id,
  number,
  version: `${number.slice(1)}.0`,
  superseded,
});

describe('protocol builds in hosted mode', () => {
  it('lists the builds from cro.study_database_build, with the study code, current and superseded [BUILD-SYNC]', async () => {
    const fake = withBuildTables(new FakeSupabase());
    const builds = await (await signedIn(fake)).studyBuilds(null);
    expect(builds.map((b) => [b.buildNumber, b.studyCode, b.current, b.superseded])).toEqual([
      ['B2', 'CS-001', true, false],
      ['B1', 'CS-001', false, true],
    ]);
    expect(builds[0]?.forms[0]?.fields.map((f) => f.code)).toEqual(['date', 'pain']);
    // Read with the person's token from the exposed cro schema.
    const [read] = fake.tableCalls('cro.study_database_build');
    expect(read?.headers.authorization).toMatch(/^Bearer /);
  });

  it('names the build of every queue row from staging_queue’s buildId [BUILD-HISTORY]', async () => {
    const fake = withBuildTables(new FakeSupabase()).onRpc('staging_queue', () => ({
      status: 200,
      body: {
        rows: ids.map((id, n) => ({ ...queueRow(id, n), buildId: buildOf[id] })),
        counts: { reviewing: 3 },
      },
    }));
    const page = await (await signedIn(fake)).stagingQueue({
      limit: 5,
      after: null,
      states: [],
      studyId: null,
    });
    expect(page.rows.map((row) => row.build)).toEqual([
      ref(b1, 'B1', true),
      ref(b2, 'B2', false),
      ref(b2, 'B2', false),
    ]);
    expect(page.countsByState.reviewing).toBe(3);
  });

  it('asks staging_queue for one build’s page and counts when filtered [BUILD-FILTER]', async () => {
    const fake = withBuildTables(new FakeSupabase()).onRpc('staging_queue', (args) => {
      const rows = ids
        .filter((id) => args.build === null || buildOf[id] === args.build)
        .map((id, n) => ({ ...queueRow(id, n), buildId: buildOf[id] }));
      return { status: 200, body: { rows, counts: { reviewing: rows.length } } };
    });
    const page = await (await signedIn(fake)).stagingQueue({
      limit: 1,
      after: null,
      states: [],
      studyId: null,
      buildId: b2,
    });
    expect(page.rows.map((r) => [r.id, r.build?.number])).toEqual([[ids[1], 'B2']]);
    expect(page.nextCursor).toEqual({ createdAt: '2026-05-01T10:00:00.000000Z', id: ids[1] });
    expect(fake.rpcCalls('staging_queue').map((call) => (call.body as { build: string }).build)).toEqual([
      b2,
    ]);
    expect(page.countsByState).toEqual({ proposed: 0, reviewing: 2, signed: 0, promoted: 0, rejected: 0 });
  });

  it('names the record’s build in its detail and each signature’s content-hash version [BUILD-SIGNING-MANIFEST]', async () => {
    const signatureId = '0198a1b2-0000-7000-8000-0000000000aa';
    const fake = withBuildTables(new FakeSupabase()).onRpc('staging_detail', () => ({
      status: 200,
      body: {
        record: {
          ...queueRow(ids[1] as string, 1),
          proposedState: { label: 'KPI' },
          liveRow: null,
          provenanceId: null,
        },
        model: null,
        signatures: [
          {
            id: signatureId,
            printedName: 'Sam Signer',
            intent: 'approve',
            meaning: 'I approve this change',
            comment: null,
            signedAt: '2026-05-01T10:00:00.000Z',
            reAuthAt: '2026-05-01T10:00:00.000Z',
            contentHash: 'a'.repeat(64),
            ceremonyId: null,
          },
        ],
        provenance: [],
      },
    }));
    const detail = await (await signedIn(fake)).stagingDetail(ids[1] as string);
    expect(detail.record.build).toEqual(ref(b2, 'B2', false));
    expect(detail.signatures[0]?.contentHashVersion).toBe(2);
  });

  it('binds each manifest record’s build, which signing_subjects does not carry [BUILD-SIGNING-MANIFEST]', async () => {
    const fake = withBuildTables(new FakeSupabase()).onRpc('signing_subjects', (args) => ({
      status: 200,
      body: (args.staging_ids as string[]).map((id) => ({
        staging_record_id: id,
        study_id: study,
        study_code: 'CS-001',
        entity_kind: 'study_kpi',
        entity_id: null,
        state: 'reviewing',
        proposed_state: { label: 'KPI' },
        live_row: null,
      })),
    }));
    const subjects = await (await signedIn(fake)).signingBackend().subjects(ids.slice(0, 2));
    expect(subjects.map((s) => [s.buildId, s.build])).toEqual([
      [b1, ref(b1, 'B1', true)],
      [b2, ref(b2, 'B2', false)],
    ]);
    expect(contentHash(subjects[0] as (typeof subjects)[0])).not.toBe(
      contentHash({ ...(subjects[0] as (typeof subjects)[0]), buildId: b2 }),
    );
  });

  it('tells the person to expose the cro schema when the project does not [BUILD-SYNC]', async () => {
    const fake = new FakeSupabase().onTable('cro.study_database_build', () => ({
      status: 406,
      body: {
        code: 'PGRST106',
        message: 'The schema must be one of the following: public',
        details: null,
        hint: null,
      },
    }));
    await expect((await signedIn(fake)).studyBuilds(null)).rejects.toThrow(/Exposed schemas/);
  });
});

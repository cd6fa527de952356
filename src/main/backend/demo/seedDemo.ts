// Seeds the embedded demo once: two studies with their protocol builds, their people, live rows,
// ~200 agent proposals with provenance and a month of review history driven through the staging
// state machine, sponsor requests and patient diaries with investigator annotations. The server
// stamps every value with its study's current build when it is written, so values are written in
// time order around the HHT study's amendment (build B2). Everything goes through the
// database's own rules (bootstrap mode for reference data, the staging triggers for transitions,
// request.jwt.claims to act as a person) and happens in one transaction: a crash mid-seed leaves
// nothing behind and the next start seeds again. A marker row makes later calls a no-op.
import { createHash } from 'node:crypto';
import type { ClientBase } from 'pg';
import { type EntityKind, entityKinds, type StagingState, stagingStates } from '../../../shared/domain';
import { type PersonSpec, provisionPerson } from '../provisioning';
import {
  addDays,
  amendedConfiguration,
  annotationNotes,
  annotationQueries,
  awkwardTexts,
  type BuildConfiguration,
  type Citation,
  citationsFor,
  type DemoLiveRows,
  demoAmendment,
  demoCloseReasons,
  demoLiveRows,
  demoSponsorRequests,
  demoStudyContent,
  diaryChangeReasons,
  diaryEntry,
  fieldsThatChange,
  initialBuildDescription,
  knowledgeChunks,
  proposalRationales,
  proposeChange,
  proposeCreate,
  proposeUpdate,
  type Row,
  rescueTreatmentChangeReason,
  rescueTreatments,
} from './demoContent';
import { seedDemoCorrection } from './demoCorrection';
import {
  type DemoPerson,
  type DemoStudyKey,
  demoAgentId,
  demoPeople,
  demoPerson,
  demoSites,
  demoSponsors,
} from './demoPeople';
import { seedDemoTranscription } from './demoTranscription';
import { createRng, type Rng } from './prng';

export interface DemoCounts {
  people: number;
  studies: number;
  sites: number;
  modelVersions: number;
  sponsorRequests: number;
  provenanceEvents: number;
  signatureEvents: number;
  auditLogEntries: number;
  knowledgeChunks: number;
  live: Record<EntityKind, number>;
  staging: { total: number; byState: Record<StagingState, number>; byKind: Record<EntityKind, number> };
  diary: { records: number; auditEvents: number; annotations: number; openAnnotations: number };
  /** Protocol builds: every build, the COMPLETED ones, and the failed runs recorded in their error logs. */
  builds: { total: number; completed: number; failedAttempts: number };
}

export interface DemoSummary {
  /** false: the database was already seeded and nothing was written. */
  created: boolean;
  seededAt: string;
  durationMs: number;
  counts: DemoCounts;
}

export interface SeedDemoOptions {
  /** The seed's "now" (history is spread over the 30 days before it). Default: the current time. */
  now?: Date;
  log?: (line: string) => void;
}

/** The PRNG seed: the demo is the same on every first start. */
const demoRandomSeed = 0x5eed_2025;
/** Re-plans updates that would change nothing, apart from the main sequence so that the rest of the demo stays put. */
const changeRandomSeed = 0x5eed_2026;
/** One seeder at a time per database. */
const seedLockKey = 4242002;

/**
 * The demo's protocol history, in days before now. Patients are enrolled from 200 days before now
 * and live rows are at most 140 days old: each study's INITIAL build goes live before either. The
 * HHT study's amendment B2 first fails, is retried and goes live about 11 days before now.
 */
const buildTimeline = {
  initialDraftDaysAgo: { hht: 214, onc: 221 } satisfies Record<DemoStudyKey, number>,
  initialRunAfterDays: 2,
  initialRunMinutes: 38,
  amendmentDraftDaysAgo: 17,
  amendmentFirstRunDaysAgo: 13,
  amendmentFirstRunSeconds: 95,
  amendmentRetryDaysAgo: 11,
  amendmentCorrectedAfterMinutes: 14,
  amendmentRunMinutes: 26,
} as const;
/** The study whose diary is amended (the one the demo investigators and most patients use). */
const amendedStudy: DemoStudyKey = 'hht';
const minuteMs = 60_000;
const hourMs = 3_600_000;

const stateTargets: Record<StagingState, number> = {
  promoted: 20,
  rejected: 10,
  signed: 25,
  reviewing: 35,
  proposed: 110,
};
const kindTargets: Record<EntityKind, number> = {
  study: 24,
  study_kpi: 34,
  study_milestone: 34,
  study_risk: 38,
  study_resource: 32,
  live_essential_document: 38,
};
const approveMeaning = 'I approve this change';
const rejectMeaning = 'I reject this change';
/** Why the demo's signers rejected what they rejected (reasons of cro.rejection_reason, migration 0050). */
const demoRejections = [
  {
    reason: 'Not supported by the cited sources',
    explanation: 'The cited monitoring report does not mention this change.',
  },
  {
    reason: 'Incorrect or incomplete values',
    explanation: "The proposed value does not match the site's source documents.",
  },
  {
    reason: 'Duplicate of another proposal',
    explanation: 'The same change is already proposed for this record.',
  },
] as const;

export async function isDemoSeeded(operator: ClientBase): Promise<boolean> {
  const { rows } = await operator.query<{ present: boolean }>(
    "select to_regclass('countersign_meta.demo_seed') is not null as present",
  );
  if (!rows[0]?.present) return false;
  const seeded = await operator.query<{ seeded: boolean }>(
    'select exists (select 1 from countersign_meta.demo_seed) as seeded',
  );
  return seeded.rows[0]?.seeded === true;
}

export async function seedDemo(operator: ClientBase, options: SeedDemoOptions = {}): Promise<DemoSummary> {
  const log = options.log ?? (() => undefined);
  const now = options.now ?? new Date();
  const started = Date.now();
  await operator.query('begin');
  try {
    await operator.query('select pg_advisory_xact_lock($1)', [seedLockKey]);
    await operator.query(`
      create schema if not exists countersign_meta;
      create table if not exists countersign_meta.demo_seed (seeded_at timestamptz not null);
      alter table countersign_meta.demo_seed enable row level security;
    `);
    const marker = await operator.query<{ seeded_at: Date }>(
      'select seeded_at from countersign_meta.demo_seed order by seeded_at limit 1',
    );
    const seededAt = marker.rows[0]?.seeded_at;
    if (seededAt) {
      await operator.query('commit');
      return {
        created: false,
        seededAt: seededAt.toISOString(),
        durationMs: Date.now() - started,
        counts: await demoCounts(operator),
      };
    }
    await operator.query("set local countersign.bootstrap = 'on'");
    await new DemoSeeder(operator, now, createRng(demoRandomSeed), log).run();
    const inserted = await operator.query<{ seeded_at: Date }>(
      'insert into countersign_meta.demo_seed (seeded_at) values (now()) returning seeded_at',
    );
    const counts = await demoCounts(operator);
    await operator.query('commit');
    const durationMs = Date.now() - started;
    log(
      `demo seed: ${counts.people} people, ${counts.studies} studies, ${counts.staging.total} proposals ` +
        `(${stagingStates.map((state) => `${counts.staging.byState[state]} ${state}`).join(', ')}), ` +
        `${counts.diary.records} diary records, ${counts.builds.completed} protocol builds ` +
        `(${counts.builds.failedAttempts} failed run), ${counts.auditLogEntries} audit entries in ${durationMs} ms`,
    );
    return {
      created: true,
      seededAt: (inserted.rows[0]?.seeded_at ?? new Date()).toISOString(),
      durationMs,
      counts,
    };
  } catch (error) {
    await operator.query('rollback').catch(() => undefined);
    throw error;
  }
}

// ── The seeder ──────────────────────────────────────────────────────────────────────────────────

interface ModelVersion {
  id: string;
  provider: string;
  modelId: string;
  promptVersion: string;
  registeredAt: Date;
  retiredAt: Date | null;
}

interface LiveRef {
  id: string;
  study: DemoStudyKey;
  kind: Exclude<EntityKind, 'study'>;
  /** Its proposable fields as first written. */
  fields: Row;
}

interface SponsorRequestRef {
  id: string;
  study: DemoStudyKey;
  filedAt: Date;
  provenance: Row;
  request: Row;
}

/** One diary write, planned up front and written in time order (so that it gets the build of its time). */
type DiaryWrite =
  | {
      kind: 'event';
      at: Date;
      patientKey: string;
      siteId: string;
      eventUuid: string;
      operation: 'USER_CREATE' | 'USER_UPDATE';
      data: Row;
      changeReason: string;
    }
  | {
      kind: 'annotation';
      at: Date;
      investigatorKey: string;
      annotationId: string;
      eventUuid: string;
      annotationKind: 'note' | 'query';
      text: string;
      requiresResponse: boolean;
    }
  | {
      kind: 'resolution';
      at: Date;
      investigatorKey: string;
      requestId: string;
      annotationId: string;
      reasonCode: string;
      reasonText: string | null;
    };

interface PlannedProposal {
  id: string;
  provenanceId: string;
  study: DemoStudyKey;
  kind: EntityKind;
  entityId: string | null;
  proposedState: Row;
  createdAt: Date;
  state: StagingState;
  reviewAt: Date;
  decideAt: Date;
  promoteAt: Date;
  sponsorRequestId: string | null;
}

type LiveTable = keyof DemoLiveRows;
const liveTables: LiveTable[] = [
  'study_kpi',
  'study_milestone',
  'study_risk',
  'study_resource',
  'live_essential_document',
];

class DemoSeeder {
  private readonly userIds = new Map<string, string>();
  private readonly studyIds = new Map<DemoStudyKey, string>();
  private readonly liveRefs: LiveRef[] = [];
  private readonly sponsorRequests: SponsorRequestRef[] = [];
  private readonly initialBuildIds = new Map<DemoStudyKey, string>();
  private models: ModelVersion[] = [];
  private actingAs: string | null = null;
  /** When the HHT study's amendment B2 completed: later values are captured under it. */
  private readonly amendedAt: Date;

  constructor(
    private readonly db: ClientBase,
    private readonly now: Date,
    private readonly rng: Rng,
    private readonly log: (line: string) => void,
  ) {
    this.amendedAt = new Date(
      addDays(now, -buildTimeline.amendmentRetryDaysAgo).getTime() +
        buildTimeline.amendmentRunMinutes * minuteMs,
    );
  }

  async run(): Promise<void> {
    await this.provision(demoPerson('admin'));
    await this.actAs('admin');
    await this.createStudies();
    await this.createInitialBuilds();
    for (const person of demoPeople) {
      if (person.key !== 'admin') await this.provision(person);
    }
    this.log('demo seed: people provisioned');
    await this.createSites();
    await this.createModelRegistry();
    await this.createKnowledgeIndex();
    await this.createLiveRows();
    this.planSponsorRequests();
    const proposals = this.planProposals();
    const diary = this.planDiaries();

    // In time order around the amendment: the server stamps each value with the build current when
    // it is written, so what happened before B2 completed is written while only B1 is complete.
    const before = (at: Date) => at < this.amendedAt;
    await this.writeSponsorRequests(this.sponsorRequests.filter((request) => before(request.filedAt)));
    await this.insertProposals(proposals.filter((proposal) => before(proposal.createdAt)));
    await this.writeDiary(diary.filter((write) => before(write.at)));
    await this.amendDiaryStudy();
    await this.writeSponsorRequests(this.sponsorRequests.filter((request) => !before(request.filedAt)));
    await this.insertProposals(proposals.filter((proposal) => !before(proposal.createdAt)));
    await this.writeDiary(diary.filter((write) => !before(write.at)));
    this.log('demo seed: protocol builds and diaries recorded');
    await seedDemoCorrection(
      this.db,
      this.now,
      (key) => this.actAs(key),
      (key) => this.uid(key),
    );
    await seedDemoTranscription(
      this.db,
      this.now,
      (key) => this.actAs(key),
      (key) => this.uid(key),
    );

    // Reviews, signatures and promotions keep each proposal's own build (B1 ones are then superseded).
    for (const study of ['hht', 'onc'] as const) {
      await this.driveHistory(
        study,
        proposals.filter((proposal) => proposal.study === study),
      );
    }
    this.log('demo seed: staging history recorded');
    await this.actAs(null);
  }

  private uid(key: string): string {
    const id = this.userIds.get(key);
    if (!id) throw new Error(`demo person ${key} is not provisioned yet`);
    return id;
  }

  private studyId(key: DemoStudyKey): string {
    const id = this.studyIds.get(key);
    if (!id) throw new Error(`demo study ${key} does not exist yet`);
    return id;
  }

  /** Makes auth.uid() the given demo person for the rest of the transaction (null: nobody). */
  private async actAs(key: string | null): Promise<void> {
    if (this.actingAs === key && key !== null) return;
    this.actingAs = key;
    const claims = key === null ? '' : JSON.stringify({ sub: this.uid(key) });
    await this.db.query("select set_config('request.jwt.claims', $1, true)", [claims]);
  }

  private async insertRows(table: string, rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.query(
      `insert into ${table} select * from jsonb_populate_recordset(null::${table}, $1::jsonb)`,
      [JSON.stringify(rows)],
    );
  }

  private async provision(person: DemoPerson): Promise<void> {
    const spec: PersonSpec = {
      email: person.email,
      printedName: person.printedName,
      password: person.password,
      roles: person.roles.map((grant) => ({
        role: grant.role,
        studyId: grant.study === 'all' ? null : this.studyId(grant.study),
      })),
      sponsorId: person.sponsorId ?? null,
      agentId: person.agentId ?? null,
      totpSecretBase32: person.totpSecretBase32 ?? null,
    };
    this.userIds.set(person.key, await provisionPerson(this.db, spec));
  }

  private async createStudies(): Promise<void> {
    for (const key of ['hht', 'onc'] as const) {
      const content = demoStudyContent(key, this.now);
      const id = this.rng.uuid();
      const createdAt = addDays(this.now, key === 'hht' ? -440 : -620).toISOString();
      await this.insertRows('cro.study', [
        {
          id,
          code: content.code,
          ...content.fields,
          created_at: createdAt,
          updated_at: createdAt,
          created_by: this.uid('admin'),
          provenance_id: null,
        },
      ]);
      this.studyIds.set(key, id);
    }
  }

  /**
   * Each study's INITIAL build B1 (1.0), made by the demo administrator as in life: inserted DRAFT,
   * run (IN_PROGRESS) two days later and COMPLETED, with the standard configuration. Bootstrap mode
   * lets created_at and each update's updated_at be the transition times.
   */
  private async createInitialBuilds(): Promise<void> {
    const standard = await this.db.query<{ configuration: BuildConfiguration }>(
      'select cs_private.standard_build_configuration() as configuration',
    );
    const configuration = standard.rows[0]?.configuration;
    if (!configuration) throw new Error('demo seed: the standard build configuration is missing');
    for (const key of ['hht', 'onc'] as const) {
      const draftedAt = addDays(this.now, -buildTimeline.initialDraftDaysAgo[key]);
      const runAt = addDays(draftedAt, buildTimeline.initialRunAfterDays);
      const id = await this.insertBuild({
        study: key,
        number: 'B1',
        version: '1.0',
        type: 'INITIAL',
        amendmentReference: null,
        description: initialBuildDescription(key),
        configuration,
        at: draftedAt,
      });
      await this.advanceBuild(id, runAt, { status: 'IN_PROGRESS' });
      await this.advanceBuild(id, new Date(runAt.getTime() + buildTimeline.initialRunMinutes * minuteMs), {
        status: 'COMPLETED',
      });
      this.initialBuildIds.set(key, id);
    }
  }

  /**
   * The HHT study's protocol amendment 3 as build B2 (2.0): its first run FAILED (the new choice
   * field had no values; error_log names the field), it was retried, corrected and COMPLETED. From
   * then on the study's values are captured under B2 and B1 is superseded.
   */
  private async amendDiaryStudy(): Promise<void> {
    await this.actAs('admin');
    const initialId = this.initialBuildIds.get(amendedStudy);
    const initial = await this.db.query<{ configuration: BuildConfiguration }>(
      'select configuration_snapshot as configuration from cro.study_database_build where id = $1',
      [initialId],
    );
    const configuration = initial.rows[0]?.configuration;
    if (!configuration) throw new Error('demo seed: the INITIAL build of the amended study is missing');
    const id = await this.insertBuild({
      study: amendedStudy,
      number: demoAmendment.buildNumber,
      version: demoAmendment.buildVersion,
      type: 'AMENDMENT',
      amendmentReference: demoAmendment.amendmentReference,
      description: demoAmendment.description,
      configuration: amendedConfiguration(configuration, 'first draft'),
      at: addDays(this.now, -buildTimeline.amendmentDraftDaysAgo),
    });
    const firstRun = addDays(this.now, -buildTimeline.amendmentFirstRunDaysAgo);
    await this.advanceBuild(id, firstRun, { status: 'IN_PROGRESS' });
    // Marking it COMPLETED would refuse; FAILED records the configuration's errors, as a run does.
    const failedAt = new Date(firstRun.getTime() + buildTimeline.amendmentFirstRunSeconds * 1000);
    await this.advanceBuild(id, failedAt, { status: 'FAILED' });
    const retry = addDays(this.now, -buildTimeline.amendmentRetryDaysAgo);
    await this.advanceBuild(id, retry, { status: 'IN_PROGRESS' });
    await this.advanceBuild(
      id,
      new Date(retry.getTime() + buildTimeline.amendmentCorrectedAfterMinutes * minuteMs),
      { configuration: amendedConfiguration(configuration, 'corrected') },
    );
    await this.advanceBuild(id, this.amendedAt, { status: 'COMPLETED' });
  }

  private async insertBuild(build: {
    study: DemoStudyKey;
    number: string;
    version: string;
    type: 'INITIAL' | 'AMENDMENT';
    amendmentReference: string | null;
    description: string;
    configuration: BuildConfiguration;
    at: Date;
  }): Promise<string> {
    const id = this.rng.uuid();
    await this.db.query(
      `insert into cro.study_database_build (id, study_id, build_number, build_version, build_type,
                                             amendment_reference, build_description, configuration_snapshot,
                                             built_by, created_at)
       values ($1, $2, $3, $4, $5::cro.build_type, $6, $7, $8::jsonb, $9, $10)`,
      [
        id,
        this.studyId(build.study),
        build.number,
        build.version,
        build.type,
        build.amendmentReference,
        build.description,
        JSON.stringify(build.configuration),
        this.uid('admin'),
        build.at.toISOString(),
      ],
    );
    return id;
  }

  /** One change to a build through its state machine, dated `at` (a status, or a corrected configuration). */
  private async advanceBuild(
    id: string,
    at: Date,
    change: { status?: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED'; configuration?: BuildConfiguration },
  ): Promise<void> {
    const result = await this.db.query(
      `update cro.study_database_build
          set build_status = coalesce($2::cro.build_status, build_status),
              configuration_snapshot = coalesce($3::jsonb, configuration_snapshot),
              updated_at = $4
        where id = $1`,
      [
        id,
        change.status ?? null,
        change.configuration ? JSON.stringify(change.configuration) : null,
        at.toISOString(),
      ],
    );
    if (result.rowCount !== 1) throw new Error(`demo seed: build ${id} was not updated`);
  }

  private async createSites(): Promise<void> {
    await this.insertRows(
      'diary.sites',
      demoSites.map((site) => ({
        site_id: site.siteId,
        site_name: site.siteName,
        site_number: site.siteNumber,
        study_id: this.studyId(site.study),
      })),
    );
    const patients: Row[] = [];
    const investigators: Row[] = [];
    const analysts: Row[] = [];
    for (const person of demoPeople) {
      const diary = person.diary;
      if (!diary) continue;
      if (diary.kind === 'patient') {
        patients.push({
          patient_id: this.uid(person.key),
          site_id: diary.siteId,
          subject_code: diary.subjectCode,
          enrolled_at: addDays(this.now, -this.rng.int(60, 200)).toISOString(),
        });
      } else if (diary.kind === 'investigator') {
        for (const siteId of diary.siteIds) {
          investigators.push({
            investigator_id: this.uid(person.key),
            site_id: siteId,
            access_level: 'full',
          });
        }
      } else {
        for (const siteId of diary.siteIds) {
          analysts.push({ analyst_id: this.uid(person.key), site_id: siteId, access_level: 'deidentified' });
        }
      }
    }
    await this.insertRows('diary.user_site_assignments', patients);
    await this.insertRows('diary.investigator_site_assignments', investigators);
    await this.insertRows('diary.analyst_site_assignments', analysts);
  }

  private async createModelRegistry(): Promise<void> {
    const specs: [string, string, string, number, number | null, string][] = [
      [
        'anthropic',
        'claude-sonnet-4-5',
        'protocol-digest/1.3',
        -75,
        -18,
        'Retired: replaced by protocol-digest/1.4 after the citation-format fix (CAPA-2025-014).',
      ],
      [
        'anthropic',
        'claude-sonnet-4-5',
        'protocol-digest/1.4',
        -18,
        null,
        'Current. Validated on 120 golden proposals; citation precision 0.97, no unsupported fields.',
      ],
      [
        'anthropic',
        'claude-haiku-4-5',
        'kpi-refresh/0.9',
        -40,
        null,
        'KPI tile refresh from EDC exports; numeric outputs only, reviewed weekly.',
      ],
    ];
    this.models = specs.map(([provider, modelId, promptVersion, registered, retired]) => ({
      id: this.rng.uuid(),
      provider,
      modelId,
      promptVersion,
      registeredAt: addDays(this.now, registered),
      retiredAt: retired === null ? null : addDays(this.now, retired),
    }));
    await this.insertRows(
      'cro.model_registry_version',
      this.models.map((model, index) => ({
        id: model.id,
        provider: model.provider,
        model_id: model.modelId,
        prompt_hash: createHash('sha256')
          .update(`countersign-demo-prompt:${model.promptVersion}`)
          .digest('hex'),
        prompt_version: model.promptVersion,
        registered_at: model.registeredAt.toISOString(),
        retired_at: model.retiredAt?.toISOString() ?? null,
        notes: specs[index]?.[5],
        created_at: model.registeredAt.toISOString(),
        updated_at: (model.retiredAt ?? model.registeredAt).toISOString(),
        created_by: this.uid('admin'),
        provenance_id: null,
      })),
    );
  }

  private async createKnowledgeIndex(): Promise<void> {
    const rows: Row[] = [];
    for (const key of ['hht', 'onc'] as const) {
      for (const chunk of knowledgeChunks(key)) {
        rows.push({
          id: this.rng.uuid(),
          ...chunk,
          embedding: Array.from({ length: 8 }, () => Math.round((this.rng.next() * 2 - 1) * 1000) / 1000),
          metadata: { study_code: demoStudyContent(key, this.now).code, embedding_model: 'demo-8d' },
          created_at: addDays(this.now, -60).toISOString(),
          updated_at: addDays(this.now, -60).toISOString(),
        });
      }
    }
    await this.insertRows('cro.vector_document', rows);
  }

  private async createLiveRows(): Promise<void> {
    for (const table of liveTables) {
      const rows: Row[] = [];
      for (const study of ['hht', 'onc'] as const) {
        const createdAt = addDays(this.now, -this.rng.int(90, 140)).toISOString();
        for (const fields of demoLiveRows(study, this.now)[table]) {
          const id = this.rng.uuid();
          this.liveRefs.push({ id, study, kind: table, fields });
          const row: Row = {
            id,
            study_id: this.studyId(study),
            ...fields,
            created_at: createdAt,
            updated_at: createdAt,
            created_by: this.uid('admin'),
            provenance_id: null,
          };
          rows.push(row);
        }
      }
      await this.insertRows(`cro.${table}`, rows);
    }
  }

  /** The sponsors' requests with their provenance, decided up front and written in time order. */
  private planSponsorRequests(): void {
    for (const request of demoSponsorRequests) {
      const id = this.rng.uuid();
      const provenanceId = this.rng.uuid();
      const filedAt = addDays(this.now, -request.filedDaysAgo);
      const sponsorKey = request.study === 'hht' ? 'sponsorAurelia' : 'sponsorNorthwind';
      const provenance: Row = {
        id: provenanceId,
        study_id: this.studyId(request.study),
        actor_kind: 'human',
        actor_id: this.uid(sponsorKey),
        model_provider: null,
        model_id: null,
        model_version_id: null,
        action: 'file_request',
        subject_kind: 'sponsor_request',
        subject_id: id,
        retrieved_context: [],
        reviewer_user_id: null,
        signature_id: null,
        occurred_at: filedAt.toISOString(),
        payload: { channel: 'sponsor_portal', priority: request.priority },
      };
      this.sponsorRequests.push({
        id,
        study: request.study,
        filedAt,
        provenance,
        request: {
          id,
          sponsor_id: demoSponsors[request.study].sponsorId,
          study_id: this.studyId(request.study),
          subject: request.subject,
          body: request.body,
          priority: request.priority,
          status: request.status,
          provenance_id: provenanceId,
          created_at: filedAt.toISOString(),
          updated_at: addDays(filedAt, request.status === 'open' ? 0 : 2).toISOString(),
          created_by: this.uid(sponsorKey),
        },
      });
    }
  }

  private async writeSponsorRequests(requests: SponsorRequestRef[]): Promise<void> {
    await this.actAs('admin');
    await this.insertRows(
      'cro.provenance_event',
      requests.map((request) => request.provenance),
    );
    await this.insertRows(
      'cro.sponsor_request',
      requests.map((request) => request.request),
    );
  }

  /** Decides every proposal up front (kinds, states, targets, times), deterministically. */
  private planProposals(): PlannedProposal[] {
    const rng = this.rng;
    const kinds = rng.shuffle(
      entityKinds.flatMap((kind) => Array.from({ length: kindTargets[kind] }, () => kind)),
    );
    const drafts = kinds.map((kind) => {
      const ageDays = 0.02 + rng.next() * 29.9;
      return {
        kind,
        study: (rng.chance(0.55) ? 'hht' : 'onc') as DemoStudyKey,
        createdAt: addDays(this.now, -ageDays),
        seniority: ageDays + rng.next() * 30,
      };
    });
    // Older proposals are further along: the most senior get promoted, rejected, signed, reviewing.
    const states = (['promoted', 'rejected', 'signed', 'reviewing', 'proposed'] as const).flatMap((state) =>
      Array.from({ length: stateTargets[state] }, () => state),
    );
    const bySeniority = [...drafts].sort((a, b) => b.seniority - a.seniority);
    // A study's record is promoted at most once: a second promotion would change the live row the
    // other's signature was computed from (the promotion would be refused outside bootstrap).
    const stateOf = new Map<(typeof drafts)[number], StagingState>();
    const promotedStudies = new Set<DemoStudyKey>();
    const remaining = [...states];
    for (const draft of bySeniority) {
      const once = draft.kind === 'study' && promotedStudies.has(draft.study);
      const index = once ? remaining.findIndex((state) => state !== 'promoted') : 0;
      const [state] = index < 0 ? ['proposed' as const] : remaining.splice(index, 1);
      if (state === 'promoted' && draft.kind === 'study') promotedStudies.add(draft.study);
      stateOf.set(draft, state ?? 'proposed');
    }

    const promotedTargets = new Set<string>();
    const proposals = drafts.map((draft): PlannedProposal => {
      const state = stateOf.get(draft) ?? 'proposed';
      const context = { key: draft.study, now: this.now };
      let entityId: string | null = null;
      let proposedState: Row;
      if (draft.kind === 'study') {
        entityId = this.studyId(draft.study);
        proposedState = proposeUpdate('study', context, rng);
      } else {
        const pool = this.liveRefs.filter(
          (ref) =>
            ref.kind === draft.kind &&
            ref.study === draft.study &&
            (state !== 'promoted' || !promotedTargets.has(ref.id)),
        );
        if (pool.length > 0 && rng.chance(0.55)) {
          entityId = rng.pick(pool).id;
          if (state === 'promoted') promotedTargets.add(entityId);
          proposedState = proposeUpdate(draft.kind, context, rng);
        } else {
          proposedState = proposeCreate(draft.kind, context, rng);
        }
      }
      const span = this.now.getTime() - draft.createdAt.getTime();
      const reviewAt = new Date(draft.createdAt.getTime() + span * (0.05 + rng.next() * 0.25));
      const decideSpan = this.now.getTime() - reviewAt.getTime();
      const decideAt = new Date(reviewAt.getTime() + decideSpan * (0.1 + rng.next() * 0.4));
      const promoteAt = new Date(
        decideAt.getTime() + (this.now.getTime() - decideAt.getTime()) * (0.05 + rng.next() * 0.4),
      );
      const requests = this.sponsorRequests.filter(
        (request) => request.study === draft.study && request.filedAt < draft.createdAt,
      );
      const sponsorRequestId = requests.length > 0 && rng.chance(0.15) ? rng.pick(requests).id : null;
      return {
        id: rng.uuid(),
        provenanceId: rng.uuid(),
        study: draft.study,
        kind: draft.kind,
        entityId,
        proposedState,
        createdAt: draft.createdAt,
        state,
        reviewAt,
        decideAt,
        promoteAt,
        sponsorRequestId,
      };
    });

    // Deliberately awkward texts, in several states, so every screen meets them.
    const used = new Set<PlannedProposal>();
    const awkward = (kind: EntityKind, preferred: StagingState[], creates: boolean | null, patch: Row) => {
      const candidates = proposals.filter(
        (proposal) =>
          proposal.kind === kind &&
          !used.has(proposal) &&
          (creates === null || (proposal.entityId === null) === creates),
      );
      const chosen =
        preferred.map((state) => candidates.find((proposal) => proposal.state === state)).find(Boolean) ??
        candidates[0];
      if (!chosen) return;
      used.add(chosen);
      Object.assign(chosen.proposedState, patch);
    };
    awkward('study_risk', ['proposed'], true, { mitigation: awkwardTexts.veryLong });
    awkward('study_kpi', ['reviewing', 'proposed'], true, { label: awkwardTexts.unicode });
    awkward('study_risk', ['proposed', 'reviewing'], null, { title: awkwardTexts.rtl });
    awkward('live_essential_document', ['promoted', 'signed', 'proposed'], true, {
      document_title: awkwardTexts.html,
    });
    awkward('study_milestone', ['signed', 'reviewing'], null, { name: awkwardTexts.htmlAttribute });
    awkward('study', ['proposed', 'reviewing'], null, {
      executive_summary: `${awkwardTexts.markdownLink} — ${awkwardTexts.unicode} — ${awkwardTexts.rtl}`,
    });
    awkward('study_resource', ['rejected', 'reviewing'], null, { role: awkwardTexts.html });
    this.proposeOnlyChanges(proposals);
    return proposals;
  }

  /**
   * An agent proposes no value the record already has: each update keeps only the fields that change
   * its target's live row as first written and, if another proposal promotes into it, as promoted
   * (the row it was proposed against, and the row it now diffs against); an update left with none
   * is planned again. A promoted update is its target's only promotion: its "live before" is the first row.
   */
  private proposeOnlyChanges(proposals: PlannedProposal[]): void {
    const rng = createRng(changeRandomSeed);
    const firstRows = new Map<string, Row>(this.liveRefs.map((ref) => [ref.id, ref.fields]));
    for (const key of ['hht', 'onc'] as const) {
      firstRows.set(this.studyId(key), demoStudyContent(key, this.now).fields);
    }
    const promotions = new Map<string, PlannedProposal>();
    for (const proposal of proposals) {
      if (proposal.state === 'promoted' && proposal.entityId) promotions.set(proposal.entityId, proposal);
    }
    // Promoted updates first: the others are then checked against the rows they promote.
    const updates = [...proposals]
      .filter((proposal) => proposal.entityId !== null)
      .sort((a, b) => Number(b.state === 'promoted') - Number(a.state === 'promoted'));
    for (const proposal of updates) {
      const target = proposal.entityId as string;
      const first = firstRows.get(target);
      if (!first) throw new Error(`demo seed: no live row ${target} for a ${proposal.kind} update`);
      const promotion = promotions.get(target);
      const against =
        promotion && promotion !== proposal ? [first, { ...first, ...promotion.proposedState }] : [first];
      proposal.proposedState =
        fieldsThatChange(proposal.proposedState, against) ??
        proposeChange(proposal.kind, { key: proposal.study, now: this.now }, rng, against);
    }
  }

  private modelFor(proposal: PlannedProposal): ModelVersion {
    const [retired, current, kpi] = this.models as [ModelVersion, ModelVersion, ModelVersion];
    if (proposal.kind === 'study_kpi' && proposal.createdAt > kpi.registeredAt) return kpi;
    return retired.retiredAt && proposal.createdAt < retired.retiredAt ? retired : current;
  }

  private async insertProposals(proposals: PlannedProposal[]): Promise<void> {
    const provenance: Row[] = [];
    const staging: Row[] = [];
    for (const proposal of proposals) {
      const model = this.modelFor(proposal);
      const citations: Citation[] = citationsFor(
        proposal.study,
        this.rng,
        new Date(proposal.createdAt.getTime() - 60_000),
      );
      const payload: Row = {
        proposal: proposal.entityId === null ? 'create' : 'update',
        entity_kind: proposal.kind,
        entity_id: proposal.entityId,
        rationale: this.rng.pick(proposalRationales),
        confidence: this.rng.int(62, 98) / 100,
        prompt_version: model.promptVersion,
      };
      if (proposal.sponsorRequestId) payload.sponsor_request_id = proposal.sponsorRequestId;
      provenance.push({
        id: proposal.provenanceId,
        study_id: this.studyId(proposal.study),
        actor_kind: 'agent',
        actor_id: demoAgentId,
        model_provider: model.provider,
        model_id: model.modelId,
        model_version_id: model.id,
        action: 'propose',
        subject_kind: 'staging_record',
        subject_id: proposal.id,
        retrieved_context: citations,
        reviewer_user_id: null,
        signature_id: null,
        occurred_at: new Date(proposal.createdAt.getTime() - 2_000).toISOString(),
        payload,
      });
      staging.push({
        id: proposal.id,
        entity_kind: proposal.kind,
        entity_id: proposal.entityId,
        study_id: this.studyId(proposal.study),
        agent_id: demoAgentId,
        model_version_id: model.id,
        provenance_id: proposal.provenanceId,
        state: 'proposed',
        proposed_state: proposal.proposedState,
        created_at: proposal.createdAt.toISOString(),
        updated_at: proposal.createdAt.toISOString(),
        created_by: this.uid('agent'),
      });
    }
    await this.actAs('agent');
    await this.insertRows('cro.provenance_event', provenance);
    await this.insertRows('cro.staging_record', staging);
  }

  private async transition(state: StagingState, moves: { id: string; at: Date }[]): Promise<void> {
    if (moves.length === 0) return;
    const result = await this.db.query(
      `update cro.staging_record s set state = $2::cro.staging_state, updated_at = v.at
         from jsonb_to_recordset($1::jsonb) as v(id uuid, at timestamptz)
        where s.id = v.id`,
      [JSON.stringify(moves.map((move) => ({ id: move.id, at: move.at.toISOString() }))), state],
    );
    if (result.rowCount !== moves.length) {
      throw new Error(`demo seed: moved ${result.rowCount} of ${moves.length} proposals to ${state}`);
    }
  }

  /** Reviews, signs, rejects and promotes one study's proposals as that study's signer. */
  private async driveHistory(study: DemoStudyKey, proposals: PlannedProposal[]): Promise<void> {
    const signerKey = study === 'hht' ? 'signerA' : 'signerB';
    const signer = demoPerson(signerKey);
    await this.actAs(signerKey);
    const reviewed = proposals.filter((proposal) => proposal.state !== 'proposed');
    await this.transition(
      'reviewing',
      reviewed.map((proposal) => ({ id: proposal.id, at: proposal.reviewAt })),
    );

    const decided = reviewed.filter((proposal) => proposal.state !== 'reviewing');
    const signatures = decided.map((proposal, index) => {
      const approve = proposal.state !== 'rejected';
      const rejection = approve ? null : demoRejections[index % demoRejections.length];
      return {
        id: this.rng.uuid(),
        staging_id: proposal.id,
        user_id: this.uid(signerKey),
        user_display_name: signer.printedName,
        intent: approve ? 'approve' : 'reject',
        meaning: approve ? approveMeaning : rejectMeaning,
        re_auth_at: new Date(proposal.decideAt.getTime() - this.rng.int(20, 240) * 1000).toISOString(),
        signed_at: proposal.decideAt.toISOString(),
        ceremony_id: this.rng.uuid(),
        nonce: this.rng.hex(32),
        rejection_reason: rejection?.reason ?? null,
        rejection_explanation: rejection?.explanation ?? null,
      };
    });
    if (signatures.length > 0) {
      // The content hash binds the signature to exactly the record and live row it was computed from
      // (migration 0014); the server's own function, so the demo's signatures verify like real ones.
      await this.db.query(
        `insert into cro.signature_event (id, user_id, user_display_name, intent, subject_kind, subject_id,
                                          re_auth_at, meaning_of_signature, signed_at, created_at, updated_at,
                                          created_by, study_id, content_hash, ceremony_id, nonce,
                                          rejection_reason, rejection_explanation)
         select v.id, v.user_id, v.user_display_name, v.intent::cro.signature_intent, 'staging_record', s.id::text,
                v.re_auth_at, v.meaning, v.signed_at, v.signed_at, v.signed_at, v.user_id, s.study_id,
                cs_private.signing_content_hash(s),
                v.ceremony_id, v.nonce, v.rejection_reason, v.rejection_explanation
           from jsonb_to_recordset($1::jsonb) as v(id uuid, staging_id uuid, user_id uuid, user_display_name text,
                                                   intent text, meaning text, re_auth_at timestamptz,
                                                   signed_at timestamptz, ceremony_id uuid, nonce text,
                                                   rejection_reason text, rejection_explanation text)
           join cro.staging_record s on s.id = v.staging_id`,
        [JSON.stringify(signatures)],
      );
    }
    await this.transition(
      'signed',
      decided
        .filter((proposal) => proposal.state === 'signed' || proposal.state === 'promoted')
        .map((proposal) => ({ id: proposal.id, at: proposal.decideAt })),
    );
    await this.transition(
      'rejected',
      decided
        .filter((proposal) => proposal.state === 'rejected')
        .map((proposal) => ({ id: proposal.id, at: proposal.decideAt })),
    );
    // Promotions one by one, oldest first, so that later changes to the same live row win.
    const promoted = decided
      .filter((proposal) => proposal.state === 'promoted')
      .sort((a, b) => a.promoteAt.getTime() - b.promoteAt.getTime());
    for (const proposal of promoted) {
      await this.transition('promoted', [{ id: proposal.id, at: proposal.promoteAt }]);
    }
  }

  /**
   * Every diary write, decided up front: patients' entries and corrections, investigators' notes and
   * queries and the closing of some queries. Entries of the amended study captured after the
   * amendment may name a rescue treatment, and at each of its sites one entry made before the
   * amendment is corrected after it, so that its history spans builds B1 and B2.
   */
  private planDiaries(): DiaryWrite[] {
    const rng = this.rng;
    const writes: DiaryWrite[] = [];
    const records: {
      eventUuid: string;
      patientKey: string;
      siteId: string;
      date: Date;
      events: number;
      last: Date;
      data: Row;
    }[] = [];
    let awkwardLeft = 3;
    for (const person of demoPeople) {
      const diary = person.diary;
      if (diary?.kind !== 'patient') continue;
      const site = demoSites.find((candidate) => candidate.siteId === diary.siteId);
      if (!site) throw new Error(`demo site ${diary.siteId} is missing`);
      const count = rng.int(3, 6);
      for (let index = 0; index < count; index++) {
        const date = addDays(this.now, -rng.int(2, 29));
        const awkward = awkwardLeft > 0 && rng.chance(0.3);
        if (awkward) awkwardLeft--;
        const eventUuid = rng.uuid();
        const events = rng.int(1, 3);
        const underAmendment = site.study === amendedStudy && date >= this.amendedAt;
        const created = diaryEntry(site.study, date, rng, { awkward, underAmendment });
        let data = created;
        let last = date;
        for (let round = 0; round < events; round++) {
          const at = new Date(date.getTime() + round * hourMs * rng.int(1, 10));
          data =
            round === 0
              ? created
              : {
                  ...created,
                  duration_minutes: rng.int(2, 45),
                  intensity: rng.pick(['mild', 'moderate', 'severe']),
                };
          writes.push({
            kind: 'event',
            at,
            patientKey: person.key,
            siteId: diary.siteId,
            eventUuid,
            operation: round === 0 ? 'USER_CREATE' : 'USER_UPDATE',
            data,
            changeReason: round === 0 ? 'New diary entry' : rng.pick(diaryChangeReasons),
          });
          last = at;
        }
        records.push({ eventUuid, patientKey: person.key, siteId: diary.siteId, date, events, last, data });
      }
    }

    // At each site of the amended study, the latest entry made before the amendment (of at most two
    // events) gets the rescue treatment a few days after it: its history spans B1 and B2.
    for (const site of demoSites.filter((candidate) => candidate.study === amendedStudy)) {
      const candidates = records
        .filter(
          (record) => record.siteId === site.siteId && record.last < this.amendedAt && record.events < 3,
        )
        .sort((a, b) => b.last.getTime() - a.last.getTime());
      const record = candidates[0];
      if (!record) throw new Error(`demo seed: no diary entry before the amendment at ${site.siteId}`);
      const latest = this.now.getTime() - 3 * hourMs;
      const at = new Date(
        Math.min(latest, this.amendedAt.getTime() + rng.int(1, 4) * 86_400_000 + rng.int(1, 10) * hourMs),
      );
      record.data = { ...record.data, rescue_treatment: rng.pick(rescueTreatments.slice(1)) };
      record.events++;
      record.last = at;
      writes.push({
        kind: 'event',
        at,
        patientKey: record.patientKey,
        siteId: site.siteId,
        eventUuid: record.eventUuid,
        operation: 'USER_UPDATE',
        data: record.data,
        changeReason: rescueTreatmentChangeReason,
      });
    }

    // Investigator annotations: notes and queries, half the queries closed, each by a request with
    // its reason (0051), as the workstation does.
    for (const investigator of demoPeople) {
      const diary = investigator.diary;
      if (diary?.kind !== 'investigator') continue;
      const atSite = records.filter((record) => diary.siteIds.includes(record.siteId));
      const annotated = rng.shuffle(atSite).slice(0, Math.max(2, Math.ceil(atSite.length * 0.7)));
      for (const record of annotated) {
        for (let n = rng.int(1, 2); n > 0; n--) {
          const query = rng.chance(0.5);
          const at = new Date(
            record.date.getTime() + (this.now.getTime() - record.date.getTime()) * (0.2 + rng.next() * 0.7),
          );
          const annotationId = rng.uuid();
          writes.push({
            kind: 'annotation',
            at,
            investigatorKey: investigator.key,
            annotationId,
            eventUuid: record.eventUuid,
            annotationKind: query ? 'query' : 'note',
            text: query ? rng.pick(annotationQueries) : rng.pick(annotationNotes),
            requiresResponse: query,
          });
          if (query && rng.chance(0.5)) {
            const reason = rng.pick(demoCloseReasons);
            writes.push({
              kind: 'resolution',
              at: new Date(at.getTime() + (this.now.getTime() - at.getTime()) * rng.next() * 0.5),
              investigatorKey: investigator.key,
              requestId: rng.uuid(),
              annotationId,
              reasonCode: reason.code,
              reasonText: reason.text,
            });
          }
        }
      }
    }
    // Stable: a record's events, and an annotation and its closing, keep their order on equal times.
    return writes.sort((a, b) => a.at.getTime() - b.at.getTime());
  }

  /** Writes diary events, annotations and closings one by one, in time order, each as its author. */
  private async writeDiary(writes: DiaryWrite[]): Promise<void> {
    for (const write of writes) {
      if (write.kind === 'event') {
        await this.actAs(write.patientKey);
        await this.db.query(
          `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, created_by, role,
                                           client_timestamp, parent_audit_id, change_reason)
           values ($1, $2, $3, $4, $5::jsonb, $2, 'USER', $6,
                   (select s.last_audit_id from diary.record_state s where s.event_uuid = $1), $7)`,
          [
            write.eventUuid,
            this.uid(write.patientKey),
            write.siteId,
            write.operation,
            JSON.stringify(write.data),
            write.at.toISOString(),
            write.changeReason,
          ],
        );
      } else if (write.kind === 'annotation') {
        await this.actAs(write.investigatorKey);
        const result = await this.db.query(
          `insert into diary.investigator_annotations (annotation_id, event_uuid, patient_id, parent_audit_id,
                                                       investigator_id, site_id, annotation_kind, annotation_text,
                                                       requires_response, created_at)
           select $1, s.event_uuid, s.patient_id, s.last_audit_id, $2, s.site_id, $3, $4, $5, $6
             from diary.record_state s where s.event_uuid = $7`,
          [
            write.annotationId,
            this.uid(write.investigatorKey),
            write.annotationKind,
            write.text,
            write.requiresResponse,
            write.at.toISOString(),
            write.eventUuid,
          ],
        );
        if (result.rowCount !== 1) throw new Error(`demo seed: annotation on ${write.eventUuid} not written`);
      } else {
        await this.actAs(write.investigatorKey);
        const result = await this.db.query(
          `insert into diary.annotation_resolutions (request_id, annotation_id, event_uuid, site_id, resolved,
                                                     requested_by, reason_code, reason_text, requested_at)
           select $1, a.annotation_id, a.event_uuid, a.site_id, true, $2, $3, $4, $5
             from diary.investigator_annotations a where a.annotation_id = $6`,
          [
            write.requestId,
            this.uid(write.investigatorKey),
            write.reasonCode,
            write.reasonText,
            write.at.toISOString(),
            write.annotationId,
          ],
        );
        if (result.rowCount !== 1) throw new Error(`demo seed: closing of ${write.annotationId} not written`);
      }
    }
  }
}

// ── Counts ──────────────────────────────────────────────────────────────────────────────────────

export async function demoCounts(client: ClientBase): Promise<DemoCounts> {
  const { rows } = await client.query<{ counts: Record<string, number> }>(`
    select jsonb_build_object(
      'people', (select count(*) from cro.user_profile),
      'studies', (select count(*) from cro.study),
      'sites', (select count(*) from diary.sites),
      'modelVersions', (select count(*) from cro.model_registry_version),
      'sponsorRequests', (select count(*) from cro.sponsor_request),
      'provenanceEvents', (select count(*) from cro.provenance_event),
      'signatureEvents', (select count(*) from cro.signature_event),
      'auditLogEntries', (select count(*) from audit.audit_log),
      'knowledgeChunks', (select count(*) from cro.vector_document),
      'study', (select count(*) from cro.study),
      'study_kpi', (select count(*) from cro.study_kpi),
      'study_milestone', (select count(*) from cro.study_milestone),
      'study_risk', (select count(*) from cro.study_risk),
      'study_resource', (select count(*) from cro.study_resource),
      'live_essential_document', (select count(*) from cro.live_essential_document),
      'diaryRecords', (select count(*) from diary.record_state),
      'diaryAuditEvents', (select count(*) from diary.record_audit),
      'annotations', (select count(*) from diary.investigator_annotations),
      'openAnnotations', (select count(*) from diary.investigator_annotations where not resolved and requires_response),
      'builds', (select count(*) from cro.study_database_build),
      'completedBuilds', (select count(*) from cro.study_database_build where build_status = 'COMPLETED'),
      'failedBuildAttempts', (select coalesce(sum(jsonb_array_length(error_log)), 0) from cro.study_database_build)
    ) as counts`);
  const c = rows[0]?.counts ?? {};
  const n = (key: string) => Number(c[key] ?? 0);
  const staging = await client.query<{ entity_kind: EntityKind; state: StagingState; n: string }>(
    'select entity_kind, state, count(*) as n from cro.staging_record group by 1, 2',
  );
  const byState = Object.fromEntries(stagingStates.map((state) => [state, 0])) as Record<
    StagingState,
    number
  >;
  const byKind = Object.fromEntries(entityKinds.map((kind) => [kind, 0])) as Record<EntityKind, number>;
  let total = 0;
  for (const row of staging.rows) {
    byState[row.state] += Number(row.n);
    byKind[row.entity_kind] += Number(row.n);
    total += Number(row.n);
  }
  return {
    people: n('people'),
    studies: n('studies'),
    sites: n('sites'),
    modelVersions: n('modelVersions'),
    sponsorRequests: n('sponsorRequests'),
    provenanceEvents: n('provenanceEvents'),
    signatureEvents: n('signatureEvents'),
    auditLogEntries: n('auditLogEntries'),
    knowledgeChunks: n('knowledgeChunks'),
    live: Object.fromEntries(entityKinds.map((kind) => [kind, n(kind)])) as Record<EntityKind, number>,
    staging: { total, byState, byKind },
    diary: {
      records: n('diaryRecords'),
      auditEvents: n('diaryAuditEvents'),
      annotations: n('annotations'),
      openAnnotations: n('openAnnotations'),
    },
    builds: { total: n('builds'), completed: n('completedBuilds'), failedAttempts: n('failedBuildAttempts') },
  };
}

// Seeds the embedded demo once: two studies, their people, live rows, ~200 agent proposals with
// provenance and a month of review history driven through the staging state machine, sponsor
// requests and patient diaries with investigator annotations. Everything goes through the
// database's own rules (bootstrap mode for reference data, the staging triggers for transitions,
// request.jwt.claims to act as a person) and happens in one transaction: a crash mid-seed leaves
// nothing behind and the next start seeds again. A marker row makes later calls a no-op.
import { createHash } from 'node:crypto';
import type { ClientBase } from 'pg';
import { type EntityKind, entityKinds, type StagingState, stagingStates } from '../../../shared/domain';
import { type PersonSpec, provisionPerson } from '../provisioning';
import {
  addDays,
  annotationNotes,
  annotationQueries,
  awkwardTexts,
  type Citation,
  citationsFor,
  type DemoLiveRows,
  demoCloseReasons,
  demoLiveRows,
  demoSponsorRequests,
  demoStudyContent,
  diaryChangeReasons,
  diaryEntry,
  knowledgeChunks,
  proposalRationales,
  proposeCreate,
  proposeUpdate,
  type Row,
} from './demoContent';
import {
  type DemoPerson,
  type DemoStudyKey,
  demoAgentId,
  demoPeople,
  demoPerson,
  demoSites,
  demoSponsors,
} from './demoPeople';
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
/** One seeder at a time per database. */
const seedLockKey = 4242002;

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
        `${counts.diary.records} diary records, ${counts.auditLogEntries} audit entries in ${durationMs} ms`,
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
}

interface SponsorRequestRef {
  id: string;
  study: DemoStudyKey;
  filedAt: Date;
}

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
  private models: ModelVersion[] = [];

  constructor(
    private readonly db: ClientBase,
    private readonly now: Date,
    private readonly rng: Rng,
    private readonly log: (line: string) => void,
  ) {}

  async run(): Promise<void> {
    await this.provision(demoPerson('admin'));
    await this.actAs('admin');
    await this.createStudies();
    for (const person of demoPeople) {
      if (person.key !== 'admin') await this.provision(person);
    }
    this.log('demo seed: people provisioned');
    await this.createSites();
    await this.createModelRegistry();
    await this.createKnowledgeIndex();
    await this.createLiveRows();
    await this.createSponsorRequests();
    const proposals = this.planProposals();
    await this.insertProposals(proposals);
    for (const study of ['hht', 'onc'] as const) {
      await this.driveHistory(
        study,
        proposals.filter((proposal) => proposal.study === study),
      );
    }
    this.log('demo seed: staging history recorded');
    await this.createDiaries();
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
          this.liveRefs.push({ id, study, kind: table });
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

  private async createSponsorRequests(): Promise<void> {
    const provenance: Row[] = [];
    const requests: Row[] = [];
    for (const request of demoSponsorRequests) {
      const id = this.rng.uuid();
      const provenanceId = this.rng.uuid();
      const filedAt = addDays(this.now, -request.filedDaysAgo);
      const sponsorKey = request.study === 'hht' ? 'sponsorAurelia' : 'sponsorNorthwind';
      provenance.push({
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
      });
      requests.push({
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
      });
      this.sponsorRequests.push({ id, study: request.study, filedAt });
    }
    await this.insertRows('cro.provenance_event', provenance);
    await this.insertRows('cro.sponsor_request', requests);
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
    const stateOf = new Map(bySeniority.map((draft, index) => [draft, states[index] ?? 'proposed']));

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
    return proposals;
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

  private async createDiaries(): Promise<void> {
    const rng = this.rng;
    const records: { eventUuid: string; siteId: string; date: Date }[] = [];
    let awkwardLeft = 3;
    for (const person of demoPeople) {
      const diary = person.diary;
      if (diary?.kind !== 'patient') continue;
      const site = demoSites.find((candidate) => candidate.siteId === diary.siteId);
      if (!site) throw new Error(`demo site ${diary.siteId} is missing`);
      const patientRecords = Array.from({ length: rng.int(3, 6) }, () => {
        const date = addDays(this.now, -rng.int(2, 29));
        const awkward = awkwardLeft > 0 && rng.chance(0.3);
        if (awkward) awkwardLeft--;
        return {
          eventUuid: rng.uuid(),
          events: rng.int(1, 3),
          date,
          data: diaryEntry(site.study, date, rng, awkward),
        };
      });
      await this.actAs(person.key);
      for (let round = 0; round < 3; round++) {
        const batch = patientRecords
          .filter((record) => record.events > round)
          .map((record) => {
            const data =
              round === 0
                ? record.data
                : {
                    ...record.data,
                    duration_minutes: rng.int(2, 45),
                    intensity: rng.pick(['mild', 'moderate', 'severe']),
                  };
            return {
              event_uuid: record.eventUuid,
              operation: round === 0 ? 'USER_CREATE' : 'USER_UPDATE',
              data,
              client_timestamp: new Date(
                record.date.getTime() + round * 3_600_000 * rng.int(1, 10),
              ).toISOString(),
              change_reason: round === 0 ? 'New diary entry' : rng.pick(diaryChangeReasons),
            };
          });
        if (batch.length === 0) continue;
        await this.db.query(
          `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, created_by, role,
                                           client_timestamp, parent_audit_id, change_reason)
           select v.event_uuid, $2, $3, v.operation, v.data, $2, 'USER', v.client_timestamp,
                  (select s.last_audit_id from diary.record_state s where s.event_uuid = v.event_uuid),
                  v.change_reason
             from jsonb_to_recordset($1::jsonb) as v(event_uuid uuid, operation text, data jsonb,
                                                     client_timestamp timestamptz, change_reason text)`,
          [JSON.stringify(batch), this.uid(person.key), diary.siteId],
        );
      }
      for (const record of patientRecords) {
        records.push({ eventUuid: record.eventUuid, siteId: diary.siteId, date: record.date });
      }
    }

    // Investigator annotations: notes and queries, some queries resolved.
    for (const investigator of demoPeople) {
      const diary = investigator.diary;
      if (diary?.kind !== 'investigator') continue;
      const atSite = records.filter((record) => diary.siteIds.includes(record.siteId));
      const annotated = rng.shuffle(atSite).slice(0, Math.max(2, Math.ceil(atSite.length * 0.7)));
      const annotations = annotated.flatMap((record) =>
        Array.from({ length: rng.int(1, 2) }, () => {
          const query = rng.chance(0.5);
          return {
            annotation_id: rng.uuid(),
            event_uuid: record.eventUuid,
            annotation_kind: query ? 'query' : 'note',
            annotation_text: query ? rng.pick(annotationQueries) : rng.pick(annotationNotes),
            requires_response: query,
            created_at: new Date(
              record.date.getTime() + (this.now.getTime() - record.date.getTime()) * (0.2 + rng.next() * 0.7),
            ).toISOString(),
          };
        }),
      );
      await this.actAs(investigator.key);
      await this.db.query(
        `insert into diary.investigator_annotations (annotation_id, event_uuid, patient_id, parent_audit_id,
                                                     investigator_id, site_id, annotation_kind, annotation_text,
                                                     requires_response, created_at)
         select v.annotation_id, v.event_uuid, s.patient_id, s.last_audit_id, $2, s.site_id, v.annotation_kind,
                v.annotation_text, v.requires_response, v.created_at
           from jsonb_to_recordset($1::jsonb) as v(annotation_id uuid, event_uuid uuid, annotation_kind text,
                                                   annotation_text text, requires_response boolean,
                                                   created_at timestamptz)
           join diary.record_state s on s.event_uuid = v.event_uuid`,
        [JSON.stringify(annotations), this.uid(investigator.key)],
      );
      // Half the queries are closed, each by a request with its reason (0051), as the workstation does.
      const closed = annotations
        .filter((annotation) => annotation.requires_response && rng.chance(0.5))
        .map((annotation) => {
          const reason = rng.pick(demoCloseReasons);
          const madeAt = new Date(annotation.created_at).getTime();
          return {
            request_id: rng.uuid(),
            annotation_id: annotation.annotation_id,
            reason_code: reason.code,
            reason_text: reason.text,
            requested_at: new Date(madeAt + (this.now.getTime() - madeAt) * rng.next() * 0.5).toISOString(),
          };
        });
      if (closed.length > 0) {
        await this.db.query(
          `insert into diary.annotation_resolutions (request_id, annotation_id, event_uuid, site_id, resolved,
                                                     requested_by, reason_code, reason_text, requested_at)
           select v.request_id, a.annotation_id, a.event_uuid, a.site_id, true, $2, v.reason_code, v.reason_text,
                  v.requested_at
             from jsonb_to_recordset($1::jsonb) as v(request_id uuid, annotation_id uuid, reason_code text,
                                                     reason_text text, requested_at timestamptz)
             join diary.investigator_annotations a on a.annotation_id = v.annotation_id`,
          [JSON.stringify(closed), this.uid(investigator.key)],
        );
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
      'openAnnotations', (select count(*) from diary.investigator_annotations where not resolved and requires_response)
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
  };
}

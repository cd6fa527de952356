// The typed contract between the renderer and the main process: one entry per channel, each with a
// zod schema for its request and its response. The preload exposes exactly these channels, the
// Electron IPC handlers and the browser host both parse every request (and every response) with
// them, and nothing else crosses the boundary.
import { z } from 'zod';
import { appRoles, backendModes, entityKinds, queryReasonCodes, stagingStates } from './domain';

const isoTimestamp = z.string().min(1).max(64);
const uuid = z.uuid();

export const DemoUser = z.object({
  email: z.string(),
  password: z.string(),
  printedName: z.string(),
  roles: z.array(z.string()),
  hasTotp: z.boolean(),
});

export const BackendStatus = z.object({
  mode: z.enum(backendModes),
  state: z.enum(['starting', 'ready', 'error']),
  /** One line a person can act on: what is running, or what went wrong and what to do. */
  message: z.string(),
  serverVersion: z.string().nullable(),
  /** Name of the newest applied migration file. */
  schemaVersion: z.string().nullable(),
  /** Only in the embedded demo: who can sign in. */
  demoUsers: z.array(DemoUser),
  session: z
    .object({
      userId: uuid,
      email: z.string(),
      printedName: z.string(),
      roles: z.array(z.enum(appRoles)),
    })
    .nullable(),
  /** Where the backend is (host:port/database, or the Supabase project's host); never a key. */
  endpoint: z.string().nullable().optional(),
  /** How the connection is protected: "TLS, server verified", "not encrypted", ... */
  transport: z.string().nullable().optional(),
  /** Sign-in protections this server lacks, each a sentence a person can act on (postgres mode). */
  warnings: z.array(z.string()).optional(),
});
export type BackendStatus = z.infer<typeof BackendStatus>;

// ── Backend profile, chosen on the sign-in screen (hosted mode) ─────────────────────────────────────
/** The backend to use from now on. Checked again in the main process (URL, key) before it is used. */
export const BackendProfile = z.discriminatedUnion('profile', [
  z.object({ profile: z.literal('embedded') }),
  z.object({
    profile: z.literal('postgres'),
    host: z.string().trim().min(1).max(253),
    port: z.number().int().min(1).max(65535).default(5432),
    database: z.string().trim().min(1).max(63),
    /** Unset: TLS with the server verified, unless the host is this machine; `disable` only by name. */
    tls: z.enum(['verify-full', 'disable']).optional(),
  }),
  z.object({
    profile: z.literal('supabase'),
    url: z.string().trim().min(1).max(2048),
    anonKey: z.string().trim().min(1).max(4096),
  }),
]);
export type BackendProfile = z.input<typeof BackendProfile>;

export const SignInRequest = z.object({
  email: z.string().trim().min(3).max(254),
  password: z.string().min(1).max(1024),
  /** Hosted mode: the authenticator code of a person with a TOTP factor (Supabase MFA, aal2). */
  totpCode: z.string().trim().max(16).optional(),
});

export const SignInResponse = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), status: BackendStatus }),
  z.object({
    ok: z.literal(false),
    error: z.string(),
    /** An administrator requires a new password first (direct modes, migration 0058): show only that step. */
    passwordChangeRequired: z.boolean().optional(),
  }),
]);

/** A person changes their own password (direct modes): proved by the current one, then signed out. */
export const ChangePasswordRequest = z.object({
  currentPassword: z.string().min(1).max(1024),
  newPassword: z.string().min(1).max(1024),
});

export const StagingQueueCursor = z.object({ createdAt: isoTimestamp, id: uuid });

// ── Protocol builds (issue 20, server migration 0054) ──────────────────────────────────────────────
export const buildStatuses = ['DRAFT', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export const buildTypes = ['INITIAL', 'AMENDMENT', 'CORRECTION'] as const;

/** What the workstation shows beside a value: the build it was captured under. */
export const BuildRef = z.object({
  id: uuid,
  number: z.string(),
  version: z.string(),
  /** A later build of the same study has completed since: the value was captured under an older protocol. */
  superseded: z.boolean(),
});
export type BuildRef = z.infer<typeof BuildRef>;

export const BuildFieldDefinition = z.object({
  code: z.string(),
  label: z.string(),
  type: z.string(),
  required: z.boolean(),
  values: z.array(z.string()).nullable(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  maxLength: z.number().int().nullable(),
});
export type BuildFieldDefinition = z.infer<typeof BuildFieldDefinition>;

export const BuildFormDefinition = z.object({
  code: z.string(),
  kind: z.string(),
  title: z.string(),
  fields: z.array(BuildFieldDefinition),
});
export type BuildFormDefinition = z.infer<typeof BuildFormDefinition>;

export const BuildError = z.object({
  path: z.string().nullable(),
  field: z.string().nullable(),
  message: z.string(),
});

export const StudyBuild = z.object({
  id: uuid,
  studyId: uuid,
  studyCode: z.string(),
  buildNumber: z.string(),
  buildVersion: z.string(),
  status: z.enum(buildStatuses),
  type: z.enum(buildTypes),
  amendmentReference: z.string().nullable(),
  description: z.string(),
  /** Place among the study's COMPLETED builds (1, 2, ...); null until completed. */
  completedSequence: z.number().int().nullable(),
  /** The study's latest COMPLETED build: new values are captured under it. */
  current: z.boolean(),
  superseded: z.boolean(),
  startedAt: isoTimestamp.nullable(),
  endedAt: isoTimestamp.nullable(),
  durationSeconds: z.number().int().nullable(),
  totalForms: z.number().int(),
  totalFields: z.number().int(),
  validationRules: z.number().int(),
  errorCount: z.number().int(),
  /** One entry per failed attempt, oldest first. */
  errorLog: z.array(
    z.object({
      attempt: z.number().int(),
      at: isoTimestamp.nullable(),
      by: uuid.nullable(),
      errors: z.array(BuildError),
    }),
  ),
  builtBy: uuid,
  createdAt: isoTimestamp,
  configurationSha256: z.string(),
  /** The configuration's forms (a draft's may be incomplete: read leniently). */
  forms: z.array(BuildFormDefinition),
});
export type StudyBuild = z.infer<typeof StudyBuild>;

/** What changed from one build to another (src/shared/buildDiff.ts). */
export const BuildDiffChange = z.object({
  form: z.string(),
  /** null: the whole form was added or removed. */
  field: z.string().nullable(),
  change: z.enum(['added', 'removed', 'changed']),
  /** For a changed field: each rule that differs, e.g. "max: 1440 → 240", "values: + other". */
  details: z.array(z.string()),
});
export type BuildDiffChange = z.infer<typeof BuildDiffChange>;

export const BuildDiff = z.object({
  fromBuildId: uuid,
  toBuildId: uuid,
  changes: z.array(BuildDiffChange),
});
export type BuildDiff = z.infer<typeof BuildDiff>;

export const StagingQueueRequest = z.object({
  limit: z.number().int().min(1).max(20000).default(500),
  after: StagingQueueCursor.nullable().default(null),
  states: z.array(z.enum(stagingStates)).max(stagingStates.length).default([]),
  studyId: uuid.nullable().default(null),
  /** Only proposals written under this protocol build. */
  buildId: uuid.nullable().optional(),
});

export const StagingQueueRow = z.object({
  id: uuid,
  state: z.enum(stagingStates),
  entityKind: z.enum(entityKinds),
  entityId: uuid.nullable(),
  studyId: uuid,
  studyCode: z.string(),
  agentId: z.string(),
  modelVersion: z.string().nullable(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
  /** The protocol build the proposal was written under (null: a source that does not say). */
  build: BuildRef.nullable().default(null),
});
export type StagingQueueRow = z.infer<typeof StagingQueueRow>;

/** A queue row as the renderer lists it (what `queueRowsOf` rebuilds from a page's columns). */
export type QueueRow = Pick<
  StagingQueueRow,
  'id' | 'state' | 'entityKind' | 'studyId' | 'studyCode' | 'agentId' | 'modelVersion' | 'createdAt'
> & {
  /** The protocol build it was written under; null: not known. */
  build: BuildRef | null;
  /** One line on what the proposal changes ("status: mitigating → open; +1 field"); null: not known yet. */
  changeSummary: string | null;
  /** The title of the record it changes (or creates); null: not known yet. */
  targetTitle: string | null;
};

const dictionaryIndex = z.number().int().nonnegative();

/**
 * A queue page by column: one array per field, all of one length, and the few studies, agents and
 * model versions once each, referred to by index. A signer's queue loads 100,000 rows at once; as
 * row objects that was 37 MB of JSON per load, this is about a quarter of it, and zod checks an
 * array of strings much faster than as many objects. stagingQueueColumns.ts writes and reads it.
 */
export const StagingQueueColumns = z
  .object({
    id: z.array(uuid),
    state: z.array(z.enum(stagingStates)),
    entityKind: z.array(z.enum(entityKinds)),
    createdAt: z.array(isoTimestamp),
    /** Index into `studies`. */
    study: z.array(dictionaryIndex),
    /** Index into `agents`. */
    agent: z.array(dictionaryIndex),
    /** Index into `modelVersions`; null: no model version recorded. */
    modelVersion: z.array(dictionaryIndex.nullable()),
    /** Index into `changeSummaries` (computed when the row is cached); null before the first sync. */
    changeSummary: z.array(dictionaryIndex.nullable()),
    /** Index into `targetTitles`; null: not known. */
    targetTitle: z.array(dictionaryIndex.nullable()),
    /** Index into `builds`; null: not known. */
    build: z.array(dictionaryIndex.nullable()),
    builds: z.array(BuildRef),
    studies: z.array(z.object({ id: uuid, code: z.string() })),
    agents: z.array(z.string()),
    modelVersions: z.array(z.string()),
    changeSummaries: z.array(z.string()),
    targetTitles: z.array(z.string()),
  })
  .superRefine((columns, context) => {
    const length = columns.id.length;
    for (const name of [
      'state',
      'entityKind',
      'createdAt',
      'study',
      'agent',
      'modelVersion',
      'changeSummary',
      'targetTitle',
      'build',
    ] as const) {
      if (columns[name].length !== length)
        context.addIssue({
          code: 'custom',
          path: [name],
          message: `has ${columns[name].length} entries for ${length} rows`,
        });
    }
    const outOfRange = (indexes: (number | null)[], size: number) =>
      indexes.findIndex((index) => index !== null && index >= size);
    for (const [name, size] of [
      ['study', columns.studies.length],
      ['agent', columns.agents.length],
      ['modelVersion', columns.modelVersions.length],
      ['changeSummary', columns.changeSummaries.length],
      ['targetTitle', columns.targetTitles.length],
      ['build', columns.builds.length],
    ] as const) {
      const at = outOfRange(columns[name], size);
      if (at !== -1)
        context.addIssue({
          code: 'custom',
          path: [name, at],
          message: `refers to entry ${columns[name][at]} of ${size}`,
        });
    }
  });
export type StagingQueueColumns = z.infer<typeof StagingQueueColumns>;

export const StagingQueuePage = z.object({
  columns: StagingQueueColumns,
  nextCursor: StagingQueueCursor.nullable(),
  /** Per state over the whole queue (not only this page); the cache sends it with the first page only. */
  countsByState: z.record(z.enum(stagingStates), z.number().int().nonnegative()).nullable(),
});
export type StagingQueuePage = z.infer<typeof StagingQueuePage>;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 hash in lower-case hex');
const StagingIds = z.object({ stagingIds: z.array(uuid).min(1).max(5000) });
const signatureIntents = ['approve', 'reject', 'approve_release'] as const;

/** The most records one signing ceremony signs (the server's sign_batch refuses more, 0050). */
export const maxRecordsPerCeremony = 10_000;
const CeremonyStagingIds = z.object({ stagingIds: z.array(uuid).min(1).max(maxRecordsPerCeremony) });

export const MeaningOfSignature = z.object({ intent: z.enum(signatureIntents), meaning: z.string() });

/** Why a batch was rejected: one of the configured reasons and the signer's explanation (decision 40). */
export const RejectionReason = z.object({
  reason: z.string().trim().min(1).max(200),
  explanation: z.string().trim().min(1).max(2000),
});
export type RejectionReason = z.infer<typeof RejectionReason>;

export const SigningStatus = z.object({
  isSigner: z.boolean(),
  totp: z.enum(['none', 'unconfirmed', 'confirmed']),
  locked: z.boolean(),
  consecutiveFailures: z.number().int().nonnegative(),
  meanings: z.array(MeaningOfSignature),
  /** The configured reasons a rejection names, in order (cro.rejection_reason). */
  rejectionReasons: z.array(z.string()),
  /** Who is signing, as the dialog names them beside the attestation. */
  signer: z.object({ printedName: z.string(), email: z.string() }),
  /** The attestation the dialog shows above the Sign button (11.100(c), 11.50). */
  attestation: z.string(),
  /** Only in the embedded demo, for the demo signers: the main process can show a current code. */
  demoCodeAvailable: z.boolean(),
});
export type SigningStatus = z.infer<typeof SigningStatus>;

export const ManifestEntry = z.object({
  stagingRecordId: uuid,
  studyCode: z.string(),
  entityKind: z.string(),
  entityId: uuid.nullable(),
  state: z.string(),
  contentHash: sha256Hex,
  /** The protocol build the record was written under; its content hash binds it (version 2). */
  build: BuildRef.nullable().default(null),
});
export type ManifestEntry = z.infer<typeof ManifestEntry>;

export const Manifest = z.object({
  ceremonyId: uuid,
  entries: z.array(ManifestEntry),
  problems: z.array(z.string()),
});
export type Manifest = z.infer<typeof Manifest>;

export const SignRequest = z.object({
  ceremonyId: uuid,
  intent: z.enum(['approve', 'reject']),
  meaning: z.string().trim().min(1).max(200),
  comment: z.string().max(2000).nullable().default(null),
  /** Required when rejecting, null when approving (the server refuses otherwise). */
  rejection: RejectionReason.nullable().default(null),
  entries: z
    .array(z.object({ stagingRecordId: uuid, contentHash: sha256Hex }))
    .min(1)
    .max(maxRecordsPerCeremony),
  password: z.string().min(1).max(1024),
  totpCode: z.string().max(16),
  /** Issue 21 (recovery codes): given instead of the TOTP code; used up by this signature. */
  recoveryCode: z.string().max(32).optional(),
});

export const SignedRecord = z.object({
  stagingRecordId: uuid,
  signatureId: uuid,
  contentHash: sha256Hex,
  state: z.enum(['signed', 'rejected']),
});

export const SignatureManifestation = z.object({
  ceremonyId: uuid,
  intent: z.enum(['approve', 'reject']),
  meaning: z.string(),
  comment: z.string().nullable(),
  /** UTC, ISO 8601 with milliseconds; the renderer adds the local time. */
  signedAt: isoTimestamp,
  reAuthAt: isoTimestamp,
  signer: z.object({ userId: uuid, printedName: z.string() }),
  rejection: RejectionReason.nullable(),
  records: z.array(SignedRecord),
  replayed: z.boolean(),
});
export type SignatureManifestation = z.infer<typeof SignatureManifestation>;

export const SignResponse = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    result: SignatureManifestation,
    /** Issue 21: a recovery code was used; the signer must enrol a new authenticator before signing again. */
    enrolNewAuthenticator: z.boolean().optional(),
  }),
  z.object({
    ok: z.literal(false),
    error: z.string(),
    locked: z.boolean(),
    attemptsLeft: z.number().int().nullable(),
    retryable: z.boolean(),
    /** The field the refusal is about (cleared in the dialog); the other keeps what was typed. */
    field: z.enum(['password', 'code']).nullable(),
  }),
]);

export const PromotionOutcome = z.object({
  stagingRecordId: uuid,
  outcome: z.enum(['promoted', 'conflict', 'refused']),
  message: z.string(),
  liveId: uuid.nullable(),
});

export const StagingSignature = z.object({
  id: uuid,
  printedName: z.string(),
  intent: z.enum(signatureIntents),
  meaning: z.string(),
  comment: z.string().nullable(),
  signedAt: isoTimestamp,
  reAuthAt: isoTimestamp,
  contentHash: sha256Hex,
  ceremonyId: uuid.nullable(),
  /** A rejection's reason and explanation (0050); null for approvals and older rejections. */
  rejection: RejectionReason.nullable().optional(),
  /** What the content hash covers (0054): 1 without the build, 2 with it; absent: 1. */
  contentHashVersion: z.number().int().min(1).max(2).optional(),
});
export type StagingSignature = z.infer<typeof StagingSignature>;

/** A model registry version (cro.model_registry_version) as a record's detail names it. */
export const ModelRegistryEntry = z.object({
  id: uuid,
  provider: z.string(),
  modelId: z.string(),
  promptVersion: z.string(),
  promptHash: z.string(),
  registeredAt: isoTimestamp,
  retiredAt: isoTimestamp.nullable(),
});
export type ModelRegistryEntry = z.infer<typeof ModelRegistryEntry>;

/**
 * What one signature covered (cs_private.signing_content), recomputed by the workstation from the
 * record and the live row it was signed against: the live row before promotion for a promoted
 * record (recorded since migration 0053), the live row now otherwise.
 */
export const SignedContentCheck = z.object({
  signatureId: uuid,
  content: z.object({
    staging_record_id: uuid,
    study_id: uuid,
    entity_kind: z.string(),
    entity_id: uuid.nullable(),
    proposed_state: z.unknown(),
    live_row_sha256: sha256Hex.nullable(),
    /** Present from content-hash version 2 (0054): the build the record was written under. */
    build_id: uuid.nullable().optional(),
  }),
  /** The version the signature recorded, and so the one recomputed (1: without the build). */
  contentHashVersion: z.number().int().min(1).max(2).default(1),
  recomputedHash: sha256Hex.nullable(),
  /** matches: the signed hash recomputes; differs: it does not; unknown: the live row it covered is not known. */
  verdict: z.enum(['matches', 'differs', 'unknown']),
  /** Which live row was used, in words (or why none could be). */
  basis: z.string(),
});
export type SignedContentCheck = z.infer<typeof SignedContentCheck>;

export const StagingDetail = z.object({
  record: StagingQueueRow.extend({
    proposedState: z.unknown(),
    liveRow: z.unknown().nullable(),
    /** The agent's provenance of this proposal (its rationale and citations). */
    provenanceId: uuid.nullable(),
  }),
  /** The model registry version the proposal names; null: none recorded or not visible. */
  model: ModelRegistryEntry.nullable(),
  signatures: z.array(StagingSignature),
  /** One per signature, in the same order (added by the workstation, whatever the source). */
  signedContent: z.array(SignedContentCheck),
  provenance: z.array(
    z.object({
      id: uuid,
      action: z.string(),
      actorKind: z.string(),
      actorId: z.string(),
      occurredAt: isoTimestamp,
      /** Untrusted: the citations an agent recorded. */
      retrievedContext: z.unknown(),
      /** Untrusted where an agent wrote it; the server adds citation_grounding and live_row_before. */
      payload: z.unknown(),
      /** The protocol build it was recorded under; null: none recorded. */
      build: BuildRef.nullable().default(null),
    }),
  ),
});
export type StagingDetail = z.infer<typeof StagingDetail>;
/** A record's detail as a source reads it; the workstation adds the signed-content checks. */
export type StagingDetailRead = Omit<StagingDetail, 'signedContent'>;

export const TotpEnrolmentOffer = z.object({
  otpauthUri: z.string(),
  secretBase32: z.string(),
  qr: z.object({ size: z.number().int().positive(), modules: z.string().regex(/^[01]*$/) }),
});
export type TotpEnrolmentOffer = z.infer<typeof TotpEnrolmentOffer>;

const Empty = z.object({}).strict();

// ── Issue 21, recovery codes (V1): the signer's own codes, shown once; direct modes only ──
export const RecoveryCodesStatus = z.object({
  /** false in hosted mode: Supabase Auth owns the second factor there. */
  available: z.boolean(),
  remaining: z.number().int().nonnegative(),
  generatedAt: z.string().nullable(),
  /** A recovery code was used: a new authenticator must be enrolled before the next signature. */
  replacementDue: z.boolean(),
  totp: z.enum(['none', 'unconfirmed', 'confirmed']),
});
export type RecoveryCodesStatus = z.infer<typeof RecoveryCodesStatus>;
export const recoveryCodesContract = {
  'recovery.status': { request: Empty, response: RecoveryCodesStatus },
  /** Voids every earlier code; the answer is the only place the new codes ever appear. */
  'recovery.generate': { request: Empty, response: z.object({ codes: z.array(z.string()).length(10) }) },
} as const;

// ── Local cache and sync (issue 4): status, reads answered from the cache, the outbox, the chain ──

export const SyncStatus = z.object({
  /** The cache is open for the signed-in user (online or offline). */
  cacheOpen: z.boolean(),
  online: z.boolean(),
  /** The person chose "work offline". */
  workOffline: z.boolean(),
  /** When the workstation went offline (chosen or not); null while online. */
  offlineSince: isoTimestamp.nullable(),
  lastSyncedAt: isoTimestamp.nullable(),
  syncing: z.boolean(),
  progress: z
    .object({
      stream: z.string(),
      rowsDone: z.number().int().nonnegative(),
      rowsTotal: z.number().int().nonnegative().nullable(),
      rowsPerSecond: z.number().nonnegative(),
    })
    .nullable(),
  /** The last sync or send problem, worded for the person; null when the last run was clean. */
  lastError: z.string().nullable(),
  quarantined: z.number().int().nonnegative(),
  outbox: z.object({
    pending: z.number().int().nonnegative(),
    conflict: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
  }),
  chain: z
    .object({
      ok: z.boolean(),
      verifiedThroughSeq: z.number().int().nonnegative(),
      firstBadSeq: z.number().int().nullable(),
      problem: z.string().nullable(),
    })
    .nullable(),
  /** What protects the cache key on this host. */
  keyProtection: z.string(),
  /**
   * Cosigned checkpoints (issue 24), for inspectors and administrators: 'rewritten' when this
   * workstation found the audit history rewritten (problem says how; nothing more is cosigned).
   */
  checkpoint: z
    .object({
      state: z.enum(['none', 'cosigned', 'rewritten']),
      treeSize: z.number().int().positive().nullable(),
      cosigners: z.number().int().nonnegative(),
      problem: z.string().nullable(),
    })
    .nullable()
    .optional(),
});
export type SyncStatus = z.infer<typeof SyncStatus>;

export const ChainVerification = z.object({
  ok: z.boolean(),
  verifiedThroughSeq: z.number().int().nonnegative(),
  headHash: z.string(),
  checked: z.number().int().nonnegative(),
  firstBadSeq: z.number().int().nullable(),
  problem: z.string().nullable(),
  verifiedAt: isoTimestamp,
});

const jsonValue = z.unknown();

export const ProvenanceRow = z.object({
  id: uuid,
  studyId: uuid.nullable(),
  actorKind: z.string(),
  actorId: z.string(),
  modelProvider: z.string().nullable(),
  modelId: z.string().nullable(),
  action: z.string(),
  subjectKind: z.string(),
  subjectId: z.string(),
  signatureId: uuid.nullable(),
  occurredAt: isoTimestamp,
  retrievedContext: jsonValue,
  payload: jsonValue,
  /** The protocol build it was recorded under; null: none (no study, or before builds). */
  build: BuildRef.nullable().default(null),
});

/** A person as this workstation may name them (public.people_directory, migration 0052; cached). */
export const Person = z.object({
  userId: uuid,
  /** Null for a patient given by their subject code only (names of patients stay with them). */
  printedName: z.string().nullable(),
  roles: z.array(z.string()),
  /** An agent service account's id, as provenance and proposals carry it. */
  agentId: z.string().nullable(),
  subjectCode: z.string().nullable(),
});
export type Person = z.infer<typeof Person>;

export const SignatureRow = z.object({
  id: uuid,
  studyId: uuid.nullable(),
  subjectKind: z.string(),
  subjectId: z.string(),
  signerName: z.string(),
  intent: z.string(),
  meaning: z.string(),
  signedAt: isoTimestamp,
  contentHash: z.string(),
  rejection: RejectionReason.nullable().optional(),
});

export const DiaryRecordRow = z.object({
  eventUuid: uuid,
  patientId: uuid,
  siteId: z.string(),
  version: z.number().int(),
  lastAuditId: z.number().int(),
  isDeleted: z.boolean(),
  currentData: z.record(z.string(), jsonValue),
  /** The build of the record's latest entry. */
  build: BuildRef.nullable().default(null),
  /** The record's entries were captured under more than one build. */
  spansBuilds: z.boolean().default(false),
  /** Transcribed from a paper diary (0059): the latest transcription's page id and paper date; null otherwise. */
  paperSource: z.object({ pageId: z.string(), entryDate: z.string() }).nullable().default(null),
  annotations: z.array(
    z.object({
      annotationId: uuid,
      kind: z.string(),
      text: z.string(),
      parentAuditId: z.number().int(),
      requiresResponse: z.boolean(),
      resolved: z.boolean(),
      inReplyTo: uuid.nullable(),
      createdAt: z.string(),
    }),
  ),
});

export const OutboxItem = z.object({
  id: z.number().int(),
  clientRequestId: uuid,
  /** An annotation of a kind, or the closing / reopening of the annotation `annotationId` (diary screen). */
  kind: z.enum(['note', 'query', 'correction', 'close', 'reopen']),
  eventUuid: uuid,
  parentAuditId: z.number().int(),
  inReplyTo: uuid.nullable(),
  text: z.string(),
  requiresResponse: z.boolean(),
  state: z.enum(['pending', 'sent', 'conflict', 'failed', 'discarded']),
  createdAt: isoTimestamp,
  sentAt: isoTimestamp.nullable(),
  annotationId: z.string().nullable(),
  problem: z.string().nullable(),
  currentAuditId: z.number().int().nullable(),
  attempts: z.number().int(),
  /** For a close or reopen: why (0051); null for annotations. */
  reasonCode: z.enum(queryReasonCodes).nullable(),
  reasonText: z.string().nullable(),
});

/** A close or reopen of a query as the server recorded it (diary.annotation_resolutions). */
export const ResolutionEvent = z.object({
  requestId: uuid,
  resolved: z.boolean(),
  reasonCode: z.enum(queryReasonCodes).nullable(),
  reasonText: z.string().nullable(),
  requestedBy: uuid,
  requestedAt: isoTimestamp,
});
export type ResolutionEvent = z.infer<typeof ResolutionEvent>;

/** Closing a query needs a reason; `other` needs a text; a text needs a code. */
export const ResolveRequest = z
  .object({
    annotationId: uuid,
    resolved: z.boolean(),
    reasonCode: z.enum(queryReasonCodes).nullable().default(null),
    reasonText: z.string().trim().max(2000).nullable().default(null),
  })
  .strict()
  .transform((request) => ({ ...request, reasonText: request.reasonText || null }))
  .refine((request) => !request.resolved || request.reasonCode !== null, {
    message: 'Closing a query needs a reason.',
    path: ['reasonCode'],
  })
  .refine((request) => request.reasonCode !== 'other' || request.reasonText !== null, {
    message: 'A reason of "other" needs a text that says what it is.',
    path: ['reasonText'],
  })
  .refine((request) => request.reasonText === null || request.reasonCode !== null, {
    message: 'A reason text needs a reason (choose "other" if none fits).',
    path: ['reasonCode'],
  });

// ── Diary screen (investigator): patients by site, one record's history beside its annotations ──

export const DiaryPatients = z.object({
  sites: z.array(
    z.object({
      siteId: z.string(),
      siteName: z.string().nullable(),
      siteNumber: z.string().nullable(),
      patients: z.array(
        z.object({
          patientId: uuid,
          /** The patient's study identifier; null when the enrolment is not in the cache. */
          subjectCode: z.string().nullable(),
          records: z.number().int().nonnegative(),
          lastEntryDate: z.string().nullable(),
          openQueries: z.number().int().nonnegative(),
          /** Outbox items about this patient's records that are not on the server yet (or need a decision). */
          outboxWaiting: z.number().int().nonnegative(),
        }),
      ),
    }),
  ),
});
export type DiaryPatients = z.infer<typeof DiaryPatients>;

export const DiaryFieldChange = z.object({
  field: z.string(),
  change: z.enum(['added', 'removed', 'changed']),
  before: jsonValue,
  after: jsonValue,
});

export const DiaryHistoryEntry = z.object({
  auditId: z.number().int(),
  parentAuditId: z.number().int().nullable(),
  operation: z.string(),
  /** Who wrote it, as the server recorded it (USER: the patient; ADMIN; STAFF). */
  role: z.string(),
  /** The person who wrote it (record_audit.created_by); null if the cached row lacks it. */
  createdBy: uuid.nullable(),
  data: z.record(z.string(), jsonValue),
  /** Field by field against the previous entry (every field is `added` for the first one). */
  changes: z.array(DiaryFieldChange),
  changeReason: z.string(),
  clientTimestamp: isoTimestamp,
  serverTimestamp: isoTimestamp,
  /** The protocol build the entry was captured under (superseded: an older protocol than the study's current one). */
  build: BuildRef.nullable().default(null),
  /** A transcription's paper source (0059): the page id and the date written on the paper; null otherwise. */
  sourceReference: z.object({ pageId: z.string(), entryDate: z.string() }).nullable().default(null),
  /** The conflict this entry resolved and how (0059); null otherwise. */
  conflictResolution: z
    .object({ conflictId: z.number().int(), strategy: z.enum(['keep_mine', 'keep_theirs', 'field_merge']) })
    .nullable()
    .default(null),
});
export type DiaryHistoryEntry = z.infer<typeof DiaryHistoryEntry>;

export const DiaryAnnotation = z.object({
  annotationId: uuid,
  kind: z.enum(['note', 'query', 'correction']),
  text: z.string(),
  parentAuditId: z.number().int(),
  requiresResponse: z.boolean(),
  resolved: z.boolean(),
  resolvedAt: isoTimestamp.nullable(),
  inReplyTo: uuid.nullable(),
  /** Server time; null while the annotation waits in the outbox. */
  createdAt: isoTimestamp.nullable(),
  /** Made by the signed-in person (else by another investigator of the site). */
  byMe: z.boolean(),
  /** The investigator who made it; null if the cached row lacks it. */
  authorId: uuid.nullable(),
  /** The server's copy is in the cache; false: made here and not pulled back yet (see `outbox`). */
  fromServer: z.boolean(),
  /** The outbox item that added it, if it was made on this workstation. */
  outbox: OutboxItem.nullable(),
  /** Close / reopen requests made here, oldest first (the last one says what the person asked for). */
  resolutions: z.array(OutboxItem),
  /** Every close and reopen the server recorded, oldest first, each with who, when and why. */
  resolutionHistory: z.array(ResolutionEvent),
  /** The build it was written under; null while it waits in the outbox. */
  build: BuildRef.nullable().default(null),
});
export type DiaryAnnotation = z.infer<typeof DiaryAnnotation>;

export const DiaryHistory = z.object({
  record: z.object({
    eventUuid: uuid,
    patientId: uuid,
    subjectCode: z.string().nullable(),
    siteId: z.string(),
    version: z.number().int(),
    lastAuditId: z.number().int(),
    isDeleted: z.boolean(),
  }),
  /** Oldest first. */
  entries: z.array(DiaryHistoryEntry),
  /** The distinct builds of its entries, oldest first; more than one: the history spans builds. */
  builds: z.array(BuildRef).default([]),
  /** Oldest first; replies come after the annotation they answer. */
  annotations: z.array(DiaryAnnotation),
});
export type DiaryHistory = z.infer<typeof DiaryHistory>;

export const RecordTrail = z.object({
  stagingId: uuid,
  found: z.boolean(),
  state: z.string().nullable(),
  /** The protocol build the record was written under (its latest proposal or revision); null: not known. */
  build: BuildRef.nullable().default(null),
  provenance: z.array(ProvenanceRow),
  signatures: z.array(SignatureRow.extend({ inChain: z.boolean() })),
  chain: z.array(
    z.object({
      seq: z.number().int(),
      eventType: z.string(),
      occurredAt: z.string(),
      /** As the chain records it: a person's id, or `db:<role>` for the deployment's own session. */
      actor: z.string(),
      hashesOk: z.boolean(),
      withinVerifiedChain: z.boolean(),
    }),
  ),
  ok: z.boolean(),
  problems: z.array(z.string()),
});

/** Keyset position in a newest-first list of provenance or signature events. */
export const TimelineCursor = z.object({ at: isoTimestamp, id: uuid }).strict();

const TimelineRequest = z
  .object({
    subjectId: z.string().max(200).nullable().default(null),
    limit: z.number().int().min(1).max(5000).default(200),
    // Optional rather than defaulted, so that callers written before paging stay valid.
    studyId: uuid.nullable().optional(),
    before: TimelineCursor.nullable().optional(),
  })
  .strict();

export const AuditEntryRow = z.object({
  seq: z.number().int().positive(),
  occurredAt: isoTimestamp,
  actor: z.string(),
  eventType: z.string(),
  payload: jsonValue,
  payloadHash: z.string(),
  prevHash: z.string(),
  entryHash: z.string(),
  /** The study the entry names, if it names one. */
  studyId: z.string().nullable(),
  /** The staging record whose trail the entry belongs to, if any. */
  stagingId: z.string().nullable(),
  /** Its payload and entry hashes recompute to what it carries. */
  hashesOk: z.boolean(),
  /** At or below the verified head of the whole chain. */
  withinVerifiedChain: z.boolean(),
});
export type AuditEntryRow = z.infer<typeof AuditEntryRow>;

export const AuditListRequest = z
  .object({
    studyId: uuid.nullable().default(null),
    /** A record, signature or person the entry names anywhere in its payload, or its actor. */
    recordId: z.string().trim().min(1).max(200).nullable().default(null),
    /** The part of the event type before its first dot ('staging', 'signature', 'diary', ...). */
    eventKind: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/)
      .max(40)
      .nullable()
      .default(null),
    fromSeq: z.number().int().positive().nullable().default(null),
    toSeq: z.number().int().positive().nullable().default(null),
    /** Keyset: entries older than this seq (the previous page's nextBeforeSeq). */
    beforeSeq: z.number().int().positive().nullable().default(null),
    limit: z.number().int().min(1).max(1000).default(200),
  })
  .strict()
  .refine(
    (request) => request.fromSeq === null || request.toSeq === null || request.fromSeq <= request.toSeq,
    {
      message: 'fromSeq must not be after toSeq',
    },
  );

export const cacheContract = {
  'sync.status': { request: Empty, response: SyncStatus },
  'sync.now': { request: Empty, response: SyncStatus },
  'sync.setOffline': { request: z.object({ offline: z.boolean() }).strict(), response: SyncStatus },
  'sync.quarantine': {
    request: Empty,
    response: z.object({
      items: z.array(
        z.object({
          id: z.number().int(),
          stream: z.string(),
          rowKey: z.string().nullable(),
          problem: z.string(),
          receivedAt: isoTimestamp,
        }),
      ),
    }),
  },
  'chain.verify': {
    request: z.object({ full: z.boolean().default(false) }).strict(),
    response: ChainVerification,
  },
  'record.trail': { request: z.object({ stagingId: uuid }).strict(), response: RecordTrail },
  'provenance.list': {
    request: TimelineRequest,
    response: z.object({ rows: z.array(ProvenanceRow), nextCursor: TimelineCursor.nullable() }),
  },
  'signatures.list': {
    request: TimelineRequest,
    response: z.object({ rows: z.array(SignatureRow), nextCursor: TimelineCursor.nullable() }),
  },
  /** The cached audit_log, newest first, in keyset pages by seq; with the verified head. */
  'audit.list': {
    request: AuditListRequest,
    response: z.object({
      rows: z.array(AuditEntryRow),
      nextBeforeSeq: z.number().int().nullable(),
      verifiedHead: z
        .object({ seq: z.number().int().nonnegative(), entryHash: z.string(), verifiedAt: isoTimestamp })
        .nullable(),
      newestSeq: z.number().int().nullable(),
    }),
  },
  /** The people this person may name (issue 19): from the cache, else the server; empty in neither. */
  'people.list': { request: Empty, response: z.object({ people: z.array(Person) }) },
  /** A study's protocol builds (all studies when null), newest first within a study. */
  'builds.list': {
    request: z.object({ studyId: uuid.nullable().default(null) }).strict(),
    response: z.object({ builds: z.array(StudyBuild) }),
  },
  /** What changed from one build to another of the same study. */
  'builds.diff': {
    request: z.object({ fromBuildId: uuid, toBuildId: uuid }).strict(),
    response: BuildDiff,
  },
  /** The studies in the cache (id and code), for filters. */
  'studies.list': {
    request: Empty,
    response: z.object({ studies: z.array(z.object({ id: uuid, code: z.string() })) }),
  },
  'diary.records': {
    request: z
      .object({
        siteId: z.string().max(64).nullable().default(null),
        /** Only this patient's records (diary screen). */
        patientId: uuid.nullable().optional(),
        /** Only records with at least one entry captured under this build. */
        buildId: uuid.nullable().optional(),
        limit: z.number().int().min(1).max(5000).default(200),
      })
      .strict(),
    response: z.object({ rows: z.array(DiaryRecordRow) }),
  },
  'diary.patients': {
    request: z
      .object({
        /** Only patients with a record that has an entry captured under this build. */
        buildId: uuid.nullable().optional(),
      })
      .strict(),
    response: DiaryPatients,
  },
  'diary.history': { request: z.object({ eventUuid: uuid }).strict(), response: DiaryHistory },
  /** Close (resolved true) or reopen (false) an annotation, through the outbox: offline too. */
  'diary.resolve': { request: ResolveRequest, response: OutboxItem },
  'diary.annotate': {
    request: z
      .object({
        eventUuid: uuid,
        parentAuditId: z.number().int().positive().nullable().default(null),
        kind: z.enum(['note', 'query', 'correction']).default('note'),
        text: z.string().trim().min(1).max(20000),
        requiresResponse: z.boolean().default(false),
        inReplyTo: uuid.nullable().default(null),
      })
      .strict(),
    response: OutboxItem,
  },
  'outbox.list': {
    request: z.object({ includeSent: z.boolean().default(false) }).strict(),
    response: z.object({ items: z.array(OutboxItem) }),
  },
  'outbox.resolve': {
    request: z.object({ id: z.number().int().positive(), action: z.enum(['rebase', 'discard']) }).strict(),
    response: OutboxItem,
  },
} as const;

// ── Inspection packet (issue 6): exported from the cache, verified offline ──────────────────────────
export const ExportScope = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('study'), studyCode: z.string().trim().min(1).max(100) }),
  z.object({ kind: z.literal('patient'), patientId: uuid }),
  z.object({ kind: z.literal('staging'), stagingIds: z.array(uuid).min(1).max(10000) }),
  z.object({ kind: z.literal('all') }),
]);

export const ExportProgress = z.object({
  stage: z.enum(['verifying chain', 'gathering records', 'rendering', 'checking packet', 'done']),
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
});
export type ExportProgress = z.infer<typeof ExportProgress>;

export const PacketVerification = z.object({
  ok: z.boolean(),
  packetSha256: z.string(),
  documentHash: z.string().nullable(),
  files: z.array(
    z.object({ path: z.string(), sha256: z.string(), bytes: z.number().int(), ok: z.boolean() }),
  ),
  chainLinksChecked: z.number().int(),
  chainHead: z.object({ seq: z.number().int().nullable(), hash: z.string().nullable() }),
  signaturesChecked: z.number().int(),
  pages: z.number().int(),
  declaredChainBreak: z.object({ firstBadSeq: z.number().int(), problem: z.string() }).nullable(),
  problems: z.array(z.object({ where: z.string(), what: z.string() })),
});
export type PacketVerification = z.infer<typeof PacketVerification>;

export const exportContract = {
  /** Writes the packet into the data folder's exports/ directory (both hosts) and says where. */
  'export.packet': {
    request: z
      .object({
        scope: ExportScope,
        from: z.string().max(40).nullable().default(null),
        to: z.string().max(40).nullable().default(null),
        allowBrokenChain: z.boolean().default(false),
      })
      .strict(),
    response: z.object({
      path: z.string(),
      bytes: z.number().int(),
      packetSha256: z.string(),
      documentHash: z.string(),
      chainHead: z.object({ seq: z.number().int(), hash: z.string() }),
      chainBroken: z.boolean(),
      counts: z.object({
        stagingRecords: z.number().int(),
        signatures: z.number().int(),
        diaryRecords: z.number().int(),
        annotations: z.number().int(),
      }),
    }),
  },
  /** Verifies a packet in the exports/ directory, by file name. */
  'export.verify': {
    request: z.object({ fileName: z.string().regex(/^[A-Za-z0-9_.-]{1,200}\.zip$/) }).strict(),
    response: PacketVerification,
  },
  /** Stops the running packet export or verification (a worker thread): no file is left behind. */
  'export.cancel': {
    request: z.object({}).strict(),
    response: z.object({ cancelled: z.boolean() }).strict(),
  },
  /** Desktop app: a copy of an exported packet where the person chooses (a save dialog). The browser
   * host downloads the packet from /downloads/<file name> instead. */
  'export.saveAs': {
    request: z.object({ fileName: z.string().regex(/^[A-Za-z0-9_.-]{1,200}\.zip$/) }).strict(),
    response: z.object({ savedTo: z.string().nullable() }).strict(),
  },
} as const;

// ---- Security alerts and unlocking (issue 21, V2): admins only; the server refuses everyone else. ----
export const SecurityAlert = z.object({
  id: uuid,
  kind: z.string(),
  raisedAt: isoTimestamp,
  userId: uuid.nullable(),
  printedName: z.string().nullable(),
  failedAttempts: z.number().int().nullable(),
  /** The workstation's address and application, as the server saw them (null on alerts before 0045/0048). */
  clientAddr: z.string().nullable(),
  applicationName: z.string().nullable(),
  /** The lock the alert is about; null: an alert that locks nothing. */
  lockKind: z.enum(['signing', 'sign_in']).nullable(),
  stillLocked: z.boolean(),
  state: z.enum(['open', 'acknowledged', 'closed']),
  decidedByName: z.string().nullable(),
  decidedAt: isoTimestamp.nullable(),
  decisionReason: z.string().nullable(),
});
export type SecurityAlert = z.infer<typeof SecurityAlert>;
export const ReviewAlertRequest = z.object({
  alertId: uuid,
  decision: z.enum(['acknowledged', 'closed']),
  reason: z.string().trim().min(1).max(2000),
});
export const UnlockAccountRequest = z.object({
  userId: uuid,
  lockKind: z.enum(['signing', 'sign_in']),
  reason: z.string().trim().min(1).max(2000),
  password: z.string().min(1).max(1024),
  totpCode: z.string().max(16),
});
export const UnlockAccountResponse = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true) }),
  z.object({
    ok: z.literal(false),
    error: z.string(),
    /** The administrator's own signing lock (their re-authentications count like a signer's). */
    locked: z.boolean(),
    field: z.enum(['password', 'code']).nullable(),
  }),
]);
// ---- end of security alerts and unlocking (V2) ----

/** Pushed from the main process to the renderer (IPC send / Server-Sent Events), never requested. */
export const contractEvents = {
  'sync.progress': SyncStatus,
  // Inspection packet (issue 6)
  'export.progress': ExportProgress,
} as const;
export type ContractEvents = typeof contractEvents;
export type ContractEventName = keyof ContractEvents;
export type ContractEventPayload<E extends ContractEventName> = z.output<ContractEvents[E]>;
export const contractEventNames = Object.keys(contractEvents) as ContractEventName[];

// ── Idle lock (issue 21, V4): state kept in the main process, so a reload cannot shed it ──────────
export const IdleLockStatus = z
  .object({
    locked: z.boolean(),
    /** The quiet time before the lock (COUNTERSIGN_IDLE_LOCK_SECONDS, default 600). */
    idleLockSeconds: z.number().int().positive(),
    /** Wrong passwords still allowed at the lock before the person is signed out. */
    attemptsLeft: z.number().int(),
  })
  .strict();
export type IdleLockStatus = z.infer<typeof IdleLockStatus>;
export const UnlockResponse = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), lock: IdleLockStatus }),
  z.object({ ok: z.literal(false), error: z.string(), signedOut: z.boolean(), lock: IdleLockStatus }),
]);
export type UnlockResponse = z.infer<typeof UnlockResponse>;
// ── Forced password change at sign-in (issue 21, V4): not signed in yet, so the address is sent ──────
export const RequiredPasswordChangeRequest = ChangePasswordRequest.extend({
  email: z.string().min(3).max(320),
}).strict();

const idleLockContract = {
  /** Before the first sign-in after an administrator required it; on success the person signs in anew. */
  'session.changeRequiredPassword': { request: RequiredPasswordChangeRequest, response: SignInResponse },
  'session.lockState': { request: Empty, response: IdleLockStatus },
  /** The person typed, clicked or scrolled (sent at most every few seconds). */
  'session.activity': { request: Empty, response: IdleLockStatus },
  'session.unlock': {
    request: z.object({ password: z.string().min(1).max(1024) }).strict(),
    response: UnlockResponse,
  },
} as const;

// ---- Administration: people, assignments, role changes, deactivation (issue 21, V3; migration 0057) ----
const adminReason = z.string().trim().min(1, 'Say why.').max(2000);
export const AdminPerson = z.object({
  userId: uuid,
  email: z.string(),
  printedName: z.string(),
  roles: z.array(z.object({ role: z.string(), studyId: uuid.nullable(), studyCode: z.string().nullable() })),
  sites: z.array(z.object({ kind: z.string(), siteId: z.string() })),
  totpEnrolled: z.boolean(),
  signInLocked: z.boolean(),
  signingLocked: z.boolean(),
  active: z.boolean(),
  /** Issue 21, V4 (0058): an administrator's demand to change the password is still open. */
  passwordChangeRequired: z.boolean(),
});
export type AdminPerson = z.infer<typeof AdminPerson>;
export const RoleChangeRequestRow = z.object({
  id: uuid,
  userId: uuid,
  change: z.enum(['grant', 'revoke', 'reactivate']),
  role: z.string().nullable(),
  studyId: uuid.nullable(),
  reason: z.string(),
  requestedBy: uuid,
  requestedAt: isoTimestamp,
  status: z.enum(['pending', 'approved', 'refused']),
  decidedBy: uuid.nullable(),
  decidedAt: isoTimestamp.nullable(),
  decisionReason: z.string().nullable(),
});
export type RoleChangeRequestRow = z.infer<typeof RoleChangeRequestRow>;
export const RoleChangeSubmission = z
  .object({
    userId: uuid,
    change: z.enum(['grant', 'revoke', 'reactivate']),
    role: z.enum(appRoles).nullable(),
    /** null: every study. */
    studyId: uuid.nullable(),
    reason: adminReason,
  })
  .strict();
export type RoleChangeSubmission = z.infer<typeof RoleChangeSubmission>;
export const DecideRoleChangeRequest = z
  .object({ requestId: uuid, approve: z.boolean(), reason: adminReason })
  .strict();
export type DecideRoleChangeRequest = z.infer<typeof DecideRoleChangeRequest>;
export const DeactivateRequest = z.object({ userId: uuid, reason: adminReason }).strict();
export type DeactivateRequest = z.infer<typeof DeactivateRequest>;
const siteKind = z.enum(['patient', 'investigator', 'analyst']);
export const AssignSiteRequest = z
  .object({
    userId: uuid,
    kind: siteKind,
    siteId: z.string().trim().min(1).max(64),
    reason: adminReason,
    /** Patients only: their subject code at the site. */
    subjectCode: z.string().trim().min(1).max(64).nullable(),
  })
  .strict();
export type AssignSiteRequest = z.infer<typeof AssignSiteRequest>;
export const UnassignSiteRequest = z
  .object({ userId: uuid, kind: siteKind, siteId: z.string().trim().min(1).max(64), reason: adminReason })
  .strict();
export type UnassignSiteRequest = z.infer<typeof UnassignSiteRequest>;
const adminDone = z.object({ ok: z.literal(true) });
export const administrationContract = {
  'admin.people': { request: Empty, response: z.object({ people: z.array(AdminPerson) }) },
  'admin.roleRequests': { request: Empty, response: z.object({ requests: z.array(RoleChangeRequestRow) }) },
  'admin.requestRoleChange': { request: RoleChangeSubmission, response: adminDone },
  'admin.decideRoleChange': { request: DecideRoleChangeRequest, response: adminDone },
  'admin.deactivate': { request: DeactivateRequest, response: adminDone },
  'admin.assignSite': { request: AssignSiteRequest, response: adminDone },
  'admin.unassignSite': { request: UnassignSiteRequest, response: adminDone },
} as const;
// ---- end of administration (V3) ----

// ---- Administration: require a password change (issue 21, V4; migration 0058) ----
export const RequirePasswordChangeRequest = z.object({ userId: uuid, reason: adminReason }).strict();
export type RequirePasswordChangeRequest = z.infer<typeof RequirePasswordChangeRequest>;
export const passwordDemandContract = {
  /** Refused in hosted mode: Supabase Auth owns the passwords there (docs/security.md). */
  'admin.requirePasswordChange': { request: RequirePasswordChangeRequest, response: adminDone },
} as const;
// ---- end of require a password change (V4) ----

// ---- The analyst's de-identified data (issue 22, H4): read and exported from the cache only ----
/** What the analysis screen shows, and what an export of the filtered rows includes. */
export const AnalysisFilter = z
  .object({
    siteId: z.string().max(64).nullable().default(null),
    subjectCode: z.string().max(200).nullable().default(null),
    /** A form field (or <field>_study_day) and the value it must have, as shown on screen. */
    field: z.string().max(100).nullable().default(null),
    value: z.string().max(200).nullable().default(null),
    origin: z.enum(['patient', 'paper']).nullable().default(null),
  })
  .strict();
export type AnalysisFilter = z.infer<typeof AnalysisFilter>;
export const AnalysisValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const AnalysisColumn = z.object({ code: z.string(), label: z.string() });
export type AnalysisColumn = z.infer<typeof AnalysisColumn>;
export const AnalysisEntry = z.object({
  /** The entry's random id (not shown on screen; the export's key across exports). */
  entryId: uuid,
  subjectCode: z.string(),
  siteId: z.string(),
  build: z.string(),
  version: z.number().int(),
  deleted: z.boolean(),
  origin: z.enum(['patient', 'paper']),
  corrected: z.boolean(),
  values: z.record(z.string(), AnalysisValue),
});
export type AnalysisEntry = z.infer<typeof AnalysisEntry>;
export const AnalysisExportResult = z.object({
  path: z.string(),
  fileName: z.string(),
  bytes: z.number().int(),
  zipSha256: z.string(),
  entries: z.number().int(),
  subjects: z.number().int(),
  rows: z.enum(['filtered', 'all']),
  files: z.array(z.object({ path: z.string(), sha256: z.string(), bytes: z.number().int() })),
});
export type AnalysisExportResult = z.infer<typeof AnalysisExportResult>;
export const analysisContract = {
  /** The cached de-identified entries matching the filter, the columns to show, and what to filter by. */
  'analysis.entries': {
    request: AnalysisFilter,
    response: z.object({
      columns: z.array(AnalysisColumn),
      entries: z.array(AnalysisEntry),
      /** Every cached entry, before the filter. */
      total: z.number().int(),
      sites: z.array(z.string()),
      subjects: z.array(z.string()),
    }),
  },
  /** CSV + CDISC ODM 1.3.2 + a SHA-256 manifest in one ZIP in the exports folder (saved like a packet). */
  'analysis.export': {
    request: z.object({ filter: AnalysisFilter, rows: z.enum(['filtered', 'all']) }).strict(),
    response: AnalysisExportResult,
  },
} as const;
// ---- end of the analyst's de-identified data (H4) ----

// ---- Diary: admin corrections and the investigators' review (issue 22, H3; migration 0059) ----
export const DiaryCorrectionRequest = z
  .object({
    eventUuid: uuid,
    /** The entry the administrator saw: the server refuses the correction if the record moved on. */
    parentAuditId: z.number().int().positive(),
    /** Every field of the corrected entry (the record's values, not only the changed ones). */
    data: z.record(z.string(), jsonValue),
    justification: z.string().max(2000),
    password: z.string().min(1).max(1024),
    totpCode: z.string().max(16),
  })
  .strict();
export type DiaryCorrectionRequest = z.infer<typeof DiaryCorrectionRequest>;
export const DiaryCorrectionOutcome = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    auditId: z.number().int(),
    reviewId: uuid,
    changedFields: z.array(z.string()),
  }),
  z.object({
    ok: z.literal(false),
    error: z.string(),
    /** Which field to fix: the justification, the password or the code; null: none of them. */
    field: z.enum(['justification', 'password', 'code']).nullable(),
    /** The administrator's own re-authentication is locked. */
    locked: z.boolean(),
    /** The record moved on since it was read: its current entry, to correct against. */
    current: z
      .object({ auditId: z.number().int(), version: z.number().int(), data: z.record(z.string(), jsonValue) })
      .nullable(),
  }),
]);
export type DiaryCorrectionOutcome = z.infer<typeof DiaryCorrectionOutcome>;
export const CorrectionReview = z.object({
  reviewId: uuid,
  eventUuid: uuid,
  auditId: z.number().int(),
  patientId: uuid,
  subjectCode: z.string().nullable(),
  siteId: z.string(),
  correctedBy: uuid,
  correctedAt: isoTimestamp,
  justification: z.string(),
  /** Field by field, old beside new (from the correction's event in the cache). */
  changes: z.array(DiaryFieldChange),
  status: z.enum(['pending', 'acknowledged', 'disputed']),
  decidedBy: uuid.nullable(),
  decidedAt: isoTimestamp.nullable(),
  decisionComment: z.string().nullable(),
});
export type CorrectionReview = z.infer<typeof CorrectionReview>;
export const ReviewCorrectionRequest = z
  .object({
    reviewId: uuid,
    decision: z.enum(['acknowledged', 'disputed']),
    comment: z.string().max(2000).nullable().default(null),
  })
  .strict();
export const diaryCorrectionsContract = {
  /** An administrator's correction: re-authenticated, justified, online only. */
  'diary.correct': { request: DiaryCorrectionRequest, response: DiaryCorrectionOutcome },
  /** The corrections at the investigator's sites, pending first (from the cache). */
  'diary.correctionReviews': {
    request: Empty,
    response: z.object({ reviews: z.array(CorrectionReview), pending: z.number().int() }),
  },
  /** Acknowledge, or dispute with a comment: online only, then a sync. */
  'diary.reviewCorrection': {
    request: ReviewCorrectionRequest,
    response: z.object({ status: z.enum(['acknowledged', 'disputed']) }),
  },
} as const;
// ---- end of admin corrections (H3) ----

// ---- Diary: paper transcription and conflicts (issue 22, H2; migration 0059) ----
export const DiaryEventItem = z.object({
  id: z.number().int(),
  clientRequestId: uuid,
  kind: z.literal('transcription'),
  eventUuid: uuid,
  patientId: uuid,
  /** The entry it continues; null: a new record. */
  parentAuditId: z.number().int().nullable(),
  data: z.record(z.string(), jsonValue),
  changeReason: z.string(),
  pageId: z.string(),
  entryDate: z.string(),
  clientTimestamp: isoTimestamp,
  state: z.enum(['pending', 'sent', 'conflict', 'failed', 'discarded']),
  createdAt: isoTimestamp,
  sentAt: isoTimestamp.nullable(),
  auditId: z.number().int().nullable(),
  conflictId: z.number().int().nullable(),
  problem: z.string().nullable(),
  /** The field a refusal names, if any. */
  problemField: z.string().nullable(),
  currentAuditId: z.number().int().nullable(),
  currentData: z.record(z.string(), jsonValue).nullable(),
  resolution: z.enum(['keep_mine', 'keep_theirs', 'field_merge']).nullable(),
  resolutionAuditId: z.number().int().nullable(),
  attempts: z.number().int(),
});
export type DiaryEventItem = z.infer<typeof DiaryEventItem>;
export const DiaryConflictView = z.object({
  conflictId: z.number().int(),
  eventUuid: uuid,
  patientId: uuid,
  /** The outbox item whose send conflicted, if it was made on this workstation. */
  outboxId: z.number().int().nullable(),
  /** A transcription's paper page; null for another kind of write. */
  pageId: z.string().nullable(),
  /** The entry the write was made against; null: not in the cache. */
  base: z.record(z.string(), jsonValue).nullable(),
  theirs: z.record(z.string(), jsonValue),
  /** The current entry shown: the resolution is made against it (seen_audit_id). */
  theirsAuditId: z.number().int(),
  mine: z.record(z.string(), jsonValue),
  fieldsMine: z.array(z.string()),
  fieldsTheirs: z.array(z.string()),
  /** Changed on both sides to different values: a field merge is not offered. */
  overlapping: z.array(z.string()),
});
export type DiaryConflictView = z.infer<typeof DiaryConflictView>;
export const TranscriptionRequest = z
  .object({
    patientId: uuid,
    /** A transcribed record to continue; null: a new record. */
    eventUuid: uuid.nullable().default(null),
    data: z.record(z.string(), jsonValue),
    pageId: z.string().max(200),
    entryDate: z.string().max(10),
    reason: z.string().max(2000),
  })
  .strict();
export const diaryTranscriptionContract = {
  /** The diary form of the current build of the patient's study, from the cache (null: not cached). */
  'diary.transcriptionForm': {
    request: z.object({ patientId: uuid }).strict(),
    response: z.object({ form: BuildFormDefinition.nullable() }),
  },
  /** A paper transcription through the diary event outbox: offline too, sent once. */
  'diary.transcribe': { request: TranscriptionRequest, response: DiaryEventItem },
  /** The diary event outbox (waiting, conflicts and refusals; with sent ones on request). */
  'diary.events': {
    request: z.object({ includeSent: z.boolean().default(false) }).strict(),
    response: z.object({ items: z.array(DiaryEventItem) }),
  },
  /** The open conflicts of the person's own diary writes, both versions field by field (from the cache). */
  'diary.conflicts': { request: Empty, response: z.object({ conflicts: z.array(DiaryConflictView) }) },
  /** Resolve a conflict on the server against the entry shown (online only), then sync. */
  'diary.resolveConflict': {
    request: z
      .object({
        conflictId: z.number().int().positive(),
        strategy: z.enum(['keep_mine', 'keep_theirs', 'field_merge']),
        seenAuditId: z.number().int().positive(),
      })
      .strict(),
    response: z.object({ auditId: z.number().int() }),
  },
  /** Give up a refused transcription (kept, marked discarded). */
  'diary.discardEvent': {
    request: z.object({ id: z.number().int().positive() }).strict(),
    response: DiaryEventItem,
  },
} as const;
// ---- end of paper transcription and conflicts (H2) ----

export const contract = {
  'backend.status': { request: Empty, response: BackendStatus },
  'backend.configure': { request: BackendProfile, response: BackendStatus },
  'session.signIn': { request: SignInRequest, response: SignInResponse },
  'session.signOut': { request: Empty, response: BackendStatus },
  /** On success the person is signed out (status), to sign in again with the new password. */
  'session.changePassword': { request: ChangePasswordRequest, response: SignInResponse },
  'staging.queue': { request: StagingQueueRequest, response: StagingQueuePage },
  'staging.detail': { request: z.object({ id: uuid }), response: StagingDetail },
  'staging.openForReview': { request: StagingIds, response: z.object({ opened: z.number().int() }) },
  'staging.promote': { request: StagingIds, response: z.object({ outcomes: z.array(PromotionOutcome) }) },
  'signing.status': { request: Empty, response: SigningStatus },
  'signing.meanings': { request: Empty, response: z.object({ meanings: z.array(MeaningOfSignature) }) },
  'signing.manifest': { request: CeremonyStagingIds, response: Manifest },
  'signing.sign': { request: SignRequest, response: SignResponse },
  'totp.beginEnrolment': { request: Empty, response: TotpEnrolmentOffer },
  'totp.confirmEnrolment': {
    request: z.object({ code: z.string().max(16) }),
    response: z.discriminatedUnion('ok', [
      z.object({ ok: z.literal(true) }),
      z.object({ ok: z.literal(false), error: z.string() }),
    ]),
  },
  'demo.totpCode': {
    request: Empty,
    response: z.object({ code: z.string().nullable(), secondsLeft: z.number().int() }),
  },
  // Security alerts and unlocking (issue 21, V2)
  'admin.alerts': { request: Empty, response: z.object({ alerts: z.array(SecurityAlert) }) },
  'admin.reviewAlert': {
    request: ReviewAlertRequest,
    response: z.object({ state: z.enum(['acknowledged', 'closed']) }),
  },
  'admin.unlock': { request: UnlockAccountRequest, response: UnlockAccountResponse },
  ...cacheContract,
  ...idleLockContract,
  ...exportContract,
  ...administrationContract,
  ...passwordDemandContract,
  ...recoveryCodesContract,
  ...analysisContract,
  ...diaryCorrectionsContract,
  ...diaryTranscriptionContract,
} as const;

export type Contract = typeof contract;
export type Channel = keyof Contract;
export type RequestOf<C extends Channel> = z.input<Contract[C]['request']>;
export type ParsedRequestOf<C extends Channel> = z.output<Contract[C]['request']>;
export type ResponseOf<C extends Channel> = z.output<Contract[C]['response']>;

export const channels = Object.keys(contract) as Channel[];

/** What the preload exposes on `window.countersign` (and the browser host's client mirrors). */
export type CountersignApi = { [C in Channel]: (request: RequestOf<C>) => Promise<ResponseOf<C>> };

/** The main-process side: one service method per channel, called with an already parsed request. */
export type ContractHandlers = { [C in Channel]: (request: ParsedRequestOf<C>) => Promise<ResponseOf<C>> };

/** What the preload exposes on `window.countersignEvents` (the browser host: Server-Sent Events). */
export interface CountersignEvents {
  on(event: ContractEventName, listener: (payload: unknown) => void): () => void;
}

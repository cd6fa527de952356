// The packet's content, gathered from the user's cache: every record of the scope with its current
// value, its full history (old and new values, who, when, why), its signatures with their
// manifestation, its provenance and its annotations, each tied to the audit_log entry (chain seq)
// that recorded it. packet.json is this object in RFC 8785 form; every other file of the packet is
// a rendering of it, and verifyPacket re-renders them to check them.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { canonicalJson } from '../../shared/canonicalJson';
import type { Person } from '../../shared/contract';
import { queryReasonLabels } from '../../shared/domain';
import { peopleByActorId } from '../../shared/personNaming';
import { cachedPeople } from '../cache/cachedPeople';
import { diarySubject, mayHaveSubject, stagingSubject, studySubject } from '../checkpoint/auditSubjects';
import type { Checkpoint, Cosignature } from '../checkpoint/checkpoint';
import {
  type ContentHashVersion,
  contentHash,
  contentHashVersionOf,
  type SigningSubject,
  sha256Hex,
  signingContent,
} from '../signing/contentHash';
import { signatureRejection } from '../signing/signatureRejection';
import type { ChainVerification } from '../sync/chainVerifier';
import { ChainBuilds } from './chainBuilds';
import type { ChainRef } from './chainRef';
import { gatherPacketBuilds, type PacketBuild } from './packetBuilds';
import { describeScope, type PacketScope, selectScope } from './packetScope';
import { isoMillis, localTime } from './packetTime';

export const packetFormat = 'countersign.inspection-packet';
/**
 * 3: the chain file carries only the scope's entries, proven by inclusion in a cosigned checkpoint
 * (chain/proofs.json, issue 24). 2: protocol builds (issue 20), the chain from genesis (still written
 * when a broken chain is exported flagged). A packet of format 1 has no builds; every format verifies.
 */
export const packetFormatVersion = 3;
/** The format of a packet whose chain file runs from genesis (a flagged broken chain). */
export const genesisChainFormatVersion = 2;

export interface FieldChange {
  field: string;
  old: unknown;
  new: unknown;
}

export type { ChainRef } from './chainRef';

export interface PacketSignature {
  id: string;
  userId: string;
  printedName: string;
  intent: string;
  meaning: string;
  comment: string | null;
  /** A rejection's reason and explanation (decision 40); its audit entry binds both. */
  rejection?: { reason: string; explanation: string } | null;
  signedAtUtc: string;
  signedAtLocal: string;
  reAuthAtUtc: string;
  contentHash: string;
  ceremonyId: string | null;
  /** The signature.recorded audit entry. */
  chainSeq: number | null;
  /** What was signed, when the cache still holds it (the live row it was reviewed against). */
  signingContent: Record<string, unknown> | null;
  signingContentNote: string;
  /** What the content hash covers: 1 (before builds), 2 (with build_id). Absent in format 1. */
  contentHashVersion?: ContentHashVersion;
  /** The build of the proposal as it was signed (bound by the hash from version 2). Absent in format 1. */
  buildId?: string | null;
}

export interface PacketProvenance {
  id: string;
  action: string;
  actorKind: string;
  actorId: string;
  /** The actor's printed name (an agent's account name), when the exporting cache may name them. */
  actorName: string | null;
  occurredAt: string;
  model: { provider: string | null; modelId: string | null; versionId: string | null; version: unknown };
  citations: unknown;
  payload: unknown;
  /** The build it was recorded under (its staging record's); absent in format 1. */
  buildId?: string | null;
}

export interface PacketStagingRecord {
  id: string;
  studyId: string;
  studyCode: string;
  entityKind: string;
  entityId: string | null;
  state: string;
  agentId: string;
  createdAt: string;
  updatedAt: string;
  proposedState: unknown;
  proposedStateSha256: string;
  liveRow: unknown;
  changes: FieldChange[];
  history: (ChainRef & {
    fromState: string | null;
    toState: string | null;
    signatureId: string | null;
    /** The build the chain entry names (null: an entry from before build tracking); absent in format 1. */
    buildId?: string | null;
  })[];
  signatures: PacketSignature[];
  provenance: PacketProvenance[];
  /** The build its current proposal was written under; absent in format 1. */
  buildId?: string | null;
}

export interface PacketDiaryVersion {
  auditId: number;
  chainSeq: number | null;
  operation: string;
  createdBy: string;
  /** Who wrote it, by name (a patient: by subject code), when the exporting cache may name them. */
  createdByName: string | null;
  role: string;
  clientTimestamp: string;
  serverTimestamp: string;
  parentAuditId: number | null;
  changeReason: string;
  data: Record<string, unknown>;
  changes: FieldChange[];
  /** The build this version was captured under; absent in format 1. */
  buildId?: string | null;
}

export interface PacketAnnotation {
  annotationId: string;
  kind: string;
  text: string;
  investigatorId: string;
  investigatorName: string | null;
  parentAuditId: number;
  inReplyTo: string | null;
  requiresResponse: boolean;
  resolved: boolean;
  createdAt: string;
  /** diary.annotation, then any diary.annotation_resolved / _reopened / _resolution_reason entries. */
  events: ChainRef[];
  /** Every close and reopen with who, when and why (0051); absent in packets made before reasons. */
  resolutions?: PacketResolution[];
  /** The build it was written under (the study's current one then); absent in format 1. */
  buildId?: string | null;
}

export interface PacketResolution {
  requestId: string;
  resolved: boolean;
  reasonCode: string | null;
  /** The reason's words as the screens show them, fixed in the packet so that its rendering never changes. */
  reasonLabel: string | null;
  reasonText: string | null;
  requestedBy: string;
  requestedByName: string | null;
  requestedAt: string;
}

export interface PacketDiaryRecord {
  eventUuid: string;
  patientId: string;
  siteId: string;
  studyId: string | null;
  version: number;
  isDeleted: boolean;
  currentData: Record<string, unknown>;
  history: PacketDiaryVersion[];
  annotations: PacketAnnotation[];
  /**
   * The record's other audit entries in chain order: admin corrections and their review, conflicts
   * and their resolution (0059); absent in packets made before them.
   */
  recordEvents?: ChainRef[];
  /** The build of its latest version; absent in format 1. */
  buildId?: string | null;
}

export interface PacketCheckpoint extends Checkpoint {
  cosignatures: Cosignature[];
}

export interface PacketChainState {
  /** The packet carries every entry from seq 1 to headSeq (chain/audit_log.jsonl). */
  headSeq: number;
  headHash: string;
  verifiedAt: string;
  /** Set only when exported with the break flagged (--allow-broken-chain). */
  broken: { firstBadSeq: number; problem: string } | null;
  /** Entries in the chain file (beyond the head when the chain is broken). */
  entries: number;
}

/** A person named in the packet: by their ids (user, agent), name and roles (issue 19). */
export interface PacketPerson {
  userId: string;
  agentId: string | null;
  /** The printed name; a patient's subject code ("subject HHT-101-001"), never their name. */
  name: string;
  roles: string[];
}

export interface PacketContent {
  format: typeof packetFormat;
  formatVersion: number;
  cover: {
    scope: { selector: PacketScope['selector']; from: string | null; to: string | null; description: string };
    generatedBy: { userId: string; printedName: string; roles: string[] };
    generatedAt: string;
    /** The zone of the exporting workstation, used for every "local" time in the packet. */
    timeZone: string;
    cacheSyncedAt: string | null;
    chain: PacketChainState;
    /**
     * Format 3 (issue 24): the checkpoint the packet's entries are proven against (their inclusion
     * proofs and the subject map's), with every cosignature of it the exporting cache knows, the
     * exporter's own first. Absent in formats 1 and 2, whose chain file runs from genesis.
     */
    checkpoint?: PacketCheckpoint;
    counts: {
      stagingRecords: number;
      signatures: number;
      diaryRecords: number;
      annotations: number;
      /** Absent in format 1. */
      builds?: number;
    };
  };
  studies: { id: string; code: string; doc: unknown }[];
  sites: { siteId: string; studyId: string; doc: unknown }[];
  stagingRecords: PacketStagingRecord[];
  diaryRecords: PacketDiaryRecord[];
  /**
   * Everyone the packet names as an actor, signer or author, by user id (packets made before issue
   * 19 have none, and their renderings name people by id only).
   */
  people?: PacketPerson[];
  /**
   * The protocol builds of the packet's studies and of every value it holds, each with its
   * configuration and its audit entries (format 2; a format 1 packet has none, nor build fields).
   */
  builds?: PacketBuild[];
}

export interface GatherOptions {
  scope: PacketScope;
  chain: ChainVerification;
  generatedBy: { userId: string; printedName: string; roles: string[] };
  now: Date;
  timeZone: string;
  onProgress?: (done: number, total: number) => void;
  /**
   * Format 3: the checkpoint's tree size. The content is gathered from the entries up to it about the
   * scope's records and the protocol builds only (audit_subject, src/main/cache/auditTree.ts), not
   * from a pass over the whole chain. Absent: format 2, the chain from genesis.
   */
  treeSize?: number;
}

/** How the packet names a person: a patient by subject code only (pseudonymised), others by name. */
function packetName(person: Person | undefined): string | null {
  if (!person) return null;
  if (person.roles.includes('patient'))
    return person.subjectCode === null ? null : `subject ${person.subjectCode}`;
  return person.printedName;
}

export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  const b = (before && typeof before === 'object' ? before : {}) as Record<string, unknown>;
  const a = (after && typeof after === 'object' ? after : {}) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
  return keys
    .filter((key) => canonicalJson(b[key] ?? null) !== canonicalJson(a[key] ?? null))
    .map((key) => ({ field: key, old: b[key] ?? null, new: a[key] ?? null }));
}

interface ChainIndex {
  byStaging: Map<string, ChainRef[]>;
  signatureSeq: Map<string, number>;
  diaryAuditSeq: Map<number, number>;
  annotationEvents: Map<string, ChainRef[]>;
  /** A diary record's other entries (corrections and their review, conflicts and their resolution), per event uuid. */
  recordEvents: Map<string, ChainRef[]>;
  /** Staging ids / diary event uuids with an audited event in the date range. */
  stagingInRange: Set<string>;
  diaryInRange: Set<string>;
  stagingPayload: Map<number, Record<string, unknown>>;
  /** Which build was current when, from the builds' transitions. */
  builds: ChainBuilds;
  /** study_build.transition and study_build.configured entries, per build id. */
  buildEvents: Map<string, { ref: ChainRef; payload: Record<string, unknown> }[]>;
}

/** One pass over the cached chain: which entries belong to which record. */
function indexChain(
  scope: PacketScope,
  names: Map<string, string>,
  rows: Iterable<[number, string, string, string, string]>,
): ChainIndex {
  const index: ChainIndex = {
    byStaging: new Map(),
    signatureSeq: new Map(),
    diaryAuditSeq: new Map(),
    annotationEvents: new Map(),
    recordEvents: new Map(),
    stagingInRange: new Set(),
    diaryInRange: new Set(),
    stagingPayload: new Map(),
    builds: new ChainBuilds(),
    buildEvents: new Map(),
  };
  const push = <K>(map: Map<K, ChainRef[]>, key: K, ref: ChainRef) => {
    const list = map.get(key);
    if (list) list.push(ref);
    else map.set(key, [ref]);
  };
  for (const [seq, occurredAt, actor, eventType, payloadText] of rows) {
    // The subject map's classification (auditSubjects.ts): entries about no record are skipped.
    if (!mayHaveSubject(eventType)) continue;
    const isStaging = eventType.startsWith('staging.');
    const isSignature = eventType === 'signature.recorded';
    const isDiary = eventType.startsWith('diary.');
    const isBuild = eventType.startsWith('study_build.');
    const payload = JSON.parse(payloadText) as Record<string, unknown>;
    const ref: ChainRef = { seq, eventType, occurredAt, actor, actorName: names.get(actor) ?? null };
    if (isBuild) {
      index.builds.observe(seq, eventType, payload);
      if (typeof payload.build_id === 'string') {
        const list = index.buildEvents.get(payload.build_id) ?? [];
        list.push({ ref, payload });
        index.buildEvents.set(payload.build_id, list);
      }
      continue;
    }
    const inRange = (!scope.from || occurredAt >= scope.from) && (!scope.to || occurredAt <= scope.to);
    if (isStaging && typeof payload.staging_id === 'string') {
      push(index.byStaging, payload.staging_id, ref);
      index.stagingPayload.set(seq, payload);
      if (inRange) index.stagingInRange.add(payload.staging_id);
    } else if (isSignature && typeof payload.signature_id === 'string') {
      index.signatureSeq.set(payload.signature_id, seq);
      if (inRange && typeof payload.subject_id === 'string') index.stagingInRange.add(payload.subject_id);
    } else if (eventType === 'diary.event') {
      index.diaryAuditSeq.set(Number(payload.audit_id), seq);
      if (inRange) index.diaryInRange.add(String(payload.event_uuid));
    } else if (isDiary && typeof payload.annotation_id === 'string') {
      push(index.annotationEvents, payload.annotation_id, ref);
      if (inRange) index.diaryInRange.add(String(payload.event_uuid));
    } else if (isDiary && typeof payload.event_uuid === 'string') {
      push(index.recordEvents, payload.event_uuid, ref);
      if (inRange) index.diaryInRange.add(payload.event_uuid);
    }
  }
  return index;
}

/**
 * The subjects a format 3 packet proves complete: its selection's records, every protocol build, and
 * the studies it holds whole (an unranged study scope: see exportPacket's wholeStudies).
 */
export function scopeSubjects(
  db: Database,
  stagingIds: readonly string[],
  eventUuids: readonly string[],
  wholeStudyIds: readonly string[] = [],
): string[] {
  const builds = db
    .prepare(`select distinct subject from audit_subject where subject >= 'build:' and subject < 'build;'`)
    .pluck()
    .all() as string[];
  return [
    ...stagingIds.map(stagingSubject),
    ...eventUuids.map(diarySubject),
    ...builds,
    ...wholeStudyIds.map(studySubject),
  ];
}

/** The entries up to treeSize about the selection's records and the builds, in seq order. */
function scopeEntries(
  db: Database,
  selection: { stagingIds: string[]; eventUuids: string[] },
  treeSize: number,
): [number, string, string, string, string][] {
  return db
    .prepare(
      `select seq, occurred_at, actor, event_type, payload from audit_log where seq in
         (select distinct s.seq from audit_subject s where s.subject in (select value from json_each(?)) and s.seq <= ?)
        order by seq`,
    )
    .raw(true)
    .all(JSON.stringify(scopeSubjects(db, selection.stagingIds, selection.eventUuids)), treeSize) as [
    number,
    string,
    string,
    string,
    string,
  ][];
}

function parseDoc(text: string | null): Record<string, unknown> {
  return text === null ? {} : (JSON.parse(text) as Record<string, unknown>);
}

const str = (value: unknown): string => (value === null || value === undefined ? '' : String(value));
const strOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export function gatherPacketContent(db: Database, options: GatherOptions): PacketContent {
  const { scope, chain, timeZone } = options;
  const selection = selectScope(db, scope.selector);
  // Printed names the cache knows (signature manifestations), to say who did what.
  const names = new Map<string, string>();
  for (const [doc] of db.prepare('select doc from signature_event').raw(true).iterate() as IterableIterator<
    [string]
  >) {
    const s = JSON.parse(doc) as Record<string, unknown>;
    if (typeof s.user_id === 'string' && typeof s.user_display_name === 'string') {
      names.set(s.user_id, s.user_display_name);
    }
  }
  names.set(options.generatedBy.userId, options.generatedBy.printedName);
  // Everyone else the cache may name (public.people_directory, issue 19).
  const directory = peopleByActorId(cachedPeople(db));
  for (const [id, person] of directory) {
    const name = packetName(person);
    if (name !== null && !names.has(id)) names.set(id, name);
  }
  const nameOf = (id: string): string | null => names.get(id) ?? null;
  const chainIndex = indexChain(
    scope,
    names,
    options.treeSize === undefined
      ? (db
          .prepare('select seq, occurred_at, actor, event_type, payload from audit_log order by seq')
          .raw(true)
          .iterate() as IterableIterator<[number, string, string, string, string]>)
      : scopeEntries(db, selection, options.treeSize),
  );
  const ranged = scope.from !== null || scope.to !== null;
  const stagingIds = ranged
    ? selection.stagingIds.filter((id) => chainIndex.stagingInRange.has(id))
    : selection.stagingIds;
  const eventUuids = ranged
    ? selection.eventUuids.filter((id) => chainIndex.diaryInRange.has(id))
    : selection.eventUuids;
  const total = stagingIds.length + eventUuids.length;
  let done = 0;
  const tick = () => {
    done++;
    if (options.onProgress && (done % 500 === 0 || done === total)) options.onProgress(done, total);
  };

  const studies = (
    db
      .prepare(
        `select id, json_extract(doc, '$.code') as code, doc from live_row
          where entity_kind = 'study' and id in (select value from json_each(?)) order by code, id`,
      )
      .all(JSON.stringify(selection.studyIds)) as { id: string; code: string; doc: string }[]
  ).map((s) => ({ id: s.id, code: str(s.code), doc: parseDoc(s.doc) }));
  const studyCode = new Map(studies.map((s) => [s.id, s.code]));
  const sites = (
    db
      .prepare(
        `select site_id, study_id, doc from site
          where study_id in (select value from json_each(?)) or site_id in
            (select site_id from record_state where event_uuid in (select value from json_each(?)))
          order by site_id`,
      )
      .all(JSON.stringify(selection.studyIds), JSON.stringify(eventUuids)) as {
      site_id: string;
      study_id: string;
      doc: string;
    }[]
  ).map((s) => ({ siteId: s.site_id, studyId: s.study_id, doc: parseDoc(s.doc) }));
  const siteStudy = new Map(sites.map((s) => [s.siteId, s.studyId]));

  // ── staging records ──
  const models = new Map(
    (db.prepare('select id, doc from model_registry_version').all() as { id: string; doc: string }[]).map(
      (m) => [m.id, parseDoc(m.doc)],
    ),
  );
  const stagingRows = db
    .prepare(
      `select s.*, l.doc as live_doc from staging_record s
         left join live_row l on l.entity_kind = s.entity_kind and l.id = s.entity_id
        where s.id in (select value from json_each(?))`,
    )
    .all(JSON.stringify(stagingIds)) as Record<string, string | null>[];
  const stagingById = new Map(stagingRows.map((row) => [row.id as string, row]));
  const signaturesOf = new Map<string, Record<string, unknown>[]>();
  for (const row of db
    .prepare(
      `select subject_id, doc from signature_event
        where subject_kind = 'staging_record' and subject_id in (select value from json_each(?))
        order by signed_at, id`,
    )
    .all(JSON.stringify(stagingIds)) as { subject_id: string; doc: string }[]) {
    const list = signaturesOf.get(row.subject_id) ?? [];
    list.push(parseDoc(row.doc));
    signaturesOf.set(row.subject_id, list);
  }
  const inScope = new Set(stagingIds);
  const provenanceOf = new Map<string, Record<string, string | null>[]>();
  const provenanceIdOwner = new Map<string, string>();
  for (const row of stagingRows)
    if (row.provenance_id) provenanceIdOwner.set(row.provenance_id, row.id as string);
  for (const row of db
    .prepare(
      `select *, json_extract(payload, '$.staging_id') as payload_staging_id from provenance_event
        order by occurred_at, id`,
    )
    .iterate() as IterableIterator<Record<string, string | null>>) {
    const owners = new Set<string>();
    for (const candidate of [
      row.subject_id,
      row.payload_staging_id,
      provenanceIdOwner.get(row.id as string),
    ]) {
      if (candidate && inScope.has(candidate)) owners.add(candidate);
    }
    for (const owner of owners) {
      const list = provenanceOf.get(owner) ?? [];
      list.push(row);
      provenanceOf.set(owner, list);
    }
  }

  const stagingRecords: PacketStagingRecord[] = [];
  for (const id of stagingIds) {
    const row = stagingById.get(id);
    if (!row) continue;
    const proposedState = JSON.parse(row.proposed_state as string) as unknown;
    const liveRow = row.live_doc ? (JSON.parse(row.live_doc) as unknown) : null;
    const buildId = row.build_id ?? null;
    const subject: SigningSubject = {
      stagingRecordId: id,
      studyId: row.study_id as string,
      entityKind: row.entity_kind as string,
      entityId: row.entity_id,
      proposedState,
      liveRow,
      buildId,
    };
    const history = (chainIndex.byStaging.get(id) ?? []).map((ref) => {
      const payload = chainIndex.stagingPayload.get(ref.seq) ?? {};
      return {
        ...ref,
        fromState: strOrNull(payload.from_state),
        toState: strOrNull(payload.to_state) ?? (ref.eventType === 'staging.proposed' ? 'proposed' : null),
        signatureId: strOrNull(payload.signature_id),
        buildId: strOrNull(payload.build_id),
      };
    });
    // The build a signature was made under: the one the record's last audit entry before it names.
    const buildWhenSigned = (chainSeq: number | null): string | null => {
      const before = chainSeq === null ? undefined : history.findLast((h) => h.seq < chainSeq);
      if (!before) return buildId;
      return chainIndex.builds.namedBy(
        chainIndex.stagingPayload.get(before.seq) ?? {},
        row.study_id as string,
      );
    };
    const recomputedHashes = new Map<ContentHashVersion, string>();
    const recomputedHashAt = (version: ContentHashVersion) => {
      let hash = recomputedHashes.get(version);
      if (hash === undefined) {
        hash = contentHash(subject, version);
        recomputedHashes.set(version, hash);
      }
      return hash;
    };
    const signatures: PacketSignature[] = (signaturesOf.get(id) ?? []).map((s) => {
      const signedAtUtc = isoMillis(s.signed_at);
      const version = contentHashVersionOf(s.content_hash_version);
      const matches = recomputedHashAt(version) === s.content_hash;
      const chainSeq = chainIndex.signatureSeq.get(str(s.id)) ?? null;
      return {
        id: str(s.id),
        userId: str(s.user_id),
        printedName: str(s.user_display_name),
        intent: str(s.intent),
        meaning: str(s.meaning_of_signature),
        comment: strOrNull(s.signature_comment),
        rejection: signatureRejection(s),
        signedAtUtc,
        signedAtLocal: localTime(signedAtUtc, timeZone),
        reAuthAtUtc: isoMillis(s.re_auth_at),
        contentHash: str(s.content_hash),
        ceremonyId: strOrNull(s.ceremony_id),
        chainSeq,
        signingContent: matches ? signingContent(subject, version) : null,
        signingContentNote: matches
          ? version >= 2
            ? 'recomputed from this record: the proposal, the hash of the live row it was reviewed against and the protocol build it was written under'
            : 'recomputed from this record: the proposal and the hash of the live row it was reviewed against (content hash version 1: signed before builds, so the build is not part of it)'
          : row.entity_id !== null && (row.state === 'promoted' || liveRow !== null)
            ? 'the live row it was reviewed against has changed since (for example by its promotion); the hash is bound by the audit chain, and the proposal by its proposed_state_sha256 entries'
            : 'the signed content differs from the current proposal (revised since); the hash is bound by the audit chain',
        contentHashVersion: version,
        buildId: buildWhenSigned(chainSeq),
      };
    });
    const provenance: PacketProvenance[] = (provenanceOf.get(id) ?? []).map((p) => {
      const versionId = p.model_version_id ?? null;
      return {
        id: str(p.id),
        action: str(p.action),
        actorKind: str(p.actor_kind),
        actorId: str(p.actor_id),
        actorName: nameOf(str(p.actor_id)),
        occurredAt: isoMillis(p.occurred_at),
        model: {
          provider: p.model_provider ?? null,
          modelId: p.model_id ?? null,
          versionId,
          version: versionId ? (models.get(versionId) ?? null) : null,
        },
        citations: p.retrieved_context ? JSON.parse(p.retrieved_context) : [],
        payload: p.payload ? JSON.parse(p.payload) : null,
        buildId: p.build_id ?? null,
      };
    });
    stagingRecords.push({
      id,
      studyId: row.study_id as string,
      studyCode: studyCode.get(row.study_id as string) ?? '(study not cached)',
      entityKind: row.entity_kind as string,
      entityId: row.entity_id,
      state: row.state as string,
      agentId: row.agent_id as string,
      createdAt: isoMillis(row.created_at),
      updatedAt: isoMillis(row.updated_at),
      proposedState,
      proposedStateSha256: sha256Hex(canonicalJson(proposedState)),
      liveRow,
      changes: fieldChanges(liveRow, proposedState).filter((change) =>
        Object.hasOwn((proposedState ?? {}) as object, change.field),
      ),
      history,
      signatures,
      provenance,
      buildId,
    });
    tick();
  }

  // ── diary records ──
  const stateRows = db
    .prepare(
      'select * from record_state where event_uuid in (select value from json_each(?)) order by event_uuid',
    )
    .all(JSON.stringify(eventUuids)) as Record<string, string | number>[];
  const versionsOf = new Map<string, Record<string, unknown>[]>();
  for (const row of db
    .prepare(
      'select event_uuid, doc, build_id from record_audit where event_uuid in (select value from json_each(?)) order by audit_id',
    )
    .iterate(JSON.stringify(eventUuids)) as IterableIterator<{
    event_uuid: string;
    doc: string;
    build_id: string | null;
  }>) {
    const list = versionsOf.get(row.event_uuid) ?? [];
    list.push({ ...parseDoc(row.doc), build_id: row.build_id });
    versionsOf.set(row.event_uuid, list);
  }
  const annotationsOf = new Map<string, Record<string, unknown>[]>();
  for (const row of db
    .prepare(
      `select event_uuid, doc, build_id from annotation where event_uuid in (select value from json_each(?))
        order by json_extract(doc, '$.created_at'), annotation_id`,
    )
    .iterate(JSON.stringify(eventUuids)) as IterableIterator<{
    event_uuid: string;
    doc: string;
    build_id: string | null;
  }>) {
    const list = annotationsOf.get(row.event_uuid) ?? [];
    list.push({ ...parseDoc(row.doc), build_id: row.build_id });
    annotationsOf.set(row.event_uuid, list);
  }
  const resolutionsOf = new Map<string, PacketResolution[]>();
  for (const row of db
    .prepare(
      `select request_id, annotation_id, resolved, reason_code, reason_text, requested_by, requested_at
         from annotation_resolution where event_uuid in (select value from json_each(?))
        order by requested_at, request_id`,
    )
    .iterate(JSON.stringify(eventUuids)) as IterableIterator<{
    request_id: string;
    annotation_id: string;
    resolved: number;
    reason_code: string | null;
    reason_text: string | null;
    requested_by: string;
    requested_at: string;
  }>) {
    const list = resolutionsOf.get(row.annotation_id) ?? [];
    list.push({
      requestId: row.request_id,
      resolved: row.resolved === 1,
      reasonCode: row.reason_code,
      reasonLabel:
        row.reason_code === null
          ? null
          : ((queryReasonLabels as Record<string, string>)[row.reason_code] ?? row.reason_code),
      reasonText: row.reason_text,
      requestedBy: row.requested_by,
      requestedByName: nameOf(row.requested_by),
      requestedAt: isoMillis(row.requested_at),
    });
    resolutionsOf.set(row.annotation_id, list);
  }
  const diaryRecords: PacketDiaryRecord[] = stateRows.map((row) => {
    const eventUuid = row.event_uuid as string;
    let previous: unknown = null;
    const history = (versionsOf.get(eventUuid) ?? []).map((v) => {
      const data = (v.data ?? {}) as Record<string, unknown>;
      const version: PacketDiaryVersion = {
        auditId: Number(v.audit_id),
        chainSeq: chainIndex.diaryAuditSeq.get(Number(v.audit_id)) ?? null,
        operation: str(v.operation),
        createdBy: str(v.created_by),
        createdByName: nameOf(str(v.created_by)),
        role: str(v.role),
        clientTimestamp: isoMillis(v.client_timestamp),
        serverTimestamp: isoMillis(v.server_timestamp),
        parentAuditId:
          v.parent_audit_id === null || v.parent_audit_id === undefined ? null : Number(v.parent_audit_id),
        changeReason: str(v.change_reason),
        data,
        changes: fieldChanges(previous, data),
        buildId: strOrNull(v.build_id),
      };
      previous = data;
      return version;
    });
    const annotations: PacketAnnotation[] = (annotationsOf.get(eventUuid) ?? []).map((a) => ({
      annotationId: str(a.annotation_id),
      kind: str(a.annotation_kind),
      text: str(a.annotation_text),
      investigatorId: str(a.investigator_id),
      investigatorName: nameOf(str(a.investigator_id)),
      parentAuditId: Number(a.parent_audit_id),
      inReplyTo: strOrNull(a.in_reply_to),
      requiresResponse: a.requires_response === true,
      resolved: a.resolved === true,
      createdAt: isoMillis(a.created_at),
      events: chainIndex.annotationEvents.get(str(a.annotation_id)) ?? [],
      resolutions: resolutionsOf.get(str(a.annotation_id)) ?? [],
      buildId: strOrNull(a.build_id),
    }));
    tick();
    return {
      eventUuid,
      patientId: row.patient_id as string,
      siteId: row.site_id as string,
      studyId: siteStudy.get(row.site_id as string) ?? null,
      version: Number(row.version),
      isDeleted: row.is_deleted === 1,
      currentData: JSON.parse(row.current_data as string) as Record<string, unknown>,
      history,
      annotations,
      recordEvents: chainIndex.recordEvents.get(eventUuid) ?? [],
      buildId: strOrNull(row.build_id),
    };
  });

  const namedBuildIds = new Set<string>();
  const name = (id: string | null | undefined) => {
    if (id) namedBuildIds.add(id);
  };
  for (const r of stagingRecords) {
    name(r.buildId);
    for (const h of r.history) name(h.buildId);
    for (const s of r.signatures) name(s.buildId);
    for (const p of r.provenance) name(p.buildId);
  }
  for (const d of diaryRecords) {
    name(d.buildId);
    for (const v of d.history) name(v.buildId);
    for (const a of d.annotations) name(a.buildId);
  }
  const builds = gatherPacketBuilds(db, {
    studyIds: selection.studyIds,
    namedBuildIds,
    studyCode: (id) => studyCode.get(id) ?? '(study not cached)',
    nameOf,
    eventsOf: (id) => chainIndex.buildEvents.get(id) ?? [],
  });

  const synced = db.prepare(`select value from sync_meta where name = 'last_synced_at'`).get() as
    | { value: string }
    | undefined;
  const chainEntries = (
    db
      .prepare('select count(*) as n from audit_log where seq <= ?')
      .get(chain.ok ? chain.verifiedThroughSeq : Number.MAX_SAFE_INTEGER) as { n: number }
  ).n;
  return {
    format: packetFormat,
    formatVersion: options.treeSize === undefined ? genesisChainFormatVersion : packetFormatVersion,
    cover: {
      scope: { selector: scope.selector, from: scope.from, to: scope.to, description: describeScope(scope) },
      generatedBy: options.generatedBy,
      generatedAt: options.now.toISOString(),
      timeZone,
      cacheSyncedAt: synced?.value ?? null,
      chain: {
        headSeq: chain.verifiedThroughSeq,
        headHash: chain.headHash,
        verifiedAt: chain.verifiedAt,
        broken:
          chain.ok || chain.firstBadSeq === null
            ? null
            : { firstBadSeq: chain.firstBadSeq, problem: chain.problem ?? 'the chain is broken' },
        entries: chainEntries,
      },
      counts: {
        stagingRecords: stagingRecords.length,
        signatures: stagingRecords.reduce((n, r) => n + r.signatures.length, 0),
        diaryRecords: diaryRecords.length,
        annotations: diaryRecords.reduce((n, r) => n + r.annotations.length, 0),
        builds: builds.length,
      },
    },
    studies,
    sites,
    stagingRecords,
    diaryRecords,
    people: peopleNamedIn(stagingRecords, diaryRecords, builds, options.generatedBy, directory, names),
    builds,
  };
}

/** The people the packet's records name (and who generated it), once each, by user id. */
function peopleNamedIn(
  stagingRecords: PacketStagingRecord[],
  diaryRecords: PacketDiaryRecord[],
  builds: PacketBuild[],
  generatedBy: GatherOptions['generatedBy'],
  directory: Map<string, Person>,
  names: Map<string, string>,
): PacketPerson[] {
  const ids = new Set<string>([generatedBy.userId]);
  for (const b of builds) {
    ids.add(b.builtBy);
    for (const e of b.events) ids.add(e.actor);
    for (const attempt of b.errorLog) if (attempt.by) ids.add(attempt.by);
  }
  for (const r of stagingRecords) {
    for (const h of r.history) ids.add(h.actor);
    for (const s of r.signatures) ids.add(s.userId);
    for (const p of r.provenance) ids.add(p.actorId);
  }
  for (const d of diaryRecords) {
    for (const v of d.history) ids.add(v.createdBy);
    for (const a of d.annotations) {
      ids.add(a.investigatorId);
      for (const e of a.events) ids.add(e.actor);
    }
  }
  const people = new Map<string, PacketPerson>();
  for (const id of ids) {
    const person = directory.get(id);
    const userId = person?.userId ?? id;
    const name = names.get(userId) ?? names.get(id);
    if (name === undefined || people.has(userId)) continue;
    people.set(userId, {
      userId,
      agentId: person?.agentId ?? null,
      name,
      roles:
        userId === generatedBy.userId
          ? generatedBy.roles
          : person?.roles.includes('patient')
            ? ['patient']
            : (person?.roles ?? []),
    });
  }
  return [...people.values()].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
}

/**
 * chain/audit_log.jsonl: one RFC 8785 line per cached entry from seq 1 (through the head, or every
 * cached entry when a break is flagged). The stored payload is already canonical (cache schema), so
 * each line is assembled without re-serialising it.
 */
export function chainLines(db: Database, throughSeq: number | null): string[] {
  const lines: string[] = [];
  const rows = db
    .prepare(
      `select seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash
         from audit_log where (? is null or seq <= ?) order by seq`,
    )
    .raw(true)
    .iterate(throughSeq, throughSeq) as IterableIterator<
    [number, string, string, string, string, string, string, string]
  >;
  for (const [seq, occurredAt, actor, eventType, payload, payloadHash, prevHash, entryHash] of rows) {
    lines.push(
      `{"actor":${JSON.stringify(actor)},"entry_hash":${JSON.stringify(entryHash)},"event_type":${JSON.stringify(eventType)},"occurred_at":${JSON.stringify(occurredAt)},"payload":${payload},"payload_hash":${JSON.stringify(payloadHash)},"prev_hash":${JSON.stringify(prevHash)},"seq":${seq}}`,
    );
  }
  return lines;
}

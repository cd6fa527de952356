// verifyPacket's check of the protocol builds (issue 20): every build in packet.json against its
// audit entries (its transitions and configuration changes, the configuration's SHA-256, its status,
// number, version and completed sequence), what changed from the build before it against the two
// configurations, every build of the packet's studies present; and every value's build against the
// build the chain records for it (chainBuilds.ts): a staging record's and each history entry's, each
// signature's (and the build inside the content it signs, at its content-hash version), each
// provenance event's, each diary version's and record's, each annotation's. So a packet whose build of
// one value was changed is named at that value even when every file and hash was recomputed.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../shared/canonicalJson';
import { ChainBuilds } from './chainBuilds';
import { buildName, buildStanding, changesBetween, previousBuildOf } from './packetBuilds';
import type { PacketContent } from './packetContent';

export interface ChainEntryView {
  seq: number;
  occurred_at: string;
  actor: string;
  event_type: string;
  payload: Record<string, unknown>;
}

export interface BuildCheck {
  id: string;
  studyCode: string;
  name: string;
  status: string;
  /** Its audit entries matched in the chain. */
  chainSeqs: number[];
  ok: boolean;
}

export interface BuildsVerification {
  builds: BuildCheck[];
  /** Values whose build was compared with the chain. */
  valuesChecked: number;
}

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const idOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export function verifyPacketBuilds(
  content: PacketContent,
  verifiedEntry: (seq: number | null) => ChainEntryView | undefined,
  boundSeq: number,
  problem: (where: string, what: string) => void,
): BuildsVerification {
  const result: BuildsVerification = { builds: [], valuesChecked: 0 };
  const builds = content.builds;
  if (!Array.isArray(builds)) {
    // A format 1 packet was made before builds: it claims none, and none is checked.
    if ((content.formatVersion ?? 1) >= 2)
      problem('packet.json', 'has no protocol builds, which a packet of its format carries');
    return result;
  }
  const timeline = new ChainBuilds();
  const entriesOfBuild = new Map<string, ChainEntryView[]>();
  for (let seq = 1; seq <= boundSeq; seq++) {
    const e = verifiedEntry(seq);
    if (!e?.event_type.startsWith('study_build.')) continue;
    timeline.observe(seq, e.event_type, e.payload);
    const id = idOrNull(e.payload.build_id);
    if (id === null) continue;
    const list = entriesOfBuild.get(id) ?? [];
    list.push(e);
    entriesOfBuild.set(id, list);
  }
  const byId = new Map(builds.map((b) => [b.id, b]));
  const named = (id: string | null) => {
    if (id === null) return 'none';
    const b = byId.get(id);
    return b ? `${buildName(b)} ${id}` : id;
  };

  // ── the builds ──
  const studyCodes = new Map(content.studies.map((s) => [s.id, s.code]));
  for (const b of builds) {
    const where = `packet.json build ${b.number} ${b.id}`;
    let ok = true;
    const fail = (what: string) => {
      ok = false;
      problem(where, what);
    };
    if (sha256(canonicalJson(b.configuration ?? null)) !== b.configurationSha256)
      fail('its configuration is not the one its configuration_sha256 names');
    const chain = entriesOfBuild.get(b.id) ?? [];
    const chainSeqs = chain.map((e) => e.seq);
    const listed = new Set(b.events.map((e) => e.seq));
    let lastSeq = 0;
    for (const event of b.events) {
      const e = verifiedEntry(event.seq);
      if (event.seq <= lastSeq) fail(`audit entry seq ${event.seq} is out of order`);
      lastSeq = event.seq;
      const matches =
        e !== undefined &&
        e.event_type === event.eventType &&
        e.occurred_at === event.occurredAt &&
        e.actor === event.actor &&
        e.payload.build_id === b.id &&
        (e.payload.from_status ?? null) === event.fromStatus &&
        (e.payload.to_status ?? e.payload.status ?? null) === event.toStatus &&
        (e.payload.configuration_sha256 ?? null) === event.configurationSha256;
      if (!matches) fail(`audit entry seq ${event.seq} (${event.eventType}) does not match the audit chain`);
    }
    for (const seq of chainSeqs)
      if (!listed.has(seq))
        fail(`audit entry seq ${seq} (${verifiedEntry(seq)?.event_type}) is missing from its events`);
    const last = chain.at(-1);
    const lastTransition = chain.findLast((e) => e.event_type === 'study_build.transition');
    if (!last || !lastTransition) {
      fail('has no audit entry in the chain');
    } else {
      if (last.payload.configuration_sha256 !== b.configurationSha256)
        fail('its configuration is not the one the audit chain last recorded');
      if (lastTransition.payload.to_status !== b.status)
        fail(
          `its status ${b.status} is not the one the audit chain last recorded (${String(lastTransition.payload.to_status)})`,
        );
      if (
        last.payload.study_id !== b.studyId ||
        last.payload.build_number !== b.number ||
        last.payload.build_version !== b.version ||
        lastTransition.payload.build_type !== b.type
      )
        fail('its study, number, version or type is not what the audit chain records');
      const completion = chain.find(
        (e) => e.event_type === 'study_build.transition' && e.payload.to_status === 'COMPLETED',
      );
      if ((completion ? Number(completion.payload.completed_sequence) : null) !== b.completedSequence)
        fail('its completed sequence is not the one the audit chain records');
    }
    const code = studyCodes.get(b.studyId);
    if (code !== undefined && code !== b.studyCode)
      fail(`its study code ${b.studyCode} is not its study's (${code})`);
    const ofStudy = builds.filter((x) => x.studyId === b.studyId);
    const standing = buildStanding(b, ofStudy);
    if (standing.current !== b.current || standing.superseded !== b.superseded)
      fail("its current/superseded mark does not follow from its study's completed builds");
    const previous = previousBuildOf(b, ofStudy);
    if ((previous?.id ?? null) !== b.previousBuildId)
      fail('the build it is compared with is not its previous build');
    else if (canonicalJson(changesBetween(previous, b)) !== canonicalJson(b.changesFromPrevious))
      fail('what changed from the previous build does not follow from the two configurations');
    result.builds.push({
      id: b.id,
      studyCode: b.studyCode,
      name: buildName(b),
      status: b.status,
      chainSeqs,
      ok,
    });
  }
  // Every build of the packet's studies that the chain knows is in the packet.
  for (const [id, chain] of entriesOfBuild) {
    const first = chain[0] as ChainEntryView;
    if (studyCodes.has(String(first.payload.study_id)) && !byId.has(id))
      problem(
        'packet.json',
        `build ${String(first.payload.build_number)} (${id}) of the packet's study is missing`,
      );
  }

  // ── every value's build ──
  const check = (where: string, what: string, actual: string | null | undefined, expected: string | null) => {
    result.valuesChecked++;
    const stated = actual ?? null;
    if (stated !== expected)
      problem(
        where,
        `${what}: its build ${named(stated)} is not the build the audit chain records (${named(expected)})`,
      );
    else if (stated !== null && !byId.has(stated))
      problem(where, `${what}: its build ${stated} is not in the packet`);
  };
  for (const r of content.stagingRecords) {
    const where = `packet.json staging record ${r.id}`;
    const matched = r.history.flatMap((h) => {
      const e = verifiedEntry(h.seq);
      return e && e.payload.staging_id === r.id && e.event_type === h.eventType ? [{ h, e }] : [];
    });
    const study =
      idOrNull(matched.find(({ e }) => e.event_type === 'staging.proposed')?.e.payload.study_id) ?? r.studyId;
    for (const { h, e } of matched)
      check(where, `history entry seq ${h.seq}`, h.buildId, idOrNull(e.payload.build_id));
    const expectedBuilds = new Set(matched.map(({ e }) => timeline.namedBy(e.payload, study)));
    const last = matched.at(-1);
    if (last) check(where, 'the record', r.buildId, timeline.namedBy(last.e.payload, study));
    for (const s of r.signatures) {
      const at = s.chainSeq;
      const before = at === null ? undefined : matched.findLast(({ h }) => h.seq < at);
      const sWhere = `packet.json signature ${s.id}`;
      if (before) check(sWhere, 'the signature', s.buildId, timeline.namedBy(before.e.payload, study));
      const c = s.signingContent;
      if (c) {
        const version = s.contentHashVersion ?? 1;
        if (version >= 2 !== Object.hasOwn(c, 'build_id'))
          problem(sWhere, `the content it signs is not content-hash version ${version}'s`);
        else if (version >= 2 && c.build_id !== (s.buildId ?? null))
          problem(
            sWhere,
            `the build in the content it signs (${named(idOrNull(c.build_id))}) is not its build (${named(s.buildId ?? null)})`,
          );
      }
    }
    for (const p of r.provenance) {
      result.valuesChecked++;
      const stated = p.buildId ?? null;
      if (stated !== null && (!expectedBuilds.has(stated) || !byId.has(stated)))
        problem(
          `packet.json provenance ${p.id}`,
          `its build ${named(stated)} is not one the audit chain records for staging record ${r.id}`,
        );
    }
  }
  const siteStudy = new Map(content.sites.map((s) => [s.siteId, s.studyId]));
  for (const d of content.diaryRecords) {
    const where = `packet.json diary record ${d.eventUuid}`;
    const study = siteStudy.get(d.siteId) ?? d.studyId;
    let lastExpected: string | null | undefined;
    for (const v of d.history) {
      const e = verifiedEntry(v.chainSeq);
      if (e?.event_type !== 'diary.event' || Number(e.payload.audit_id) !== v.auditId) continue;
      lastExpected = timeline.namedBy(e.payload, study);
      check(where, `version audit ${v.auditId}`, v.buildId, lastExpected);
    }
    if (lastExpected !== undefined) check(where, 'the record', d.buildId, lastExpected);
    for (const a of d.annotations) {
      const first = a.events[0];
      const e = verifiedEntry(first?.seq ?? null);
      if (e?.event_type !== 'diary.annotation' || e.payload.annotation_id !== a.annotationId) continue;
      check(
        `packet.json annotation ${a.annotationId}`,
        'the annotation',
        a.buildId,
        // Named in the entry since 0054; an older entry stands for the build current when it was written.
        Object.hasOwn(e.payload, 'build_id')
          ? timeline.namedBy(e.payload, study)
          : timeline.currentAt(study, e.seq),
      );
    }
  }
  return result;
}

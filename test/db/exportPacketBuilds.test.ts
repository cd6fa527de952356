// The inspection packet of data captured under two protocol builds, on the real server: a study's
// INITIAL build B1, then an AMENDMENT B2 that failed once, was retried and completed (a field added,
// a range tightened). Diary entries, an annotation, proposals and signatures exist under both (one
// record's history spans them; one signature is of content-hash version 1, one of version 2). An
// inspector syncs and exports the study from their cache: packet.json carries both builds and the
// build of every value, the PDF and CSVs show them, the ODM has one MetaDataVersion per build with
// each value under its own, and verify passes; a packet whose build of one value was changed fails
// at that value even with every file rendered again and every hash recomputed.
import { randomUUID } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPacket } from '../../src/main/export/exportPacket';
import type { PacketBuild } from '../../src/main/export/packetBuilds';
import type { PacketContent } from '../../src/main/export/packetContent';
import { sha256OfBytes } from '../../src/main/export/packetManifest';
import { layoutPdfPages } from '../../src/main/export/pdfWriter';
import { readStoredZip, type ZipEntry } from '../../src/main/export/storedZip';
import { verifyPacket } from '../../src/main/export/verifyPacket';
import { postgresSyncServer } from '../../src/main/sync/postgresSyncServer';
import { pullAll } from '../../src/main/sync/pullEngine';
import { canonicalJson } from '../../src/shared/canonicalJson';
import {
  type BuildConfiguration,
  type BuildField,
  type BuildForm,
  runStudyBuild,
  standardConfiguration,
} from './support/buildActions';
import { forgePacketContent } from './support/forgedPacket';
import { actingAs, createStudy, propose, setState } from './support/operatorActions';
import { tempCaches } from './support/syncCache';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const fileOf = (packet: Buffer, path: string) =>
  (readStoredZip(packet).find((e) => e.path === path) as ZipEntry).data.toString('utf8');

/** A parsed XML element: attributes as "@name", child elements (and text) as arrays. */
type Xml = Record<string, unknown>;
const kids = (node: Xml, name: string): Xml[] => (node[name] as Xml[] | undefined) ?? [];
const attr = (node: Xml, name: string): string => String(node[`@${name}`] ?? '');
const text = (node: Xml, name: string): string => String((node[name] as unknown[] | undefined)?.[0] ?? '');

const odmParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
});

describe('an inspection packet of data under two protocol builds', () => {
  let db: TestDatabase;
  const caches = tempCaches();
  const password = 'builds-pass-1234';
  const people: Record<'admin' | 'agent' | 'signer' | 'inspector' | 'patient' | 'investigator', string> = {
    admin: '',
    agent: '',
    signer: '',
    inspector: '',
    patient: '',
    investigator: '',
  };
  let studyId: string;
  let studyCode: string;
  let b1: string;
  let b2: string;
  const records = { spanning: randomUUID(), underB2: randomUUID() };
  const staging = { underB1: '', underB2: '' };
  let packet: Buffer;
  /** The same export in format 2 (the chain from genesis), to make packets of the earlier formats from. */
  let genesisPacket: Buffer;
  let content: PacketContent;
  let inspectorClient: pg.Client;

  const asPatient = <T>(work: () => Promise<T>) => actingAs(db.operator, people.patient, work);
  const diaryEvent = (
    eventUuid: string,
    operation: string,
    data: unknown,
    parent: string | null,
    reason: string,
  ) =>
    asPatient(async () => {
      const { rows } = await db.operator.query<{ audit_id: string }>(
        `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp,
           parent_audit_id, change_reason)
         values ($1, $2, 'BS1', $3, $4, now(), $5, $6) returning audit_id::text`,
        [eventUuid, people.patient, operation, JSON.stringify(data), parent, reason],
      );
      return rows[0]?.audit_id as string;
    });
  /** A signature recorded as sign_batch records it, at a content-hash version. */
  const sign = (stagingId: string, version: 1 | 2) =>
    actingAs(db.operator, people.signer, async () => {
      await db.operator.query(
        `insert into cro.signature_event (user_id, user_display_name, intent, subject_kind, subject_id, re_auth_at,
           meaning_of_signature, signed_at, created_by, study_id, content_hash, content_hash_version,
           ceremony_id, nonce)
         select $1, 'Dr. Build Signer', 'approve', 'staging_record', s.id::text, now(), 'I approve this change',
                now(), $1, s.study_id, cs_private.signing_content_hash_at(s, $3::smallint), $3::smallint,
                gen_random_uuid(), replace(gen_random_uuid()::text, '-', '')
           from cro.staging_record s where s.id = $2`,
        [people.signer, stagingId, version],
      );
    });
  const proposeKpi = (label: string) =>
    propose(db.operator, people.agent, {
      entityKind: 'study_kpi',
      entityId: null,
      studyId,
      proposedState: { label, value: '12%', position: 4 },
    });

  beforeAll(async () => {
    db = await createTestDatabase();
    const provision = (short: keyof typeof people, role: string, study: string | null) =>
      db.provision({
        email: db.email(short),
        printedName: `${short} of the build test`,
        password,
        roles: [{ role: role as never, studyId: study }],
        agentId: short === 'agent' ? 'agent:test' : null,
      });
    people.admin = await provision('admin', 'admin', null);
    studyCode = `BLD-${db.tag}`;
    studyId = await createStudy(db.operator, people.admin, studyCode);
    for (const [short, role] of [
      ['agent', 'agent'],
      ['signer', 'signer'],
      ['inspector', 'inspector'],
      ['patient', 'patient'],
      ['investigator', 'investigator'],
    ] as const) {
      people[short] = await provision(short, role, studyId);
    }
    await db.operator.query(
      `insert into diary.sites (site_id, site_name, site_number, study_id) values ('BS1', 'Build site', '901', $1)`,
      [studyId],
    );
    await db.operator.query(
      `insert into diary.user_site_assignments (patient_id, site_id, subject_code) values ($1, 'BS1', 'BS1-001')`,
      [people.patient],
    );
    await db.operator.query(
      `insert into diary.investigator_site_assignments (investigator_id, site_id, access_level) values ($1, 'BS1', 'full')`,
      [people.investigator],
    );
    b1 = (
      await db.operator.query<{ id: string }>('select id from cro.study_database_build where study_id = $1', [
        studyId,
      ])
    ).rows[0]?.id as string;

    // Under B1: a diary entry, and a proposal signed at content-hash version 1 (as before builds).
    const first = await diaryEvent(
      records.spanning,
      'USER_CREATE',
      { event_type: 'epistaxis', date: '2026-03-01', duration_minutes: 600, intensity: 'moderate' },
      null,
      'initial entry',
    );
    staging.underB1 = await proposeKpi('Screen failures');
    await setState(db.operator, people.signer, staging.underB1, 'reviewing');
    await sign(staging.underB1, 1);
    await setState(db.operator, people.signer, staging.underB1, 'signed');

    // B2, an AMENDMENT: its first run fails (a choice field without values), the retry completes.
    const amended = await standardConfiguration(db.operator);
    const diaryForm = amended.forms.find((f) => f.kind === 'diary') as BuildForm;
    const duration = diaryForm.fields.find((f) => f.code === 'duration_minutes') as BuildField;
    duration.max = 240;
    diaryForm.fields.push({ code: 'rescue_treatment', label: 'Rescue treatment', type: 'choice' });
    b2 = await actingAs(db.operator, people.admin, async () => {
      const { rows } = await db.operator.query<{ id: string }>(
        `insert into cro.study_database_build (study_id, build_number, build_version, build_type, amendment_reference,
           build_description, configuration_snapshot)
         values ($1, 'B2', '2.0', 'AMENDMENT', 'Protocol amendment 1', 'Rescue treatment; shorter episodes', $2)
         returning id`,
        [studyId, JSON.stringify(amended)],
      );
      const id = rows[0]?.id as string;
      await db.operator.query(
        `update cro.study_database_build set build_status = 'IN_PROGRESS' where id = $1`,
        [id],
      );
      return id;
    });
    const failed = await actingAs(db.operator, people.admin, () => runStudyBuild(db.operator, b2));
    expect(failed.status).toBe('FAILED');
    (diaryForm.fields.at(-1) as BuildField).values = ['tamponade', 'cautery', 'none'];
    const completed = await actingAs(db.operator, people.admin, async () => {
      await db.operator.query(
        `update cro.study_database_build set build_status = 'IN_PROGRESS' where id = $1`,
        [b2],
      );
      await db.operator.query(
        'update cro.study_database_build set configuration_snapshot = $2 where id = $1',
        [b2, JSON.stringify(amended)],
      );
      return runStudyBuild(db.operator, b2);
    });
    expect(completed).toMatchObject({ status: 'COMPLETED', completed_sequence: 2 });

    // Under B2: the first entry changed (its history now spans builds), a new entry with the new
    // field, an investigator's query, and a proposal signed at version 2.
    await diaryEvent(
      records.spanning,
      'USER_UPDATE',
      { event_type: 'epistaxis', date: '2026-03-01', duration_minutes: 200, intensity: 'moderate' },
      first,
      'it was shorter',
    );
    await diaryEvent(
      records.underB2,
      'USER_CREATE',
      { event_type: 'epistaxis', date: '2026-03-05', duration_minutes: 30, rescue_treatment: 'tamponade' },
      null,
      'initial entry',
    );
    const head = (
      await db.operator.query<{ last_audit_id: string }>(
        'select last_audit_id::text from diary.record_state where event_uuid = $1',
        [records.spanning],
      )
    ).rows[0]?.last_audit_id;
    await actingAs(db.operator, people.investigator, () =>
      db.operator.query(
        `insert into diary.investigator_annotations (event_uuid, parent_audit_id, patient_id, investigator_id,
           site_id, annotation_kind, annotation_text, requires_response)
         values ($1, $2, $3, $3, 'BS1', 'query', 'Was the episode shorter than 4 hours?', true)`,
        [records.spanning, head, people.investigator],
      ),
    );
    staging.underB2 = await proposeKpi('Enrolment rate');
    await setState(db.operator, people.signer, staging.underB2, 'reviewing');
    await sign(staging.underB2, 2);
    await setState(db.operator, people.signer, staging.underB2, 'signed');

    // The inspector syncs, and exports the study from the cache.
    inspectorClient = await db.connectAs(db.email('inspector'), password);
    const cache = caches.open(people.inspector);
    await pullAll(cache, postgresSyncServer(inspectorClient));
    const result = await buildPacket(cache, {
      scope: { selector: { kind: 'study', studyCode }, from: null, to: null },
      allowBrokenChain: false,
      generatedBy: {
        userId: people.inspector,
        printedName: 'inspector of the build test',
        roles: ['inspector'],
      },
      timeZone: 'Europe/Berlin',
    });
    genesisPacket = (
      await buildPacket(cache, {
        scope: { selector: { kind: 'study', studyCode }, from: null, to: null },
        allowBrokenChain: false,
        generatedBy: {
          userId: people.inspector,
          printedName: 'inspector of the build test',
          roles: ['inspector'],
        },
        timeZone: 'Europe/Berlin',
        genesisChain: true,
      })
    ).zip;
    cache.close();
    packet = result.zip;
    content = result.content;
  }, 120_000);
  afterAll(async () => {
    caches.remove();
    await db?.drop();
  });

  const buildOf = (id: string) => content.builds?.find((b) => b.id === id) as PacketBuild;
  const diaryRecord = (uuid: string) => content.diaryRecords.find((d) => d.eventUuid === uuid);
  const stagingRecord = (id: string) => content.stagingRecords.find((r) => r.id === id);

  it('carries both builds with configuration, timeline, error log and audit entries, and the build of every value [BUILD-PACKET]', () => {
    expect(content.formatVersion).toBe(3);
    expect(content.builds?.map((b) => [b.number, b.version, b.type, b.status])).toEqual([
      ['B1', '1.0', 'INITIAL', 'COMPLETED'],
      ['B2', '2.0', 'AMENDMENT', 'COMPLETED'],
    ]);
    expect(content.cover.counts.builds).toBe(2);
    const first = buildOf(b1);
    const second = buildOf(b2);
    expect(first).toMatchObject({
      completedSequence: 1,
      current: false,
      superseded: true,
      previousBuildId: null,
    });
    expect(second).toMatchObject({
      studyCode,
      completedSequence: 2,
      current: true,
      superseded: false,
      amendmentReference: 'Protocol amendment 1',
      description: 'Rescue treatment; shorter episodes',
      builtBy: people.admin,
      builtByName: 'admin of the build test',
      previousBuildId: b1,
    });
    expect(second.timeline.startedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(second.timeline.endedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(second.configurationSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(second.errorLog).toHaveLength(1);
    expect(second.errorLog[0]?.errors[0]?.path).toBe('forms[diary_entry].fields[rescue_treatment].values');
    // Its audit entries: created, run, failed, retried, reconfigured, completed.
    expect(second.events.map((e) => `${e.eventType} ${e.fromStatus ?? ''}>${e.toStatus ?? ''}`)).toEqual([
      'study_build.transition >DRAFT',
      'study_build.transition DRAFT>IN_PROGRESS',
      'study_build.transition IN_PROGRESS>FAILED',
      'study_build.transition FAILED>IN_PROGRESS',
      'study_build.configured >IN_PROGRESS',
      'study_build.transition IN_PROGRESS>COMPLETED',
    ]);
    expect(second.changesFromPrevious).toEqual([
      { form: 'diary_entry', field: 'duration_minutes', change: 'changed', details: ['max: 1440 → 240'] },
      {
        form: 'diary_entry',
        field: 'rescue_treatment',
        change: 'added',
        details: ['type: choice', 'values: tamponade, cautery, none'],
      },
    ]);

    // Every value names its build.
    const spanning = diaryRecord(records.spanning);
    expect(spanning?.history.map((v) => v.buildId)).toEqual([b1, b2]);
    expect(spanning?.buildId).toBe(b2);
    expect(spanning?.annotations.map((a) => a.buildId)).toEqual([b2]);
    expect(diaryRecord(records.underB2)?.history.map((v) => v.buildId)).toEqual([b2]);
    const oldProposal = stagingRecord(staging.underB1);
    const newProposal = stagingRecord(staging.underB2);
    expect(oldProposal?.buildId).toBe(b1);
    expect(oldProposal?.history.every((h) => h.buildId === b1)).toBe(true);
    expect(newProposal?.buildId).toBe(b2);
    expect(oldProposal?.signatures[0]).toMatchObject({ contentHashVersion: 1, buildId: b1 });
    expect(oldProposal?.signatures[0]?.signingContent).not.toHaveProperty('build_id');
    expect(newProposal?.signatures[0]).toMatchObject({ contentHashVersion: 2, buildId: b2 });
    expect(newProposal?.signatures[0]?.signingContent).toMatchObject({ build_id: b2 });
    for (const p of [...(oldProposal?.provenance ?? []), ...(newProposal?.provenance ?? [])])
      expect([b1, b2]).toContain(p.buildId);
  });

  it('shows each build and the build of each value in the PDF and the CSVs [BUILD-PACKET]', () => {
    const report = verifyPacket(packet);
    const pdf = layoutPdfPages(content, report.documentHash as string)
      .flatMap((page) => page.body.map((line) => line.text))
      .join('\n');
    expect(pdf).toContain('PROTOCOL BUILDS');
    expect(pdf).toContain(`BUILD B1 (1.0) of study ${studyCode}: INITIAL, COMPLETED, superseded`);
    expect(pdf).toContain(`BUILD B2 (2.0) of study ${studyCode}: AMENDMENT, COMPLETED, current`);
    expect(pdf).toContain('What changed from B1 (1.0):');
    expect(pdf).toContain('diary_entry.duration_minutes: changed (max: 1440 -> 240)');
    expect(pdf).toContain('IN_PROGRESS -> FAILED');
    expect(pdf).toContain('forms[diary_entry].fields[rescue_treatment].values:');
    expect(pdf).toContain('[build B1 (1.0; superseded)]');
    expect(pdf).toContain('[build B2 (2.0)]');
    expect(pdf).toContain('its versions span builds B1 (1.0; superseded), B2 (2.0)');
    expect(pdf).toContain('Protocol build: B2 (2.0); bound by the content hash (version 2)');

    const builds = fileOf(packet, 'csv/builds.csv').split('\r\n');
    expect(builds[0]).toContain(
      '"build_id","study_code","build_number","build_version","build_type","status"',
    );
    expect(builds.filter((line) => line.includes(`"${studyCode}"`))).toHaveLength(2);
    expect(fileOf(packet, 'csv/build_fields.csv')).toContain(
      `"${b2}","B2 (2.0)","diary_entry","diary","Patient diary entry","rescue_treatment","Rescue treatment","choice","false","[""tamponade"",""cautery"",""none""]"`,
    );
    expect(fileOf(packet, 'csv/build_changes.csv')).toContain(
      '"diary_entry","duration_minutes","changed","max: 1440 → 240"',
    );
    const history = fileOf(packet, 'csv/diary_history.csv');
    expect(history.split('\r\n')[0]).toMatch(/"build_id","build"$/);
    expect(history).toContain(`"${b1}","B1 (1.0)"`);
    expect(history).toContain(`"${b2}","B2 (2.0)"`);
    expect(fileOf(packet, 'csv/signatures.csv')).toContain(`"1","${b1}","B1 (1.0)"`);
    for (const path of [
      'csv/staging_records.csv',
      'csv/staging_history.csv',
      'csv/provenance.csv',
      'csv/annotations.csv',
    ])
      expect(fileOf(packet, path).split('\r\n')[0], path).toMatch(/"build_id","build"$/);
  });

  it('writes one MetaDataVersion per build with its forms, and every value under its own build (parsed back) [BUILD-ODM]', () => {
    const odm = (odmParser.parse(fileOf(packet, 'odm/countersign.odm.xml'), true) as Xml).ODM as Xml[];
    const root = odm[0] as Xml;
    const study = kids(root, 'Study').find((s) => attr(s, 'OID') === `ST.${studyCode}`) as Xml;
    const versions = new Map(kids(study, 'MetaDataVersion').map((v) => [attr(v, 'OID'), v]));
    expect([...versions.keys()]).toEqual([`MDV.${studyCode}.B1`, `MDV.${studyCode}.B2`]);
    const v1 = versions.get(`MDV.${studyCode}.B1`) as Xml;
    const v2 = versions.get(`MDV.${studyCode}.B2`) as Xml;
    expect(attr(v2, 'Name')).toBe('Build B2 (version 2.0)');
    const itemDef = (version: Xml, oid: string) =>
      kids(version, 'ItemDef').find((d) => attr(d, 'OID') === oid);
    // The build's definitions: types, ranges, code lists, mandatory items.
    const range = (def: Xml | undefined) =>
      def ? kids(def, 'RangeCheck').map((r) => `${attr(r, 'Comparator')} ${text(r, 'CheckValue')}`) : [];
    expect(range(itemDef(v1, 'IT.DIARY.duration_minutes'))).toEqual(['GE 0', 'LE 1440']);
    expect(range(itemDef(v2, 'IT.DIARY.duration_minutes'))).toEqual(['GE 0', 'LE 240']);
    expect(attr(itemDef(v1, 'IT.DIARY.duration_minutes') as Xml, 'DataType')).toBe('integer');
    expect(attr(itemDef(v1, 'IT.DIARY.date') as Xml, 'DataType')).toBe('date');
    expect(itemDef(v1, 'IT.DIARY.rescue_treatment')).toBeUndefined();
    const rescue = itemDef(v2, 'IT.DIARY.rescue_treatment') as Xml;
    expect(attr(kids(rescue, 'CodeListRef')[0] as Xml, 'CodeListOID')).toBe('CL.DIARY.rescue_treatment');
    const codeList = kids(v2, 'CodeList').find((c) => attr(c, 'OID') === 'CL.DIARY.rescue_treatment') as Xml;
    expect(kids(codeList, 'EnumeratedItem').map((e) => attr(e, 'CodedValue'))).toEqual([
      'tamponade',
      'cautery',
      'none',
    ]);
    const diaryGroup = kids(v1, 'ItemGroupDef').find((g) => attr(g, 'OID') === 'IG.DIARY') as Xml;
    const mandatory = Object.fromEntries(
      kids(diaryGroup, 'ItemRef').map((r) => [attr(r, 'ItemOID'), attr(r, 'Mandatory')]),
    );
    expect(mandatory).toMatchObject({
      'IT.DIARY.date': 'Yes',
      'IT.DIARY.event_type': 'Yes',
      'IT.DIARY.notes': 'No',
    });

    // Every ClinicalData and ReferenceData points at an existing MetaDataVersion of its study, every
    // item at a definition of that version, and each value sits under the build it was captured with.
    const definitions = (container: Xml) => {
      const studyOf = kids(root, 'Study').find((s) => attr(s, 'OID') === attr(container, 'StudyOID'));
      const version = studyOf
        ? kids(studyOf, 'MetaDataVersion').find(
            (v) => attr(v, 'OID') === attr(container, 'MetaDataVersionOID'),
          )
        : undefined;
      expect(
        version,
        `${attr(container, 'StudyOID')} ${attr(container, 'MetaDataVersionOID')}`,
      ).toBeDefined();
      return new Set(kids(version as Xml, 'ItemDef').map((d) => attr(d, 'OID')));
    };
    const placed = new Map<string, string>(); // "<event uuid> <item OID>" or a staging id -> its MDV
    let items = 0;
    for (const clinical of kids(root, 'ClinicalData')) {
      const mdv = attr(clinical, 'MetaDataVersionOID');
      const defs = definitions(clinical);
      for (const subject of kids(clinical, 'SubjectData'))
        for (const event of kids(subject, 'StudyEventData'))
          for (const form of kids(event, 'FormData'))
            for (const group of kids(form, 'ItemGroupData'))
              for (const item of kids(group, 'ItemData')) {
                items++;
                expect(defs.has(attr(item, 'ItemOID')), `${mdv} ${attr(item, 'ItemOID')}`).toBe(true);
                placed.set(`${attr(event, 'StudyEventRepeatKey')} ${attr(item, 'ItemOID')}`, mdv);
                expect(text(kids(item, 'AuditRecord')[0] as Xml, 'SourceID')).toMatch(
                  /^record_audit \d+; build B[12] \(/,
                );
              }
    }
    for (const reference of kids(root, 'ReferenceData')) {
      const defs = definitions(reference);
      for (const group of kids(reference, 'ItemGroupData')) {
        for (const item of kids(group, 'ItemData')) expect(defs.has(attr(item, 'ItemOID'))).toBe(true);
        placed.set(attr(group, 'ItemGroupRepeatKey'), attr(reference, 'MetaDataVersionOID'));
      }
    }
    expect(items).toBeGreaterThan(0);
    // The record that spans builds: its changed field under B2, the untouched ones under B1.
    expect(placed.get(`${records.spanning} IT.DIARY.duration_minutes`)).toBe(`MDV.${studyCode}.B2`);
    expect(placed.get(`${records.spanning} IT.DIARY.intensity`)).toBe(`MDV.${studyCode}.B1`);
    expect(placed.get(`${records.underB2} IT.DIARY.rescue_treatment`)).toBe(`MDV.${studyCode}.B2`);
    expect(placed.get(staging.underB1)).toBe(`MDV.${studyCode}.B1`);
    expect(placed.get(staging.underB2)).toBe(`MDV.${studyCode}.B2`);
    // Every Location refers to existing MetaDataVersions, each of its study.
    for (const location of kids(kids(root, 'AdminData')[0] as Xml, 'Location')) {
      for (const ref of kids(location, 'MetaDataVersionRef')) {
        const ofStudy = kids(root, 'Study').find((s) => attr(s, 'OID') === attr(ref, 'StudyOID')) as Xml;
        expect(kids(ofStudy, 'MetaDataVersion').map((v) => attr(v, 'OID'))).toContain(
          attr(ref, 'MetaDataVersionOID'),
        );
      }
    }
  });

  it('verifies, and fails at the value whose build was changed even when every file and hash was recomputed [BUILD-VERIFY]', () => {
    const report = verifyPacket(packet);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.builds.map((b) => [b.name, b.ok])).toEqual([
      ['B1 (1.0)', true],
      ['B2 (2.0)', true],
    ]);
    expect(report.records.buildsChecked).toBeGreaterThan(8);

    // A diary version moved to the other build.
    const spanning = diaryRecord(records.spanning);
    const firstVersion = spanning?.history[0]?.auditId;
    const movedVersion = verifyPacket(
      forgePacketContent(packet, (c) => {
        const d = c.diaryRecords.find((x) => x.eventUuid === records.spanning);
        if (d?.history[0]) d.history[0].buildId = b2;
      }),
    );
    expect(movedVersion.ok).toBe(false);
    expect(movedVersion.problems.filter((p) => !p.where.startsWith('packet.json diary record'))).toEqual([]);
    expect(movedVersion.problems).toContainEqual({
      where: `packet.json diary record ${records.spanning}`,
      what: expect.stringMatching(
        new RegExp(
          `^version audit ${firstVersion}: its build B2 \\(2\\.0\\) .* is not the build the audit chain records \\(B1 \\(1\\.0\\)`,
        ),
      ),
    });

    // A proposal said to be of the newer build; a signature's; an annotation's.
    const movedProposal = verifyPacket(
      forgePacketContent(packet, (c) => {
        const r = c.stagingRecords.find((x) => x.id === staging.underB1);
        if (r) r.buildId = b2;
      }),
    );
    expect(movedProposal.problems).toContainEqual({
      where: `packet.json staging record ${staging.underB1}`,
      what: expect.stringContaining('the record: its build B2 (2.0)'),
    });
    const movedSignature = verifyPacket(
      forgePacketContent(packet, (c) => {
        const s = c.stagingRecords.find((x) => x.id === staging.underB2)?.signatures[0];
        if (s?.signingContent) {
          s.buildId = b1;
          s.signingContent.build_id = b1;
        }
      }),
    );
    const signatureId = stagingRecord(staging.underB2)?.signatures[0]?.id;
    expect(movedSignature.problems.map((p) => `${p.where}: ${p.what}`)).toEqual(
      expect.arrayContaining([
        `packet.json signature ${signatureId}: its content hash is not the SHA-256 of the content it signs`,
        expect.stringContaining(`packet.json signature ${signatureId}: the signature: its build B1 (1.0)`),
      ]),
    );
    const movedAnnotation = verifyPacket(
      forgePacketContent(packet, (c) => {
        const a = c.diaryRecords.find((x) => x.eventUuid === records.spanning)?.annotations[0];
        if (a) a.buildId = b1;
      }),
    );
    const annotationId = spanning?.annotations[0]?.annotationId;
    expect(movedAnnotation.problems).toContainEqual({
      where: `packet.json annotation ${annotationId}`,
      what: expect.stringContaining('the annotation: its build B1 (1.0)'),
    });

    // A build's range rewritten (its hash too): the chain holds the configuration's hash.
    const rewrittenBuild = verifyPacket(
      forgePacketContent(packet, (c) => {
        const b = c.builds?.find((x) => x.id === b2) as PacketBuild;
        const config = b.configuration as BuildConfiguration;
        const field = config.forms[0]?.fields.find((f) => f.code === 'duration_minutes') as BuildField;
        field.max = 1440;
        b.configurationSha256 = sha256OfBytes(canonicalJson(config));
      }),
    );
    expect(rewrittenBuild.problems).toContainEqual({
      where: `packet.json build B2 ${b2}`,
      what: 'its configuration is not the one the audit chain last recorded',
    });
    // A build left out.
    const withoutBuild = verifyPacket(
      forgePacketContent(packet, (c) => {
        c.builds = c.builds?.filter((b) => b.id !== b1);
      }),
    );
    expect(withoutBuild.problems).toContainEqual({
      where: 'packet.json',
      what: `build B1 (${b1}) of the packet's study is missing`,
    });
  });

  it('still verifies a packet made before builds, which names none [BUILD-VERIFY]', () => {
    const old = verifyPacket(
      forgePacketContent(genesisPacket, (c) => {
        c.formatVersion = 1;
        delete c.builds;
        delete c.cover.counts.builds;
        for (const r of c.stagingRecords) {
          delete r.buildId;
          for (const h of r.history) delete h.buildId;
          for (const p of r.provenance) delete p.buildId;
          for (const s of r.signatures) {
            delete s.buildId;
            delete s.contentHashVersion;
          }
        }
        for (const d of c.diaryRecords) {
          delete d.buildId;
          for (const v of d.history) delete v.buildId;
          for (const a of d.annotations) delete a.buildId;
        }
      }),
    );
    expect(old.problems).toEqual([]);
    expect(old.builds).toEqual([]);
  });
});

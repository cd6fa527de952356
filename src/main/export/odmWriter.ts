// CDISC ODM 1.3.2 (FileType Snapshot) rendered from the packet content, where the model fits:
// Study with one MetaDataVersion per completed protocol build (issue 20: OID MDV.<study>.<build
// number>, its forms as FormDef/ItemGroupDef/ItemDef with types, ranges, code lists and mandatory
// items); AdminData with Users, Locations (diary sites and one per study for study-level records,
// each referring to every MetaDataVersion with the date it took effect) and one SignatureDef per
// distinct meaning; per study and build a ClinicalData with a SubjectData per diary patient
// (StudyEventData per diary entry, ItemData per field with the AuditRecord of its last change, the
// entry's annotations as Annotation/Comment), each value under the MetaDataVersion of the build it
// was captured under; staging records (study-level changes, not subject data) go to ReferenceData
// of their build as ItemGroupData with their last Signature and AuditRecord. An AuditRecord names
// its build in SourceID (docs/inspection-packet.md). ODM allows one Signature per element: earlier
// signatures of a record are in packet.json, the CSVs and the PDF. Subjects are keyed by the
// pseudonymous patient id (the cache holds no subject codes). A packet made before builds (format 1)
// renders as it always did: one MetaDataVersion MDV.1 derived from the data.
import { buildFormsOf } from '../../shared/buildForms';
import { canonicalJson } from '../../shared/canonicalJson';
import type { BuildFieldDefinition, BuildFormDefinition } from '../../shared/contract';
import { buildName, type PacketBuild } from './packetBuilds';
import type { PacketContent, PacketDiaryRecord, PacketStagingRecord } from './packetContent';

export function escapeXml(text: string): string {
  // XML 1.0 cannot carry most control characters even escaped: they are written as \u{XX} text.
  return [...text]
    .map((c) => {
      const code = c.charCodeAt(0);
      const forbidden =
        (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) ||
        code === 0xfffe ||
        code === 0xffff;
      return forbidden ? `\\u{${code.toString(16)}}` : c;
    })
    .join('')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\\u{lone-surrogate}')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

const attr = (name: string, value: string | number) => ` ${name}="${escapeXml(String(value))}"`;
const valueText = (value: unknown) => (typeof value === 'string' ? value : canonicalJson(value ?? null));
const oidPart = (text: string) => text.replace(/[^A-Za-z0-9_.-]/g, '_');

/** Where each value of a study goes: one MetaDataVersion (and its ClinicalData/ReferenceData) each. */
interface MetaDataPlan {
  oid: string;
  /** The build it stands for; null: the values no completed build of the packet names. */
  build: PacketBuild | null;
  /** Format 1: the one MetaDataVersion "MDV.1", rendered exactly as before builds. */
  legacy: boolean;
  effectiveDate: string;
  staging: PacketStagingRecord[];
  /** Per diary record placed here, in packet order: the fields it holds here, and whether the
   * record's own audit record and annotations (its latest version's build) are here. */
  diary: { record: PacketDiaryRecord; keys: string[]; recordLevel: boolean }[];
}

const odmDataTypes: Record<string, string> = {
  integer: 'integer',
  decimal: 'float',
  boolean: 'boolean',
  date: 'date',
  time: 'time',
  datetime: 'datetime',
};

/** The version of a diary record that last changed a field: whose audit record and build it carries. */
function versionOfField(d: PacketDiaryRecord, key: string) {
  return [...d.history].reverse().find((v) => v.changes.some((c) => c.field === key)) ?? d.history.at(-1);
}

function planStudy(
  content: PacketContent,
  study: { id: string; code: string },
  staging: PacketStagingRecord[],
  diary: PacketDiaryRecord[],
): MetaDataPlan[] {
  const today = content.cover.generatedAt.slice(0, 10);
  if (!Array.isArray(content.builds)) {
    return [
      {
        oid: 'MDV.1',
        build: null,
        legacy: true,
        effectiveDate: today,
        staging,
        diary: diary.map((record) => ({
          record,
          keys: Object.keys(record.currentData).sort(),
          recordLevel: true,
        })),
      },
    ];
  }
  const completed = content.builds
    .filter((b) => b.studyId === study.id && b.completedSequence !== null)
    .sort((a, b) => (a.completedSequence as number) - (b.completedSequence as number));
  const plans = completed.map(
    (build): MetaDataPlan => ({
      oid: `MDV.${oidPart(study.code)}.${oidPart(build.number)}`,
      build,
      legacy: false,
      effectiveDate: (build.timeline.endedAt ?? content.cover.generatedAt).slice(0, 10),
      staging: [],
      diary: [],
    }),
  );
  const byBuild = new Map(plans.map((plan) => [plan.build?.id, plan]));
  let unbuilt: MetaDataPlan | undefined;
  const planOf = (buildId: string | null | undefined): MetaDataPlan => {
    const plan = buildId ? byBuild.get(buildId) : undefined;
    if (plan) return plan;
    unbuilt ??= {
      oid: `MDV.${oidPart(study.code)}`,
      build: null,
      legacy: false,
      effectiveDate: today,
      staging: [],
      diary: [],
    };
    return unbuilt;
  };
  for (const r of staging) planOf(r.buildId).staging.push(r);
  for (const d of diary) {
    const placed = new Map<
      MetaDataPlan,
      { record: PacketDiaryRecord; keys: string[]; recordLevel: boolean }
    >();
    const at = (plan: MetaDataPlan) => {
      let entry = placed.get(plan);
      if (!entry) {
        entry = { record: d, keys: [], recordLevel: false };
        placed.set(plan, entry);
        plan.diary.push(entry);
      }
      return entry;
    };
    at(planOf(d.buildId)).recordLevel = true;
    for (const key of Object.keys(d.currentData).sort())
      at(planOf(versionOfField(d, key)?.buildId ?? d.buildId)).keys.push(key);
  }
  if (plans.length === 0) planOf(null);
  return unbuilt ? [unbuilt, ...plans] : plans;
}

export function renderOdm(content: PacketContent): string {
  const out: string[] = [];
  const w = (line: string) => out.push(line);
  const users = new Map<string, string>();
  for (const r of content.stagingRecords) {
    for (const s of r.signatures) users.set(s.userId, s.printedName);
    for (const h of r.history) if (!users.has(h.actor)) users.set(h.actor, h.actorName ?? h.actor);
  }
  for (const d of content.diaryRecords) {
    for (const v of d.history)
      if (!users.has(v.createdBy)) users.set(v.createdBy, v.createdByName ?? v.createdBy);
  }
  // Everyone else the packet names (issue 19), so each user the records refer to has a name.
  for (const person of content.people ?? [])
    if (!users.has(person.userId)) users.set(person.userId, person.name);
  const meanings = new Map<string, { oid: string; meaning: string; intent: string }>();
  for (const r of content.stagingRecords) {
    for (const s of r.signatures) {
      const key = `${s.intent}\u0000${s.meaning}`;
      if (!meanings.has(key))
        meanings.set(key, { oid: `SD.${meanings.size + 1}`, meaning: s.meaning, intent: s.intent });
    }
  }
  const signatureDef = (s: { intent: string; meaning: string }) =>
    meanings.get(`${s.intent}\u0000${s.meaning}`)?.oid ?? 'SD.0';
  const userOid = (id: string) => `USR.${oidPart(id)}`;
  const buildsById = new Map((content.builds ?? []).map((b) => [b.id, b]));
  /** How an AuditRecord's SourceID names the build of what it records (format 2). */
  const sourceWithBuild = (source: string, plan: MetaDataPlan, buildId: string | null | undefined) => {
    if (plan.legacy) return source;
    const build = buildId ? buildsById.get(buildId) : undefined;
    return `${source}; build ${build ? `${buildName(build)} ${build.id}` : (buildId ?? 'none recorded')}`;
  };

  w('<?xml version="1.0" encoding="UTF-8"?>');
  w(
    `<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"${attr('FileType', 'Snapshot')}${attr('FileOID', `CS.PACKET.${content.cover.generatedAt}`)}${attr('CreationDateTime', content.cover.generatedAt)}${attr('ODMVersion', '1.3.2')}${attr('Originator', content.cover.generatedBy.printedName)}${attr('SourceSystem', 'Countersign')}${attr('SourceSystemVersion', String(content.formatVersion))}>`,
  );
  const studies = content.studies.length > 0 ? content.studies : [{ id: 'none', code: 'NONE', doc: {} }];
  const plans = new Map(
    studies.map((study) => [
      study.id,
      planStudy(
        content,
        study,
        content.stagingRecords.filter((r) => r.studyId === study.id),
        content.diaryRecords.filter((d) => d.studyId === study.id),
      ),
    ]),
  );
  for (const study of studies) {
    const doc = (study.doc ?? {}) as Record<string, unknown>;
    const studyOid = `ST.${oidPart(study.code)}`;
    w(`  <Study${attr('OID', studyOid)}>`);
    w('    <GlobalVariables>');
    w(`      <StudyName>${escapeXml(study.code)}</StudyName>`);
    w(
      `      <StudyDescription>${escapeXml(valueText(doc.title ?? doc.name ?? study.code))}</StudyDescription>`,
    );
    w(`      <ProtocolName>${escapeXml(valueText(doc.protocol_number ?? study.code))}</ProtocolName>`);
    w('    </GlobalVariables>');
    for (const plan of plans.get(study.id) ?? []) {
      if (plan.legacy) writeDerivedMetaData(plan, study.id);
      else writeBuildMetaData(plan);
    }
    w('  </Study>');
  }

  w('  <AdminData>');
  for (const [id, name] of [...users].sort(([a], [b]) => (a < b ? -1 : 1))) {
    w(`    <User${attr('OID', userOid(id))}>`);
    w(`      <FullName>${escapeXml(name)}</FullName>`);
    w('    </User>');
  }
  const versionRefs = (studyId: string, code: string) => {
    for (const plan of plans.get(studyId) ?? [
      { oid: 'MDV.1', effectiveDate: content.cover.generatedAt.slice(0, 10) },
    ]) {
      w(
        `      <MetaDataVersionRef${attr('StudyOID', `ST.${oidPart(code)}`)}${attr('MetaDataVersionOID', plan.oid)}${attr('EffectiveDate', plan.effectiveDate)}/>`,
      );
    }
  };
  for (const study of studies) {
    w(
      `    <Location${attr('OID', `LOC.STUDY.${oidPart(study.code)}`)}${attr('Name', `Study ${study.code}`)}${attr('LocationType', 'Sponsor')}>`,
    );
    versionRefs(study.id, study.code);
    w('    </Location>');
  }
  for (const site of content.sites) {
    const code = content.studies.find((s) => s.id === site.studyId)?.code ?? 'NONE';
    w(
      `    <Location${attr('OID', `LOC.${oidPart(site.siteId)}`)}${attr('Name', valueText(((site.doc ?? {}) as Record<string, unknown>).site_name ?? site.siteId))}${attr('LocationType', 'Site')}>`,
    );
    versionRefs(site.studyId, code);
    w('    </Location>');
  }
  for (const def of meanings.values()) {
    w(`    <SignatureDef${attr('OID', def.oid)}${attr('Methodology', 'Electronic')}>`);
    w(`      <Meaning>${escapeXml(def.meaning)}</Meaning>`);
    w(
      `      <LegalReason>${escapeXml(`21 CFR Part 11 electronic signature (intent: ${def.intent}); the legally binding equivalent of the signer's handwritten signature`)}</LegalReason>`,
    );
    w('    </SignatureDef>');
  }
  w('  </AdminData>');

  const auditRecord = (
    indent: string,
    user: string,
    location: string,
    at: string,
    reason: string | null,
    source: string,
  ) => {
    w(`${indent}<AuditRecord>`);
    w(`${indent}  <UserRef${attr('UserOID', userOid(user))}/>`);
    w(`${indent}  <LocationRef${attr('LocationOID', location)}/>`);
    w(`${indent}  <DateTimeStamp>${escapeXml(at)}</DateTimeStamp>`);
    if (reason !== null) w(`${indent}  <ReasonForChange>${escapeXml(reason)}</ReasonForChange>`);
    w(`${indent}  <SourceID>${escapeXml(source)}</SourceID>`);
    w(`${indent}</AuditRecord>`);
  };

  for (const study of studies) {
    const studyOid = `ST.${oidPart(study.code)}`;
    const studyLocation = `LOC.STUDY.${oidPart(study.code)}`;
    for (const plan of plans.get(study.id) ?? []) {
      if (plan.staging.length > 0) {
        w(`  <ReferenceData${attr('StudyOID', studyOid)}${attr('MetaDataVersionOID', plan.oid)}>`);
        for (const r of plan.staging) writeStagingGroup(r, studyLocation, plan);
        w('  </ReferenceData>');
      }
      w(`  <ClinicalData${attr('StudyOID', studyOid)}${attr('MetaDataVersionOID', plan.oid)}>`);
      const patients = [...new Set(plan.diary.map((d) => d.record.patientId))].sort();
      for (const patient of patients) {
        const entries = plan.diary.filter((d) => d.record.patientId === patient);
        w(`    <SubjectData${attr('SubjectKey', patient)}>`);
        w(`      <SiteRef${attr('LocationOID', `LOC.${oidPart(entries[0]?.record.siteId ?? '')}`)}/>`);
        for (const entry of entries) writeDiaryEvent(entry, plan);
        w('    </SubjectData>');
      }
      w('  </ClinicalData>');
    }
  }
  w('</ODM>');
  return `${out.join('\n')}\n`;

  /** The diary's one study event, the same in every MetaDataVersion: the Protocol's reference and its definition. */
  function writeDiaryStudyEvent() {
    w('      <Protocol>');
    w(`        <StudyEventRef${attr('StudyEventOID', 'SE.DIARY')}${attr('Mandatory', 'No')}/>`);
    w('      </Protocol>');
    w(
      `      <StudyEventDef${attr('OID', 'SE.DIARY')}${attr('Name', 'Patient diary entry')}${attr('Repeating', 'Yes')}${attr('Type', 'Unscheduled')}>`,
    );
    w(`        <FormRef${attr('FormOID', 'F.DIARY')}${attr('Mandatory', 'No')}/>`);
    w('      </StudyEventDef>');
  }

  /**
   * Format 1: a MetaDataVersion with every field the data holds, all text (as before builds). Kept
   * apart from writeBuildMetaData and byte for byte as it was: verify renders the ODM again and
   * compares it with the packet's file, so a packet exported before builds verifies only if so.
   */
  function writeDerivedMetaData(plan: MetaDataPlan, studyId: string) {
    const diaryFields = new Set<string>();
    for (const d of content.diaryRecords) {
      if (d.studyId !== studyId) continue;
      for (const v of d.history) for (const key of Object.keys(v.data)) diaryFields.add(key);
    }
    const stagingFields = new Map<string, Set<string>>();
    for (const r of plan.staging) {
      const set = stagingFields.get(r.entityKind) ?? new Set<string>();
      for (const key of Object.keys((r.proposedState ?? {}) as object)) set.add(key);
      stagingFields.set(r.entityKind, set);
    }
    w(`    <MetaDataVersion${attr('OID', plan.oid)}${attr('Name', 'Countersign inspection packet')}>`);
    writeDiaryStudyEvent();
    w(`      <FormDef${attr('OID', 'F.DIARY')}${attr('Name', 'Diary entry')}${attr('Repeating', 'No')}>`);
    w(`        <ItemGroupRef${attr('ItemGroupOID', 'IG.DIARY')}${attr('Mandatory', 'No')}/>`);
    w('      </FormDef>');
    w(
      `      <ItemGroupDef${attr('OID', 'IG.DIARY')}${attr('Name', 'Diary entry')}${attr('Repeating', 'No')}>`,
    );
    for (const field of [...diaryFields].sort())
      w(`        <ItemRef${attr('ItemOID', `IT.DIARY.${oidPart(field)}`)}${attr('Mandatory', 'No')}/>`);
    w('      </ItemGroupDef>');
    for (const [kind, fields] of [...stagingFields].sort(([a], [b]) => (a < b ? -1 : 1))) {
      w(
        `      <ItemGroupDef${attr('OID', `IG.${oidPart(kind)}`)}${attr('Name', kind)}${attr('Repeating', 'Yes')}>`,
      );
      for (const field of [...fields].sort())
        w(
          `        <ItemRef${attr('ItemOID', `IT.${oidPart(kind)}.${oidPart(field)}`)}${attr('Mandatory', 'No')}/>`,
        );
      w('      </ItemGroupDef>');
    }
    for (const field of [...diaryFields].sort()) {
      w(
        `      <ItemDef${attr('OID', `IT.DIARY.${oidPart(field)}`)}${attr('Name', field)}${attr('DataType', 'text')}/>`,
      );
    }
    for (const [kind, fields] of [...stagingFields].sort(([a], [b]) => (a < b ? -1 : 1))) {
      for (const field of [...fields].sort()) {
        w(
          `      <ItemDef${attr('OID', `IT.${oidPart(kind)}.${oidPart(field)}`)}${attr('Name', field)}${attr('DataType', 'text')}/>`,
        );
      }
    }
    w('    </MetaDataVersion>');
  }

  /**
   * A build's MetaDataVersion: its diary form (StudyEventDef SE.DIARY, FormDef F.DIARY, ItemGroupDef
   * IG.DIARY, the same OIDs in every build so that an item keeps its OID across amendments) and its
   * entity forms (F./IG.<entity kind>), each field an ItemDef with its type, range checks, code list
   * and whether it is mandatory. A field a value here holds that the definition lacks (a value from
   * before build tracking, never validated) gets an ItemDef that says so, so that every ItemData
   * refers to a definition of its own MetaDataVersion.
   */
  function writeBuildMetaData(plan: MetaDataPlan) {
    const forms = plan.build ? buildFormsOf(plan.build.configuration) : [];
    const diaryForm = forms.find((f) => f.kind === 'diary');
    const entityForms = new Map(forms.filter((f) => f.kind === 'entity').map((f) => [f.code, f]));
    const undefinedNote = plan.build
      ? `Not in build ${buildName(plan.build)}'s definition: a value captured before build tracking`
      : 'No protocol build defines it: a value captured without a recorded build';
    const extraFields = (form: BuildFormDefinition | undefined, keys: Iterable<string>) => {
      const defined = new Set(form?.fields.map((f) => f.code) ?? []);
      return [...new Set(keys)].filter((key) => !defined.has(key)).sort();
    };
    const diaryExtras = extraFields(
      diaryForm,
      plan.diary.flatMap((d) => d.keys),
    );
    const stagingKeys = new Map<string, string[]>();
    for (const r of plan.staging) {
      const list = stagingKeys.get(r.entityKind) ?? [];
      list.push(...Object.keys((r.proposedState ?? {}) as object));
      stagingKeys.set(r.entityKind, list);
    }
    const groups: {
      oid: string;
      kind: string;
      name: string;
      repeating: boolean;
      form: BuildFormDefinition | undefined;
      extras: string[];
    }[] = [];
    const hasDiary = diaryForm !== undefined || plan.diary.length > 0;
    if (hasDiary)
      groups.push({
        oid: 'DIARY',
        kind: 'diary',
        name: diaryForm?.title ?? 'Diary entry',
        repeating: false,
        form: diaryForm,
        extras: diaryExtras,
      });
    const kinds = [...new Set([...entityForms.keys(), ...stagingKeys.keys()])];
    for (const kind of kinds) {
      const form = entityForms.get(kind);
      groups.push({
        oid: oidPart(kind),
        kind,
        name: form?.title ?? kind,
        repeating: true,
        form,
        extras: extraFields(form, stagingKeys.get(kind) ?? []),
      });
    }
    const build = plan.build;
    w(
      `    <MetaDataVersion${attr('OID', plan.oid)}${attr('Name', build ? `Build ${build.number} (version ${build.version})` : 'Values without a recorded protocol build')}${attr('Description', build ? `${build.type} build ${buildName(build)}, completed build ${build.completedSequence} of study ${build.studyCode}; id ${build.id}${build.description ? `: ${build.description}` : ''}` : undefinedNote)}>`,
    );
    if (hasDiary) writeDiaryStudyEvent();
    for (const group of groups) {
      w(
        `      <FormDef${attr('OID', `F.${group.oid}`)}${attr('Name', group.name)}${attr('Repeating', 'No')}>`,
      );
      w(`        <ItemGroupRef${attr('ItemGroupOID', `IG.${group.oid}`)}${attr('Mandatory', 'No')}/>`);
      w('      </FormDef>');
    }
    for (const group of groups) {
      w(
        `      <ItemGroupDef${attr('OID', `IG.${group.oid}`)}${attr('Name', group.name)}${attr('Repeating', group.repeating ? 'Yes' : 'No')}>`,
      );
      for (const field of group.form?.fields ?? [])
        w(
          `        <ItemRef${attr('ItemOID', `IT.${group.oid}.${oidPart(field.code)}`)}${attr('Mandatory', field.required ? 'Yes' : 'No')}/>`,
        );
      for (const key of group.extras)
        w(
          `        <ItemRef${attr('ItemOID', `IT.${group.oid}.${oidPart(key)}`)}${attr('Mandatory', 'No')}/>`,
        );
      w('      </ItemGroupDef>');
    }
    for (const group of groups) {
      for (const field of group.form?.fields ?? [])
        writeItemDef(`${group.oid}.${oidPart(field.code)}`, field);
      for (const key of group.extras)
        w(
          `      <ItemDef${attr('OID', `IT.${group.oid}.${oidPart(key)}`)}${attr('Name', key)}${attr('DataType', 'text')}${attr('Comment', undefinedNote)}/>`,
        );
    }
    for (const group of groups) {
      for (const field of group.form?.fields ?? []) {
        if (field.values === null) continue;
        w(
          `      <CodeList${attr('OID', `CL.${group.oid}.${oidPart(field.code)}`)}${attr('Name', `${group.name}: ${field.label}`)}${attr('DataType', 'text')}>`,
        );
        for (const value of field.values) w(`        <EnumeratedItem${attr('CodedValue', value)}/>`);
        w('      </CodeList>');
      }
    }
    w('    </MetaDataVersion>');

    function writeItemDef(oid: string, field: BuildFieldDefinition) {
      const length = field.type === 'text' && field.maxLength !== null ? attr('Length', field.maxLength) : '';
      w(
        `      <ItemDef${attr('OID', `IT.${oid}`)}${attr('Name', field.code)}${attr('DataType', odmDataTypes[field.type] ?? 'text')}${length}${field.type === 'text' || field.type in odmDataTypes || field.type === 'choice' ? '' : attr('Comment', `Countersign type ${field.type}`)}>`,
      );
      w('        <Question>');
      w(`          <TranslatedText${attr('xml:lang', 'en')}>${escapeXml(field.label)}</TranslatedText>`);
      w('        </Question>');
      for (const [comparator, bound] of [
        ['GE', field.min],
        ['LE', field.max],
      ] as const) {
        if (bound === null) continue;
        w(`        <RangeCheck${attr('Comparator', comparator)}${attr('SoftHard', 'Hard')}>`);
        w(`          <CheckValue>${bound}</CheckValue>`);
        w('        </RangeCheck>');
      }
      if (field.values !== null) w(`        <CodeListRef${attr('CodeListOID', `CL.${oid}`)}/>`);
      w('      </ItemDef>');
    }
  }

  function writeStagingGroup(r: PacketStagingRecord, location: string, plan: MetaDataPlan) {
    w(
      `    <ItemGroupData${attr('ItemGroupOID', `IG.${oidPart(r.entityKind)}`)}${attr('ItemGroupRepeatKey', r.id)}>`,
    );
    const last = r.history.at(-1);
    if (last)
      auditRecord(
        '      ',
        last.actor,
        location,
        last.occurredAt,
        `${last.eventType} (audit_log seq ${last.seq})`,
        sourceWithBuild(`staging_record ${r.id}`, plan, r.buildId),
      );
    const signature = r.signatures.at(-1);
    if (signature) {
      w('      <Signature>');
      w(`        <UserRef${attr('UserOID', userOid(signature.userId))}/>`);
      w(`        <LocationRef${attr('LocationOID', location)}/>`);
      w(`        <SignatureRef${attr('SignatureOID', signatureDef(signature))}/>`);
      w(`        <DateTimeStamp>${escapeXml(signature.signedAtUtc)}</DateTimeStamp>`);
      w('      </Signature>');
    }
    const proposed = (r.proposedState ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(proposed).sort()) {
      w(
        `      <ItemData${attr('ItemOID', `IT.${oidPart(r.entityKind)}.${oidPart(key)}`)}${attr('Value', valueText(proposed[key]))}/>`,
      );
    }
    w('    </ItemGroupData>');
  }

  function writeDiaryEvent(entry: MetaDataPlan['diary'][number], plan: MetaDataPlan) {
    const d = entry.record;
    const location = `LOC.${oidPart(d.siteId)}`;
    w(
      `      <StudyEventData${attr('StudyEventOID', 'SE.DIARY')}${attr('StudyEventRepeatKey', d.eventUuid)}>`,
    );
    w(`        <FormData${attr('FormOID', 'F.DIARY')}>`);
    const latest = d.history.at(-1);
    if (latest && entry.recordLevel)
      auditRecord(
        '          ',
        latest.createdBy,
        location,
        latest.serverTimestamp,
        latest.changeReason,
        sourceWithBuild(`record_audit ${latest.auditId}`, plan, latest.buildId),
      );
    if (entry.recordLevel) {
      d.annotations.forEach((a, index) => {
        w(`          <Annotation${attr('SeqNum', index + 1)}>`);
        w(
          `            <Comment${attr('SponsorOrSite', 'Site')}>${escapeXml(`[${a.kind}${a.resolved ? ', resolved' : ''}] ${a.text}`)}</Comment>`,
        );
        w('          </Annotation>');
      });
    }
    w(`          <ItemGroupData${attr('ItemGroupOID', 'IG.DIARY')}>`);
    for (const key of entry.keys) {
      const changed = versionOfField(d, key);
      w(
        `            <ItemData${attr('ItemOID', `IT.DIARY.${oidPart(key)}`)}${attr('Value', valueText(d.currentData[key]))}>`,
      );
      if (changed)
        auditRecord(
          '              ',
          changed.createdBy,
          location,
          changed.serverTimestamp,
          changed.changeReason,
          sourceWithBuild(`record_audit ${changed.auditId}`, plan, changed.buildId),
        );
      w('            </ItemData>');
    }
    w('          </ItemGroupData>');
    w('        </FormData>');
    w('      </StudyEventData>');
  }
}

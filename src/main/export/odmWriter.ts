// CDISC ODM 1.3.2 (FileType Snapshot) rendered from the packet content, where the model fits:
// Study / MetaDataVersion with minimal definitions; AdminData with Users, Locations (diary sites
// and one per study for study-level records) and one SignatureDef per distinct meaning;
// ClinicalData with a SubjectData per diary patient (StudyEventData per diary entry, ItemData per
// field with the AuditRecord of its last change, the entry's annotations as Annotation/Comment);
// staging records (study-level changes, not subject data) go to ReferenceData as ItemGroupData with
// their last Signature and AuditRecord. ODM allows one Signature per element: earlier signatures of
// a record are in packet.json, the CSVs and the PDF. Subjects are keyed by the pseudonymous patient
// id (the cache holds no subject codes).
import { canonicalJson } from '../../shared/canonicalJson';
import type { PacketContent, PacketDiaryRecord, PacketStagingRecord } from './packetContent';

function escapeXml(text: string): string {
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

  w('<?xml version="1.0" encoding="UTF-8"?>');
  w(
    `<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"${attr('FileType', 'Snapshot')}${attr('FileOID', `CS.PACKET.${content.cover.generatedAt}`)}${attr('CreationDateTime', content.cover.generatedAt)}${attr('ODMVersion', '1.3.2')}${attr('Originator', content.cover.generatedBy.printedName)}${attr('SourceSystem', 'Countersign')}${attr('SourceSystemVersion', String(content.formatVersion))}>`,
  );
  const studies = content.studies.length > 0 ? content.studies : [{ id: 'none', code: 'NONE', doc: {} }];
  for (const study of studies) {
    const doc = (study.doc ?? {}) as Record<string, unknown>;
    const studyOid = `ST.${oidPart(study.code)}`;
    const diaryFields = new Set<string>();
    for (const d of content.diaryRecords) {
      if (d.studyId !== study.id) continue;
      for (const v of d.history) for (const key of Object.keys(v.data)) diaryFields.add(key);
    }
    const stagingOfStudy = content.stagingRecords.filter((r) => r.studyId === study.id);
    const stagingFields = new Map<string, Set<string>>();
    for (const r of stagingOfStudy) {
      const set = stagingFields.get(r.entityKind) ?? new Set<string>();
      for (const key of Object.keys((r.proposedState ?? {}) as object)) set.add(key);
      stagingFields.set(r.entityKind, set);
    }
    w(`  <Study${attr('OID', studyOid)}>`);
    w('    <GlobalVariables>');
    w(`      <StudyName>${escapeXml(study.code)}</StudyName>`);
    w(
      `      <StudyDescription>${escapeXml(valueText(doc.title ?? doc.name ?? study.code))}</StudyDescription>`,
    );
    w(`      <ProtocolName>${escapeXml(valueText(doc.protocol_number ?? study.code))}</ProtocolName>`);
    w('    </GlobalVariables>');
    w(`    <MetaDataVersion${attr('OID', 'MDV.1')}${attr('Name', 'Countersign inspection packet')}>`);
    w('      <Protocol>');
    w(`        <StudyEventRef${attr('StudyEventOID', 'SE.DIARY')}${attr('Mandatory', 'No')}/>`);
    w('      </Protocol>');
    w(
      `      <StudyEventDef${attr('OID', 'SE.DIARY')}${attr('Name', 'Patient diary entry')}${attr('Repeating', 'Yes')}${attr('Type', 'Unscheduled')}>`,
    );
    w(`        <FormRef${attr('FormOID', 'F.DIARY')}${attr('Mandatory', 'No')}/>`);
    w('      </StudyEventDef>');
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
    w('  </Study>');
  }

  w('  <AdminData>');
  for (const [id, name] of [...users].sort(([a], [b]) => (a < b ? -1 : 1))) {
    w(`    <User${attr('OID', userOid(id))}>`);
    w(`      <FullName>${escapeXml(name)}</FullName>`);
    w('    </User>');
  }
  for (const study of studies) {
    w(
      `    <Location${attr('OID', `LOC.STUDY.${oidPart(study.code)}`)}${attr('Name', `Study ${study.code}`)}${attr('LocationType', 'Sponsor')}>`,
    );
    w(
      `      <MetaDataVersionRef${attr('StudyOID', `ST.${oidPart(study.code)}`)}${attr('MetaDataVersionOID', 'MDV.1')}${attr('EffectiveDate', content.cover.generatedAt.slice(0, 10))}/>`,
    );
    w('    </Location>');
  }
  for (const site of content.sites) {
    const code = content.studies.find((s) => s.id === site.studyId)?.code ?? 'NONE';
    w(
      `    <Location${attr('OID', `LOC.${oidPart(site.siteId)}`)}${attr('Name', valueText(((site.doc ?? {}) as Record<string, unknown>).site_name ?? site.siteId))}${attr('LocationType', 'Site')}>`,
    );
    w(
      `      <MetaDataVersionRef${attr('StudyOID', `ST.${oidPart(code)}`)}${attr('MetaDataVersionOID', 'MDV.1')}${attr('EffectiveDate', content.cover.generatedAt.slice(0, 10))}/>`,
    );
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
    const stagingOfStudy = content.stagingRecords.filter((r) => r.studyId === study.id);
    if (stagingOfStudy.length > 0) {
      w(`  <ReferenceData${attr('StudyOID', studyOid)}${attr('MetaDataVersionOID', 'MDV.1')}>`);
      for (const r of stagingOfStudy) writeStagingGroup(r, studyLocation);
      w('  </ReferenceData>');
    }
    const diaryOfStudy = content.diaryRecords.filter((d) => d.studyId === study.id);
    w(`  <ClinicalData${attr('StudyOID', studyOid)}${attr('MetaDataVersionOID', 'MDV.1')}>`);
    const patients = [...new Set(diaryOfStudy.map((d) => d.patientId))].sort();
    for (const patient of patients) {
      const entries = diaryOfStudy.filter((d) => d.patientId === patient);
      w(`    <SubjectData${attr('SubjectKey', patient)}>`);
      w(`      <SiteRef${attr('LocationOID', `LOC.${oidPart(entries[0]?.siteId ?? '')}`)}/>`);
      for (const d of entries) writeDiaryEvent(d);
      w('    </SubjectData>');
    }
    w('  </ClinicalData>');
  }
  w('</ODM>');
  return `${out.join('\n')}\n`;

  function writeStagingGroup(r: PacketStagingRecord, location: string) {
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
        `staging_record ${r.id}`,
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

  function writeDiaryEvent(d: PacketDiaryRecord) {
    const location = `LOC.${oidPart(d.siteId)}`;
    w(
      `      <StudyEventData${attr('StudyEventOID', 'SE.DIARY')}${attr('StudyEventRepeatKey', d.eventUuid)}>`,
    );
    w(`        <FormData${attr('FormOID', 'F.DIARY')}>`);
    const latest = d.history.at(-1);
    if (latest)
      auditRecord(
        '          ',
        latest.createdBy,
        location,
        latest.serverTimestamp,
        latest.changeReason,
        `record_audit ${latest.auditId}`,
      );
    d.annotations.forEach((a, index) => {
      w(`          <Annotation${attr('SeqNum', index + 1)}>`);
      w(
        `            <Comment${attr('SponsorOrSite', 'Site')}>${escapeXml(`[${a.kind}${a.resolved ? ', resolved' : ''}] ${a.text}`)}</Comment>`,
      );
      w('          </Annotation>');
    });
    w(`          <ItemGroupData${attr('ItemGroupOID', 'IG.DIARY')}>`);
    for (const key of Object.keys(d.currentData).sort()) {
      const changed = [...d.history].reverse().find((v) => v.changes.some((c) => c.field === key)) ?? latest;
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
          `record_audit ${changed.auditId}`,
        );
      w('            </ItemData>');
    }
    w('          </ItemGroupData>');
    w('        </FormData>');
    w('      </StudyEventData>');
  }
}

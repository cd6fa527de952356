// The analyst's export (issue 22, H4): the de-identified entries the cache holds (all, or those the
// screen's filter shows) as CSV and CDISC ODM 1.3.2 (ClinicalData, one SubjectData per subject
// code), with manifest.json naming every file's SHA-256, in one stored ZIP written to the data
// folder's exports/ directory, like the inspection packet (saved or downloaded the same way). Built
// from the cache only, so it works offline; nothing in it is read from anywhere the analyst's
// de-identified view did not fill. Logs carry counts and the archive hash, never a value.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { canonicalJson } from '../../shared/canonicalJson';
import type {
  AnalysisColumn,
  AnalysisEntry,
  AnalysisExportResult,
  AnalysisFilter,
  ExportProgress,
} from '../../shared/contract';
import { cachedDeidentifiedEntries } from '../cache/deidentifiedEntries';
import { table } from '../export/csvWriter';
import { exportsDir } from '../export/exportService';
import { escapeXml } from '../export/odmWriter';
import { sha256OfBytes } from '../export/packetManifest';
import { writeStoredZip } from '../export/storedZip';

export const deidentifiedManifestFormat = 'countersign.deidentified-export.manifest';
export const deidentifiedManifestPath = 'manifest.json';

/** What the export leaves out and how dates are given, stated in the manifest for whoever reads it. */
const deidentification =
  'Patients are named by their study subject code only. Free-text and identifier fields of the diary form are ' +
  'left out; calendar dates are given as study days counted from enrolment (day 1 = enrolment date, the day ' +
  'before is -1, there is no day 0); server times, names, emails and user ids are not included.';

const entryColumns = [
  'subject_code',
  'site_id',
  'entry_id',
  'build',
  'version',
  'deleted',
  'origin',
  'corrected',
];

function csvOf(columns: AnalysisColumn[], entries: AnalysisEntry[]): string {
  return table(
    [...entryColumns, ...columns.map((column) => column.code)],
    entries.map((e) => [
      e.subjectCode,
      e.siteId,
      e.entryId,
      e.build,
      e.version,
      e.deleted,
      e.origin,
      e.corrected,
      ...columns.map((column) => e.values[column.code] ?? null),
    ]),
  );
}

const oidPart = (text: string) => text.replace(/[^A-Za-z0-9_.-]/g, '_');
const attr = (name: string, value: string | number) => ` ${name}="${escapeXml(String(value))}"`;

function odmDataType(entries: AnalysisEntry[], code: string): string {
  const values = entries.map((e) => e.values[code]).filter((v) => v !== null && v !== undefined);
  if (values.length > 0 && values.every((v) => typeof v === 'boolean')) return 'boolean';
  if (values.length > 0 && values.every((v) => typeof v === 'number' && Number.isInteger(v)))
    return 'integer';
  if (values.length > 0 && values.every((v) => typeof v === 'number')) return 'float';
  return 'text';
}

/** ODM 1.3.2 Snapshot: one MetaDataVersion describing the export's items, one ClinicalData. */
function odmOf(
  columns: AnalysisColumn[],
  entries: AnalysisEntry[],
  generatedAt: string,
  fileOid: string,
): string {
  const studyOid = 'ST.DEIDENTIFIED';
  const mdv = 'MDV.DEIDENTIFIED.1';
  const items = [
    { code: 'origin', label: 'Origin (patient or paper)', type: 'text' },
    { code: 'corrected', label: 'Corrected by an administrator', type: 'boolean' },
    { code: 'deleted', label: 'Deleted by the patient', type: 'boolean' },
    ...columns.map((c) => ({ code: c.code, label: c.label, type: odmDataType(entries, c.code) })),
  ];
  const lines: string[] = [];
  lines.push('<?xml version="1.0" encoding="UTF-8"?>');
  lines.push(
    `<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"${attr('ODMVersion', '1.3.2')}${attr('FileType', 'Snapshot')}` +
      `${attr('FileOID', fileOid)}${attr('CreationDateTime', generatedAt)}${attr('Originator', 'Countersign')}>`,
  );
  lines.push(`  <Study${attr('OID', studyOid)}>`);
  lines.push('    <GlobalVariables>');
  lines.push('      <StudyName>De-identified diary data</StudyName>');
  lines.push(`      <StudyDescription>${escapeXml(deidentification)}</StudyDescription>`);
  lines.push('      <ProtocolName>Patient diary</ProtocolName>');
  lines.push('    </GlobalVariables>');
  lines.push(`    <MetaDataVersion${attr('OID', mdv)}${attr('Name', 'De-identified diary entries')}>`);
  lines.push(
    `      <Protocol><StudyEventRef${attr('StudyEventOID', 'SE.DIARY')} Mandatory="No"/></Protocol>`,
  );
  lines.push(
    `      <StudyEventDef${attr('OID', 'SE.DIARY')}${attr('Name', 'Diary entry')} Repeating="Yes" Type="Unscheduled">`,
  );
  lines.push(`        <FormRef${attr('FormOID', 'F.DIARY')} Mandatory="Yes"/>`);
  lines.push('      </StudyEventDef>');
  lines.push(`      <FormDef${attr('OID', 'F.DIARY')}${attr('Name', 'Diary entry')} Repeating="No">`);
  lines.push(`        <ItemGroupRef${attr('ItemGroupOID', 'IG.DIARY')} Mandatory="Yes"/>`);
  lines.push('      </FormDef>');
  lines.push(`      <ItemGroupDef${attr('OID', 'IG.DIARY')}${attr('Name', 'Diary entry')} Repeating="No">`);
  for (const item of items)
    lines.push(`        <ItemRef${attr('ItemOID', `IT.${oidPart(item.code)}`)} Mandatory="No"/>`);
  lines.push('      </ItemGroupDef>');
  for (const item of items) {
    lines.push(
      `      <ItemDef${attr('OID', `IT.${oidPart(item.code)}`)}${attr('Name', item.code)}${attr('DataType', item.type)}>`,
    );
    lines.push(
      `        <Description><TranslatedText xml:lang="en">${escapeXml(item.label)}</TranslatedText></Description>`,
    );
    lines.push('      </ItemDef>');
  }
  lines.push('    </MetaDataVersion>');
  lines.push('  </Study>');
  const sites = [...new Set(entries.map((e) => e.siteId))].sort();
  lines.push('  <AdminData>');
  for (const site of sites) {
    lines.push(
      `    <Location${attr('OID', `LOC.${oidPart(site)}`)}${attr('Name', site)} LocationType="Site">`,
    );
    lines.push(
      `      <MetaDataVersionRef${attr('StudyOID', studyOid)}${attr('MetaDataVersionOID', mdv)}${attr('EffectiveDate', generatedAt.slice(0, 10))}/>`,
    );
    lines.push('    </Location>');
  }
  lines.push('  </AdminData>');
  lines.push(`  <ClinicalData${attr('StudyOID', studyOid)}${attr('MetaDataVersionOID', mdv)}>`);
  const bySubject = new Map<string, AnalysisEntry[]>();
  for (const entry of entries) {
    const list = bySubject.get(entry.subjectCode) ?? [];
    list.push(entry);
    bySubject.set(entry.subjectCode, list);
  }
  for (const [subject, subjectEntries] of bySubject) {
    lines.push(`    <SubjectData${attr('SubjectKey', subject)}>`);
    lines.push(`      <SiteRef${attr('LocationOID', `LOC.${oidPart(subjectEntries[0]?.siteId ?? '')}`)}/>`);
    subjectEntries.forEach((entry, index) => {
      lines.push(
        `      <StudyEventData${attr('StudyEventOID', 'SE.DIARY')}${attr('StudyEventRepeatKey', index + 1)}>`,
      );
      lines.push(`        <FormData${attr('FormOID', 'F.DIARY')}>`);
      lines.push(`          <ItemGroupData${attr('ItemGroupOID', 'IG.DIARY')}>`);
      const values: Record<string, unknown> = {
        origin: entry.origin,
        corrected: entry.corrected,
        deleted: entry.deleted,
        ...entry.values,
      };
      for (const item of items) {
        const value = values[item.code];
        if (value === null || value === undefined) continue;
        lines.push(
          `            <ItemData${attr('ItemOID', `IT.${oidPart(item.code)}`)}${attr('Value', String(value))}/>`,
        );
      }
      lines.push('          </ItemGroupData>');
      lines.push('        </FormData>');
      lines.push('      </StudyEventData>');
    });
    lines.push('    </SubjectData>');
  }
  lines.push('  </ClinicalData>');
  lines.push('</ODM>');
  return `${lines.join('\n')}\n`;
}

export interface DeidentifiedExportBuild {
  zip: Buffer;
  files: { path: string; sha256: string; bytes: number }[];
  entries: number;
  subjects: number;
}

/** The archive's bytes: csv/entries.csv, odm/diary.xml, then manifest.json over both. */
export function buildDeidentifiedExport(
  db: Database,
  options: {
    filter: AnalysisFilter;
    rows: 'filtered' | 'all';
    now: Date;
    onProgress?: (progress: ExportProgress) => void;
  },
): DeidentifiedExportBuild {
  const progress = options.onProgress ?? (() => undefined);
  const filter: AnalysisFilter =
    options.rows === 'all'
      ? { siteId: null, subjectCode: null, field: null, value: null, origin: null }
      : options.filter;
  progress({ stage: 'gathering records', done: 0, total: 1 });
  const { columns, entries } = cachedDeidentifiedEntries(db, filter);
  progress({ stage: 'rendering', done: 0, total: 2 });
  const generatedAt = options.now.toISOString();
  const data = [{ path: 'csv/entries.csv', data: Buffer.from(csvOf(columns, entries), 'utf8') }];
  progress({ stage: 'rendering', done: 1, total: 2 });
  const fileOid = `COUNTERSIGN.DEIDENTIFIED.${generatedAt.replace(/[^0-9]/g, '')}`;
  data.push({
    path: 'odm/diary.xml',
    data: Buffer.from(odmOf(columns, entries, generatedAt, fileOid), 'utf8'),
  });
  progress({ stage: 'rendering', done: 2, total: 2 });
  const files = data.map((file) => ({
    path: file.path,
    sha256: sha256OfBytes(file.data),
    bytes: file.data.length,
  }));
  const subjects = new Set(entries.map((e) => e.subjectCode)).size;
  const manifest = {
    format: deidentifiedManifestFormat,
    formatVersion: 1,
    generatedAt,
    rows: options.rows,
    filter: options.rows === 'all' ? null : filter,
    entries: entries.length,
    subjects,
    deidentification,
    files,
  };
  const zip = writeStoredZip([
    ...data,
    { path: deidentifiedManifestPath, data: Buffer.from(canonicalJson(manifest), 'utf8') },
  ]);
  progress({ stage: 'done', done: 1, total: 1 });
  return { zip, files, entries: entries.length, subjects };
}

export function exportDeidentifiedToDataDir(
  db: Database,
  options: {
    dataDir: string;
    filter: AnalysisFilter;
    rows: 'filtered' | 'all';
    log: (line: string) => void;
    onProgress: (progress: ExportProgress) => void;
    now?: Date;
  },
): AnalysisExportResult {
  const now = options.now ?? new Date();
  const result = buildDeidentifiedExport(db, {
    filter: options.filter,
    rows: options.rows,
    now,
    onProgress: options.onProgress,
  });
  const dir = exportsDir(options.dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fileName = `deidentified-${now.toISOString().replace(/[:.]/g, '-')}.zip`;
  const path = join(dir, fileName);
  writeFileSync(path, result.zip, { mode: 0o600 });
  const zipSha256 = sha256OfBytes(result.zip);
  options.log(
    `countersign analysis export: ${options.rows} rows, ${result.entries} entries of ${result.subjects} subjects; ${result.zip.length} bytes; sha256 ${zipSha256.slice(0, 16)}`,
  );
  return {
    path,
    fileName,
    bytes: result.zip.length,
    zipSha256,
    entries: result.entries,
    subjects: result.subjects,
    rows: options.rows,
    files: result.files,
  };
}

// The analysis screen's reads (issue 22, H4): the analyst's de-identified diary entries as the cache
// holds them (deidentified_entry, cache schema 11; what the server's diary.deidentified_entry gave),
// filtered by site, subject code, origin and one field's value. Columns follow the diary form of the
// entries' protocol builds (a date field is shown as its study day); a field no cached build names
// comes after them, by code.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { buildFormsOf } from '../../shared/buildForms';
import type { AnalysisColumn, AnalysisEntry, AnalysisFilter } from '../../shared/contract';
import { buildRefFor } from '../builds/studyBuilds';
import { cachedBuildRefs } from './cachedBuilds';

interface EntryRow {
  entry_id: string;
  subject_code: string;
  site_id: string;
  build_id: string;
  version: number;
  is_deleted: number;
  data: string;
  origin: 'patient' | 'paper';
  corrected: number;
}

export interface DeidentifiedEntries {
  columns: AnalysisColumn[];
  entries: AnalysisEntry[];
  total: number;
  sites: string[];
  subjects: string[];
}

type Value = AnalysisEntry['values'][string];

function shownValue(value: unknown): Value {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

/** The diary form fields of the cached builds, in form order, as the view names them. */
function formColumns(db: Database): AnalysisColumn[] {
  const rows = db
    .prepare(`select json_extract(doc, '$.configuration_snapshot') as configuration from study_build`)
    .all() as {
    configuration: string | null;
  }[];
  const columns = new Map<string, string>();
  for (const row of rows) {
    let configuration: unknown = null;
    try {
      configuration = row.configuration === null ? null : JSON.parse(row.configuration);
    } catch {
      continue;
    }
    for (const form of buildFormsOf(configuration).filter((f) => f.kind === 'diary')) {
      for (const field of form.fields) {
        if (field.type === 'date' || field.type === 'datetime') {
          if (!columns.has(`${field.code}_study_day`))
            columns.set(`${field.code}_study_day`, `${field.label} (study day)`);
        } else if (!columns.has(field.code)) {
          columns.set(field.code, field.label);
        }
      }
    }
  }
  return [...columns].map(([code, label]) => ({ code, label }));
}

/** Whether an entry's value is the filter's text: the value as shown (exact, case-insensitive). */
function matches(value: Value | undefined, wanted: string): boolean {
  if (value === undefined || value === null) return false;
  return String(value).toLowerCase() === wanted.toLowerCase();
}

export function cachedDeidentifiedEntries(db: Database, filter: AnalysisFilter): DeidentifiedEntries {
  const rows = db
    .prepare(
      `select entry_id, subject_code, site_id, build_id, version, is_deleted, data, origin, corrected
         from deidentified_entry
        where (@site is null or site_id = @site)
          and (@subject is null or subject_code = @subject)
          and (@origin is null or origin = @origin)
        order by site_id, subject_code, cast(json_extract(data, '$.date_study_day') as integer),
                 json_extract(data, '$.time'), entry_id`,
    )
    .all({ site: filter.siteId, subject: filter.subjectCode, origin: filter.origin }) as EntryRow[];
  const refs = cachedBuildRefs(db);
  // A field without a value to look for filters nothing (the screen's "equals" is still empty).
  const field = filter.field?.trim() || null;
  const wanted = filter.value?.trim() ?? '';
  const entries = rows
    .map((row): AnalysisEntry => {
      const data = JSON.parse(row.data) as Record<string, unknown>;
      const build = buildRefFor(refs, row.build_id);
      return {
        entryId: row.entry_id,
        subjectCode: row.subject_code,
        siteId: row.site_id,
        build: build ? `${build.number}${build.version ? ` (${build.version})` : ''}` : '',
        version: row.version,
        deleted: row.is_deleted === 1,
        origin: row.origin,
        corrected: row.corrected === 1,
        values: Object.fromEntries(Object.entries(data).map(([code, value]) => [code, shownValue(value)])),
      };
    })
    .filter((entry) => field === null || wanted === '' || matches(entry.values[field], wanted));

  const columns = formColumns(db);
  const known = new Set(columns.map((column) => column.code));
  const extra = new Set<string>();
  for (const entry of entries)
    for (const code of Object.keys(entry.values)) if (!known.has(code)) extra.add(code);
  const present = new Set(entries.flatMap((entry) => Object.keys(entry.values)));
  const total = (db.prepare('select count(*) as n from deidentified_entry').get() as { n: number }).n;
  const distinct = (column: 'site_id' | 'subject_code') =>
    (
      db.prepare(`select distinct ${column} as v from deidentified_entry order by 1`).all() as { v: string }[]
    ).map((row) => row.v);
  return {
    // Only the columns some shown entry has a value in; the form's order first.
    columns: [
      ...columns.filter((column) => present.has(column.code)),
      ...[...extra].sort().map((code) => ({ code, label: code })),
    ],
    entries,
    total,
    sites: distinct('site_id'),
    subjects: distinct('subject_code'),
  };
}

// What an inspection packet covers, chosen from the cache: a study (by code), a diary patient, a set
// of staging records, optionally narrowed to a date range. A record is in a date range when any of
// its audited events (its audit_log entries, or a diary version's server time) falls inside it.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { UserFacingError } from '../userFacingError';

export type ScopeSelector =
  | { kind: 'study'; studyCode: string }
  | { kind: 'patient'; patientId: string }
  | { kind: 'staging'; stagingIds: string[] }
  | { kind: 'all' };

export interface PacketScope {
  selector: ScopeSelector;
  /** Inclusive bounds, ISO 8601 (a date alone means that day in UTC); null for open. */
  from: string | null;
  to: string | null;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `study:CODE`, `patient:<uuid>` (or `subject:<uuid>`), `staging:<id>[,<id>...]`, `all`. */
export function parseScopeSelector(text: string): ScopeSelector {
  const trimmed = text.trim();
  if (trimmed === 'all') return { kind: 'all' };
  const colon = trimmed.indexOf(':');
  const kind = colon < 0 ? '' : trimmed.slice(0, colon);
  const value = colon < 0 ? '' : trimmed.slice(colon + 1).trim();
  if (kind === 'study' && value) return { kind: 'study', studyCode: value };
  if ((kind === 'patient' || kind === 'subject') && uuidPattern.test(value)) {
    return { kind: 'patient', patientId: value.toLowerCase() };
  }
  if (kind === 'staging') {
    const ids = value
      .split(',')
      .map((id) => id.trim().toLowerCase())
      .filter(Boolean);
    if (ids.length > 0 && ids.every((id) => uuidPattern.test(id)))
      return { kind: 'staging', stagingIds: ids };
  }
  throw new UserFacingError(
    `The scope "${trimmed}" is not understood: use study:CODE, patient:<patient uuid>, staging:<id>[,<id>...] or all.`,
  );
}

/** A date range bound: an ISO date or timestamp; a bare date `to` means the end of that day (UTC). */
export function normaliseBound(value: string | null | undefined, end: boolean): string | null {
  if (!value) return null;
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value)
    ? `${value}T${end ? '23:59:59.999' : '00:00:00.000'}Z`
    : value;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new UserFacingError(`"${value}" is not a date (use YYYY-MM-DD).`);
  return date.toISOString();
}

export function describeScope(scope: PacketScope): string {
  const s = scope.selector;
  const what =
    s.kind === 'study'
      ? `study ${s.studyCode}`
      : s.kind === 'patient'
        ? `diary patient ${s.patientId}`
        : s.kind === 'staging'
          ? `${s.stagingIds.length} staging record(s)`
          : 'everything in the cache';
  const range =
    scope.from || scope.to ? `, events from ${scope.from ?? 'the beginning'} to ${scope.to ?? 'now'}` : '';
  return `${what}${range}`;
}

export interface ScopeSelection {
  studyIds: string[];
  stagingIds: string[];
  eventUuids: string[];
}

/**
 * The records of a scope before the date range (which packetContent applies, as it reads each
 * record's events). Refuses a scope that names nothing in the cache, saying what is there.
 */
export function selectScope(db: Database, selector: ScopeSelector): ScopeSelection {
  const ids = (sql: string, ...params: unknown[]) =>
    (
      db
        .prepare(sql)
        .raw(true)
        .all(...params) as [string][]
    ).map(([id]) => id);
  switch (selector.kind) {
    case 'study': {
      const studyIds = ids(
        `select id from live_row where entity_kind = 'study' and json_extract(doc, '$.code') = ?`,
        selector.studyCode,
      );
      if (studyIds.length === 0) {
        const known = ids(
          `select json_extract(doc, '$.code') from live_row where entity_kind = 'study' order by 1`,
        );
        throw new UserFacingError(
          `No study with code ${selector.studyCode} is in your cache (it holds: ${known.join(', ') || 'none'}).`,
        );
      }
      return {
        studyIds,
        stagingIds: ids(
          'select id from staging_record where study_id in (select value from json_each(?)) order by created_at, id',
          JSON.stringify(studyIds),
        ),
        eventUuids: ids(
          `select event_uuid from record_state where site_id in
             (select site_id from site where study_id in (select value from json_each(?))) order by event_uuid`,
          JSON.stringify(studyIds),
        ),
      };
    }
    case 'patient': {
      const eventUuids = ids(
        'select event_uuid from record_state where patient_id = ? order by event_uuid',
        selector.patientId,
      );
      if (eventUuids.length === 0) {
        throw new UserFacingError(`No diary records of patient ${selector.patientId} are in your cache.`);
      }
      return {
        studyIds: ids(
          `select distinct s.study_id from record_state r join site s on s.site_id = r.site_id where r.patient_id = ?`,
          selector.patientId,
        ),
        stagingIds: [],
        eventUuids,
      };
    }
    case 'staging': {
      const found = new Set(
        ids(
          'select id from staging_record where id in (select value from json_each(?))',
          JSON.stringify(selector.stagingIds),
        ),
      );
      const missing = selector.stagingIds.filter((id) => !found.has(id));
      if (missing.length > 0) {
        throw new UserFacingError(`Staging record(s) not in your cache: ${missing.join(', ')}.`);
      }
      return {
        studyIds: ids(
          'select distinct study_id from staging_record where id in (select value from json_each(?))',
          JSON.stringify(selector.stagingIds),
        ),
        stagingIds: ids(
          'select id from staging_record where id in (select value from json_each(?)) order by created_at, id',
          JSON.stringify(selector.stagingIds),
        ),
        eventUuids: [],
      };
    }
    case 'all':
      return {
        studyIds: ids(`select id from live_row where entity_kind = 'study' order by id`),
        stagingIds: ids('select id from staging_record order by created_at, id'),
        eventUuids: ids('select event_uuid from record_state order by event_uuid'),
      };
  }
}

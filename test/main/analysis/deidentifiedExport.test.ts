// The analyst's screen and export from the cache (issue 22, H4): the filters, the columns in the
// diary form's order, and the ZIP: the filtered rows or all of them, CSV and ODM 1.3.2 with one
// SubjectData per subject code, and a manifest whose hashes are the files' own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDeidentifiedExport } from '../../../src/main/analysis/deidentifiedExport';
import { cachedDeidentifiedEntries } from '../../../src/main/cache/deidentifiedEntries';
import { openCache } from '../../../src/main/cache/openCache';
import { sha256OfBytes } from '../../../src/main/export/packetManifest';
import { readStoredZip } from '../../../src/main/export/storedZip';
import type { AnalysisFilter } from '../../../src/shared/contract';

const me = '11111111-1111-4111-8111-111111111111';
const build = '33333333-3333-4333-8333-333333333333';
const all: AnalysisFilter = { siteId: null, subjectCode: null, field: null, value: null, origin: null };

function seed(db: Database) {
  db.prepare(
    `insert into study_build (id, study_id, build_number, build_version, build_status, build_type, completed_sequence, doc, sync_xid)
     values (?, ?, 'B1', '1.0', 'COMPLETED', 'INITIAL', 1, ?, 1)`,
  ).run(
    build,
    me,
    JSON.stringify({
      id: build,
      configuration_snapshot: {
        forms: [
          {
            code: 'diary_entry',
            kind: 'diary',
            fields: [
              { code: 'event_type', label: 'Event type', type: 'choice' },
              { code: 'date', label: 'Date', type: 'date' },
              { code: 'duration_minutes', label: 'Duration (minutes)', type: 'integer' },
              { code: 'notes', label: 'Notes', type: 'text' },
            ],
          },
        ],
      },
    }),
  );
  const entry = db.prepare(
    `insert into deidentified_entry (entry_id, subject_code, site_id, build_id, version, is_deleted, data, origin,
       corrected, sync_xid) values (?, ?, ?, ?, 1, 0, ?, ?, ?, 1)`,
  );
  entry.run(
    'aaaaaaaa-0000-4000-8000-000000000001',
    'S1-001',
    'S1',
    build,
    '{"event_type":"epistaxis","date_study_day":3,"duration_minutes":12}',
    'patient',
    0,
  );
  entry.run(
    'aaaaaaaa-0000-4000-8000-000000000002',
    'S1-001',
    'S1',
    build,
    '{"event_type":"nausea","date_study_day":-1}',
    'paper',
    1,
  );
  entry.run(
    'aaaaaaaa-0000-4000-8000-000000000003',
    'S2-"<&>',
    'S2',
    build,
    '{"event_type":"epistaxis","date_study_day":1}',
    'patient',
    0,
  );
}

describe('the analyst screen and export from the cache [ANALYST-EXPORT-NO-PII]', () => {
  let dir: string;
  let db: Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-analysis-'));
    db = openCache({
      path: join(dir, 'c.sqlite'),
      key: Buffer.alloc(32, 9),
      userId: me,
      backendId: 'abcdefabcdefabcd',
    });
    seed(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('filters by site, subject, origin and a field value, with columns in the form order', () => {
    const every = cachedDeidentifiedEntries(db, all);
    expect(every.total).toBe(3);
    expect(every.columns).toEqual([
      { code: 'event_type', label: 'Event type' },
      { code: 'date_study_day', label: 'Date (study day)' },
      { code: 'duration_minutes', label: 'Duration (minutes)' },
    ]);
    expect(every.sites).toEqual(['S1', 'S2']);
    expect(cachedDeidentifiedEntries(db, { ...all, siteId: 'S1' }).entries).toHaveLength(2);
    expect(
      cachedDeidentifiedEntries(db, { ...all, origin: 'paper' }).entries.map((e) => e.corrected),
    ).toEqual([true]);
    expect(
      cachedDeidentifiedEntries(db, { ...all, field: 'event_type', value: 'EPISTAXIS' }).entries,
    ).toHaveLength(2);
    expect(
      cachedDeidentifiedEntries(db, { ...all, field: 'date_study_day', value: '-1' }).entries,
    ).toHaveLength(1);
    // A field with nothing to look for yet filters nothing.
    expect(cachedDeidentifiedEntries(db, { ...all, field: 'event_type', value: '' }).entries).toHaveLength(3);
  });

  it('exports the filtered rows or all, as CSV, ODM 1.3.2 and a manifest of SHA-256 hashes', () => {
    const now = new Date('2026-12-07T10:00:00.000Z');
    const filtered = buildDeidentifiedExport(db, { filter: { ...all, siteId: 'S1' }, rows: 'filtered', now });
    expect(filtered.entries).toBe(2);
    const everything = buildDeidentifiedExport(db, { filter: { ...all, siteId: 'S1' }, rows: 'all', now });
    expect(everything.entries).toBe(3);
    expect(everything.subjects).toBe(2);

    const files = readStoredZip(everything.zip);
    expect(files.map((f) => f.path)).toEqual(['csv/entries.csv', 'odm/diary.xml', 'manifest.json']);
    const manifest = JSON.parse(files[2]?.data.toString('utf8') ?? '{}');
    expect(manifest).toMatchObject({
      format: 'countersign.deidentified-export.manifest',
      rows: 'all',
      entries: 3,
    });
    for (const file of files.slice(0, 2)) {
      expect(manifest.files).toContainEqual({
        path: file.path,
        sha256: sha256OfBytes(file.data),
        bytes: file.data.length,
      });
    }
    const csv = files[0]?.data.toString('utf8') ?? '';
    expect(csv.split('\r\n')[0]).toBe(
      '"subject_code","site_id","entry_id","build","version","deleted","origin","corrected","event_type","date_study_day","duration_minutes"',
    );
    const odm = files[1]?.data.toString('utf8') ?? '';
    expect(odm).toContain('ODMVersion="1.3.2"');
    expect(odm.match(/<SubjectData /g)).toHaveLength(2);
    expect(odm).toContain('<SubjectData SubjectKey="S2-&quot;&lt;&amp;&gt;">');
    expect(odm).toContain('<ItemData ItemOID="IT.date_study_day" Value="-1"/>');
  });
});

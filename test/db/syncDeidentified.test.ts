// The analyst's cache (issue 22, H4): a sync as the analyst brings diary.deidentified_entry (a view,
// paged like any table by record_state's sync_xid) into the cache and nothing the analyst may not
// read; the whole cache, every table and the decrypted file's bytes, holds no patient's email,
// printed name, user id or diary note. Entries of a withdrawn enrolment, or of a site the analyst
// lost, leave the cache at the next sync.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { cachedDeidentifiedEntries } from '../../src/main/cache/deidentifiedEntries';
import { postgresSyncServer } from '../../src/main/sync/postgresSyncServer';
import { pullAll } from '../../src/main/sync/pullEngine';
import { streamNamed } from '../../src/main/sync/streamDefinitions';
import { cachedKeys, serverKeys } from './support/syncCache';
import { syncWorld } from './support/syncWorld';

const note = 'OCELOT-NOTE-4410 written by the patient';
const noteEntry = '5e0c1d2b-3a4f-4b5c-9d6e-7f8091a2b3c4';
const noFilter = { siteId: null, subjectCode: null, field: null, value: null, origin: null };

/** Every row of every table of the cache, as text. */
function everyTableText(cache: Database): string {
  const tables = cache
    .prepare(`select name from sqlite_schema where type = 'table' and name not like 'sqlite_%'`)
    .all() as { name: string }[];
  return tables
    .map(({ name }) => `${name}\n${JSON.stringify(cache.prepare(`select * from "${name}"`).all())}`)
    .join('\n');
}

describe('the analyst cache holds only de-identified diary data [ANALYST-CACHE]', () => {
  const setup = syncWorld();

  it('syncs the de-identified entries of the analyst sites and no raw diary row or PII', async () => {
    const { db, world } = setup;
    // A patient entry with free text at the analyst's site A1.
    await db.operator.query(
      `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, created_by, role,
                                       client_timestamp, change_reason)
       values ($1, $2, 'A1', 'USER_CREATE', $3, $2, 'USER', now(), 'New diary entry')`,
      [
        noteEntry,
        world.people.patient.id,
        JSON.stringify({ event_type: 'epistaxis', date: '2026-03-04', notes: note }),
      ],
    );
    const analyst = world.clients.analyst;
    const cache = setup.cacheOf(world.people.analyst.id);
    await pullAll(cache, postgresSyncServer(analyst));

    const stream = streamNamed('deidentified_entry');
    const onServer = await serverKeys(analyst, stream);
    expect(onServer).toContain(noteEntry);
    expect(onServer).toContain(world.records.in.eventUuid);
    expect(onServer).not.toContain(world.records.out.eventUuid);
    expect(cachedKeys(cache, stream)).toEqual(onServer);
    // No raw diary rows, enrolments or annotations reached the analyst's cache.
    for (const table of [
      'record_state',
      'record_audit',
      'annotation',
      'annotation_resolution',
      'enrolment',
    ]) {
      expect((cache.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n, table).toBe(0);
    }
    const read = cachedDeidentifiedEntries(cache, noFilter);
    expect(read.entries.find((entry) => entry.entryId === noteEntry)).toMatchObject({
      subjectCode: 'A1-001',
      siteId: 'A1',
      origin: 'patient',
      values: { event_type: 'epistaxis' },
    });

    const patients = [world.people.patient, world.patient2, world.counterparts.patient];
    const forbidden = [
      note,
      'OCELOT',
      ...patients.flatMap((person) => [person.id, person.email]),
      'patient person',
      'patient-2 person',
      'patient-b person',
      '2026-03-04',
    ];
    const tables = everyTableText(cache);
    // The decrypted database image (sqlite3_serialize reads through the cipher), free pages included.
    const image = cache.serialize().toString('latin1');
    const imageUtf8 = cache.serialize().toString('utf8');
    // The image is the plain database: what the analyst may see is found in it.
    expect(imageUtf8).toContain('A1-001');
    expect(imageUtf8).toContain('epistaxis');
    for (const text of forbidden) {
      expect(tables, `tables hold ${text}`).not.toContain(text);
      expect(image.includes(text) || imageUtf8.includes(text), `file holds ${text}`).toBe(false);
    }
  });

  it('drops the entries of a withdrawn enrolment, and of a site the analyst loses, at the next sync', async () => {
    const { db, world } = setup;
    const analyst = world.clients.analyst;
    const cache = setup.cacheOf(world.people.analyst.id);
    const stream = streamNamed('deidentified_entry');
    await pullAll(cache, postgresSyncServer(analyst));
    expect(cachedKeys(cache, stream)).toContain(world.records.patient2.eventUuid);

    // The second A1 patient's enrolment is withdrawn: the view no longer has their entries, and
    // the analyst's access is unchanged (no full resync): the deletions pass drops them.
    const { rows: enrolment } = await db.operator.query(
      'delete from diary.user_site_assignments where patient_id = $1 returning site_id, subject_code, enrolled_at',
      [world.patient2.id],
    );
    try {
      const report = await pullAll(cache, postgresSyncServer(analyst));
      expect(report.reset).toBeNull();
      expect(report.removed).toBeGreaterThan(0);
      expect(cachedKeys(cache, stream)).not.toContain(world.records.patient2.eventUuid);
      expect(cachedKeys(cache, stream)).toEqual(await serverKeys(analyst, stream));
    } finally {
      await db.operator.query(
        'insert into diary.user_site_assignments (patient_id, site_id, subject_code, enrolled_at) values ($1, $2, $3, $4)',
        [world.patient2.id, enrolment[0]?.site_id, enrolment[0]?.subject_code, enrolment[0]?.enrolled_at],
      );
    }

    // The analyst loses A1: nothing of A1 stays in the cache.
    await db.operator.query(
      `delete from diary.analyst_site_assignments where analyst_id = $1 and site_id = 'A1'`,
      [world.people.analyst.id],
    );
    try {
      await pullAll(cache, postgresSyncServer(analyst));
      expect(cachedKeys(cache, stream)).toEqual([]);
      expect(cachedDeidentifiedEntries(cache, noFilter).entries).toEqual([]);
    } finally {
      await db.operator.query(
        `insert into diary.analyst_site_assignments (analyst_id, site_id) values ($1, 'A1')`,
        [world.people.analyst.id],
      );
    }
  });
});

// The diary screen's cache reads: patients by site with their subject codes and counts, and one
// record's history (field by field against the entry before) beside its annotations, with what the
// outbox still holds merged in (a reply after the query it answers, a close waiting to be sent).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cachedDiaryHistory,
  cachedDiaryPatients,
  diaryFieldChanges,
} from '../../../src/main/cache/diaryReads';
import { openCache } from '../../../src/main/cache/openCache';
import { enqueueAnnotation, enqueueResolution } from '../../../src/main/sync/outbox';

const me = '11111111-1111-4111-8111-111111111111';
const other = '22222222-2222-4222-8222-222222222222';
const patientA = 'aaaaaaaa-0000-4000-8000-000000000001';
const patientB = 'aaaaaaaa-0000-4000-8000-000000000002';
const patientC = 'aaaaaaaa-0000-4000-8000-000000000003';
const record1 = 'bbbbbbbb-0000-4000-8000-000000000001';
const record2 = 'bbbbbbbb-0000-4000-8000-000000000002';
const query = 'cccccccc-0000-4000-8000-000000000001';
const note = 'cccccccc-0000-4000-8000-000000000002';

function seed(db: Database) {
  const site = db.prepare('insert into site (site_id, study_id, doc, sync_xid) values (?, ?, ?, 1)');
  site.run('S1', me, JSON.stringify({ site_id: 'S1', site_name: 'Site One', site_number: '101' }));
  site.run('S2', me, JSON.stringify({ site_id: 'S2', site_name: 'Site Two', site_number: '102' }));
  const enrol = db.prepare(
    'insert into enrolment (patient_id, site_id, subject_code, enrolled_at, sync_xid) values (?, ?, ?, ?, 1)',
  );
  enrol.run(patientB, 'S1', 'S1-002', '2025-01-01T00:00:00.000000Z');
  enrol.run(patientA, 'S1', 'S1-001', '2025-01-01T00:00:00.000000Z');
  const state = db.prepare(
    `insert into record_state (event_uuid, patient_id, site_id, current_data, version, last_audit_id, is_deleted, sync_xid)
     values (?, ?, ?, ?, ?, ?, 0, 1)`,
  );
  state.run(
    record1,
    patientA,
    'S1',
    JSON.stringify({ date: '2025-01-15', duration_minutes: 20, side: 'left' }),
    2,
    11,
  );
  state.run(record2, patientC, 'S2', JSON.stringify({ date: '2025-01-10' }), 1, 12);
  const audit = db.prepare(
    'insert into record_audit (audit_id, event_uuid, doc, sync_xid) values (?, ?, ?, 1)',
  );
  audit.run(
    10,
    record1,
    JSON.stringify({
      audit_id: 10,
      operation: 'USER_CREATE',
      role: 'USER',
      data: { date: '2025-01-15', duration_minutes: 15, notes: 'after exercise' },
      change_reason: 'New diary entry',
      client_timestamp: '2025-01-15T14:35:00+00:00',
      server_timestamp: '2025-01-15T14:35:02.5+00:00',
      parent_audit_id: null,
    }),
  );
  audit.run(
    11,
    record1,
    JSON.stringify({
      audit_id: 11,
      operation: 'USER_UPDATE',
      role: 'USER',
      data: { date: '2025-01-15', duration_minutes: 20, side: 'left' },
      change_reason: 'Corrected the duration',
      client_timestamp: '2025-01-16T08:00:00+00:00',
      server_timestamp: '2025-01-16T08:00:01+00:00',
      parent_audit_id: 10,
    }),
  );
  const annotation = db.prepare(
    'insert into annotation (annotation_id, event_uuid, parent_audit_id, client_request_id, doc, sync_xid) values (?, ?, ?, null, ?, 1)',
  );
  annotation.run(
    query,
    record1,
    11,
    JSON.stringify({
      annotation_kind: 'query',
      annotation_text: 'Please confirm the duration.',
      requires_response: true,
      resolved: false,
      resolved_at: null,
      in_reply_to: null,
      created_at: '2025-01-17T09:00:00+00:00',
      investigator_id: other,
    }),
  );
  annotation.run(
    note,
    record1,
    10,
    JSON.stringify({
      annotation_kind: 'note',
      annotation_text: 'Seen at the visit.',
      requires_response: false,
      resolved: false,
      resolved_at: null,
      in_reply_to: null,
      created_at: '2025-01-16T09:00:00+00:00',
      investigator_id: me,
    }),
  );
}

describe('diary screen reads', () => {
  let dir: string;
  let db: Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-diary-'));
    db = openCache({
      path: join(dir, 'c.sqlite'),
      key: Buffer.alloc(32, 7),
      userId: me,
      backendId: 'abcdefabcdefabcd',
    });
    seed(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('compares each entry field by field with the one before', () => {
    expect(diaryFieldChanges(null, { a: 1 })).toEqual([
      { field: 'a', change: 'added', before: null, after: 1 },
    ]);
    expect(
      diaryFieldChanges({ a: 1, b: { x: [1, 2] }, c: 'gone' }, { b: { x: [1, 2] }, a: 2, d: null }),
    ).toEqual([
      { field: 'a', change: 'changed', before: 1, after: 2 },
      { field: 'd', change: 'added', before: null, after: null },
      { field: 'c', change: 'removed', before: 'gone', after: null },
    ]);
  });

  it('lists patients by site with subject codes, record counts, open queries and waiting outbox items', () => {
    enqueueAnnotation(db, { eventUuid: record1, kind: 'note', text: 'offline', requiresResponse: false });
    const { sites } = cachedDiaryPatients(db);
    expect(sites.map((site) => [site.siteId, site.siteName, site.siteNumber])).toEqual([
      ['S1', 'Site One', '101'],
      ['S2', 'Site Two', '102'],
    ]);
    expect(sites[0]?.patients).toEqual([
      {
        patientId: patientA,
        subjectCode: 'S1-001',
        records: 1,
        lastEntryDate: '2025-01-15',
        openQueries: 1,
        outboxWaiting: 1,
      },
      {
        patientId: patientB,
        subjectCode: 'S1-002',
        records: 0,
        lastEntryDate: null,
        openQueries: 0,
        outboxWaiting: 0,
      },
    ]);
    // A patient known only by records (enrolment not cached) still appears, without a code.
    expect(sites[1]?.patients).toEqual([
      {
        patientId: patientC,
        subjectCode: null,
        records: 1,
        lastEntryDate: '2025-01-10',
        openQueries: 0,
        outboxWaiting: 0,
      },
    ]);
  });

  it("shows a record's entries with old and new values, reason and both times", () => {
    const history = cachedDiaryHistory(db, record1);
    expect(history.record).toEqual({
      eventUuid: record1,
      patientId: patientA,
      subjectCode: 'S1-001',
      siteId: 'S1',
      version: 2,
      lastAuditId: 11,
      isDeleted: false,
    });
    expect(history.entries.map((entry) => [entry.auditId, entry.operation, entry.changeReason])).toEqual([
      [10, 'USER_CREATE', 'New diary entry'],
      [11, 'USER_UPDATE', 'Corrected the duration'],
    ]);
    expect(history.entries[1]).toMatchObject({
      parentAuditId: 10,
      role: 'USER',
      clientTimestamp: '2025-01-16T08:00:00+00:00',
      serverTimestamp: '2025-01-16T08:00:01+00:00',
      changes: [
        { field: 'duration_minutes', change: 'changed', before: 15, after: 20 },
        { field: 'side', change: 'added', before: null, after: 'left' },
        { field: 'notes', change: 'removed', before: 'after exercise', after: null },
      ],
    });
    expect(history.entries[0]?.changes.every((change) => change.change === 'added')).toBe(true);
  });

  it('merges what the outbox holds: a reply after its query, a pending close, nothing discarded', () => {
    const reply = enqueueAnnotation(db, {
      eventUuid: record1,
      kind: 'note',
      text: 'Patient confirmed 20 minutes by phone.',
      requiresResponse: false,
      inReplyTo: query,
    });
    const close = enqueueResolution(db, {
      annotationId: query,
      resolved: true,
      reasonCode: 'answered',
      reasonText: null,
    });
    const history = cachedDiaryHistory(db, record1);
    // Oldest first (server time), a reply right after what it answers.
    expect(history.annotations.map((a) => [a.text, a.fromServer, a.byMe])).toEqual([
      ['Seen at the visit.', true, true],
      ['Please confirm the duration.', true, false],
      ['Patient confirmed 20 minutes by phone.', false, true],
    ]);
    const [, first, second] = history.annotations;
    expect(first?.resolutions.map((item) => [item.id, item.kind, item.state])).toEqual([
      [close.id, 'close', 'pending'],
    ]);
    expect(second).toMatchObject({
      annotationId: reply.annotationId,
      inReplyTo: query,
      createdAt: null,
      outbox: { id: reply.id, state: 'pending' },
    });

    db.prepare(`update outbox set state = 'discarded' where id = ?`).run(reply.id);
    expect(cachedDiaryHistory(db, record1).annotations.map((a) => a.text)).not.toContain(
      'Patient confirmed 20 minutes by phone.',
    );
  });

  it('says so when the record is not in the cache', () => {
    expect(() => cachedDiaryHistory(db, '99999999-0000-4000-8000-000000000009')).toThrow(/not in your cache/);
  });
});

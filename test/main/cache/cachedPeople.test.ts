// The people the cache can name (cache schema 5): the server's directory as the last sync left it,
// the signed-in person from their stored identity, and patients by the subject code of a cached
// enrolment; the diary reads carry who wrote each entry and annotation, so the screen can name them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedPeople } from '../../../src/main/cache/cachedPeople';
import { cachedDiaryHistory } from '../../../src/main/cache/diaryReads';
import { openCache } from '../../../src/main/cache/openCache';
import { enqueueAnnotation } from '../../../src/main/sync/outbox';
import { actorWords, peopleByActorId } from '../../../src/shared/personNaming';

const me = '11111111-1111-4111-8111-111111111111';
const signer = '22222222-2222-4222-8222-222222222222';
const agent = '33333333-3333-4333-8333-333333333333';
const patient = 'aaaaaaaa-0000-4000-8000-000000000001';
const otherPatient = 'aaaaaaaa-0000-4000-8000-000000000002';
const record = 'bbbbbbbb-0000-4000-8000-000000000001';

describe('cached people [UI-PEOPLE-NAMES]', () => {
  let dir: string;
  let db: Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-people-'));
    db = openCache({
      path: join(dir, 'c.sqlite'),
      key: Buffer.alloc(32, 5),
      userId: me,
      backendId: 'abcdefabcdefabcd',
    });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const person = (
    userId: string,
    printedName: string | null,
    roles: string,
    agentId: string | null = null,
    subjectCode: string | null = null,
  ) =>
    db
      .prepare(
        'insert into person (user_id, printed_name, roles, agent_id, subject_code) values (?, ?, ?, ?, ?)',
      )
      .run(userId, printedName, roles, agentId, subjectCode);

  it('names the directory as synced, an agent by its agent id too, and refuses nothing it cannot parse', () => {
    person(signer, 'Dr. Miriam Okafor', '["signer"]');
    person(agent, 'Protocol Digest Agent', '["agent"]', 'agent:protocol-digest');
    person(otherPatient, null, 'not json', null, 'S1-002');
    const byId = peopleByActorId(cachedPeople(db));
    expect(actorWords(signer, byId.get(signer), 'human')).toEqual({
      name: 'Dr. Miriam Okafor',
      role: 'signer',
      known: true,
    });
    expect(actorWords('agent:protocol-digest', byId.get('agent:protocol-digest'), 'agent')).toEqual({
      name: 'Protocol Digest Agent',
      role: 'agent',
      known: true,
    });
    expect(actorWords(otherPatient, byId.get(otherPatient))).toEqual({
      name: 'subject S1-002',
      role: '',
      known: true,
    });
    // Nobody by that id: a short id with the kind of actor, never an error.
    const stranger = '2ec653b6-a1c7-4c3e-9d2f-0a1b2c3d4e5f';
    expect(actorWords(stranger, byId.get(stranger), 'human')).toEqual({
      name: '2ec653b6…',
      role: 'human',
      known: false,
    });
    expect(actorWords('db:postgres', byId.get('db:postgres'))).toEqual({
      name: 'db:postgres',
      role: '',
      known: false,
    });
  });

  it('names the signed-in person and enrolled patients even before the directory has synced', () => {
    db.prepare(`insert into sync_meta (name, value) values ('identity', ?)`).run(
      JSON.stringify({
        userId: me,
        email: 'me@example.test',
        printedName: 'Dr. Sofia Marchetti',
        roles: ['investigator'],
      }),
    );
    db.prepare(
      `insert into enrolment (patient_id, site_id, subject_code, enrolled_at, sync_xid) values (?, 'S1', 'S1-001', '2025-01-01T00:00:00Z', 1)`,
    ).run(patient);
    expect(cachedPeople(db)).toEqual([
      {
        userId: me,
        printedName: 'Dr. Sofia Marchetti',
        roles: ['investigator'],
        agentId: null,
        subjectCode: null,
      },
      { userId: patient, printedName: null, roles: ['patient'], agentId: null, subjectCode: 'S1-001' },
    ]);
  });

  it('gives each diary entry and annotation its author, an outbox one the signed-in person', () => {
    db.prepare(
      `insert into record_state (event_uuid, patient_id, site_id, current_data, version, last_audit_id, is_deleted, sync_xid)
       values (?, ?, 'S1', '{}', 1, 10, 0, 1)`,
    ).run(record, patient);
    db.prepare('insert into record_audit (audit_id, event_uuid, doc, sync_xid) values (10, ?, ?, 1)').run(
      record,
      JSON.stringify({ audit_id: 10, operation: 'USER_CREATE', role: 'USER', created_by: patient, data: {} }),
    );
    db.prepare(
      'insert into annotation (annotation_id, event_uuid, parent_audit_id, client_request_id, doc, sync_xid) values (?, ?, 10, null, ?, 1)',
    ).run(
      'cccccccc-0000-4000-8000-000000000001',
      record,
      JSON.stringify({
        annotation_kind: 'note',
        annotation_text: 'Seen.',
        investigator_id: signer,
        created_at: '2025-01-01T00:00:00Z',
      }),
    );
    enqueueAnnotation(
      db,
      {
        eventUuid: record,
        parentAuditId: 10,
        kind: 'note',
        text: 'Mine.',
        requiresResponse: false,
        inReplyTo: null,
      },
      new Date('2025-01-02T00:00:00Z'),
    );
    const history = cachedDiaryHistory(db, record);
    expect(history.entries.map((entry) => entry.createdBy)).toEqual([patient]);
    expect(history.annotations.map((a) => [a.text, a.authorId, a.byMe])).toEqual([
      ['Seen.', signer, false],
      ['Mine.', me, true],
    ]);
  });
});

// The audit screen's reads on a cache built in memory: the audit_log newest first in keyset pages,
// filtered by study, record, kind of event and seq range, each entry re-hashed and placed against
// the verified head; provenance and signatures in newest-first pages by study; the cached studies.
import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedAuditEntries } from '../../../src/main/cache/cachedAuditEntries';
import { cachedStudies } from '../../../src/main/cache/cachedStudies';
import {
  cachedProvenance,
  cachedSignatures,
  type TimelineCursor,
  timelinePage,
} from '../../../src/main/cache/cacheReads';
import { openCache } from '../../../src/main/cache/openCache';
import { verifyChainFrom } from '../../../src/main/sync/chainVerifier';
import { auditEntryHashInput, genesisPrevHash } from '../../../src/shared/auditChain';
import { canonicalJson } from '../../../src/shared/canonicalJson';

const sha = (text: string) => hash('sha256', text, 'hex');
const studyA = 'aaaaaaaa-0000-4000-8000-000000000001';
const studyB = 'bbbbbbbb-0000-4000-8000-000000000002';
const stagingA = 'aaaaaaaa-1111-4111-8111-000000000001';
const stagingB = 'bbbbbbbb-1111-4111-8111-000000000002';
const signatureA = 'aaaaaaaa-2222-4222-8222-000000000001';
const person = 'cccccccc-3333-4333-8333-000000000003';

const allEntries = {
  studyId: null,
  recordId: null,
  eventKind: null,
  fromSeq: null,
  toSeq: null,
  beforeSeq: null,
  limit: 200,
};

describe('cached audit entries, provenance and signatures for the audit screen', () => {
  let dir: string;
  let db: Database;
  let prevHash = genesisPrevHash;
  let seq = 0;

  const append = (eventType: string, payload: Record<string, unknown>, actor = 'db:test') => {
    seq++;
    const text = canonicalJson(payload);
    const occurredAt = new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString();
    const payloadHash = sha(text);
    const entryHash = sha(auditEntryHashInput({ seq, occurredAt, actor, eventType, payloadHash, prevHash }));
    db.prepare(
      `insert into audit_log (seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash)
       values (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(seq, occurredAt, actor, eventType, text, payloadHash, prevHash, entryHash);
    prevHash = entryHash;
    return seq;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-audit-reads-'));
    db = openCache({
      path: join(dir, 'c.sqlite'),
      key: Buffer.alloc(32, 5),
      userId: '11111111-1111-4111-8111-111111111111',
      backendId: 'aaaaaaaaaaaaaaaa',
    });
    prevHash = genesisPrevHash;
    seq = 0;
    const staging = db.prepare(
      `insert into staging_record (id, entity_kind, entity_id, study_id, agent_id, state, proposed_state,
                                   created_at, updated_at, created_by, sync_xid)
       values (?, 'study_risk', null, ?, 'agent:test', 'signed', '{}', '2026-01-01T00:00:00.000Z',
               '2026-01-01T00:00:00.000Z', 'agent', '1')`,
    );
    staging.run(stagingA, studyA);
    staging.run(stagingB, studyB);
    db.prepare(`insert into site (site_id, study_id, doc, sync_xid) values ('SITE-A', ?, '{}', '1')`).run(
      studyA,
    );
    const study = db.prepare(
      `insert into live_row (entity_kind, id, study_id, doc, sync_xid) values ('study', ?, ?, ?, '1')`,
    );
    study.run(studyB, studyB, JSON.stringify({ code: 'B-STUDY' }));
    study.run(studyA, studyA, JSON.stringify({ code: 'A-STUDY' }));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pages the whole log newest first, each entry exactly once', () => {
    for (let i = 0; i < 25; i++) append('test.event', { n: i });
    verifyChainFrom(db);
    const seen: number[] = [];
    let beforeSeq: number | null = null;
    let pages = 0;
    do {
      const page = cachedAuditEntries(db, { ...allEntries, limit: 10, beforeSeq });
      seen.push(...page.rows.map((row) => row.seq));
      beforeSeq = page.nextBeforeSeq;
      pages++;
      expect(page.newestSeq).toBe(25);
    } while (beforeSeq !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => 25 - i));
  });

  it('finds the entries of a study, through the staging record or site they name when they do not name it', () => {
    const proposed = append('staging.proposed', { staging_id: stagingA, study_id: studyA });
    const revised = append('staging.revised', { staging_id: stagingA, to_state: 'reviewing' });
    append('staging.proposed', { staging_id: stagingB, study_id: studyB });
    const diary = append('diary.event', { site_id: 'SITE-A', event_uuid: 'e1' });
    append('diary.event', { site_id: 'SITE-Z', event_uuid: 'e2' });
    const signed = append('signature.recorded', {
      signature_id: signatureA,
      subject_kind: 'staging_record',
      subject_id: stagingA,
      study_id: studyA,
    });
    const page = cachedAuditEntries(db, { ...allEntries, studyId: studyA });
    expect(page.rows.map((row) => row.seq)).toEqual([signed, diary, revised, proposed]);
    expect(page.rows.find((row) => row.seq === signed)).toMatchObject({
      studyId: studyA,
      stagingId: stagingA,
    });
    expect(page.rows.find((row) => row.seq === revised)).toMatchObject({
      studyId: null,
      stagingId: stagingA,
    });
  });

  it('finds the entries that name a record or a person anywhere, exactly, and those the person wrote', () => {
    const proposed = append('staging.proposed', { staging_id: stagingA, study_id: studyA });
    const access = append('access.granted', { table: 'cro.role_assignment', row: { user_id: person } });
    const byPerson = append('totp.enrolled', {}, person);
    append('staging.proposed', { staging_id: stagingB, study_id: studyB });
    append('test.event', { note: `not ${stagingA}` });
    const signed = append('signature.recorded', { subject_id: stagingA, subject_kind: 'staging_record' });
    expect(cachedAuditEntries(db, { ...allEntries, recordId: stagingA }).rows.map((row) => row.seq)).toEqual([
      signed,
      proposed,
    ]);
    expect(cachedAuditEntries(db, { ...allEntries, recordId: person }).rows.map((row) => row.seq)).toEqual([
      byPerson,
      access,
    ]);
    expect(cachedAuditEntries(db, { ...allEntries, recordId: stagingA.slice(0, 8) }).rows).toEqual([]);
  });

  it('filters by the kind of event and by a seq range', () => {
    append('staging.proposed', { staging_id: stagingA });
    const signed = append('staging.signed', { staging_id: stagingA });
    append('staging_note.added', {});
    append('signature.recorded', { subject_id: stagingA });
    const promoted = append('staging.promoted', { staging_id: stagingA });
    expect(
      cachedAuditEntries(db, { ...allEntries, eventKind: 'staging', fromSeq: 2 }).rows.map((row) => row.seq),
    ).toEqual([promoted, signed]);
    expect(
      cachedAuditEntries(db, { ...allEntries, fromSeq: 2, toSeq: 3 }).rows.map((row) => row.eventType),
    ).toEqual(['staging_note.added', 'staging.signed']);
  });

  it('re-hashes each entry and places it against the verified head', () => {
    for (let i = 0; i < 5; i++) append('test.event', { n: i });
    expect(cachedAuditEntries(db, allEntries).verifiedHead).toBeNull();
    const verified = verifyChainFrom(db);
    append('test.event', { n: 5 });
    db.prepare(`update audit_log set payload = '{"n":99}' where seq = 3`).run();
    const page = cachedAuditEntries(db, allEntries);
    expect(page.verifiedHead).toEqual({
      seq: 5,
      entryHash: verified.headHash,
      verifiedAt: verified.verifiedAt,
    });
    expect(page.rows.map((row) => [row.seq, row.hashesOk, row.withinVerifiedChain])).toEqual([
      [6, true, false],
      [5, true, true],
      [4, true, true],
      [3, false, true],
      [2, true, true],
      [1, true, true],
    ]);
    expect(page.rows.find((row) => row.seq === 3)?.payload).toEqual({ n: 99 });
  });

  it('pages provenance and signatures newest first, by study', () => {
    const provenance = db.prepare(
      `insert into provenance_event (id, study_id, actor_kind, actor_id, action, subject_kind, subject_id,
                                     retrieved_context, occurred_at, payload, sync_xid)
       values (?, ?, 'agent', 'agent:test', 'propose', 'staging_record', ?, '[]', ?, '{}', '1')`,
    );
    const signature = db.prepare(
      `insert into signature_event (id, study_id, subject_kind, subject_id, signed_at, doc, sync_xid)
       values (?, ?, 'staging_record', ?, ?, ?, '1')`,
    );
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = `dddddddd-4444-4444-8444-00000000000${i}`;
      ids.push(id);
      // Two events share each second: the id orders them.
      const at = new Date(Date.UTC(2026, 0, 2, 0, 0, Math.floor(i / 2))).toISOString();
      const study = i === 3 ? studyB : studyA;
      provenance.run(id, study, stagingA, at);
      signature.run(
        id,
        study,
        stagingA,
        at,
        JSON.stringify({
          user_display_name: 'Dr. Test',
          intent: 'approve',
          meaning_of_signature: 'Approved',
        }),
      );
    }
    const newestFirstInA = ids.filter((_, i) => i !== 3).reverse();
    type Read = (before: TimelineCursor | null) => {
      rows: { id: string }[];
      nextCursor: TimelineCursor | null;
    };
    const reads: Read[] = [
      (before) =>
        timelinePage(
          cachedProvenance(db, { subjectId: null, studyId: studyA, before, limit: 3 }),
          2,
          (row) => row.occurredAt,
        ),
      (before) =>
        timelinePage(
          cachedSignatures(db, { subjectId: null, studyId: studyA, before, limit: 3 }),
          2,
          (row) => row.signedAt,
        ),
    ];
    for (const read of reads) {
      const seen: string[] = [];
      let before: TimelineCursor | null = null;
      do {
        const page = read(before);
        seen.push(...page.rows.map((row) => row.id));
        before = page.nextCursor;
      } while (before !== null);
      expect(seen).toEqual(newestFirstInA);
    }
    expect(cachedSignatures(db, { subjectId: stagingA, limit: 1 })[0]).toMatchObject({
      signerName: 'Dr. Test',
      meaning: 'Approved',
    });
  });

  it('lists the cached studies by code', () => {
    expect(cachedStudies(db)).toEqual([
      { id: studyA, code: 'A-STUDY' },
      { id: studyB, code: 'B-STUDY' },
    ]);
  });
});

// Closing and reopening a query (migration 0041) against the real server: each request lands once
// by its request id, the server says who, where and when, asking for the state a query already has
// is a conflict that changes nothing, only an investigator with full access at the site may ask
// (and nobody else learns the query's state from the refusal), and requests are append-only.
import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld, type World } from './support/accessWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await buildWorld(db);
});
afterAll(async () => {
  await world.teardown();
  await db.drop();
});

const annotationState = async (annotationId: string) =>
  (
    await db.operator.query<{ resolved: boolean; resolved_by: string | null; resolved_at: Date | null }>(
      'select resolved, resolved_by::text, resolved_at from diary.investigator_annotations where annotation_id = $1',
      [annotationId],
    )
  ).rows[0];
const auditCount = async (eventType: string, annotationId: string) =>
  Number(
    (
      await db.operator.query<{ n: string }>(
        `select count(*) as n from audit.audit_log where event_type = $1 and payload->>'annotation_id' = $2`,
        [eventType, annotationId],
      )
    ).rows[0]?.n,
  );
const request = (client: pg.ClientBase, requestId: string, annotationId: string, resolved: boolean) =>
  client.query(
    `insert into diary.annotation_resolutions (request_id, annotation_id, event_uuid, site_id, resolved, requested_by,
       reason_code)
     values ($1, $2, $3, 'B1', $4, $5, 'answered')`,
    // Record, site and requester are deliberately wrong: the server sets them.
    [requestId, annotationId, world.records.out.eventUuid, resolved, world.counterparts.investigator.id],
  );

describe('annotation resolutions on the server (0041) [DIARY-EVENTS, SYNC-OUTBOX]', () => {
  it('closes and reopens a query once per request id; the server says who, where and when', async () => {
    const query = world.rows.annotation.in;
    const investigator = world.clients.investigator;
    const closeId = randomUUID();
    const resolvedBefore = await auditCount('diary.annotation_resolved', query);
    await request(investigator, closeId, query, true);
    const { rows } = await db.operator.query(
      `select event_uuid::text, site_id, requested_by::text, resolved, requested_at > now() - interval '1 minute' as recent
       from diary.annotation_resolutions where request_id = $1`,
      [closeId],
    );
    expect(rows).toEqual([
      {
        event_uuid: world.records.in.eventUuid,
        site_id: 'A1',
        requested_by: world.people.investigator.id,
        resolved: true,
        recent: true,
      },
    ]);
    expect(await annotationState(query)).toMatchObject({
      resolved: true,
      resolved_by: world.people.investigator.id,
      resolved_at: expect.any(Date),
    });
    expect(await auditCount('diary.annotation_resolved', query)).toBe(resolvedBefore + 1);

    const reopenedBefore = await auditCount('diary.annotation_reopened', query);
    await request(investigator, randomUUID(), query, false);
    expect(await annotationState(query)).toMatchObject({
      resolved: false,
      resolved_by: null,
      resolved_at: null,
    });
    expect(await auditCount('diary.annotation_reopened', query)).toBe(reopenedBefore + 1);

    // The close is sent again (its reply was lost) after the query was reopened: it changes nothing.
    await expect(request(investigator, closeId, query, true)).rejects.toMatchObject({
      code: '23505',
      constraint: 'annotation_resolutions_pkey',
    });
    expect(await annotationState(query)).toMatchObject({ resolved: false });
    expect(await auditCount('diary.annotation_resolved', query)).toBe(resolvedBefore + 1);
  });

  it('refuses to ask for the state a query already has, as a conflict that changes nothing', async () => {
    const query = world.rows.annotation.in;
    const requestId = randomUUID();
    const error = await request(world.clients.investigator, requestId, query, false).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CS409', message: expect.stringMatching(/already open/) });
    expect(JSON.parse((error as { detail: string }).detail)).toEqual({ current_resolved: false });
    const { rows } = await db.operator.query(
      'select 1 from diary.annotation_resolutions where request_id = $1',
      [requestId],
    );
    expect(rows).toEqual([]);
  });

  it('lets only an investigator with full access at the site ask, and tells nobody else the state', async () => {
    const query = world.rows.annotation.in;
    for (const role of ['patient', 'inspector', 'admin', 'signer'] as const) {
      // Asking for "open" of an open query would be a conflict (CS409) for someone allowed to ask.
      await expect(request(world.clients[role], randomUUID(), query, false), role).rejects.toMatchObject({
        code: '42501',
      });
    }
    const elsewhere = await world.connect(world.counterparts.investigator);
    try {
      await expect(request(elsewhere, randomUUID(), query, false)).rejects.toMatchObject({ code: '42501' });
      await expect(request(elsewhere, randomUUID(), query, true)).rejects.toMatchObject({ code: '42501' });
    } finally {
      await elsewhere.end();
    }
    expect(await annotationState(query)).toMatchObject({ resolved: false });
  });

  it('keeps every request: no update or delete, the database owner included [CFR-11.10c]', async () => {
    for (const statement of [
      'update diary.annotation_resolutions set resolved = not resolved',
      'delete from diary.annotation_resolutions',
      'truncate diary.annotation_resolutions',
    ]) {
      await expect(db.operator.query(statement), statement).rejects.toMatchObject({ code: 'CS403' });
    }
  });
});

describe('closing a query needs a reason (0051) [DIARY-QUERY-REASON]', () => {
  const ask = (
    client: pg.ClientBase,
    annotationId: string,
    resolved: boolean,
    reasonCode: string | null,
    reasonText: string | null,
    requestId = randomUUID(),
  ) =>
    client.query(
      `insert into diary.annotation_resolutions (request_id, annotation_id, event_uuid, site_id, resolved, requested_by,
         reason_code, reason_text)
       select $1, annotation_id, event_uuid, site_id, $3, auth.uid(), $4, $5
         from diary.investigator_annotations where annotation_id = $2`,
      [requestId, annotationId, resolved, reasonCode, reasonText],
    );
  const reasonEntries = async (annotationId: string) =>
    (
      await db.operator.query<{ payload: Record<string, unknown> }>(
        `select payload from audit.audit_log
          where event_type = 'diary.annotation_resolution_reason' and payload->>'annotation_id' = $1 order by seq`,
        [annotationId],
      )
    ).rows.map((row) => row.payload);

  it("refuses, as the investigator's own login, every close without a proper reason, and keeps the query open", async () => {
    const query = world.rows.annotation.in;
    const investigator = world.clients.investigator;
    expect(await annotationState(query)).toMatchObject({ resolved: false });
    const before = (await reasonEntries(query)).length;
    await expect(ask(investigator, query, true, null, null)).rejects.toMatchObject({
      code: 'CS422',
      message: 'closing a query needs a reason',
    });
    await expect(ask(investigator, query, true, null, 'because')).rejects.toMatchObject({ code: 'CS422' });
    await expect(ask(investigator, query, true, 'other', '   ')).rejects.toMatchObject({
      code: 'CS422',
      message: 'a reason of "other" needs a text that says what it is',
    });
    await expect(ask(investigator, query, true, 'because I said so', null)).rejects.toMatchObject({
      code: '23514',
    });
    await expect(ask(investigator, query, true, 'answered', 'x'.repeat(2001))).rejects.toMatchObject({
      code: '23514',
    });
    // The old path around the request, a plain UPDATE, is closed (it would carry no reason).
    await expect(
      investigator.query(
        'update diary.investigator_annotations set resolved = true where annotation_id = $1',
        [query],
      ),
    ).rejects.toMatchObject({ code: '42501' });
    expect(await annotationState(query)).toMatchObject({ resolved: false });
    expect(await reasonEntries(query)).toHaveLength(before);
  });

  it('closes with a reason, binds it into the audit chain, and reopens with or without one', async () => {
    const query = world.rows.annotation.in;
    const investigator = world.clients.investigator;
    const text = '  Patient confirmed the dose by phone on 3 March.  ';
    const before = (await reasonEntries(query)).length;
    const closeId = randomUUID();
    await ask(investigator, query, true, 'confirmed_as_entered', text, closeId);
    expect(await annotationState(query)).toMatchObject({ resolved: true });
    const stored = await db.operator.query(
      'select reason_code, reason_text from diary.annotation_resolutions where request_id = $1',
      [closeId],
    );
    expect(stored.rows).toEqual([{ reason_code: 'confirmed_as_entered', reason_text: text.trim() }]);
    const digest = createHash('sha256').update(text.trim()).digest('hex');
    expect((await reasonEntries(query)).slice(before)).toEqual([
      {
        request_id: closeId,
        annotation_id: query,
        event_uuid: world.records.in.eventUuid,
        site_id: 'A1',
        resolved: true,
        reason_code: 'confirmed_as_entered',
        reason_text_sha256: digest,
      },
    ]);
    // A resend of the same request is still recognised by its key, reason or not.
    await expect(ask(investigator, query, true, null, null, closeId)).rejects.toMatchObject({
      code: '23505',
    });

    await ask(investigator, query, false, null, null);
    expect(await annotationState(query)).toMatchObject({ resolved: false });
    expect(await reasonEntries(query)).toHaveLength(before + 1);
  });
});

// Hosted sync over HTTP (issue 23): the workstation signs in to the Supabase stand-in's real HTTP
// server (test/db/support/supabaseStandIn.ts), which answers every RPC from the real database under
// the person's claims, and syncs through the same pull engine and outbox as the direct modes. What
// lands in the cache must be what the same person's direct pull lands, row for row; a pull cut off
// (a dropped request, a killed process, a token that expires, a refresh refused) must lose nothing
// and re-read nothing; an outbox flush must keep its conflicts and land a resend once.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SupabaseSession } from '../../src/main/backend/supabase/supabaseSession';
import { FileCacheKeyStore } from '../../src/main/cache/cacheKeyStore';
import { openCache } from '../../src/main/cache/openCache';
import { enqueueAnnotation, flushOutbox, listOutbox } from '../../src/main/sync/outbox';
import { postgresSyncServer } from '../../src/main/sync/postgresSyncServer';
import { type PullReport, pullAll } from '../../src/main/sync/pullEngine';
import { isConnectionError } from '../../src/main/sync/serverReader';
import { type StreamDefinition, streamDefinitions, streamNamed } from '../../src/main/sync/streamDefinitions';
import { SyncSessionExpiredError } from '../../src/main/sync/syncServer';
import { SyncService } from '../../src/main/sync/syncService';
import { operatorTransaction, type Person, worldPassword } from './support/accessWorld';
import { propose } from './support/operatorActions';
import { type SupabaseStandIn, startStandInOver, totpAt } from './support/supabaseStandIn';
import { cachedKeys, serverKeys, testBackendId } from './support/syncCache';
import { syncWorld } from './support/syncWorld';

/** The TOTP secret every person of the access world has (test/db/support/accessWorld.ts). */
const worldTotpSecret = 'JBSWY3DPEHPK3PXP';
const childScript = fileURLToPath(new URL('./support/hostedSyncChildProcess.ts', import.meta.url));
const provenance = streamNamed('provenance_event');
/** Provenance rows added for the cut-off pulls: enough pages to cut a stream in the middle. */
const bulkRows = 3000;

/** Every cached row of a stream, whole, in a stable order: what two caches must agree on. */
function cachedRows(db: Database, stream: StreamDefinition): string[] {
  const from = stream.clearSql.replace(/^delete from /, '');
  return (db.prepare(`select * from ${from}`).all() as Record<string, unknown>[])
    .map((row) => JSON.stringify(row))
    .sort();
}

function rowsPulled(db: Database, stream: StreamDefinition): number {
  const row = db.prepare('select rows_pulled from sync_cursor where stream = ?').get(stream.name) as
    | { rows_pulled: number }
    | undefined;
  return row?.rows_pulled ?? 0;
}

/** sync_page requests a pull of `report` needs: a stream of n > 0 rows reads floor(n / size) + 1 pages. */
function pagesFor(report: PullReport, pageSize: number): number {
  return Object.values(report.perStream).reduce(
    (sum, n) => sum + (n > 0 ? Math.floor(n / pageSize) + 1 : 0),
    0,
  );
}

describe('hosted sync through the stand-in over HTTP', () => {
  const setup = syncWorld();
  let standIn: SupabaseStandIn;
  const sessions: SupabaseSession[] = [];

  beforeAll(async () => {
    standIn = await startStandInOver(setup.db);
  });
  afterAll(async () => {
    await Promise.all(sessions.map((session) => session.close().catch(() => undefined)));
    await standIn?.close();
  });

  /** The person signed in over HTTP (no in-process fetch), as a hosted workstation does. */
  const signIn = async (person: Person) => {
    const session = await SupabaseSession.signIn(
      { url: standIn.url, anonKey: standIn.anonKey },
      person.email,
      worldPassword,
      totpAt(worldTotpSecret, Date.now() / 1000),
      { autoRefreshToken: false },
    );
    sessions.push(session);
    return session;
  };
  const syncPagesSince = (mark: number) =>
    standIn.requests.slice(mark).filter((request) => request.path === '/rest/v1/rpc/sync_page').length;
  const currentHead = (cache: Database, eventUuid: string) =>
    (
      cache.prepare('select last_audit_id from record_state where event_uuid = ?').get(eventUuid) as {
        last_audit_id: number;
      }
    ).last_audit_id;
  const patientUpdates = (eventUuid: string, parentAuditId: number) =>
    operatorTransaction(setup.db.operator, { sub: setup.world.people.patient.id }, async () => {
      const { rows } = await setup.db.operator.query<{ audit_id: string }>(
        `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp, parent_audit_id, change_reason)
         values ($1, $2, 'A1', 'USER_UPDATE', '{"event_type":"headache","date":"2026-03-02","intensity":"severe"}', now(), $3, 'worse today')
         returning audit_id::text`,
        [eventUuid, setup.world.people.patient.id, String(parentAuditId)],
      );
      return Number(rows[0]?.audit_id);
    });
  const annotationsWith = async (requestId: string) =>
    (
      await setup.db.operator.query<{ annotation_id: string }>(
        'select annotation_id::text from diary.investigator_annotations where client_request_id = $1',
        [requestId],
      )
    ).rows.map((row) => row.annotation_id);

  it.each(['investigator', 'inspector'] as const)(
    'an initial and an incremental sync of an %s cache exactly the rows of their own direct pull [HOSTED-SYNC-HTTP]',
    async (role) => {
      const person = setup.world.people[role];
      const client = setup.world.clients[role];
      const session = await signIn(person);
      const server = session.syncServer();
      const hosted = setup.cacheOf(`${person.id}-http`);
      const direct = setup.cacheOf(`${person.id}-http-direct`);

      const initial = await pullAll(hosted, server, { pageSize: 3 });
      await pullAll(direct, postgresSyncServer(client), { pageSize: 3 });
      expect(initial.quarantined).toBe(0);
      for (const stream of streamDefinitions) {
        expect(cachedRows(hosted, stream), `${role} · ${stream.name}`).toEqual(cachedRows(direct, stream));
        expect(cachedKeys(hosted, stream), `${role} · ${stream.name}`).toEqual(
          await serverKeys(client, stream),
        );
      }

      // New rows on the server: a proposal in the person's study and an investigator's annotation.
      await propose(setup.db.operator, setup.world.people.agent.id, {
        entityKind: 'study_kpi',
        entityId: null,
        studyId: setup.world.studyA,
        proposedState: { label: `Hosted KPI ${role}`, value: '1%', position: 90 },
      });
      const record = setup.world.records.patient2;
      await postgresSyncServer(setup.world.clients.investigator).annotate({
        clientRequestId: randomUUID(),
        annotationId: null,
        eventUuid: record.eventUuid,
        parentAuditId: currentHead(direct, record.eventUuid),
        siteId: 'A1',
        kind: 'note',
        text: `New server note for the ${role}`,
        requiresResponse: false,
        inReplyTo: null,
      });

      const mark = standIn.requests.length;
      const incremental = await pullAll(hosted, server, { pageSize: 3 });
      const directIncremental = await pullAll(direct, postgresSyncServer(client), { pageSize: 3 });
      // Only the new rows, in only the pages they need: nothing is read again from the start.
      expect(incremental.rows).toBeGreaterThan(0);
      expect(incremental.rows).toBeLessThan(initial.rows);
      expect(incremental.perStream).toEqual(directIncremental.perStream);
      expect(syncPagesSince(mark)).toBe(pagesFor(incremental, 3));
      if (role === 'investigator') expect(incremental.perStream.annotation).toBe(1);
      if (role === 'inspector') expect(incremental.perStream.staging_record).toBe(1);
      for (const stream of streamDefinitions) {
        expect(cachedRows(hosted, stream), `${role} · ${stream.name}`).toEqual(cachedRows(direct, stream));
      }
    },
  );

  it('flushes an offline outbox: a conflict keeps the current entry, a note lands, a resend after a lost reply lands once [HOSTED-OUTBOX]', async () => {
    const investigator = setup.world.people.investigator;
    const session = await signIn(investigator);
    const server = session.syncServer();
    const cache = setup.cacheOf(`${investigator.id}-outbox`);
    await pullAll(cache, server);
    const moving = setup.world.records.in;
    const other = setup.world.records.patient2;

    // Offline: a note on an entry the patient then moves on, and a plain note on another record.
    const stale = enqueueAnnotation(cache, {
      eventUuid: moving.eventUuid,
      kind: 'note',
      text: 'Looks consistent.',
      requiresResponse: false,
    });
    const plain = enqueueAnnotation(cache, {
      eventUuid: other.eventUuid,
      kind: 'note',
      text: 'Plain note.',
      requiresResponse: false,
    });
    const newHead = await patientUpdates(moving.eventUuid, stale.parentAuditId);

    expect(await flushOutbox(cache, server)).toEqual({
      sent: 1,
      conflicts: 1,
      failed: 0,
      unreachable: false,
    });
    expect(listOutbox(cache)).toEqual([
      expect.objectContaining({
        id: stale.id,
        state: 'conflict',
        currentAuditId: newHead,
        problem: expect.stringMatching(/moved on/),
      }),
    ]);
    expect(await annotationsWith(stale.clientRequestId)).toEqual([]);
    expect(await annotationsWith(plain.clientRequestId)).toEqual([plain.annotationId]);

    // A note whose reply is lost after the server wrote it: the flush stops as offline, the resend
    // is answered as a replay, and the server holds it once.
    const resent = enqueueAnnotation(cache, {
      eventUuid: other.eventUuid,
      kind: 'note',
      text: 'Sent twice, landed once.',
      requiresResponse: false,
    });
    standIn.loseNextReplies('/rest/v1/rpc/submit_annotation', 1);
    expect(await flushOutbox(cache, server)).toEqual({ sent: 0, conflicts: 0, failed: 0, unreachable: true });
    expect(listOutbox(cache).find((item) => item.id === resent.id)?.state).toBe('pending');
    expect(await annotationsWith(resent.clientRequestId)).toEqual([resent.annotationId]);

    expect(await flushOutbox(cache, server)).toEqual({
      sent: 1,
      conflicts: 0,
      failed: 0,
      unreachable: false,
    });
    expect(await annotationsWith(resent.clientRequestId)).toEqual([resent.annotationId]);
    const again = await server.annotate({
      clientRequestId: resent.clientRequestId,
      annotationId: resent.annotationId,
      eventUuid: other.eventUuid,
      parentAuditId: resent.parentAuditId,
      siteId: 'A1',
      kind: 'note',
      text: 'Sent twice, landed once.',
      requiresResponse: false,
      inReplyTo: null,
    });
    expect(again).toEqual({ annotationId: resent.annotationId, replayed: true });
    expect(await annotationsWith(resent.clientRequestId)).toEqual([resent.annotationId]);
  });

  describe('pulls cut off mid-stream', () => {
    let total: number;

    beforeAll(async () => {
      await setup.db.operator.query(
        `insert into cro.provenance_event (study_id, actor_kind, actor_id, action, subject_kind, subject_id, retrieved_context, payload)
         select $1, 'agent', 'agent:bulk', 'propose', 'staging_record', 'bulk-' || n, '[]', jsonb_build_object('n', n)
         from generate_series(1, ${bulkRows}) as n`,
        [setup.world.studyA],
      );
      total = (await serverKeys(setup.world.clients.inspector, provenance)).length;
    });

    /** Calls `act` once, after `pages` pages of provenance_event have been written. */
    const afterProvenancePages = (pages: number, act: () => void) => {
      let seen = 0;
      return (progress: { stream: string }) => {
        if (progress.stream !== provenance.name) return;
        if (++seen === pages) act();
      };
    };

    /** The cache holds each landed provenance row once, and its cursor counted exactly those. */
    const expectLandedOnce = (cache: Database) => {
      const landed = cachedKeys(cache, provenance).length;
      expect(rowsPulled(cache, provenance)).toBe(landed);
      return landed;
    };

    const expectComplete = async (cache: Database) => {
      const client = setup.world.clients.inspector;
      for (const stream of streamDefinitions) {
        expect(cachedKeys(cache, stream), stream.name).toEqual(await serverKeys(client, stream));
      }
      // No row was written twice: the cursor counted each server row once.
      expect(rowsPulled(cache, provenance)).toBe(total);
    };

    it('a pull whose request is dropped stops as offline, keeps its pages, and resumes after the last one [HOSTED-SYNC-RESUME]', async () => {
      const inspector = setup.world.people.inspector;
      const server = (await signIn(inspector)).syncServer();
      const cache = setup.cacheOf(`${inspector.id}-dropped`);
      const failure = await pullAll(cache, server, {
        pageSize: 50,
        onProgress: afterProvenancePages(10, () => standIn.dropNextRequests('/rest/v1/rpc/sync_page', 1)),
      }).catch((error: unknown) => error);
      expect(isConnectionError(failure)).toBe(true);
      const landed = expectLandedOnce(cache);
      expect(landed).toBeGreaterThanOrEqual(500);
      expect(landed).toBeLessThan(total);

      // Pages read ahead when the request was dropped (a first pull reads up to three at once) are
      // cancelled; wait until none is still arriving before counting the resumed pull's pages.
      for (let seen = -1; seen !== standIn.requests.length; ) {
        seen = standIn.requests.length;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const mark = standIn.requests.length;
      const resumed = await pullAll(cache, server, { pageSize: 50 });
      // The resumed pull read only the rows after the last page written, in as many pages.
      expect(resumed.perStream.provenance_event).toBe(total - landed);
      expect(syncPagesSince(mark)).toBe(pagesFor(resumed, 50));
      await expectComplete(cache);
    });

    it('a hosted pull killed outright (SIGKILL) resumes with no row lost or duplicated [HOSTED-SYNC-RESUME]', async () => {
      const inspector = setup.world.people.inspector;
      const keysDir = mkdtempSync(join(tmpdir(), 'countersign-hosted-kill-'));
      const key = new FileCacheKeyStore(join(keysDir, 'keys')).keyFor(inspector.id, testBackendId);
      const cachePath = join(keysDir, 'cache.sqlite');
      try {
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            childScript,
            standIn.url,
            standIn.anonKey,
            inspector.email,
            cachePath,
            inspector.id,
            testBackendId,
          ],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
            env: {
              ...process.env,
              SYNC_CHILD_PASSWORD: worldPassword,
              SYNC_CHILD_TOTP_SECRET: worldTotpSecret,
              SYNC_CHILD_KEY: key.toString('hex'),
            },
          },
        );
        const seenBeforeKill = await new Promise<number>((resolve, reject) => {
          let buffer = '';
          let previous = 0;
          let rows = 0;
          child.stdout.on('data', (chunk: Buffer) => {
            buffer += chunk.toString();
            const lines = buffer.split('\n');
            buffer = lines.pop() ?? '';
            for (const line of lines) {
              if (line.includes('"done"')) reject(new Error('the sync finished before the kill'));
              if (!line.startsWith('{')) continue;
              const progress = JSON.parse(line) as { stream?: string; rowsDone?: number };
              if (progress.rowsDone === undefined) continue;
              if (progress.stream === provenance.name) rows += progress.rowsDone - previous;
              previous = progress.rowsDone;
            }
            if (rows >= 500 && child.signalCode === null) {
              child.kill('SIGKILL');
              resolve(rows);
            }
          });
          child.once('exit', (code, signal) => {
            if (signal !== 'SIGKILL') reject(new Error(`the child process exited early (${code})`));
          });
        });
        await new Promise((resolve) =>
          child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve),
        );

        const cache = openCache({ path: cachePath, key, userId: inspector.id, backendId: testBackendId });
        try {
          const landed = expectLandedOnce(cache);
          // Pages reported may still have been in flight (at most two of 25 rows).
          expect(landed).toBeGreaterThanOrEqual(seenBeforeKill - 50);
          expect(landed).toBeLessThan(total);
          const resumed = await pullAll(cache, (await signIn(inspector)).syncServer(), { pageSize: 25 });
          expect(resumed.perStream.provenance_event).toBe(total - landed);
          await expectComplete(cache);
        } finally {
          cache.close();
        }
      } finally {
        rmSync(keysDir, { recursive: true, force: true });
      }
    });

    it('a token that expires mid-sync is refreshed once and the pull resumes the page it was on [HOSTED-SYNC-TOKEN]', async () => {
      const inspector = setup.world.people.inspector;
      const server = (await signIn(inspector)).syncServer();
      const cache = setup.cacheOf(`${inspector.id}-expiring`);
      const mark = standIn.requests.length;
      const report = await pullAll(cache, server, {
        pageSize: 50,
        onProgress: afterProvenancePages(5, () => standIn.expireAccessTokens()),
      });
      const since = standIn.requests.slice(mark);
      expect(since.filter((request) => request.path === '/auth/v1/token')).toHaveLength(1);
      // The refused pages (those in flight when the token expired: a first pull reads up to three
      // at once) were asked for twice, before and after the one refresh; every other page once.
      const again =
        since.filter((request) => request.path === '/rest/v1/rpc/sync_page').length - pagesFor(report, 50);
      expect(again).toBeGreaterThanOrEqual(1);
      expect(again).toBeLessThanOrEqual(3);
      expect(report.perStream.provenance_event).toBe(total);
      await expectComplete(cache);
    });

    it('a refresh refused mid-sync stops it with SyncSessionExpiredError and keeps every page written [HOSTED-SYNC-TOKEN]', async () => {
      const inspector = setup.world.people.inspector;
      const server = (await signIn(inspector)).syncServer();
      const cache = setup.cacheOf(`${inspector.id}-refused`);
      try {
        const failure = await pullAll(cache, server, {
          pageSize: 50,
          onProgress: afterProvenancePages(5, () => {
            standIn.refuseRefresh(true);
            standIn.expireAccessTokens();
          }),
        }).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(SyncSessionExpiredError);
      } finally {
        standIn.refuseRefresh(false);
      }
      const landed = expectLandedOnce(cache);
      expect(landed).toBeGreaterThanOrEqual(5 * 50);
      expect(landed).toBeLessThan(total);
      // A fresh sign-in goes on from there.
      const resumed = await pullAll(cache, (await signIn(inspector)).syncServer(), { pageSize: 50 });
      expect(resumed.perStream.provenance_event).toBe(total - landed);
      await expectComplete(cache);
    });

    it('the sync service shows the expired session and keeps the outbox pending [HOSTED-SYNC-TOKEN]', async () => {
      const investigator = setup.world.people.investigator;
      const session = await signIn(investigator);
      const dataDir = mkdtempSync(join(tmpdir(), 'countersign-hosted-service-'));
      const log: string[] = [];
      const service = new SyncService({
        dataDir,
        keyStore: new FileCacheKeyStore(join(dataDir, 'keys')),
        log: (line) => log.push(line),
        emit: () => undefined,
      });
      try {
        await service.openHosted({
          identity: session.identity,
          backend: { host: '127.0.0.1', port: Number(new URL(standIn.url).port), database: 'hosted' },
          password: worldPassword,
          server: session.syncServer(),
        });
        expect((await service.syncNow()).lastSyncedAt).not.toBeNull();
        await service.setWorkOffline(true);
        const item = await service.annotate({
          eventUuid: setup.world.records.patient2.eventUuid,
          kind: 'note',
          text: 'Written while the session runs out.',
          requiresResponse: false,
        });
        expect(item.state).toBe('pending');

        standIn.refuseRefresh(true);
        standIn.expireAccessTokens();
        const status = await service.setWorkOffline(false);
        expect(status.lastError).toBe(new SyncSessionExpiredError().message);
        expect(status.online).toBe(false);
        expect(status.outbox.pending).toBe(1);
        expect(listOutbox(service.cache()).map((entry) => entry.state)).toEqual(['pending']);
        expect(await annotationsWith(item.clientRequestId)).toEqual([]);
        expect(service.cacheReady).toBe(true);
        expect(log.join('\n')).not.toContain(worldPassword);
      } finally {
        standIn.refuseRefresh(false);
        await service.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
});

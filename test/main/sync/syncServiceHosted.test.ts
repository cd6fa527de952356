// The sync service over a hosted server (openHosted), against an in-memory SyncServer: the same
// engine syncs through it, a lost connection leaves the cache answering and comes back when the
// server answers its probe, an expired session stops the sync with its message and loses nothing,
// and the sign-in works offline afterwards from the local verifier, as in the direct modes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileCacheKeyStore } from '../../../src/main/cache/cacheKeyStore';
import type { BackendAddress } from '../../../src/main/cache/cacheLocation';
import { enqueueAnnotation, listOutbox } from '../../../src/main/sync/outbox';
import type { StreamCount, SyncCursor, SyncServer } from '../../../src/main/sync/syncServer';
import { SyncSessionExpiredError } from '../../../src/main/sync/syncServer';
import { SyncService } from '../../../src/main/sync/syncService';

const identity = {
  userId: '11111111-1111-4111-8111-111111111111',
  email: 'investigator@example.test',
  printedName: 'Ines Investigator',
  roles: ['investigator' as const],
};
const backend: BackendAddress = { host: 'project.supabase.test', port: 443, database: 'hosted' };
const password = 'correct horse battery staple';
const record = 'bbbbbbbb-0000-4000-8000-000000000001';
const siteRow = {
  sync_xid: '50',
  site_id: 'S1',
  study_id: 'aaaaaaaa-0000-4000-8000-000000000001',
  doc: '{"site_id":"S1"}',
};

/** A hosted server in memory: one site, no other rows; `failWith` makes every call fail. */
function memoryServer() {
  const state = {
    failWith: null as Error | null,
    calls: 0,
    annotate: null as Error | null,
  };
  const call = () => {
    state.calls++;
    if (state.failWith) throw state.failWith;
  };
  const after = (cursor: SyncCursor) => (cursor.lastXid < siteRow.sync_xid ? [siteRow] : []);
  const server: SyncServer = {
    transport: 'hosted',
    async start() {
      call();
      return { horizon: '100', fingerprint: 'investigator:S1:full' };
    },
    async count(streams, cursors) {
      call();
      return new Map<string, StreamCount>(
        streams.map((stream) => [
          stream.name,
          {
            rows: stream.name === 'site' ? after(cursors.get('site') as SyncCursor).length : 0,
            all: stream.deletions ? 0 : null,
          },
        ]),
      );
    },
    async page(stream, cursor) {
      call();
      return stream.name === 'site' ? after(cursor) : [];
    },
    async keys() {
      call();
      return [];
    },
    async people() {
      call();
      return [];
    },
    async annotate(write) {
      call();
      if (state.annotate) throw state.annotate;
      return { annotationId: write.annotationId ?? '', replayed: false };
    },
    async resolveAnnotation() {
      call();
      return { replayed: false };
    },
    async submitDiaryEvents() {
      call();
      return { status: 'applied', events: [] };
    },
    async resolveDiaryConflict() {
      call();
      return { audit_id: 1 };
    },
  };
  return { server, state };
}

const unreachable = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:54321'), { code: 'ECONNREFUSED' });

describe('SyncService in hosted mode [HOSTED-SYNC-SERVICE]', () => {
  let dir: string;
  let logs: string[];
  let service: SyncService;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-hosted-'));
    logs = [];
    service = new SyncService({
      dataDir: dir,
      keyStore: new FileCacheKeyStore(join(dir, 'keys')),
      log: (line) => logs.push(line),
      emit: () => undefined,
      intervalMs: 3_600_000,
      reconnectIntervalMs: 3_600_000,
    });
  });
  afterEach(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('syncs, loses the connection while the cache answers, and is online again when the probe succeeds', async () => {
    const { server, state } = memoryServer();
    let probes = 0;
    await service.openHosted({
      identity,
      backend,
      password,
      server,
      probe: async () => {
        probes++;
        await server.start();
      },
    });
    const synced = await service.syncNow();
    expect(synced).toMatchObject({ online: true, lastError: null, cacheOpen: true });
    expect(synced.lastSyncedAt).not.toBeNull();
    expect(service.cache().prepare('select site_id from site').all()).toEqual([{ site_id: 'S1' }]);
    expect(service.offlineIdentity).toBeNull(); // a hosted session is a server session

    state.failWith = unreachable();
    const lost = await service.syncNow();
    expect(lost.online).toBe(false);
    expect(lost.lastError).toMatch(/cannot be reached; working from the cache/);
    expect(service.connectionIsLost).toBe(true);
    expect(service.cache().prepare('select site_id from site').all()).toEqual([{ site_id: 'S1' }]);

    // Still away: the probe fails, nothing else is asked.
    const callsBefore = state.calls;
    expect((await service.syncNow()).online).toBe(false);
    expect(probes).toBe(1);
    expect(state.calls - callsBefore).toBe(1);

    state.failWith = null;
    const back = await service.syncNow();
    expect(probes).toBe(2);
    expect(back).toMatchObject({ online: true, lastError: null, offlineSince: null });
    expect(service.connectionIsLost).toBe(false);
    expect(logs.join('\n')).not.toContain(password);
  });

  it('stops on an expired session with its message, keeps the cache and the outbox, and does not retry', async () => {
    const { server, state } = memoryServer();
    await service.openHosted({ identity, backend, password, server });
    await service.syncNow();
    service
      .cache()
      .prepare(
        `insert into record_state (event_uuid, patient_id, site_id, current_data, version, last_audit_id, is_deleted, sync_xid)
         values (?, ?, 'S1', '{}', 1, 10, 0, 1)`,
      )
      .run(record, identity.userId);
    const item = enqueueAnnotation(service.cache(), {
      eventUuid: record,
      kind: 'note',
      text: 'Seen on paper.',
      requiresResponse: false,
    });
    state.annotate = new SyncSessionExpiredError();
    const stopped = await service.syncNow();
    expect(stopped.lastError).toBe(new SyncSessionExpiredError().message);
    expect(stopped.online).toBe(false);
    expect(service.connectionIsLost).toBe(false);
    expect(listOutbox(service.cache())).toMatchObject([
      { id: item.id, state: 'pending', attempts: 0, problem: null },
    ]);
    expect(service.cache().prepare('select site_id from site').all()).toEqual([{ site_id: 'S1' }]);

    // No reconnect loop: another sync asks the server nothing and keeps the message.
    const callsBefore = state.calls;
    const again = await service.syncNow();
    expect(state.calls).toBe(callsBefore);
    expect(again.lastError).toBe(stopped.lastError);
    await expect(service.resolveDiaryConflict(1, 'keep_mine', 10)).rejects.toThrow(/session expired/);
    expect(state.calls).toBe(callsBefore);
  });

  it('saves the offline verifier, so the same sign-in opens the hosted cache offline', async () => {
    const { server } = memoryServer();
    await service.openHosted({ identity, backend, password, server });
    await service.syncNow();
    await service.close();
    expect(await service.openOffline(backend, identity.email, 'not the password')).toBeNull();
    expect(await service.openOffline(backend, identity.email, password)).toEqual(identity);
    expect(service.connectionIsLost).toBe(true);
    expect(service.cache().prepare('select site_id from site').all()).toEqual([{ site_id: 'S1' }]);
  });
});

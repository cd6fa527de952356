// Offline means offline (ARCHITECTURE): with *Work offline* on, opening for review, signing and
// promotion are refused by the main process before anything reaches the server, with a message that
// says so; nothing is written. And a request that fails because the backend went away flips the
// status to offline at once, instead of at the next sync.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchContractCall } from '../../src/main/ipc/dispatchContractCall';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import type { Channel, RequestOf, ResponseOf } from '../../src/shared/contract';
import { worldPassword } from './support/accessWorld';
import { freePort } from './support/freePort';
import { workstationBehindProxy } from './support/workstationBehindProxy';

describe('no server writes while working offline [OFFLINE-NO-SERVER-WRITES]', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-offline-writes-'));
  let workstation: Workstation;
  let port: number;

  async function call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
    const result = await dispatchContractCall(workstation.handlers, channel, request);
    if (!result.ok) throw result.error;
    return result.response as ResponseOf<C>;
  }
  async function refusal<C extends Channel>(channel: C, request: RequestOf<C>): Promise<string> {
    const result = await dispatchContractCall(workstation.handlers, channel, request);
    if (result.ok) throw new Error(`${channel} was not refused`);
    return result.error.message;
  }

  beforeAll(async () => {
    port = await freePort();
    workstation = await createWorkstation({ dataDir, env: { COUNTERSIGN_PG_PORT: String(port) } });
    await workstation.backendSettled;
  });
  afterAll(async () => {
    await workstation?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses review, signing and promotion offline, writes nothing, and signs once online again', async () => {
    const status = await call('backend.status', {});
    const signer = status.demoUsers.find((user) => user.roles.includes('signer') && user.hasTotp);
    if (!signer) throw new Error('the demo has no signer with TOTP');
    expect((await call('session.signIn', { email: signer.email, password: signer.password })).ok).toBe(true);
    await call('sync.now', {});
    const ids = (await call('staging.queue', { states: ['proposed'], limit: 3 })).columns.id;
    expect(ids).toHaveLength(3);
    const [reviewed, stillProposed] = [ids.slice(0, 2), ids.slice(2)];
    expect((await call('staging.openForReview', { stagingIds: reviewed })).opened).toBe(2);
    const manifest = await call('signing.manifest', { stagingIds: reviewed });
    const { code } = await call('demo.totpCode', {});
    if (!code) throw new Error('no demo code');
    const signRequest = {
      ceremonyId: manifest.ceremonyId,
      intent: 'approve' as const,
      meaning: 'I approve this change',
      entries: manifest.entries,
      password: signer.password,
      totpCode: code,
    };

    expect(await call('sync.setOffline', { offline: true })).toMatchObject({
      online: false,
      workOffline: true,
    });
    expect(await refusal('signing.sign', signRequest)).toMatch(/working offline: signing needs the server/);
    expect(await refusal('staging.openForReview', { stagingIds: stillProposed })).toMatch(
      /working offline: opening records for review needs the server/,
    );
    expect(await refusal('staging.promote', { stagingIds: reviewed })).toMatch(/working offline: promotion/);
    expect(await refusal('signing.manifest', { stagingIds: reviewed })).toMatch(/working offline/);
    expect(await refusal('signing.status', {})).toMatch(/working offline/);

    // Nothing reached the server: read it as the signer's own login.
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      database: 'countersign',
      user: signer.email,
      password: signer.password,
    });
    await client.connect();
    const states = async () =>
      (
        await client.query<{ id: string; state: string; signatures: number }>(
          `select s.id::text, s.state::text,
                  (select count(*)::int from cro.signature_event e where e.subject_kind = 'staging_record' and e.subject_id = s.id::text) as signatures
             from cro.staging_record s where s.id = any($1::uuid[]) order by s.id`,
          [ids],
        )
      ).rows;
    try {
      expect(await states()).toEqual(
        [...ids].sort().map((id) => ({
          id,
          state: reviewed.includes(id) ? 'reviewing' : 'proposed',
          signatures: 0,
        })),
      );

      // Online again, the same ceremony goes through: the refusal was the offline switch's.
      expect(await call('sync.setOffline', { offline: false })).toMatchObject({ online: true });
      const signed = await call('signing.sign', signRequest);
      expect(signed).toMatchObject({ ok: true });
      expect((await states()).filter((row) => row.signatures === 1).map((row) => row.id)).toEqual(
        [...reviewed].sort(),
      );
    } finally {
      await client.end();
    }
  });
});

describe('a request that fails for want of a connection flips the status at once [OFFLINE-NO-SERVER-WRITES]', () => {
  // The periodic reconnect is slowed right down, so only the failed request can flip the status.
  const setup = workstationBehindProxy({ syncReconnectIntervalMs: 600_000 });

  it('says offline within the failed call, names what failed, and refuses the next one without sending it', async () => {
    const signer = setup.world.people.signer;
    const handlers = setup.workstation.handlers;
    expect((await handlers['session.signIn']({ email: signer.email, password: worldPassword })).ok).toBe(
      true,
    );
    expect(await handlers['sync.now']({})).toMatchObject({ online: true });
    const before = setup.events.length;

    // The network goes: new connections are refused and open ones cut. The sync's own reader
    // notices the cut by itself; the request's refusal must not wait for that.
    setup.proxy.drop();
    const failed = await dispatchContractCall(handlers, 'signing.status', {});
    expect(failed.ok).toBe(false);
    if (failed.ok) return;
    expect(failed.error.message).toMatch(/backend (cannot be reached|was lost)/);
    expect(failed.error.message).toMatch(/signing/);
    expect((await handlers['sync.status']({})).online).toBe(false);
    expect(setup.events.slice(before).some((event) => !event.online && event.offlineSince !== null)).toBe(
      true,
    );

    const next = await dispatchContractCall(handlers, 'staging.openForReview', {
      stagingIds: ['00000000-0000-4000-8000-000000000001'],
    });
    expect(next.ok).toBe(false);
    if (!next.ok) expect(next.error.message).toMatch(/backend cannot be reached: opening records for review/);
    setup.proxy.restore();
  });
});

// The backend goes away and comes back while a person is signed in (a laptop leaving the network,
// a server restart): the workstation notices without being asked, keeps answering from the cache,
// and is online again on the next sync once the backend can be reached, with what changed meanwhile.
import { describe, expect, it } from 'vitest';
import { worldPassword } from './support/accessWorld';
import { workstationBehindProxy } from './support/workstationBehindProxy';

describe('workstation reconnect on the next sync [SYNC-OFFLINE]', () => {
  const setup = workstationBehindProxy();
  const h = () => setup.workstation.handlers;
  const auditList = () =>
    h()['audit.list']({
      studyId: null,
      recordId: null,
      eventKind: null,
      fromSeq: null,
      toSeq: null,
      beforeSeq: null,
      limit: 5,
    });

  it('goes offline when the connection drops, reads from the cache, and is online again after the next sync', async () => {
    const inspector = setup.world.people.inspector;
    expect((await h()['session.signIn']({ email: inspector.email, password: worldPassword })).ok).toBe(true);
    const first = await h()['sync.now']({});
    expect(first).toMatchObject({ online: true, offlineSince: null });
    const before = await auditList();
    expect(before.rows.length).toBeGreaterThan(0);

    setup.proxy.drop();
    // Noticed from the dropped connection itself, before any sync asks.
    await expect.poll(async () => (await h()['sync.status']({})).online).toBe(false);
    const offline = await h()['sync.now']({});
    expect(offline).toMatchObject({
      online: false,
      workOffline: false,
      offlineSince: expect.any(String),
      lastError: expect.stringMatching(/reconnects by itself, or with Sync now/),
    });
    expect((await auditList()).rows.map((row) => row.seq)).toEqual(before.rows.map((row) => row.seq));
    expect((await h()['chain.verify']({ full: true })).ok).toBe(true);

    // Meanwhile the server moves on.
    await setup.db.operator.query(`select cs_private.audit_append('test.while_offline', '{}'::jsonb)`);
    setup.proxy.restore();
    const back = await h()['sync.now']({});
    expect(back).toMatchObject({ online: true, offlineSince: null, lastError: null });
    expect(back.lastSyncedAt && first.lastSyncedAt && back.lastSyncedAt > first.lastSyncedAt).toBe(true);
    const after = await auditList();
    expect(after.rows[0]).toMatchObject({ eventType: 'test.while_offline', hashesOk: true });
    expect(after.newestSeq).toBe((before.newestSeq ?? 0) + 1);
    expect(setup.lines.join('\n')).toContain('countersign sync: reconnected');
    expect(setup.lines.join('\n')).not.toContain(worldPassword);
  });

  it('stays offline, saying so, while the backend still cannot be reached', async () => {
    setup.proxy.drop();
    await expect.poll(async () => (await h()['sync.status']({})).online).toBe(false);
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(await h()['sync.now']({})).toMatchObject({ online: false, syncing: false });
    }
    setup.proxy.restore();
    expect(await h()['sync.now']({})).toMatchObject({ online: true });
    await h()['session.signOut']({});
  });
});

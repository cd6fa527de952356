// The investigator's offline story when the network goes away by itself (not the "work offline"
// switch): the workstation notices the lost connection without being asked, keeps annotations and
// the closing of a query in the outbox, and on reconnect (Sync now, or by itself) sends each once.
import { describe, expect, it } from 'vitest';
import { worldPassword } from './support/accessWorld';
import { workstationBehindProxy } from './support/workstationBehindProxy';

describe('workstation reconnects after the backend comes back [SYNC-OFFLINE, SYNC-OUTBOX]', () => {
  const setup = workstationBehindProxy({ syncReconnectIntervalMs: 200 });
  const h = () => setup.workstation.handlers;
  const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const annotationRows = (text: string) =>
    setup.db.operator.query(
      'select annotation_id::text from diary.investigator_annotations where annotation_text = $1',
      [text],
    );

  it('notices the lost connection, keeps offline work pending, and sends it once when the backend is back', async () => {
    const investigator = setup.world.people.investigator;
    expect((await h()['session.signIn']({ email: investigator.email, password: worldPassword })).ok).toBe(
      true,
    );
    expect(await h()['sync.now']({})).toMatchObject({ online: true });
    const query = setup.world.rows.annotation.in;

    // The backend goes away: the status turns offline by itself (an event, no request needed).
    setup.events.length = 0;
    setup.proxy.drop();
    await until('an offline status is pushed', () => setup.events.some((event) => !event.online));
    expect(await h()['sync.status']({})).toMatchObject({ online: false, workOffline: false });

    const text = `Offline note ${Date.now()}`;
    const note = await h()['diary.annotate']({
      eventUuid: setup.world.records.in.eventUuid,
      parentAuditId: null,
      kind: 'note',
      text,
      requiresResponse: false,
      inReplyTo: null,
    });
    const close = await h()['diary.resolve']({
      annotationId: query,
      resolved: true,
      reasonCode: 'answered',
      reasonText: null,
    });
    expect([note.state, close.state, close.kind]).toEqual(['pending', 'pending', 'close']);
    // Closing twice is refused in the cache already (the first close still waits).
    await expect(
      h()['diary.resolve']({ annotationId: query, resolved: true, reasonCode: 'answered', reasonText: null }),
    ).rejects.toThrow(/already closed/);

    // Still away: Sync now tries, says so, and keeps everything pending.
    const stillAway = await h()['sync.now']({});
    expect(stillAway).toMatchObject({ online: false, outbox: { pending: 2 } });
    expect(stillAway.lastError).toMatch(/reconnects by itself, or with Sync now/);

    setup.proxy.restore();
    const back = await h()['sync.now']({});
    expect(back).toMatchObject({
      online: true,
      lastError: null,
      outbox: { pending: 0, conflict: 0, failed: 0 },
    });
    expect((await annotationRows(text)).rows).toEqual([{ annotation_id: note.annotationId }]);
    const { rows } = await setup.db.operator.query(
      'select resolved, resolved_by::text from diary.investigator_annotations where annotation_id = $1',
      [query],
    );
    expect(rows).toEqual([{ resolved: true, resolved_by: investigator.id }]);
    const history = await h()['diary.history']({ eventUuid: setup.world.records.in.eventUuid });
    const shown = history.annotations.find((annotation) => annotation.annotationId === query);
    expect(shown).toMatchObject({
      resolved: true,
      fromServer: true,
      resolutions: [{ kind: 'close', state: 'sent' }],
    });
    expect(history.annotations.find((annotation) => annotation.text === text)).toMatchObject({
      fromServer: true,
      byMe: true,
      outbox: { state: 'sent' },
    });
  });

  it('reconnects by itself once the backend is back, and sends what waited', async () => {
    setup.proxy.drop();
    await until('offline', async () => !(await h()['sync.status']({})).online);
    const text = `Second offline note ${Date.now()}`;
    await h()['diary.annotate']({
      eventUuid: setup.world.records.patient2.eventUuid,
      parentAuditId: null,
      kind: 'note',
      text,
      requiresResponse: false,
      inReplyTo: null,
    });
    setup.proxy.restore();
    // Nobody presses anything: the reconnect timer brings it back and the outbox empties.
    await until('back online with an empty outbox', async () => {
      const status = await h()['sync.status']({});
      return status.online && !status.syncing && status.outbox.pending === 0;
    });
    expect((await annotationRows(text)).rows).toHaveLength(1);
    expect(setup.lines.join('\n')).not.toContain(worldPassword);
    expect(setup.lines.some((line) => line.includes('reconnected'))).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { type IpcMainLike, registerContractHandlers } from '../../src/main/ipc/registerContractHandlers';
import { type ContractHandlers, channels } from '../../src/shared/contract';
import { fakeHandlers, type RecordedCall, stagingRow } from './fakeHandlers';

interface FakeEvent {
  senderId: number;
}

type Listener = (event: FakeEvent, ...args: unknown[]) => Promise<unknown>;

class FakeIpcMain implements IpcMainLike<FakeEvent> {
  readonly listeners = new Map<string, Listener>();

  handle(channel: string, listener: Listener): void {
    if (this.listeners.has(channel)) throw new Error(`second handler for ${channel}`);
    this.listeners.set(channel, listener);
  }

  invoke(channel: string, event: FakeEvent, ...args: unknown[]): Promise<unknown> {
    const listener = this.listeners.get(channel);
    if (listener === undefined) throw new Error(`no handler for ${channel}`);
    return listener(event, ...args);
  }
}

const trustedId = 1;
const trusted: FakeEvent = { senderId: trustedId };
const untrusted: FakeEvent = { senderId: 2 };

function setUp(handlers: ContractHandlers = fakeHandlers()) {
  const ipc = new FakeIpcMain();
  const logLines: string[] = [];
  registerContractHandlers(ipc, handlers, (event) => event.senderId === trustedId, {
    log: (line) => logLines.push(line),
  });
  return { ipc, logLines };
}

describe('registerContractHandlers [ELECTRON-IPC]', () => {
  it('registers exactly one handler per contract channel', () => {
    const { ipc } = setUp();
    expect([...ipc.listeners.keys()].sort()).toEqual([...channels].sort());
  });

  it('refuses an untrusted sender without calling the service', async () => {
    const calls: RecordedCall[] = [];
    const { ipc, logLines } = setUp(fakeHandlers(calls));
    await expect(ipc.invoke('backend.status', untrusted, {})).rejects.toThrow(/untrusted|Countersign window/);
    expect(calls).toEqual([]);
    expect(logLines.join('\n')).toMatch(/refused backend\.status/);
  });

  it('rejects a malformed request, naming the channel and the field', async () => {
    const calls: RecordedCall[] = [];
    const { ipc } = setUp(fakeHandlers(calls));
    const call = ipc.invoke('session.signIn', trusted, { email: 'x', password: 'secret' });
    await expect(call).rejects.toThrow(/session\.signIn/);
    await expect(ipc.invoke('session.signIn', trusted, { email: 'x', password: 'secret' })).rejects.toThrow(
      /email/,
    );
    await expect(ipc.invoke('staging.queue', trusted, { limit: 0 })).rejects.toThrow(/staging\.queue.*limit/);
    expect(calls).toEqual([]);
  });

  it('rejects unexpected fields on a strict request', async () => {
    const { ipc } = setUp();
    await expect(ipc.invoke('backend.status', trusted, { sql: 'drop table x' })).rejects.toThrow(
      /backend\.status/,
    );
  });

  it('passes the parsed request (with defaults) to the service and returns the validated response', async () => {
    const calls: RecordedCall[] = [];
    const { ipc } = setUp(fakeHandlers(calls));
    const page = await ipc.invoke('staging.queue', trusted, { limit: 10 });
    expect(calls).toEqual([
      { channel: 'staging.queue', request: { limit: 10, after: null, states: [], studyId: null } },
    ]);
    expect(page).toMatchObject({
      columns: { id: [stagingRow.id], studies: [{ code: 'CS-001' }] },
      nextCursor: null,
    });

    const signIn = await ipc.invoke('session.signIn', trusted, { email: '  a@b.example ', password: 'pw' });
    expect(signIn).toEqual({ ok: false, error: 'No user a@b.example.' });
  });

  it('treats a response that breaks the contract as an error, logged in main and generic to the renderer', async () => {
    const broken = {
      ...fakeHandlers(),
      'backend.status': async () => ({ mode: 'embedded', state: 'maybe' }),
    } as unknown as ContractHandlers;
    const { ipc, logLines } = setUp(broken);
    const call = ipc.invoke('backend.status', trusted, {});
    await expect(call).rejects.toThrow(/backend\.status failed inside Countersign/);
    expect(logLines.join('\n')).toMatch(/invalid-response.*state/);
  });

  it('does not pass a service exception text to the renderer', async () => {
    const failing: ContractHandlers = {
      ...fakeHandlers(),
      'session.signOut': async () => {
        throw new Error('connection to postgres://admin:hunter2@db failed');
      },
    };
    const { ipc, logLines } = setUp(failing);
    const error = await ipc.invoke('session.signOut', trusted, {}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toContain('hunter2');
    expect(logLines.join('\n')).toContain('connection to postgres');
  });
});

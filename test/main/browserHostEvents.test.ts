// The browser host's pushed events: GET /events streams each contract event as Server-Sent Events,
// only behind the launch token, and stops listening when the page goes away.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHost, startBrowserHost } from '../../src/main/host/browserHost';
import type { ContractEventName } from '../../src/shared/contract';
import { fakeHandlers, offlineSyncStatus } from './fakeHandlers';

type Listener = (event: ContractEventName, payload: unknown) => void;

describe('browser host events', () => {
  let dir: string;
  let host: BrowserHost;
  const listeners = new Set<Listener>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'countersign-events-'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    host = await startBrowserHost({
      handlers: fakeHandlers(),
      rendererDir: dir,
      log: () => undefined,
      subscribe: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    });
  });
  afterAll(async () => {
    await host.close();
    await rm(dir, { recursive: true, force: true });
  });

  const open = (headers: Record<string, string>) =>
    new Promise<{ status: number; read: () => Promise<string>; close: () => void }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: host.port,
          path: '/events',
          headers: { Host: `127.0.0.1:${host.port}`, ...headers },
        },
        (res) => {
          let buffer = '';
          const waiters: (() => void)[] = [];
          res.on('data', (chunk: Buffer) => {
            buffer += chunk.toString();
            for (const wake of waiters.splice(0)) wake();
          });
          resolve({
            status: res.statusCode ?? 0,
            read: () =>
              new Promise((done) => {
                const check = () => (buffer.includes('event: ') ? done(buffer) : waiters.push(check));
                check();
              }),
            close: () => req.destroy(),
          });
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) =>
        error.code === 'ECONNRESET' ? undefined : reject(error),
      );
      req.end();
    });

  it('streams sync.progress to a page holding the token, and unsubscribes when it leaves', async () => {
    const stream = await open({ Cookie: `cs_token=${host.token}` });
    expect(stream.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(listeners.size).toBe(1);
    for (const listener of listeners) listener('sync.progress', { ...offlineSyncStatus, online: true });
    const text = await stream.read();
    expect(text).toContain('event: sync.progress\ndata: {');
    const data = JSON.parse(text.split('data: ')[1]?.split('\n')[0] as string);
    expect(data.online).toBe(true);
    stream.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(listeners.size).toBe(0);
  });

  it('refuses the event stream without the token [HOST-LOCAL]', async () => {
    const stream = await open({});
    expect(stream.status).toBe(401);
    stream.close();
    expect(listeners.size).toBe(0);
  });
});

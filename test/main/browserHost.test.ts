import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHost, maxRequestBodyBytes, startBrowserHost } from '../../src/main/host/browserHost';
import { maxRecordsPerCeremony } from '../../src/shared/contract';
import { fakeHandlers, type RecordedCall, stagingRow } from './fakeHandlers';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

let workDir: string;
let rendererDir: string;
let host: BrowserHost;
const calls: RecordedCall[] = [];
const logLines: string[] = [];

/** Raw HTTP, so that the test controls the Host header and sees redirects instead of following them. */
function send(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: host.port,
        path,
        method: options.method ?? 'GET',
        headers: { Host: `127.0.0.1:${host.port}`, ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    // The server may answer (413) and close before it has read everything we send.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    req.end(options.body);
  });
}

function authed(headers: Record<string, string> = {}): Record<string, string> {
  return { Cookie: `cs_token=${host.token}`, ...headers };
}

function postJson(channel: string, body: string, headers: Record<string, string> = authed()): Promise<Reply> {
  return send(`/api/${channel}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body,
  });
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'countersign-host-'));
  rendererDir = join(workDir, 'renderer');
  await mkdir(join(rendererDir, 'assets'), { recursive: true });
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>Countersign test</title>');
  await writeFile(join(rendererDir, 'assets', 'app.js'), 'console.log("app");');
  await writeFile(join(rendererDir, 'assets', 'app.css'), 'body{}');
  await writeFile(join(workDir, 'secret.txt'), 'TOP SECRET');
  host = await startBrowserHost({
    handlers: fakeHandlers(calls),
    rendererDir,
    log: (line) => logLines.push(line),
  });
});

afterAll(async () => {
  await host?.close();
  await rm(workDir, { recursive: true, force: true });
});

describe('browser host: binding and token [HOST-LOCAL]', () => {
  it('listens on 127.0.0.1 with a 256-bit URL-safe token in the launch URL', () => {
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/?token=${host.token}`);
    expect(host.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(host.port).toBeGreaterThan(0);
  });

  it('refuses / and /api without a token', async () => {
    expect((await send('/')).status).toBe(401);
    expect((await postJson('backend.status', '{}', {})).status).toBe(401);
    expect(calls).toEqual([]);
  });

  it('refuses a wrong token, in the link, the cookie or the header', async () => {
    expect((await send('/?token=not-the-token')).status).toBe(401);
    expect((await send('/', { headers: { Cookie: 'cs_token=not-the-token' } })).status).toBe(401);
    expect((await postJson('backend.status', '{}', { 'X-Countersign-Token': `${host.token}x` })).status).toBe(
      401,
    );
    expect(calls).toEqual([]);
  });

  it('trades the right token for an HttpOnly, SameSite=Strict cookie and redirects to /', async () => {
    const reply = await send(`/?token=${host.token}`);
    expect(reply.status).toBe(303);
    expect(reply.headers.location).toBe('/');
    const cookie = reply.headers['set-cookie']?.[0] ?? '';
    expect(cookie).toContain(`cs_token=${host.token}`);
    expect(cookie).toMatch(/;\s*HttpOnly/);
    expect(cookie).toMatch(/;\s*SameSite=Strict/);
    expect(cookie).toMatch(/;\s*Path=\//);
  });

  it('refuses a foreign Host header (DNS rebinding), even with the right token', async () => {
    const reply = await send('/', { headers: authed({ Host: `evil.example:${host.port}` }) });
    expect([421, 403]).toContain(reply.status);
    const api = await postJson('backend.status', '{}', authed({ Host: 'evil.example' }));
    expect([421, 403]).toContain(api.status);
  });

  it('accepts localhost:<port> as Host', async () => {
    const reply = await send('/', { headers: authed({ Host: `localhost:${host.port}` }) });
    expect(reply.status).toBe(200);
  });

  it('refuses a cross-origin API call', async () => {
    const reply = await postJson('backend.status', '{}', authed({ Origin: 'http://evil.example' }));
    expect(reply.status).toBe(403);
  });
});

describe('browser host: static files [HOST-LOCAL]', () => {
  it('serves index.html with the CSP and hardening headers', async () => {
    const reply = await send('/', { headers: authed() });
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('Countersign test');
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(reply.headers['content-security-policy']).toContain("script-src 'self'");
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
    expect(reply.headers['referrer-policy']).toBe('no-referrer');
    expect(reply.headers['cache-control']).toBe('no-store');
  });

  it('serves assets with their content types', async () => {
    const js = await send('/assets/app.js', { headers: authed() });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const css = await send('/assets/app.css', { headers: authed() });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('falls back to index.html for client-side routes, but not for missing assets', async () => {
    const route = await send('/queue/signed', { headers: authed() });
    expect(route.status).toBe(200);
    expect(route.body).toContain('Countersign test');
    expect((await send('/assets/missing.js', { headers: authed() })).status).toBe(404);
  });

  it('never serves a file outside the renderer folder', async () => {
    for (const path of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/..%5csecret.txt',
    ]) {
      const reply = await send(path, { headers: authed() });
      expect(reply.status, path).toBeGreaterThanOrEqual(400);
      expect(reply.body, path).not.toContain('TOP SECRET');
    }
  });
});

describe('browser host: API [HOST-LOCAL]', () => {
  it('answers a valid call with the validated response, with the cookie or the header', async () => {
    const reply = await postJson('staging.queue', JSON.stringify({ limit: 5 }));
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(reply.body)).toMatchObject({
      columns: { id: [stagingRow.id], studies: [{ code: 'CS-001' }] },
      nextCursor: null,
    });
    expect(calls.at(-1)).toEqual({
      channel: 'staging.queue',
      request: { limit: 5, after: null, states: [], studyId: null },
    });

    const viaHeader = await postJson('backend.status', '{}', { 'X-Countersign-Token': host.token });
    expect(viaHeader.status).toBe(200);
    expect(JSON.parse(viaHeader.body)).toMatchObject({ state: 'ready' });
  });

  it('answers 400 for malformed JSON', async () => {
    const reply = await postJson('session.signIn', '{"email": ');
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).error).toMatch(/Malformed JSON/);
  });

  it('answers 400 with the zod message for an invalid request, and never echoes the password', async () => {
    const reply = await postJson('session.signIn', JSON.stringify({ email: 'x', password: 'correct horse' }));
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).error).toMatch(/session\.signIn.*email/);
    expect(reply.body).not.toContain('correct horse');
  });

  it('answers 404 for an unknown channel, including prototype names', async () => {
    expect((await postJson('admin.dropEverything', '{}')).status).toBe(404);
    expect((await postJson('constructor', '{}')).status).toBe(404);
    expect((await postJson('__proto__', '{}')).status).toBe(404);
  });

  it('answers 415 without Content-Type: application/json and 405 for GET', async () => {
    const form = await send('/api/backend.status', {
      method: 'POST',
      headers: authed({ 'Content-Type': 'text/plain' }),
      body: '{}',
    });
    expect(form.status).toBe(415);
    expect((await send('/api/backend.status', { headers: authed() })).status).toBe(405);
  });

  it('answers 413 for a body over 4 MB, declared or streamed', async () => {
    const big = Buffer.alloc(maxRequestBodyBytes + 10, 'a');
    expect((await postJson('session.signIn', big.toString())).status).toBe(413);
    const chunked = await send('/api/session.signIn', {
      method: 'POST',
      headers: authed({ 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }),
      body: big,
    });
    expect(chunked.status).toBe(413);
  });

  it('takes the largest request the contract allows: a signing ceremony of 10,000 records [SIGN-SCALE]', () => {
    const entry = { stagingRecordId: '01a24f90-0000-7000-8000-000000000000', contentHash: 'f'.repeat(64) };
    const request = {
      ceremonyId: '4f1e8b1a-2d3c-4e5f-8a9b-0c1d2e3f4a5b',
      intent: 'reject',
      meaning: 'm'.repeat(200),
      comment: 'c'.repeat(2000),
      rejection: { reason: 'r'.repeat(200), explanation: 'e'.repeat(2000) },
      entries: Array.from({ length: maxRecordsPerCeremony }, () => entry),
      password: 'p'.repeat(1024),
      totpCode: '123456',
    };
    expect(Buffer.byteLength(JSON.stringify(request))).toBeLessThan(maxRequestBodyBytes);
  });
});

describe('browser host: failures inside a service [HOST-LOCAL]', () => {
  it('answers 500 with a generic message and logs the details without the request body', async () => {
    const failingCalls: RecordedCall[] = [];
    const failing = await startBrowserHost({
      handlers: {
        ...fakeHandlers(failingCalls),
        'session.signIn': async () => {
          throw new Error('role "alice" does not exist');
        },
      },
      rendererDir,
      log: (line) => logLines.push(line),
    });
    try {
      const reply = await new Promise<Reply>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port: failing.port,
            path: '/api/session.signIn',
            method: 'POST',
            headers: {
              Host: `127.0.0.1:${failing.port}`,
              'Content-Type': 'application/json',
              'X-Countersign-Token': failing.token,
            },
          },
          (res) => {
            let body = '';
            res.on('data', (chunk) => {
              body += chunk;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ email: 'alice@example.org', password: 'pa55word-in-body' }));
      });
      expect(reply.status).toBe(500);
      expect(reply.body).not.toContain('alice');
      expect(JSON.parse(reply.body).error).toMatch(/session\.signIn failed inside Countersign/);
      const log = logLines.join('\n');
      expect(log).toContain('role "alice" does not exist');
      expect(log).not.toContain('pa55word-in-body');
    } finally {
      await failing.close();
    }
  });

  it('uses a different token on every launch', async () => {
    const other = await startBrowserHost({ handlers: fakeHandlers(), rendererDir });
    try {
      expect(other.token).not.toBe(host.token);
    } finally {
      await other.close();
    }
  });
});

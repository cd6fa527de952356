// The browser host's "save as": an exported packet is offered on GET /downloads/<file name>, as an
// attachment, to this launch's token only, and nothing but a packet file of the exports folder is
// ever served there (no other name, no path out of it, no symlink out of it).
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHost, startBrowserHost } from '../../src/main/host/browserHost';
import { fakeHandlers } from './fakeHandlers';

let workDir: string;
let host: BrowserHost;
const packet = Buffer.from('PK\u0003\u0004 a packet');

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'countersign-downloads-'));
  const rendererDir = join(workDir, 'renderer');
  const downloadsDir = join(workDir, 'exports');
  await mkdir(rendererDir);
  await mkdir(downloadsDir);
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  await writeFile(join(downloadsDir, 'packet-study-AUR-2026-12-07T07-00-00-000Z.zip'), packet);
  await writeFile(join(workDir, 'secret.zip'), 'outside the exports folder');
  await symlink(join(workDir, 'secret.zip'), join(downloadsDir, 'link.zip'));
  host = await startBrowserHost({ handlers: fakeHandlers([]), rendererDir, downloadsDir, port: 0 });
});
afterAll(async () => {
  await host?.close();
  await rm(workDir, { recursive: true, force: true });
});

const get = (path: string, token: string | null = host.token) =>
  fetch(`${host.origin}${path}`, { headers: token === null ? {} : { Cookie: `cs_token=${token}` } });

describe('packet downloads in the browser host [EXPORT-DOWNLOAD]', () => {
  it('serves an exported packet as an attachment', async () => {
    const response = await get('/downloads/packet-study-AUR-2026-12-07T07-00-00-000Z.zip');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/zip');
    expect(response.headers.get('content-disposition')).toBe(
      'attachment; filename="packet-study-AUR-2026-12-07T07-00-00-000Z.zip"',
    );
    expect(Buffer.from(await response.arrayBuffer())).toEqual(packet);
  });

  it('refuses a window without this launch token', async () => {
    expect((await get('/downloads/packet-study-AUR-2026-12-07T07-00-00-000Z.zip', null)).status).toBe(401);
    expect(
      (await get('/downloads/packet-study-AUR-2026-12-07T07-00-00-000Z.zip', 'f'.repeat(64))).status,
    ).toBe(401);
  });

  it('serves nothing but a packet file inside the exports folder', async () => {
    for (const path of [
      '/downloads/missing.zip',
      '/downloads/..%2Fsecret.zip',
      '/downloads/%2E%2E/secret.zip',
      '/downloads/link.zip',
      '/downloads/index.html',
      '/downloads/',
    ]) {
      const response = await get(path);
      expect([403, 404], path).toContain(response.status);
      expect(await response.text(), path).not.toContain('outside the exports folder');
    }
    const post = await fetch(`${host.origin}/downloads/packet-study-AUR-2026-12-07T07-00-00-000Z.zip`, {
      method: 'POST',
      headers: { Cookie: `cs_token=${host.token}` },
    });
    expect(post.status).toBe(405);
  });
});

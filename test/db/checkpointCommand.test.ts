// The checkpoint commands on the embedded demo (issue 24): the demo's QA inspector signs in and
// syncs, which cosigns the verified head and writes the day's checkpoint file; `countersign
// checkpoint --out DIR` writes one from the cache opened offline by the password; a packet exported
// from the app is consistent with it (`countersign verify --checkpoint`, exit 0), and a file changed
// after writing is refused (exit 1).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpointFile } from '../../src/main/checkpoint/checkpointFile';
import { dispatchContractCall } from '../../src/main/ipc/dispatchContractCall';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import type { Channel, RequestOf, ResponseOf } from '../../src/shared/contract';
import { freePort } from './support/freePort';

const run = promisify(execFile);

describe('countersign checkpoint and verify --checkpoint on the embedded demo [CKPT-FILE]', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-ckpt-cli-'));
  const archive = join(dataDir, 'off-site');
  let workstation: Workstation;
  const lines: string[] = [];
  let inspector: { email: string; password: string };

  async function call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
    const result = await dispatchContractCall(workstation.handlers, channel, request);
    if (!result.ok) throw result.error;
    return result.response as ResponseOf<C>;
  }

  beforeAll(async () => {
    workstation = await createWorkstation({
      dataDir,
      env: { COUNTERSIGN_PG_PORT: String(await freePort()) },
      log: (line) => lines.push(line),
    });
    await workstation.backendSettled;
    const status = await call('backend.status', {});
    const qa = status.demoUsers.find((user) => user.roles.includes('inspector'));
    if (!qa) throw new Error('the demo has no inspector');
    inspector = qa;
    expect((await call('session.signIn', { email: qa.email, password: qa.password })).ok).toBe(true);
  });
  afterAll(async () => {
    await workstation?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('cosigns on sync, writes the daily file, and the command line writes and checks one [CKPT-FILE, CKPT-DAILY, CKPT-VERIFY]', async () => {
    const synced = await call('sync.now', {});
    expect(synced.chain?.ok).toBe(true);
    expect(synced.checkpoint).toMatchObject({
      state: 'cosigned',
      treeSize: synced.chain?.verifiedThroughSeq,
    });
    const daily = readdirSync(join(dataDir, 'checkpoints'));
    expect(daily).toHaveLength(1);
    expect(readCheckpointFile(join(dataDir, 'checkpoints', daily[0] as string)).ok).toBe(true);

    const env = { ...process.env, COUNTERSIGN_PASSWORD: inspector.password };
    const written = await run(
      'npx',
      ['countersign', 'checkpoint', '--out', archive, '--data-dir', dataDir, '--email', inspector.email],
      { env },
    );
    expect(written.stdout).toMatch(/wrote .*checkpoint-\d{4}-\d{2}-\d{2}-\d+\.json/);
    expect(written.stdout).not.toContain(inspector.password);
    const [name] = readdirSync(archive);
    const file = join(archive, name as string);
    const read = readCheckpointFile(file);
    expect(read.problems).toEqual([]);
    expect(read.file?.checkpoint.treeSize).toBe(synced.chain?.verifiedThroughSeq);
    // The checkpoint's log lines carry no secret (the demo's own banner lists the demo passwords).
    const checkpointLines = lines.filter((line) => line.startsWith('countersign checkpoint'));
    expect(checkpointLines.length).toBeGreaterThan(0);
    expect(checkpointLines.join('\n')).not.toContain(inspector.password);

    // A packet exported in the app afterwards is consistent with the archived checkpoint.
    await call('sync.setOffline', { offline: true });
    const exported = await call('export.packet', { scope: { kind: 'all' } });
    const consistent = await run('npx', ['countersign', 'verify', '--checkpoint', file, exported.path]);
    expect(consistent.stdout).toMatch(/CONSISTENT/);

    // The archived file changed after it was written: refused, exit 1.
    const changed = join(archive, 'changed.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json.checkpoint.treeSize += 1;
    writeFileSync(changed, JSON.stringify(json));
    const refused = await run('npx', ['countersign', 'verify', '--checkpoint', changed, exported.path]).catch(
      (error: { code: number; stdout: string }) => error,
    );
    expect(refused).toMatchObject({
      code: 1,
      stdout: expect.stringMatching(/writer's signature does not verify/),
    });
  });
});

// The signer's whole path on the embedded demo, through the contract exactly as the renderer calls
// it (every request and response parsed by its zod schema): open reviewed records, build the
// manifest, sign with password + TOTP and a meaning, see the manifestation, promote.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchContractCall } from '../../src/main/ipc/dispatchContractCall';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import type { Channel, RequestOf, ResponseOf } from '../../src/shared/contract';
import { freePort } from './support/freePort';

describe('signing on the embedded demo, through the contract', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-signing-'));
  let workstation: Workstation;
  const lines: string[] = [];

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
  });
  afterAll(async () => {
    await workstation?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lets a demo signer review, sign with password + TOTP, see the manifestation and promote [CFR-11.50, CFR-11.200a]', async () => {
    const status = await call('backend.status', {});
    const signer = status.demoUsers.find((user) => user.roles.includes('signer') && user.hasTotp);
    if (!signer) throw new Error('the demo has no signer with TOTP');
    // The demo's start-up banner lists its public demo passwords; everything after it must not.
    const firstLine = lines.length;
    expect((await call('session.signIn', { email: signer.email, password: signer.password })).ok).toBe(true);

    const signing = await call('signing.status', {});
    expect(signing).toMatchObject({
      isSigner: true,
      totp: 'confirmed',
      locked: false,
      demoCodeAvailable: true,
    });
    expect(signing.meanings.map((m) => m.meaning)).toContain('I approve this change');

    const queue = await call('staging.queue', { states: ['proposed'], limit: 3 });
    const ids = queue.columns.id;
    expect(ids).toHaveLength(3);
    expect((await call('staging.openForReview', { stagingIds: ids })).opened).toBe(3);

    const manifest = await call('signing.manifest', { stagingIds: ids });
    expect(manifest.problems).toEqual([]);
    expect(manifest.entries.map((entry) => entry.contentHash)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^[0-9a-f]{64}$/)]),
    );

    const wrong = await call('signing.sign', {
      ceremonyId: manifest.ceremonyId,
      intent: 'approve',
      meaning: 'I approve this change',
      entries: manifest.entries,
      password: 'not my password',
      totpCode: '123456',
    });
    expect(wrong).toMatchObject({ ok: false, locked: false, retryable: true });

    const { code } = await call('demo.totpCode', {});
    if (!code) throw new Error('no demo code');
    const signed = await call('signing.sign', {
      ceremonyId: manifest.ceremonyId,
      intent: 'approve',
      meaning: 'I approve this change',
      comment: 'Matches the source document',
      entries: manifest.entries,
      password: signer.password,
      totpCode: code,
    });
    if (!signed.ok) throw new Error(signed.error);
    expect(signed.result.records.map((record) => record.state)).toEqual(['signed', 'signed', 'signed']);

    const detail = await call('staging.detail', { id: ids[0] as string });
    expect(detail.record.state).toBe('signed');
    expect(detail.signatures).toEqual([
      expect.objectContaining({
        printedName: signer.printedName,
        intent: 'approve',
        meaning: 'I approve this change',
        comment: 'Matches the source document',
        signedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        ceremonyId: manifest.ceremonyId,
      }),
    ]);

    const promoted = await call('staging.promote', { stagingIds: ids });
    expect(promoted.outcomes.map((outcome) => outcome.outcome)).toEqual(['promoted', 'promoted', 'promoted']);
    expect((await call('staging.detail', { id: ids[0] as string })).record.state).toBe('promoted');

    // Nothing secret reached the log.
    const log = lines.slice(firstLine).join('\n');
    expect(log).toMatch(/ceremony .*: 3 record\(s\) signed/);
    expect(log).not.toContain(signer.password);
    expect(log).not.toContain('not my password');
    expect(log).not.toContain(code);
  });

  it('refuses the signing channels when nobody is signed in, with a clear message', async () => {
    await call('session.signOut', {});
    const result = await dispatchContractCall(workstation.handlers, 'signing.status', {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(String(result.error.cause)).toMatch(/Sign in to sign/);
  });

  it('rejects a malformed sign request before it reaches the service', async () => {
    const result = await dispatchContractCall(workstation.handlers, 'signing.sign', {
      ceremonyId: 'not-a-uuid',
      intent: 'approve',
      meaning: '',
      entries: [{ stagingRecordId: 'x', contentHash: 'zz' }],
      password: '',
      totpCode: '1',
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.kind).toBe('invalid-request');
      expect(result.error.message).toMatch(/ceremonyId/);
    }
  });
});

// The sign-in screen's backend profile (contract channel backend.configure): choosing the Supabase
// profile points the workstation at the project, the status shows its host and never the key, and
// sign-in then goes to Supabase Auth.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatchContractCall } from '../../src/main/ipc/dispatchContractCall';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import { fakeAnonKey } from './backend/supabase/fakeSupabase';

describe('choosing the backend profile at sign-in', () => {
  let workstation: Workstation | null = null;
  let dataDir = '';
  afterEach(async () => {
    await workstation?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(log: string[]) {
    dataDir = mkdtempSync(join(tmpdir(), 'countersign-profile-'));
    workstation = await createWorkstation({
      dataDir,
      log: (line) => log.push(line),
      env: { COUNTERSIGN_BACKEND: 'postgres', COUNTERSIGN_PG_HOST: 'db.example.org' },
    });
    await workstation.backendSettled;
    return workstation;
  }

  it('switches to a Supabase project, shows its host and keeps the key out of the status and the log', async () => {
    const log: string[] = [];
    const { handlers } = await start(log);
    expect((await handlers['backend.status']({})).mode).toBe('postgres');
    const status = await handlers['backend.configure']({
      profile: 'supabase',
      url: 'http://127.0.0.1:9',
      anonKey: fakeAnonKey,
    });
    expect(status).toMatchObject({
      mode: 'supabase',
      state: 'ready',
      endpoint: '127.0.0.1:9',
      session: null,
    });
    expect(JSON.stringify(status)).not.toContain(fakeAnonKey);
    expect(log.join('\n')).not.toContain(fakeAnonKey);
    expect(log.join('\n')).toMatch(/Supabase project 127\.0\.0\.1:9/);

    // Sign-in now goes to Supabase Auth (nothing listens here), and the password is in no log line.
    const signIn = await handlers['session.signIn']({
      email: 'sam@example.test',
      password: 'secret-password-123',
      totpCode: '123456',
    });
    expect(signIn).toEqual({ ok: false, error: expect.stringMatching(/cannot be reached/) });
    expect(log.join('\n')).not.toMatch(/secret-password-123|123456/);
  });

  it('refuses invalid settings with a message for the person who typed them', async () => {
    const { handlers } = await start([]);
    const result = await dispatchContractCall(handlers, 'backend.configure', {
      profile: 'supabase',
      url: 'http://abcdefgh.supabase.co',
      anonKey: fakeAnonKey,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/https/);
    expect((await handlers['backend.status']({})).mode).toBe('postgres');
  });
});

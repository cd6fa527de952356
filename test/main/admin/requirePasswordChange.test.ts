// Requiring a password change from the Administration screen (issue 21, V4): refused offline before
// anything is sent, and refused in hosted mode, where Supabase Auth owns the passwords.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guardServerWrites } from '../../../src/main/serverWriteGuard';
import { createWorkstation } from '../../../src/main/workstation';
import { fakeAnonKey } from '../backend/supabase/fakeSupabase';
import { fakeHandlers, type RecordedCall } from '../fakeHandlers';

const userId = '0b6c3b9e-3f5a-4b8e-9a57-5d2f0f1d2c3a';

describe('requiring a password change from the workstation [ACCOUNT-FORCED-CHANGE]', () => {
  it('is refused while working offline, and nothing is sent', async () => {
    const calls: RecordedCall[] = [];
    const handlers = guardServerWrites(fakeHandlers(calls), {
      workOffline: () => true,
      connectionLost: () => false,
      reconnect: async () => false,
      noteConnectionLost: () => undefined,
    });
    await expect(
      handlers['admin.requirePasswordChange']({ userId, reason: 'Password seen by a visitor' }),
    ).rejects.toThrow(/working offline: requiring a password change needs the server, and nothing was sent/);
    expect(calls).toEqual([]);
  });

  it('is refused in hosted mode with a message that says where passwords are managed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'countersign-hosted-password-'));
    const workstation = await createWorkstation({
      dataDir,
      log: () => undefined,
      env: { COUNTERSIGN_BACKEND: 'postgres', COUNTERSIGN_PG_HOST: 'db.example.org' },
    });
    try {
      await workstation.backendSettled;
      await workstation.handlers['backend.configure']({
        profile: 'supabase',
        url: 'http://127.0.0.1:9',
        anonKey: fakeAnonKey,
      });
      await expect(
        workstation.handlers['admin.requirePasswordChange']({ userId, reason: 'Password seen by a visitor' }),
      ).rejects.toThrow(/hosted mode Supabase Auth owns the passwords.*Supabase dashboard/);
    } finally {
      await workstation.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

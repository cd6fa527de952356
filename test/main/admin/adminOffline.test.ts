// Offline means no server writes (ARCHITECTURE): the Administration screen's alerts, reviews and
// unlocks are refused while the person works offline, before anything is sent.
import { describe, expect, it } from 'vitest';
import { guardServerWrites } from '../../../src/main/serverWriteGuard';
import { fakeHandlers, type RecordedCall } from '../fakeHandlers';

describe('administration offline [ADMIN-UNLOCK, ADMIN-ALERTS]', () => {
  it('refuses the alerts, their review and the unlock while working offline, and sends nothing', async () => {
    const calls: RecordedCall[] = [];
    const handlers = guardServerWrites(fakeHandlers(calls), {
      workOffline: () => true,
      connectionLost: () => false,
      reconnect: async () => false,
      noteConnectionLost: () => undefined,
    });
    const userId = '0b6c3b9e-3f5a-4b8e-9a57-5d2f0f1d2c3a';
    await expect(handlers['admin.alerts']({})).rejects.toThrow(
      /working offline: reading the security alerts/,
    );
    await expect(
      handlers['admin.reviewAlert']({ alertId: userId, decision: 'closed', reason: 'done' }),
    ).rejects.toThrow(/working offline: reviewing a security alert needs the server/);
    await expect(
      handlers['admin.unlock']({
        userId,
        lockKind: 'signing',
        reason: 'checked',
        password: 'secret',
        totpCode: '123456',
      }),
    ).rejects.toThrow(/working offline: unlocking an account needs the server, and nothing was sent/);
    expect(calls).toEqual([]);
  });
});

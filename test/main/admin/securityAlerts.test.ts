// The unlock as the main process runs it: the administrator's password and code are proved through
// the signers' re-authentication first, and only a verified ceremony is spent on the unlock.
import { describe, expect, it } from 'vitest';
import {
  type SecurityAlertsBackend,
  type UnlockRequest,
  unlockAccount,
} from '../../../src/main/admin/securityAlerts';
import type { ReauthOutcome, SigningBackend } from '../../../src/main/signing/signingBackend';

const request: UnlockRequest = {
  userId: '0b6c3b9e-3f5a-4b8e-9a57-5d2f0f1d2c3a',
  lockKind: 'signing',
  reason: '  Confirmed by phone  ',
  password: 'Admin-Harbour-2025',
  totpCode: '123456',
};

function fakes(outcome: ReauthOutcome) {
  const reauthenticated: string[] = [];
  const unlocked: { userId: string; lockKind: string; reason: string; ceremonyId: string }[] = [];
  const signing = {
    reauthenticate: async (ceremonyId: string) => {
      reauthenticated.push(ceremonyId);
      return outcome;
    },
  } as unknown as SigningBackend;
  const alerts: SecurityAlertsBackend = {
    list: async () => [],
    review: async () => undefined,
    unlock: async (userId, lockKind, reason, ceremonyId) => {
      unlocked.push({ userId, lockKind, reason, ceremonyId });
    },
  };
  return { signing, alerts, reauthenticated, unlocked };
}

describe('unlocking from the workstation [ADMIN-UNLOCK]', () => {
  it('spends the verified re-authentication of its own ceremony on the unlock, with the trimmed reason', async () => {
    const world = fakes({ ok: true, reAuthAt: '2026-12-07T10:00:00.000Z' });
    const lines: string[] = [];
    expect(await unlockAccount(world.signing, world.alerts, request, (line) => lines.push(line))).toEqual({
      ok: true,
    });
    expect(world.unlocked).toEqual([
      {
        userId: request.userId,
        lockKind: 'signing',
        reason: 'Confirmed by phone',
        ceremonyId: world.reauthenticated[0],
      },
    ]);
    expect(lines.join('\n')).not.toContain(request.password);
  });

  it('unlocks nothing when the password or code is refused, and says which field', async () => {
    const world = fakes({ ok: false, reason: 'wrong_password', locked: false, attemptsLeft: 3 });
    const outcome = await unlockAccount(world.signing, world.alerts, request, () => undefined);
    expect(outcome).toMatchObject({ ok: false, field: 'password', locked: false });
    expect(outcome.ok ? '' : outcome.error).toMatch(
      /Wrong password\. 3 attempts left before your account is locked/,
    );
    expect(world.unlocked).toEqual([]);
  });

  it('asks for a reason and a 6-digit code before the server sees anything', async () => {
    const world = fakes({ ok: true, reAuthAt: '2026-12-07T10:00:00.000Z' });
    await expect(
      unlockAccount(world.signing, world.alerts, { ...request, reason: ' ' }, () => undefined),
    ).rejects.toThrow(/Say why/);
    expect(
      await unlockAccount(world.signing, world.alerts, { ...request, totpCode: '12' }, () => undefined),
    ).toMatchObject({ ok: false, field: 'code' });
    expect(world.reauthenticated).toEqual([]);
  });
});

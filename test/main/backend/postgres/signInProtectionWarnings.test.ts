// The workstation warns, in sentences a person can act on, where a PostgreSQL server of the
// customer's own lacks the sign-in protections the embedded server has (issue 17).
import { describe, expect, it } from 'vitest';
import {
  type SignInProtection,
  signInProtectionWarnings,
} from '../../../../src/main/backend/postgres/signInProtectionWarnings';

const now = new Date('2026-12-07T12:00:00Z');
const protectedServer: SignInProtection = {
  auth_delay_ms: 500,
  lock_threshold: 5,
  login_trigger: true,
  password_fingerprints: true,
  guard_seen_at: '2026-12-07T11:59:58.100Z',
  other_databases_open: [],
};

describe('sign-in protection warnings [SEC-SIGN-IN-LOCK]', () => {
  it('says nothing about a server protected as the embedded one is', () => {
    expect(signInProtectionWarnings(protectedServer, now)).toEqual([]);
  });

  it('names each missing protection and where to read how to add it', () => {
    const warnings = signInProtectionWarnings(
      {
        auth_delay_ms: null,
        lock_threshold: 5,
        login_trigger: false,
        password_fingerprints: false,
        guard_seen_at: '2026-12-07T11:40:00.000Z',
        other_databases_open: ['postgres', 'template1'],
      },
      now,
    );
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toMatch(/does not delay failed sign-ins/);
    expect(warnings[1]).toMatch(/No Countersign sign-in guard/);
    expect(warnings[2]).toMatch(/password changed outside Countersign/);
    expect(warnings[3]).toMatch(/other databases on this server \(postgres, template1\)/);
    for (const warning of warnings) expect(warning).toMatch(/docs\/security\.md/);
  });

  it('treats a guard that has not reported for ten minutes as absent', () => {
    expect(signInProtectionWarnings({ ...protectedServer, guard_seen_at: null }, now)).toHaveLength(1);
    expect(
      signInProtectionWarnings({ ...protectedServer, guard_seen_at: '2026-12-07T11:51:00.000Z' }, now),
    ).toEqual([]);
  });
});

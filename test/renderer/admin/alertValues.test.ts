// The alerts list's filters and grouping: what the Administration screen shows of the server's alerts.
import { describe, expect, it } from 'vitest';
import {
  alertsByLock,
  defaultAlertFilters,
  filterAlerts,
  workstationText,
} from '../../../src/renderer/src/admin/alertValues';
import type { SecurityAlert } from '../../../src/shared/contract';

const alert = (overrides: Partial<SecurityAlert>): SecurityAlert => ({
  id: crypto.randomUUID(),
  kind: 'signing_locked',
  raisedAt: '2026-12-07T10:00:00.000Z',
  userId: crypto.randomUUID(),
  printedName: 'Dr. Henrik Lindqvist',
  failedAttempts: 5,
  clientAddr: '127.0.0.1',
  applicationName: 'countersign-signing',
  lockKind: 'signing',
  stillLocked: true,
  state: 'open',
  decidedByName: null,
  decidedAt: null,
  decisionReason: null,
  ...overrides,
});

describe('the alerts list [ADMIN-ALERTS]', () => {
  const open = alert({});
  const acknowledged = alert({ state: 'acknowledged', stillLocked: false, printedName: 'Dr. Miriam Okafor' });
  const closed = alert({ state: 'closed', stillLocked: false });
  const signIn = alert({ kind: 'sign_in_locked', lockKind: 'sign_in', applicationName: null });
  const other = alert({
    kind: 'recovery_code_used',
    lockKind: null,
    stillLocked: false,
    failedAttempts: null,
  });
  const all = [open, acknowledged, closed, signIn, other];

  it('shows what is not closed by default, and each state or everything when asked', () => {
    expect(filterAlerts(all, defaultAlertFilters)).toEqual([open, acknowledged, signIn, other]);
    expect(filterAlerts(all, { ...defaultAlertFilters, state: 'closed' })).toEqual([closed]);
    expect(filterAlerts(all, { ...defaultAlertFilters, state: 'acknowledged' })).toEqual([acknowledged]);
    expect(filterAlerts(all, { ...defaultAlertFilters, state: 'all' })).toHaveLength(5);
  });

  it('filters by a lock still in force and by part of the name', () => {
    expect(filterAlerts(all, { ...defaultAlertFilters, lockedOnly: true })).toEqual([open, signIn]);
    expect(filterAlerts(all, { ...defaultAlertFilters, person: ' okafor' })).toEqual([acknowledged]);
  });

  it('puts signing and sign-in lockouts side by side, and the rest apart', () => {
    expect(alertsByLock(all)).toEqual({
      signing: [open, acknowledged, closed],
      signIn: [signIn],
      other: [other],
    });
  });

  it('says where the failures came from, or that it was not recorded', () => {
    expect(workstationText(open)).toBe('127.0.0.1 · countersign-signing');
    expect(workstationText(signIn)).toBe('127.0.0.1');
    expect(workstationText(alert({ clientAddr: null, applicationName: null }))).toBe('not recorded');
  });
});

// What the alerts list shows and filters by: pure functions of the alerts the server returned.
import type { SecurityAlert } from '../../../shared/contract';

export type AlertStateFilter = 'unclosed' | 'open' | 'acknowledged' | 'closed' | 'all';

export interface AlertFilters {
  state: AlertStateFilter;
  /** Only alerts whose lock is still in force. */
  lockedOnly: boolean;
  /** Part of the person's name (case-insensitive); empty: everyone. */
  person: string;
}

export const defaultAlertFilters: AlertFilters = { state: 'unclosed', lockedOnly: false, person: '' };

export function filterAlerts(alerts: readonly SecurityAlert[], filters: AlertFilters): SecurityAlert[] {
  const person = filters.person.trim().toLowerCase();
  return alerts.filter(
    (alert) =>
      (filters.state === 'all' ||
        (filters.state === 'unclosed' ? alert.state !== 'closed' : alert.state === filters.state)) &&
      (!filters.lockedOnly || alert.stillLocked) &&
      (person === '' || (alert.printedName ?? '').toLowerCase().includes(person)),
  );
}

/** The alerts of each lock, side by side, and those that lock nothing. */
export function alertsByLock(alerts: readonly SecurityAlert[]) {
  return {
    signing: alerts.filter((alert) => alert.lockKind === 'signing'),
    signIn: alerts.filter((alert) => alert.lockKind === 'sign_in'),
    other: alerts.filter((alert) => alert.lockKind === null),
  };
}

const kindLabels: Record<string, string> = {
  signing_locked: 'Signing locked after failed re-authentications',
  sign_in_locked: 'Sign-in locked after failed sign-ins',
  password_changed_outside: 'Password changed outside Countersign',
};

export function alertKindLabel(kind: string): string {
  return kindLabels[kind] ?? kind.replaceAll('_', ' ');
}

/** Where the failures came from, as the server recorded it; older alerts have nothing. */
export function workstationText(alert: SecurityAlert): string {
  const parts = [alert.clientAddr, alert.applicationName].filter((part): part is string => !!part);
  return parts.length > 0 ? parts.join(' · ') : 'not recorded';
}

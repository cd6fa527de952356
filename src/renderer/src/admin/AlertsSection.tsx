// The security alerts the lockouts raise (21 CFR 11.300(d)): signing and sign-in lockouts side by
// side, each with who, when, how many failures and from which workstation, its review state and
// whether the lock still holds; filters by state, lock and person; acknowledge, close and unlock,
// each in its dialog with a reason. Read from the server (alerts are not cached): offline the
// section says so, and the main process refuses the calls anyway.
import { useCallback, useEffect, useState } from 'react';
import type { SecurityAlert } from '../../../shared/contract';
import { api } from '../common/api';
import { OfflineWriteNotice } from '../common/OfflineWriteNotice';
import { Timestamp } from '../common/Timestamp';
import { useAction } from '../common/useAction';
import { visibleText } from '../common/visibleText';
import { AlertReviewDialog } from './AlertReviewDialog';
import {
  type AlertFilters,
  type AlertStateFilter,
  alertKindLabel,
  alertsByLock,
  defaultAlertFilters,
  filterAlerts,
  workstationText,
} from './alertValues';
import { UnlockDialog } from './UnlockDialog';

type OpenDialog =
  | { kind: 'review'; alert: SecurityAlert; decision: 'acknowledged' | 'closed' }
  | { kind: 'unlock'; alert: SecurityAlert & { userId: string; lockKind: 'signing' | 'sign_in' } }
  | null;

const stateOptions: { value: AlertStateFilter; label: string }[] = [
  { value: 'unclosed', label: 'Open and acknowledged' },
  { value: 'open', label: 'Open' },
  { value: 'acknowledged', label: 'Acknowledged' },
  { value: 'closed', label: 'Closed' },
  { value: 'all', label: 'All' },
];

export function AlertsSection() {
  const { error, run } = useAction();
  const [alerts, setAlerts] = useState<SecurityAlert[] | null>(null);
  const [filters, setFilters] = useState<AlertFilters>(defaultAlertFilters);
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const [ownUserId, setOwnUserId] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(async () => {
    const next = await run(() => api['admin.alerts']({}));
    if (next) setAlerts(next.alerts);
  }, [run]);

  useEffect(() => {
    void load();
    void api['backend.status']({}).then((status) => setOwnUserId(status.session?.userId ?? null));
  }, [load]);

  const shown = alertsByLock(filterAlerts(alerts ?? [], filters));
  const closeDialog = (changed: boolean, message: string) => {
    setDialog(null);
    if (changed) {
      setNotice(message);
      void load();
    }
  };

  return (
    <section aria-labelledby="admin-alerts-heading" className="admin-alerts">
      <h2 id="admin-alerts-heading">Security alerts</h2>
      <OfflineWriteNotice actions="reading and reviewing alerts and unlocking" />
      <form
        className="admin-alert-filters"
        aria-label="Filter the alerts"
        onSubmit={(event) => event.preventDefault()}
      >
        <label className="inline-field">
          State{' '}
          <select
            value={filters.state}
            onChange={(event) => setFilters({ ...filters, state: event.target.value as AlertStateFilter })}
          >
            {stateOptions.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
        <label className="inline-field">
          <input
            type="checkbox"
            checked={filters.lockedOnly}
            onChange={(event) => setFilters({ ...filters, lockedOnly: event.target.checked })}
          />{' '}
          Still locked only
        </label>
        <label className="inline-field">
          Person{' '}
          <input
            type="search"
            value={filters.person}
            placeholder="name"
            onChange={(event) => setFilters({ ...filters, person: event.target.value })}
          />
        </label>
        <button type="button" className="button" onClick={() => void load()}>
          Refresh
        </button>
      </form>
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {notice !== null && (
        <p className="notice notice-success" role="status">
          {notice}
        </p>
      )}
      {alerts === null ? (
        error === null && <p className="muted">Reading the alerts…</p>
      ) : (
        <div className="admin-alert-columns">
          <AlertTable
            id="signing"
            title="Signing lockouts"
            alerts={shown.signing}
            ownUserId={ownUserId}
            onOpen={setDialog}
          />
          <AlertTable
            id="sign-in"
            title="Sign-in lockouts"
            alerts={shown.signIn}
            ownUserId={ownUserId}
            onOpen={setDialog}
          />
          {shown.other.length > 0 && (
            <AlertTable
              id="other"
              title="Other alerts"
              alerts={shown.other}
              ownUserId={ownUserId}
              onOpen={setDialog}
            />
          )}
        </div>
      )}
      {dialog?.kind === 'review' && (
        <AlertReviewDialog
          alert={dialog.alert}
          decision={dialog.decision}
          onClose={(changed) =>
            closeDialog(changed, `The alert was ${dialog.decision}; the reason is in the audit trail.`)
          }
        />
      )}
      {dialog?.kind === 'unlock' && (
        <UnlockDialog
          alert={dialog.alert}
          onClose={(unlocked) =>
            closeDialog(
              unlocked,
              `${dialog.alert.printedName ?? 'The person'} is unlocked for ${dialog.alert.lockKind === 'signing' ? 'signing' : 'sign-in'}. Close the alert when it is dealt with.`,
            )
          }
        />
      )}
    </section>
  );
}

interface AlertTableProps {
  id: string;
  title: string;
  alerts: SecurityAlert[];
  ownUserId: string | null;
  onOpen: (dialog: OpenDialog) => void;
}

function AlertTable({ id, title, alerts, ownUserId, onOpen }: AlertTableProps) {
  return (
    <section aria-labelledby={`alerts-${id}-heading`}>
      <h3 id={`alerts-${id}-heading`}>
        {title} <span className="muted">({alerts.length})</span>
      </h3>
      {alerts.length === 0 ? (
        <p className="muted">No alerts match the filters.</p>
      ) : (
        <div className="table-scroll">
          <table className="table admin-alert-table">
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Raised</th>
                <th scope="col">Failures</th>
                <th scope="col">Workstation</th>
                <th scope="col">State</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {alerts.map((alert) => {
                const userId = alert.userId;
                const lockKind = alert.lockKind;
                const person = visibleText(alert.printedName ?? 'unknown person');
                return (
                  <tr key={alert.id}>
                    <th scope="row" title={alertKindLabel(alert.kind)}>
                      {person}
                      {alert.stillLocked && <span className="badge badge-warning"> locked</span>}
                    </th>
                    <td>
                      <Timestamp iso={alert.raisedAt} />
                    </td>
                    <td>{alert.failedAttempts ?? '—'}</td>
                    <td>{visibleText(workstationText(alert))}</td>
                    <td title={alert.decisionReason ? visibleText(alert.decisionReason) : undefined}>
                      {alert.state}
                      {alert.decidedByName !== null && (
                        <span className="muted"> by {visibleText(alert.decidedByName)}</span>
                      )}
                    </td>
                    <td>
                      <div className="admin-alert-actions">
                        {alert.state === 'open' && (
                          <button
                            type="button"
                            className="button"
                            aria-label={`Acknowledge the alert about ${person}`}
                            onClick={() => onOpen({ kind: 'review', alert, decision: 'acknowledged' })}
                          >
                            Acknowledge
                          </button>
                        )}
                        {alert.state !== 'closed' && (
                          <button
                            type="button"
                            className="button"
                            aria-label={`Close the alert about ${person}`}
                            onClick={() => onOpen({ kind: 'review', alert, decision: 'closed' })}
                          >
                            Close
                          </button>
                        )}
                        {alert.stillLocked &&
                          userId !== null &&
                          lockKind !== null &&
                          userId !== ownUserId && (
                            <button
                              type="button"
                              className="button button-primary"
                              aria-label={`Unlock ${person}`}
                              onClick={() =>
                                onOpen({ kind: 'unlock', alert: { ...alert, userId, lockKind } })
                              }
                            >
                              Unlock
                            </button>
                          )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

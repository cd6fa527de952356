// Role changes (grant, revoke, reactivation) waiting for a second administrator, and those already
// decided. Your own requests are shown but cannot be approved by you: the server refuses it too.
import { useCallback, useEffect, useState } from 'react';
import type { AdminPerson, RoleChangeRequestRow } from '../../../shared/contract';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';
import { visibleText } from '../common/visibleText';
import { RoleDecisionDialog } from './RoleDecisionDialog';

interface Loaded {
  requests: RoleChangeRequestRow[];
  names: Map<string, string>;
  studyCodes: Map<string, string>;
  me: string | null;
}

function describe(request: RoleChangeRequestRow, loaded: Loaded): string {
  const who = loaded.names.get(request.userId) ?? request.userId;
  if (request.change === 'reactivate') return `Reactivate ${who}`;
  const study = request.studyId ? (loaded.studyCodes.get(request.studyId) ?? request.studyId) : 'every study';
  return `${request.change === 'grant' ? 'Grant' : 'Revoke'} ${request.role} (${study}) ${
    request.change === 'grant' ? 'to' : 'from'
  } ${who}`;
}

const when = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

export function RoleRequestsSection() {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [deciding, setDeciding] = useState<{ request: RoleChangeRequestRow; approve: boolean } | null>(null);

  const load = useCallback(async () => {
    try {
      const [requests, people, status] = await Promise.all([
        api['admin.roleRequests']({}),
        api['admin.people']({}),
        api['backend.status']({}),
      ]);
      const names = new Map(people.people.map((p: AdminPerson) => [p.userId, p.printedName || p.email]));
      const studyCodes = new Map<string, string>();
      for (const person of people.people) {
        for (const grant of person.roles) {
          if (grant.studyId && grant.studyCode) studyCodes.set(grant.studyId, grant.studyCode);
        }
      }
      setLoaded({ requests: requests.requests, names, studyCodes, me: status.session?.userId ?? null });
      setError(null);
    } catch (caught) {
      setError(messageOf(caught));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const pending = loaded?.requests.filter((request) => request.status === 'pending') ?? [];
  const decided = loaded?.requests.filter((request) => request.status !== 'pending') ?? [];

  return (
    <section aria-labelledby="admin-requests-heading">
      <h2 id="admin-requests-heading">Role-change requests</h2>
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {loaded === null && error === null && <p className="muted">Loading…</p>}
      {loaded !== null && (
        <>
          <h3>Waiting for a second administrator</h3>
          {pending.length === 0 && <p className="muted">No role change is waiting.</p>}
          <ul className="admin-request-list">
            {pending.map((request) => {
              const mine = request.requestedBy === loaded.me;
              const summary = visibleText(describe(request, loaded));
              return (
                <li key={request.id} className="admin-request">
                  <div>
                    <strong>{summary}</strong>
                    <div className="muted">
                      Requested by {visibleText(loaded.names.get(request.requestedBy) ?? request.requestedBy)}
                      , {when(request.requestedAt)}: “{visibleText(request.reason)}”
                    </div>
                  </div>
                  {mine ? (
                    <p className="muted">Your request: another administrator decides it.</p>
                  ) : (
                    <div className="admin-row-actions">
                      <button
                        type="button"
                        className="button button-primary"
                        aria-label={`Approve: ${summary}`}
                        onClick={() => setDeciding({ request, approve: true })}
                      >
                        Approve…
                      </button>
                      <button
                        type="button"
                        className="button button-quiet"
                        aria-label={`Refuse: ${summary}`}
                        onClick={() => setDeciding({ request, approve: false })}
                      >
                        Refuse…
                      </button>
                    </div>
                  )}
                </li>
              );
            })}
          </ul>
          <h3>Decided</h3>
          {decided.length === 0 && <p className="muted">None yet.</p>}
          <ul className="admin-request-list">
            {decided.map((request) => (
              <li key={request.id} className="admin-request">
                <div>
                  {visibleText(describe(request, loaded))}: <strong>{request.status}</strong> by{' '}
                  {visibleText(loaded.names.get(request.decidedBy ?? '') ?? request.decidedBy ?? '')}
                  {request.decidedAt && `, ${when(request.decidedAt)}`}
                  {request.decisionReason && <>: “{visibleText(request.decisionReason)}”</>}
                </div>
              </li>
            ))}
          </ul>
        </>
      )}
      {deciding !== null && loaded !== null && (
        <RoleDecisionDialog
          request={deciding.request}
          approve={deciding.approve}
          summary={visibleText(describe(deciding.request, loaded))}
          onClose={(changed) => {
            setDeciding(null);
            if (changed) void load();
          }}
        />
      )}
    </section>
  );
}

// The people who use Countersign, with their roles, studies, sites, TOTP enrolment, locks and
// whether they are active or owe a password change, read from the server (admins only, migration 0057); each row's actions
// open a dialog that asks for the reason the server records.
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { AdminPerson } from '../../../shared/contract';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';
import { visibleText } from '../common/visibleText';
import { type PersonAction, PersonActionDialog, type StudyChoice } from './PersonActionDialog';

const roleLabel = (grant: AdminPerson['roles'][number]) =>
  `${grant.role} (${grant.studyCode ?? 'every study'})`;

/** The studies the people's roles name: the choices of the role-change dialog. */
function studiesOf(people: AdminPerson[]): StudyChoice[] {
  const byId = new Map<string, string>();
  for (const person of people) {
    for (const grant of person.roles) {
      if (grant.studyId && grant.studyCode) byId.set(grant.studyId, grant.studyCode);
    }
  }
  return [...byId].map(([id, code]) => ({ id, code })).sort((a, b) => a.code.localeCompare(b.code));
}

export function PeopleSection() {
  const [people, setPeople] = useState<AdminPerson[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [open, setOpen] = useState<{ person: AdminPerson; action: PersonAction } | null>(null);
  // Who is signed in (no password demand on oneself) and whether passwords are Supabase Auth's.
  const [self, setSelf] = useState<{ userId: string | null; hosted: boolean }>({
    userId: null,
    hosted: true,
  });

  const load = useCallback(async () => {
    try {
      setPeople((await api['admin.people']({})).people);
      setError(null);
    } catch (caught) {
      setError(messageOf(caught));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    void api['backend.status']({}).then(
      (status) => setSelf({ userId: status.session?.userId ?? null, hosted: status.mode === 'supabase' }),
      () => undefined,
    );
  }, []);

  const studies = useMemo(() => studiesOf(people ?? []), [people]);

  const closed = (changed: boolean) => {
    const action = open?.action;
    setOpen(null);
    if (!changed) return;
    setNotice(
      action === 'role' || action === 'reactivate'
        ? 'Request recorded: another administrator approves or refuses it under Role-change requests.'
        : action === 'requirePasswordChange'
          ? 'Password change required: they choose a new password at their next sign-in.'
          : 'Saved and recorded in the audit trail.',
    );
    void load();
  };

  return (
    <section aria-labelledby="admin-people-heading">
      <h2 id="admin-people-heading">People</h2>
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {notice !== null && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {people === null && error === null && <p className="muted">Loading…</p>}
      {people !== null && (
        <div className="admin-people-table-wrap">
          <table className="admin-people-table">
            <caption className="visually-hidden">People, their access and their state</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Roles (study)</th>
                <th scope="col">Sites</th>
                <th scope="col">TOTP</th>
                <th scope="col">Locked</th>
                <th scope="col">Active</th>
                <th scope="col">Password</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {people.map((person) => {
                const name = visibleText(person.printedName || person.email);
                const locks = [person.signInLocked && 'sign-in', person.signingLocked && 'signing'].filter(
                  Boolean,
                );
                return (
                  <tr key={person.userId} className={person.active ? undefined : 'is-inactive'}>
                    <th scope="row">
                      {name}
                      <div className="muted">{visibleText(person.email)}</div>
                    </th>
                    <td>{person.roles.map(roleLabel).join(', ') || '—'}</td>
                    <td>
                      {person.sites.map((site) => `${site.kind} ${visibleText(site.siteId)}`).join(', ') ||
                        '—'}
                    </td>
                    <td>{person.totpEnrolled ? 'enrolled' : 'no'}</td>
                    <td>{locks.length > 0 ? locks.join(', ') : 'no'}</td>
                    <td>{person.active ? 'active' : 'deactivated'}</td>
                    <td>{person.passwordChangeRequired ? 'change required' : '—'}</td>
                    <td>
                      <div className="admin-row-actions">
                        {person.active ? (
                          <>
                            <button
                              type="button"
                              className="button button-quiet"
                              aria-label={`Request a role change for ${name}`}
                              onClick={() => setOpen({ person, action: 'role' })}
                            >
                              Role…
                            </button>
                            <button
                              type="button"
                              className="button button-quiet"
                              aria-label={`Assign ${name} to a site`}
                              onClick={() => setOpen({ person, action: 'assign' })}
                            >
                              Assign…
                            </button>
                            {person.sites.length > 0 && (
                              <button
                                type="button"
                                className="button button-quiet"
                                aria-label={`Unassign ${name} from a site`}
                                onClick={() => setOpen({ person, action: 'unassign' })}
                              >
                                Unassign…
                              </button>
                            )}
                            {!self.hosted &&
                              self.userId !== null &&
                              person.userId !== self.userId &&
                              !person.passwordChangeRequired && (
                                <button
                                  type="button"
                                  className="button button-quiet"
                                  aria-label={`Require a password change for ${name}`}
                                  onClick={() => setOpen({ person, action: 'requirePasswordChange' })}
                                >
                                  Password change…
                                </button>
                              )}
                            <button
                              type="button"
                              className="button button-quiet"
                              aria-label={`Deactivate ${name}`}
                              onClick={() => setOpen({ person, action: 'deactivate' })}
                            >
                              Deactivate…
                            </button>
                          </>
                        ) : (
                          <button
                            type="button"
                            className="button button-quiet"
                            aria-label={`Reactivate ${name} (a request for a second administrator)`}
                            onClick={() => setOpen({ person, action: 'reactivate' })}
                          >
                            Reactivate…
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
      {open !== null && (
        <PersonActionDialog person={open.person} action={open.action} studies={studies} onClose={closed} />
      )}
    </section>
  );
}

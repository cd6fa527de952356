// One administrator action on a person, each with the reason the server requires and records in the
// audit trail: request a role change (applied only when another administrator approves it), assign
// or unassign a site, deactivate, require a password change at the next sign-in. A modal <dialog>: Escape cancels, nothing changes.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import type { AdminPerson } from '../../../shared/contract';
import { type AppRole, appRoles } from '../../../shared/domain';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';
import { visibleText } from '../common/visibleText';

export type PersonAction =
  | 'role'
  | 'assign'
  | 'unassign'
  | 'deactivate'
  | 'reactivate'
  | 'requirePasswordChange';

export interface StudyChoice {
  id: string;
  code: string;
}

export interface PersonActionDialogProps {
  person: AdminPerson;
  action: PersonAction;
  studies: StudyChoice[];
  onClose: (changed: boolean) => void;
}

const titles: Record<PersonAction, string> = {
  role: 'Request a role change',
  assign: 'Assign to a site',
  unassign: 'Remove a site assignment',
  deactivate: 'Deactivate the account',
  reactivate: 'Request reactivation',
  requirePasswordChange: 'Require a password change',
};

const submitLabels: Record<PersonAction, string> = {
  role: 'Request',
  assign: 'Assign',
  unassign: 'Remove',
  deactivate: 'Deactivate',
  reactivate: 'Request',
  requirePasswordChange: 'Require change',
};

type SiteKind = 'patient' | 'investigator' | 'analyst';

export function PersonActionDialog({ person, action, studies, onClose }: PersonActionDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [change, setChange] = useState<'grant' | 'revoke'>('grant');
  const [role, setRole] = useState<AppRole>('monitor');
  const [studyId, setStudyId] = useState<string>('');
  const [kind, setKind] = useState<SiteKind>('investigator');
  const [siteId, setSiteId] = useState('');
  const [subjectCode, setSubjectCode] = useState('');
  const [assignment, setAssignment] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const finish = (changed: boolean) => {
    dialog.current?.close();
    onClose(changed);
  };

  const send = async () => {
    const userId = person.userId;
    if (action === 'role') {
      await api['admin.requestRoleChange']({ userId, change, role, studyId: studyId || null, reason });
    } else if (action === 'reactivate') {
      await api['admin.requestRoleChange']({
        userId,
        change: 'reactivate',
        role: null,
        studyId: null,
        reason,
      });
    } else if (action === 'assign') {
      await api['admin.assignSite']({
        userId,
        kind,
        siteId,
        reason,
        subjectCode: kind === 'patient' ? subjectCode : null,
      });
    } else if (action === 'unassign') {
      const site = person.sites[assignment];
      if (!site) throw new Error('Choose the assignment to remove.');
      await api['admin.unassignSite']({ userId, kind: site.kind as SiteKind, siteId: site.siteId, reason });
    } else if (action === 'requirePasswordChange') {
      await api['admin.requirePasswordChange']({ userId, reason });
    } else {
      await api['admin.deactivate']({ userId, reason });
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!reason.trim()) {
      setError('Say why: the reason is recorded in the audit trail.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await send();
      finish(true);
    } catch (caught) {
      setError(messageOf(caught));
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      className="sign-dialog admin-dialog"
      aria-labelledby="person-action-heading"
      onCancel={(event) => {
        event.preventDefault();
        finish(false);
      }}
    >
      <h2 id="person-action-heading">{titles[action]}</h2>
      <p>
        <strong>{visibleText(person.printedName || person.email)}</strong> ({visibleText(person.email)})
      </p>
      {(action === 'role' || action === 'reactivate') && (
        <p className="muted">Another administrator must approve the request before it takes effect.</p>
      )}
      {action === 'deactivate' && (
        <p className="muted">
          Their sign-in is refused at once and their open sessions end; their history stays. Reactivation
          needs a second administrator's approval.
        </p>
      )}
      {action === 'requirePasswordChange' && (
        <p className="muted">
          At their next sign-in they must choose a new password before anything else; their open sessions are
          refused all other work at once.
        </p>
      )}
      <form onSubmit={(event) => void submit(event)}>
        {action === 'role' && (
          <>
            <div className="field">
              <label htmlFor="person-action-change">Change</label>
              <select
                id="person-action-change"
                value={change}
                onChange={(event) => setChange(event.target.value as 'grant' | 'revoke')}
              >
                <option value="grant">Grant a role</option>
                <option value="revoke">Revoke a role</option>
              </select>
            </div>
            <div className="field">
              <label htmlFor="person-action-role">Role</label>
              <select
                id="person-action-role"
                value={role}
                onChange={(event) => setRole(event.target.value as AppRole)}
              >
                {appRoles.map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="person-action-study">Study</label>
              <select
                id="person-action-study"
                value={studyId}
                onChange={(event) => setStudyId(event.target.value)}
              >
                <option value="">Every study</option>
                {studies.map((study) => (
                  <option key={study.id} value={study.id}>
                    {visibleText(study.code)}
                  </option>
                ))}
              </select>
            </div>
          </>
        )}
        {action === 'assign' && (
          <>
            <div className="field">
              <label htmlFor="person-action-kind">As</label>
              <select
                id="person-action-kind"
                value={kind}
                onChange={(event) => setKind(event.target.value as SiteKind)}
              >
                <option value="investigator">Investigator</option>
                <option value="analyst">Analyst</option>
                <option value="patient">Patient (enrolment)</option>
              </select>
            </div>
            <div className="field">
              <label htmlFor="person-action-site">Site id</label>
              <input
                id="person-action-site"
                value={siteId}
                maxLength={64}
                onChange={(event) => setSiteId(event.target.value)}
                required
              />
            </div>
            {kind === 'patient' && (
              <div className="field">
                <label htmlFor="person-action-subject">Subject code</label>
                <input
                  id="person-action-subject"
                  value={subjectCode}
                  maxLength={64}
                  onChange={(event) => setSubjectCode(event.target.value)}
                  required
                />
              </div>
            )}
          </>
        )}
        {action === 'unassign' && (
          <div className="field">
            <label htmlFor="person-action-assignment">Assignment</label>
            <select
              id="person-action-assignment"
              value={assignment}
              onChange={(event) => setAssignment(Number(event.target.value))}
            >
              {person.sites.map((site, index) => (
                <option key={`${site.kind}/${site.siteId}`} value={index}>
                  {site.kind} at {visibleText(site.siteId)}
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="field">
          <label htmlFor="person-action-reason">Reason (recorded in the audit trail)</label>
          <textarea
            id="person-action-reason"
            value={reason}
            rows={3}
            maxLength={2000}
            onChange={(event) => setReason(event.target.value)}
            required
          />
        </div>
        {error !== null && (
          <p className="notice notice-error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button button-quiet" onClick={() => finish(false)}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={busy || !reason.trim()}>
            {busy ? 'Saving…' : submitLabels[action]}
          </button>
        </div>
      </form>
    </dialog>
  );
}

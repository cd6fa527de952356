// The Administration screen's people and role-change requests (migration 0057), whichever backend
// holds the session: each call is one public API function, run as the administrator, and the server
// decides every rule (a second administrator, TOTP for signers, reasons, no direct table writes).
import type {
  AdminPerson,
  AssignSiteRequest,
  DeactivateRequest,
  DecideRoleChangeRequest,
  RequirePasswordChangeRequest,
  RoleChangeRequestRow,
  RoleChangeSubmission,
  UnassignSiteRequest,
} from '../../shared/contract';

/** The API functions of 0057 the workstation calls, with their argument names. */
export const administrationFunctions = {
  admin_people: [],
  role_change_requests: [],
  request_role_change: ['person', 'change', 'role', 'study', 'reason'],
  decide_role_change: ['request_id', 'approve', 'reason'],
  deactivate_person: ['person', 'reason'],
  assign_site: ['person', 'kind', 'site', 'reason', 'subject_code'],
  unassign_site: ['person', 'kind', 'site', 'reason'],
  // Migration 0058 (issue 21, V4): an administrator requires a person to change their password.
  require_password_change: ['person', 'reason'],
} as const;
export type AdministrationFunction = keyof typeof administrationFunctions;

/** Calls one of those functions as the signed-in person; resolves its rows (a scalar: one row). */
export type AdministrationCall = (
  fn: AdministrationFunction,
  args: Record<string, unknown>,
) => Promise<unknown[]>;

interface PersonRow {
  user_id: string;
  email: string | null;
  printed_name: string | null;
  roles: { role: string; study_id: string | null; study_code: string | null }[] | null;
  sites: { kind: string; site_id: string }[] | null;
  totp_enrolled: boolean;
  sign_in_locked: boolean;
  signing_locked: boolean;
  active: boolean;
  /** 0058: an administrator's demand to change the password is open. */
  password_change_required?: boolean;
}

interface RequestRow {
  id: string;
  user_id: string;
  change: string;
  role: string | null;
  study_id: string | null;
  reason: string;
  requested_by: string;
  requested_at: string | Date;
  status: string;
  decided_by: string | null;
  decided_at: string | Date | null;
  decision_reason: string | null;
}

const iso = (value: string | Date | null): string | null =>
  value === null ? null : value instanceof Date ? value.toISOString() : new Date(value).toISOString();

export class PeopleAdministration {
  constructor(private readonly call: AdministrationCall) {}

  async people(): Promise<AdminPerson[]> {
    const rows = (await this.call('admin_people', {})) as PersonRow[];
    return rows.map((row) => ({
      userId: row.user_id,
      email: row.email ?? '',
      printedName: row.printed_name ?? '',
      roles: (row.roles ?? []).map((grant) => ({
        role: grant.role,
        studyId: grant.study_id,
        studyCode: grant.study_code,
      })),
      sites: (row.sites ?? []).map((site) => ({ kind: site.kind, siteId: site.site_id })),
      totpEnrolled: row.totp_enrolled,
      signInLocked: row.sign_in_locked,
      signingLocked: row.signing_locked,
      active: row.active,
      passwordChangeRequired: row.password_change_required === true,
    }));
  }

  async requests(): Promise<RoleChangeRequestRow[]> {
    const rows = (await this.call('role_change_requests', {})) as RequestRow[];
    return rows.map((row) => ({
      id: row.id,
      userId: row.user_id,
      change: row.change as RoleChangeRequestRow['change'],
      role: row.role,
      studyId: row.study_id,
      reason: row.reason,
      requestedBy: row.requested_by,
      requestedAt: iso(row.requested_at) as string,
      status: row.status as RoleChangeRequestRow['status'],
      decidedBy: row.decided_by,
      decidedAt: iso(row.decided_at),
      decisionReason: row.decision_reason,
    }));
  }

  async requestRoleChange(request: RoleChangeSubmission): Promise<void> {
    await this.call('request_role_change', {
      person: request.userId,
      change: request.change,
      role: request.role,
      study: request.studyId,
      reason: request.reason,
    });
  }

  async decideRoleChange(request: DecideRoleChangeRequest): Promise<void> {
    await this.call('decide_role_change', {
      request_id: request.requestId,
      approve: request.approve,
      reason: request.reason,
    });
  }

  async deactivate(request: DeactivateRequest): Promise<void> {
    await this.call('deactivate_person', { person: request.userId, reason: request.reason });
  }

  async assignSite(request: AssignSiteRequest): Promise<void> {
    await this.call('assign_site', {
      person: request.userId,
      kind: request.kind,
      site: request.siteId,
      reason: request.reason,
      subject_code: request.subjectCode,
    });
  }

  async unassignSite(request: UnassignSiteRequest): Promise<void> {
    await this.call('unassign_site', {
      person: request.userId,
      kind: request.kind,
      site: request.siteId,
      reason: request.reason,
    });
  }

  /** Their next sign-in (and every open session of theirs) asks for a new password first (0058). */
  async requirePasswordChange(request: RequirePasswordChangeRequest): Promise<void> {
    await this.call('require_password_change', { person: request.userId, reason: request.reason });
  }
}

// Creates people on an embedded or on-premises PostgreSQL backend: an auth.users row, the person's
// own LOGIN role (member of `authenticated`, password stored by the server as SCRAM), the mapping
// auth.uid() reads, a printed name, application roles and, for signers, a TOTP factor. Runs on an
// operator connection (the database owner); a person cannot provision anyone.
import type { ClientBase } from 'pg';
import type { AppRole } from '../../shared/domain';

export interface RoleGrant {
  role: AppRole;
  /** null: every study (admins, global inspectors). */
  studyId: string | null;
}

export interface PersonSpec {
  email: string;
  printedName: string;
  password: string;
  roles: RoleGrant[];
  /** For sponsor users: the organisation whose requests they file and read. */
  sponsorId?: string | null;
  /** For agent service accounts: the agent id their provenance and proposals carry. */
  agentId?: string | null;
  totpSecretBase32?: string | null;
}

/** The PostgreSQL login role of a person: their e-mail address, lower-cased. */
export function loginRoleName(email: string): string {
  const name = email.trim().toLowerCase();
  if (Buffer.byteLength(name) > 63) {
    throw new Error(`e-mail address ${name} is longer than PostgreSQL's 63-byte role names`);
  }
  return name;
}

export async function provisionPerson(operator: ClientBase, spec: PersonSpec): Promise<string> {
  const role = loginRoleName(spec.email);
  const quotedRole = operator.escapeIdentifier(role);
  const password = operator.escapeLiteral(spec.password);
  const { rows: existing } = await operator.query<{ exists: boolean }>(
    'select exists (select 1 from pg_roles where rolname = $1) as exists',
    [role],
  );
  // A login is the cluster's, not one database's: an existing one keeps its password, which changes
  // only through Countersign's own functions (migration 0048 refuses a login whose password was set
  // behind their back).
  if (existing[0]?.exists) {
    await operator.query(`alter role ${quotedRole} with login`);
  } else {
    await operator.query(
      `create role ${quotedRole} with login nosuperuser nocreatedb nocreaterole noreplication ` +
        `connection limit 32 password ${password} in role authenticated`,
    );
  }
  const { rows } = await operator.query<{ id: string }>(
    'insert into auth.users (email, email_confirmed_at) values ($1, now()) returning id',
    [role],
  );
  const userId = rows[0]?.id;
  if (!userId) throw new Error(`could not create the user ${role}`);
  await operator.query('insert into cs_private.login_role (role_name, user_id) values ($1, $2)', [
    role,
    userId,
  ]);
  await operator.query(
    'insert into cro.user_profile (user_id, printed_name, sponsor_id, agent_id) values ($1, $2, $3, $4)',
    [userId, spec.printedName, spec.sponsorId ?? null, spec.agentId ?? null],
  );
  for (const grant of spec.roles) {
    await operator.query('insert into cro.role_assignment (user_id, role, study_id) values ($1, $2, $3)', [
      userId,
      grant.role,
      grant.studyId,
    ]);
  }
  if (spec.totpSecretBase32) {
    await operator.query(
      'insert into cs_private.totp_factor (user_id, secret_base32, confirmed_at) values ($1, $2, now())',
      [userId, spec.totpSecretBase32],
    );
  }
  return userId;
}

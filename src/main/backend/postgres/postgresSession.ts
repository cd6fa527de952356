// A signed-in person on a PostgreSQL backend (embedded or postgres mode): one connection opened as
// the person's own LOGIN role, so every query runs under their RLS. The password proves itself to
// the server (SCRAM) and is not kept.
import type pg from 'pg';
import type { StagingDetailRead, StagingQueueRow, StudyBuild } from '../../../shared/contract';
import { type AppRole, appRoles, type StagingState, stagingStates } from '../../../shared/domain';
import { type AdministrationFunction, administrationFunctions } from '../../admin/peopleAdministration';
import { buildRefFor, studyBuildsOf } from '../../builds/studyBuilds';
import { contentHashVersionOf } from '../../signing/contentHash';
import { UserFacingError } from '../../userFacingError';
import { loginRoleName } from '../provisioning';
import { connectAsPerson, type ServerAddress } from './personConnection';
import { PostgresDiaryCorrections } from './postgresDiaryCorrections';
import { PostgresSecurityAlerts } from './postgresSecurityAlerts';
import { PostgresSigningBackend, userFacingServerError } from './postgresSigning';
import { tlsFailureMessage } from './postgresTls';
import { serverBuildRefs } from './serverBuildRefs';
import { type SignInProtection, signInProtectionWarnings } from './signInProtectionWarnings';

export type { ServerAddress } from './personConnection';

export interface SessionIdentity {
  userId: string;
  email: string;
  printedName: string;
  roles: AppRole[];
}

export class SignInError extends UserFacingError {
  override name = 'SignInError';
}

/** An administrator requires this person to change their password before any other work (0058). */
export class PasswordChangeRequiredError extends SignInError {
  override name = 'PasswordChangeRequiredError';
  constructor() {
    super('An administrator requires you to choose a new password before you continue.');
  }
}

/** Whether the server holds an open demand to change this login's password (servers before 0058: no). */
async function passwordChangeRequired(client: pg.Client): Promise<boolean> {
  try {
    const { rows } = await client.query<{ required: boolean }>(
      'select public.password_change_required() as required',
    );
    return rows[0]?.required === true;
  } catch {
    return false;
  }
}

export interface StagingQueueQuery {
  limit: number;
  after: { createdAt: string; id: string } | null;
  states: StagingState[];
  studyId: string | null;
  /** Only proposals written under this protocol build. */
  buildId?: string | null;
}

export interface StagingQueueResult {
  rows: StagingQueueRow[];
  nextCursor: { createdAt: string; id: string } | null;
  countsByState: Record<StagingState, number>;
}

const isoMicros = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** Said for a wrong password and for a locked login alike: the server answers both the same way. */
export const wrongCredentials =
  'Wrong e-mail address or password. After repeated failed sign-ins an account is locked until an administrator unlocks it.';

function signInErrorFor(error: unknown): SignInError {
  const code = (error as { code?: string }).code;
  if (code === '28P01' || code === '28000') return new SignInError(wrongCredentials);
  if (code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'ENOTFOUND') {
    return new SignInError('The backend cannot be reached; check that it is running and try again.');
  }
  if (code === '53300')
    return new SignInError('Too many open sessions for this account; close one and retry.');
  const tlsProblem = tlsFailureMessage(error);
  if (tlsProblem) return new SignInError(tlsProblem);
  return new SignInError(`Sign-in failed: ${(error as Error).message}`);
}

export class PostgresSession {
  private constructor(
    private readonly client: pg.Client,
    readonly identity: SessionIdentity,
    private readonly address: ServerAddress,
  ) {}

  /** Signing for this person: re-authentication by fresh login, the server's sign_batch. */
  signingBackend(): PostgresSigningBackend {
    return new PostgresSigningBackend(this.client, this.address, this.identity.email);
  }

  /** Security alerts and unlocking (migration 0056), as this person. */
  securityAlerts(): PostgresSecurityAlerts {
    return new PostgresSecurityAlerts(this.client);
  }

  /** Diary corrections and their review (migration 0059), as this person. */
  diaryCorrections(): PostgresDiaryCorrections {
    return new PostgresDiaryCorrections(this.client);
  }

  static async signIn(address: ServerAddress, email: string, password: string): Promise<PostgresSession> {
    let user: string;
    try {
      user = loginRoleName(email);
    } catch {
      throw new SignInError(wrongCredentials);
    }
    let client: pg.Client;
    try {
      client = await connectAsPerson(address, email, password, 'countersign');
    } catch (error) {
      throw signInErrorFor(error);
    }
    try {
      const { rows } = await client.query<{ user_id: string | null; printed_name: string | null }>(
        `select auth.uid() as user_id,
                (select printed_name from cro.user_profile where user_id = auth.uid()) as printed_name`,
      );
      const userId = rows[0]?.user_id;
      if (!userId && (await passwordChangeRequired(client))) {
        throw new PasswordChangeRequiredError();
      }
      if (!userId) {
        throw new SignInError(
          `${user} is a database login but not a Countersign user; ask an administrator.`,
        );
      }
      const roleRows = await client.query<{ role: string }>(
        'select distinct role::text as role from cro.role_assignment where user_id = auth.uid() order by 1',
      );
      const roles = roleRows.rows
        .map((row) => row.role)
        .filter((role): role is AppRole => (appRoles as readonly string[]).includes(role));
      return new PostgresSession(
        client,
        { userId, email: user, printedName: rows[0]?.printed_name ?? user, roles },
        address,
      );
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error instanceof SignInError ? error : signInErrorFor(error);
    }
  }

  async stagingQueue(query: StagingQueueQuery): Promise<StagingQueueResult> {
    const buildId = query.buildId ?? null;
    const params: unknown[] = [
      query.limit + 1,
      query.studyId,
      query.states.length > 0 ? query.states : null,
      buildId,
    ];
    const filters = [
      '($2::uuid is null or s.study_id = $2)',
      '($3::cro.staging_state[] is null or s.state = any ($3))',
      '($4::uuid is null or s.build_id = $4)',
    ];
    if (query.after) {
      params.push(query.after.createdAt, query.after.id);
      filters.push('(s.created_at, s.id) > ($5::timestamptz, $6::uuid)');
    }
    const { rows } = await this.client.query<Omit<StagingQueueRow, 'build'> & { buildId: string | null }>(
      `select s.id, s.state::text as "state", s.entity_kind as "entityKind", s.entity_id as "entityId",
              s.study_id as "studyId", st.code as "studyCode", s.agent_id as "agentId",
              case when m.id is null then null
                   else m.provider || ' ' || m.model_id || ' (prompt ' || m.prompt_version || ')' end
                as "modelVersion",
              to_char(s.created_at at time zone 'UTC', ${isoMicros}) as "createdAt",
              to_char(s.updated_at at time zone 'UTC', ${isoMicros}) as "updatedAt",
              s.build_id as "buildId"
       from cro.staging_record s
       join cro.study st on st.id = s.study_id
       left join cro.model_registry_version m on m.id = s.model_version_id
       where ${filters.join(' and ')}
       order by s.created_at, s.id
       limit $1`,
      params,
    );
    const counts = await this.client.query<{ state: StagingState; n: string }>(
      `select s.state::text as state, count(*) as n from cro.staging_record s
       where ($1::uuid is null or s.study_id = $1) and ($2::uuid is null or s.build_id = $2) group by s.state`,
      [query.studyId, buildId],
    );
    const builds = await serverBuildRefs(
      this.client,
      rows.map((row) => row.buildId),
    );
    const countsByState = Object.fromEntries(stagingStates.map((state) => [state, 0])) as Record<
      StagingState,
      number
    >;
    for (const row of counts.rows) countsByState[row.state] = Number(row.n);
    const page = rows
      .slice(0, query.limit)
      .map(({ buildId: rowBuildId, ...row }) => ({ ...row, build: buildRefFor(builds, rowBuildId) }));
    const last = page.at(-1);
    return {
      rows: page,
      nextCursor: rows.length > query.limit && last ? { createdAt: last.createdAt, id: last.id } : null,
      countsByState,
    };
  }

  /**
   * One record with its proposal, the live row it changes, its signatures, its provenance (with the
   * agent's retrieved context and the server's additions) and its model registry version: the same
   * read API function the hosted mode calls (public.staging_detail, migrations 0031 and 0053), under
   * the person's own RLS.
   */
  async stagingDetail(id: string): Promise<StagingDetailRead> {
    const { rows } = await this.client.query<{ detail: string | null }>(
      'select public.staging_detail($1)::text as detail',
      [id],
    );
    const detail = rows[0]?.detail ?? null;
    if (detail === null) throw new UserFacingError(`Record ${id} does not exist or is not visible to you.`);
    const read = JSON.parse(detail) as StagingDetailRead;
    // The record's build and each signature's content-hash version (0054), which staging_detail
    // does not carry: read beside it, as the same person.
    const extra = await this.client.query<{
      build_id: string | null;
      versions: Record<string, number> | null;
      provenance_builds: Record<string, string | null> | null;
    }>(
      `select s.build_id,
              (select jsonb_object_agg(g.id, g.content_hash_version) from cro.signature_event g
                where g.subject_kind = 'staging_record' and g.subject_id = s.id::text) as versions,
              (select jsonb_object_agg(p.id, p.build_id) from cro.provenance_event p
                where p.id = any ($2::uuid[])) as provenance_builds
         from cro.staging_record s where s.id = $1`,
      [id, read.provenance.map((event) => event.id)],
    );
    const buildId = extra.rows[0]?.build_id ?? null;
    const versions = extra.rows[0]?.versions ?? {};
    const provenanceBuilds = extra.rows[0]?.provenance_builds ?? {};
    const builds = await serverBuildRefs(this.client, [buildId, ...Object.values(provenanceBuilds)]);
    return {
      ...read,
      record: { ...read.record, build: buildRefFor(builds, buildId) },
      signatures: read.signatures.map((signature) => ({
        ...signature,
        contentHashVersion: contentHashVersionOf(versions[signature.id]),
      })),
      provenance: read.provenance.map((event) => ({
        ...event,
        build: buildRefFor(builds, provenanceBuilds[event.id] ?? null),
      })),
    };
  }

  /** A study's protocol builds (every study's when null), as the server answers now (RLS decides). */
  async studyBuilds(studyId: string | null): Promise<StudyBuild[]> {
    const { rows } = await this.client.query<{ doc: Record<string, unknown>; study_code: string | null }>(
      `select to_jsonb(b) - 'sync_xid' as doc, st.code as study_code
         from cro.study_database_build b
         left join cro.study st on st.id = b.study_id
        where $1::uuid is null or b.study_id = $1`,
      [studyId],
    );
    return studyBuildsOf(rows.map((row) => ({ doc: row.doc, studyCode: row.study_code })));
  }

  /** The people this person may name (migration 0052), as the server answers now. */
  async callAdministration(fn: AdministrationFunction, args: Record<string, unknown>): Promise<unknown[]> {
    // Named arguments from the fixed list of 0057's API: nothing the renderer sends names SQL.
    const names = administrationFunctions[fn];
    const list = names.map((name, index) => `${name} => $${index + 1}`).join(', ');
    try {
      const { rows } = await this.client.query(
        `select * from public.${fn}(${list})`,
        names.map((name) => args[name] ?? null),
      );
      return rows;
    } catch (error) {
      throw userFacingServerError(error);
    }
  }

  async peopleDirectory(): Promise<unknown[]> {
    const { rows } = await this.client.query(
      'select d.user_id::text as user_id, d.printed_name, d.roles, d.agent_id, d.subject_code from public.people_directory() d',
    );
    return rows;
  }

  /**
   * Changes a person's own password (migrations 0048, 0058): the server checks the current one
   * against its stored verifier, applies the policy and audits the change (and meets an
   * administrator's demand for it). Errors are messages for the person.
   */
  static async changePassword(
    address: ServerAddress,
    email: string,
    currentPassword: string,
    newPassword: string,
  ): Promise<void> {
    let client: pg.Client;
    try {
      client = await connectAsPerson(address, email, currentPassword, 'countersign-password');
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '28P01') throw new UserFacingError('Your current password is wrong.');
      throw signInErrorFor(error);
    }
    try {
      await client.query('select public.change_my_password($1, $2)', [currentPassword, newPassword]);
    } catch (error) {
      const { code, message } = error as { code?: string; message?: string };
      // The server's messages name the rule, never the password (the failed statement is not echoed).
      if (code && /^CS\d{3}$/.test(code))
        throw new UserFacingError(`${message?.replace(/^the new password/, 'The new password')}.`);
      throw error;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** The sign-in protections this server lacks, as sentences for the person (empty: none lacking). */
  async signInProtectionWarnings(now = new Date()): Promise<string[]> {
    try {
      const { rows } = await this.client.query<{ p: SignInProtection }>(
        'select public.sign_in_protection() as p',
      );
      return rows[0] ? signInProtectionWarnings(rows[0].p, now) : [];
    } catch (error) {
      return [`The server's sign-in protection could not be checked: ${(error as Error).message}`];
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

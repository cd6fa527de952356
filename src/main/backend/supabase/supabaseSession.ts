// A signed-in person on a hosted Supabase project. supabase-js holds the session in this process's
// memory (MemorySessionStorage) and refreshes its access token before it expires; every read and
// write goes through PostgREST with that token, so the same RLS and the same functions decide as in
// the direct modes. Sign-in is the password, then, for a person with a TOTP factor, the current code
// (mfa.challengeAndVerify: the session becomes aal2). Tokens never leave this object: the renderer
// only ever sees the identity.
import type { SupabaseClient } from '@supabase/supabase-js';
import type { StagingDetailRead, StagingQueueRow, StudyBuild } from '../../../shared/contract';
import { type AppRole, appRoles, type StagingState, stagingStates } from '../../../shared/domain';
import { type AdministrationFunction, administrationFunctions } from '../../admin/peopleAdministration';
import { buildRefFor } from '../../builds/studyBuilds';
import { type TotpEnrolmentOffer, totpEnrolmentOffer } from '../../signing/totpEnrolment';
import type { SyncServer } from '../../sync/syncServer';
import { UserFacingError } from '../../userFacingError';
import type { BackendSession } from '../backendSession';
import {
  type SessionIdentity,
  SignInError,
  type StagingQueueQuery,
  type StagingQueueResult,
} from '../postgres/postgresSession';
import {
  hostedBuildIds,
  hostedBuildRefs,
  hostedSignatureVersions,
  hostedStudyBuilds,
} from './supabaseBuildReads';
import { createSupabaseClient, type SupabaseClientOptions } from './supabaseClient';
import type { SupabaseProject } from './supabaseConfig';
import { SupabaseDiaryCorrections } from './supabaseDiaryCorrections';
import { authError, isWrongCode, isWrongPassword, postgrestError } from './supabaseErrors';
import { callRpc } from './supabaseRpc';
import { SupabaseSecurityAlerts } from './supabaseSecurityAlerts';
import { SupabaseSigningBackend } from './supabaseSigning';
import { SupabaseSyncServer } from './supabaseSyncServer';

/** A keyset page of one table, as the sync engine pulls it through PostgREST. */
export interface PullPageRequest {
  schema: 'cro' | 'diary' | 'audit';
  table: string;
  /** The column the page is ordered by and continues after (unique, e.g. id or seq). */
  keyColumn: string;
  after: string | number | null;
  limit: number;
}

export class SupabaseSession implements BackendSession {
  private readonly signing: SupabaseSigningBackend;

  private constructor(
    private readonly client: SupabaseClient,
    readonly identity: SessionIdentity,
  ) {
    this.signing = new SupabaseSigningBackend(client, identity.email);
  }

  static async signIn(
    project: SupabaseProject,
    email: string,
    password: string,
    totpCode: string | null,
    options: SupabaseClientOptions = {},
  ): Promise<SupabaseSession> {
    const client = createSupabaseClient(project, options);
    const fail = async (error: Error): Promise<never> => {
      await client.auth.signOut({ scope: 'local' }).catch(() => undefined);
      client.auth.stopAutoRefresh().catch(() => undefined);
      throw error;
    };
    const signedIn = await client.auth.signInWithPassword({ email: email.trim(), password });
    if (signedIn.error) {
      if (isWrongPassword(signedIn.error)) return fail(new SignInError('Wrong e-mail address or password.'));
      const mapped = authError(signedIn.error);
      return fail(
        new SignInError(
          mapped instanceof UserFacingError
            ? mapped.message
            : 'Supabase cannot be reached; check the project URL and your network, then try again.',
        ),
      );
    }
    const factors = await client.auth.mfa.listFactors();
    if (factors.error) return fail(new SignInError(authError(factors.error).message));
    const factor = factors.data.totp[0];
    if (factor) {
      if (!totpCode || !/^\d{6}$/.test(totpCode)) {
        return fail(
          new SignInError('This account has an authenticator: enter its current 6-digit code too.'),
        );
      }
      const verified = await client.auth.mfa.challengeAndVerify({ factorId: factor.id, code: totpCode });
      if (verified.error) {
        return fail(
          new SignInError(
            isWrongCode(verified.error) ? 'Wrong authenticator code.' : authError(verified.error).message,
          ),
        );
      }
    }
    try {
      const me = await callRpc<{ user_id: string | null; printed_name: string | null; roles: string[] }>(
        client,
        'my_identity',
      );
      if (!me.user_id)
        return fail(new SignInError('Signed in, but the project did not recognise the session.'));
      const roles = me.roles.filter((role): role is AppRole =>
        (appRoles as readonly string[]).includes(role),
      );
      const address = signedIn.data.user.email ?? email.trim().toLowerCase();
      return new SupabaseSession(client, {
        userId: me.user_id,
        email: address,
        printedName: me.printed_name ?? address,
        roles,
      });
    } catch (error) {
      return fail(
        error instanceof UserFacingError
          ? new SignInError(error.message)
          : new SignInError('Signed in, but the Countersign functions could not be reached on this project.'),
      );
    }
  }

  signingBackend(): SupabaseSigningBackend {
    return this.signing;
  }

  /** Security alerts and unlocking (migration 0056), through PostgREST. */
  securityAlerts(): SupabaseSecurityAlerts {
    return new SupabaseSecurityAlerts(this.client);
  }

  /** The server side of sync and of the outboxes (migration 0061), through PostgREST RPCs. */
  syncServer(): SyncServer {
    return new SupabaseSyncServer(this.client);
  }

  /** Diary corrections and their review (migration 0059), through PostgREST. */
  diaryCorrections(): SupabaseDiaryCorrections {
    return new SupabaseDiaryCorrections(this.client);
  }

  /**
   * A queue page through public.staging_queue (0054: each row with its buildId, and a build filter
   * that narrows the page and the counts); the builds' numbers are read beside it.
   */
  async stagingQueue(query: StagingQueueQuery): Promise<StagingQueueResult> {
    type ServerRow = Omit<StagingQueueRow, 'build'> & { buildId: string | null };
    const page = await callRpc<{ rows: ServerRow[]; counts: Partial<Record<StagingState, number>> }>(
      this.client,
      'staging_queue',
      {
        page_size: query.limit + 1,
        after_created_at: query.after?.createdAt ?? null,
        after_id: query.after?.id ?? null,
        states: query.states.length > 0 ? query.states : null,
        study: query.studyId,
        build: query.buildId ?? null,
      },
    );
    const builds = await hostedBuildRefs(this.client);
    const countsByState = Object.fromEntries(
      stagingStates.map((state) => [state, Number(page.counts[state] ?? 0)]),
    ) as Record<StagingState, number>;
    const rows = page.rows.slice(0, query.limit).map(({ buildId, ...row }) => ({
      ...row,
      build: buildRefFor(builds, buildId ?? null),
    }));
    const last = rows.at(-1);
    return {
      rows,
      nextCursor: page.rows.length > query.limit && last ? { createdAt: last.createdAt, id: last.id } : null,
      countsByState,
    };
  }

  async stagingDetail(id: string): Promise<StagingDetailRead> {
    const detail = await callRpc<
      (StagingDetailRead & { record: StagingDetailRead['record'] & { buildId?: string | null } }) | null
    >(this.client, 'staging_detail', { staging_id: id });
    if (!detail) throw new UserFacingError(`Record ${id} does not exist or is not visible to you.`);
    // The builds and each signature's content-hash version (0054), which staging_detail does not carry.
    const { buildId: served, ...record } = detail.record;
    const [buildIds, provenanceBuilds, versions, builds] = await Promise.all([
      served === undefined ? hostedBuildIds(this.client, 'staging_record', [id]) : null,
      hostedBuildIds(
        this.client,
        'provenance_event',
        detail.provenance.map((event) => event.id),
      ),
      hostedSignatureVersions(this.client, id),
      hostedBuildRefs(this.client),
    ]);
    const buildId = served !== undefined ? served : (buildIds?.get(id) ?? null);
    return {
      ...detail,
      record: { ...record, build: buildRefFor(builds, buildId) },
      signatures: detail.signatures.map((signature) => ({
        ...signature,
        contentHashVersion: versions.get(signature.id) ?? 1,
      })),
      provenance: detail.provenance.map((event) => ({
        ...event,
        build: buildRefFor(builds, provenanceBuilds.get(event.id) ?? null),
      })),
    };
  }

  /** A study's protocol builds (every study's when null), through PostgREST. */
  async studyBuilds(studyId: string | null): Promise<StudyBuild[]> {
    return hostedStudyBuilds(this.client, studyId);
  }

  /** The people this person may name (migration 0052), through PostgREST. */
  async callAdministration(fn: AdministrationFunction, args: Record<string, unknown>): Promise<unknown[]> {
    const named = Object.fromEntries(administrationFunctions[fn].map((name) => [name, args[name] ?? null]));
    const data = await callRpc<unknown>(this.client, fn, named);
    return Array.isArray(data) ? data : data === null || data === undefined ? [] : [data];
  }

  async peopleDirectory(): Promise<unknown[]> {
    const rows = await callRpc<unknown[] | null>(this.client, 'people_directory');
    return Array.isArray(rows) ? rows : [];
  }

  /**
   * One keyset page through PostgREST (GET /rest/v1/<table>?<key>=gt.<after>&order=<key>&limit=n).
   * The project must expose the schema (Settings → API → Exposed schemas: cro, diary, audit).
   */
  async pullPage<Row extends Record<string, unknown>>(request: PullPageRequest): Promise<Row[]> {
    if (!/^[a-z_][a-z0-9_]*$/.test(request.table) || !/^[a-z_][a-z0-9_]*$/.test(request.keyColumn)) {
      throw new Error(`not a table or column name: ${request.table}.${request.keyColumn}`);
    }
    let builder = this.client
      .schema(request.schema)
      .from(request.table)
      .select('*')
      .order(request.keyColumn, { ascending: true })
      .limit(request.limit);
    if (request.after !== null) builder = builder.gt(request.keyColumn, request.after);
    const { data, error, status } = await builder;
    if (error) throw postgrestError(error, status);
    return (data ?? []) as Row[];
  }

  /** Renews the access token now (supabase-js also does it on its own before expiry). */
  async refresh(): Promise<void> {
    const { error } = await this.client.auth.refreshSession();
    if (error) throw authError(error);
  }

  /**
   * A first-time signer's authenticator: Supabase Auth creates an unverified TOTP factor and its
   * secret; the QR code is drawn from that secret here (no markup from elsewhere reaches the
   * renderer), and the first correct code (confirmTotpEnrolment) verifies the factor.
   */
  async offerTotpEnrolment(): Promise<TotpEnrolmentOffer> {
    const { data: existing, error: listError } = await this.client.auth.mfa.listFactors();
    if (listError) throw authError(listError);
    if (existing.totp.length > 0) {
      throw new UserFacingError(
        'You already have a confirmed authenticator. To replace it, ask an administrator to remove it in Supabase (the change is audited there).',
      );
    }
    // An unverified factor left by an abandoned set-up would block a new one with the same name.
    for (const factor of existing.all) {
      if (factor.factor_type === 'totp' && factor.status === 'unverified') {
        await this.client.auth.mfa.unenroll({ factorId: factor.id });
      }
    }
    const { data, error } = await this.client.auth.mfa.enroll({
      factorType: 'totp',
      friendlyName: 'Countersign',
      issuer: 'Countersign',
    });
    if (error) throw authError(error);
    this.signing.pendingFactorId = data.id;
    return totpEnrolmentOffer(this.identity.email, data.totp.secret);
  }

  async close(): Promise<void> {
    await this.client.auth.stopAutoRefresh().catch(() => undefined);
    await this.client.auth.signOut({ scope: 'local' }).catch(() => undefined);
    await this.client.removeAllChannels().catch(() => undefined);
  }
}

// The main-process services behind the contract, shared by the Electron window and the browser
// host: starts the configured backend in the background, keeps the signed-in session, and answers
// each channel. Transport code (IPC, HTTP) lives elsewhere and only calls these handlers.

import { join } from 'node:path';
import { generateSync } from 'otplib';
import type {
  BackendStatus,
  ContractEventName,
  ContractHandlers,
  QueueRow,
  StagingQueuePage,
} from '../shared/contract';
import { queueColumnsOf } from '../shared/stagingQueueColumns';
import { PeopleAdministration } from './admin/peopleAdministration';
import { securityAlertFrom, unlockAccount } from './admin/securityAlerts';
import { exportDeidentifiedToDataDir } from './analysis/deidentifiedExport';
import { type BackendConfig, backendConfigFrom, embeddedDatabase } from './backend/backendConfig';
import { backendConfigFromProfile } from './backend/backendProfile';
import type { BackendSession } from './backend/backendSession';
import { demoPeople, demoSignInList, formatDemoCredentials } from './backend/demo/demoPeople';
import { startEmbeddedBackend } from './backend/embedded/embeddedBackend';
import { findMigrationsDir } from './backend/migrationsDir';
import { connectAsPerson } from './backend/postgres/personConnection';
import {
  PasswordChangeRequiredError,
  PostgresSession,
  type ServerAddress,
  SignInError,
} from './backend/postgres/postgresSession';
import { describeTransport } from './backend/postgres/postgresTls';
import { loginRoleName } from './backend/provisioning';
import { describeProject, hostedBackendAddress } from './backend/supabase/supabaseConfig';
import { SupabaseSession } from './backend/supabase/supabaseSession';
import { studyBuildDiff } from './builds/studyBuilds';
import { cachedAuditEntries } from './cache/cachedAuditEntries';
import { cachedStudyBuilds } from './cache/cachedBuilds';
import { cachedCorrectionReviews } from './cache/cachedCorrectionReviews';
import { cachedPeople } from './cache/cachedPeople';
import { cachedSigningSubjects } from './cache/cachedSigningSubjects';
import { cachedStagingDetail } from './cache/cachedStagingDetail';
import { cachedStudies } from './cache/cachedStudies';
import { type CacheKeyStore, FileCacheKeyStore } from './cache/cacheKeyStore';
import { type BackendAddress, backendIdFor, cacheDir } from './cache/cacheLocation';
// Local cache and sync (issue 4).
import {
  cachedDiaryRecords,
  cachedProvenance,
  cachedQuarantine,
  cachedRecordTrail,
  cachedSignatures,
  cachedStagingQueue,
  timelinePage,
} from './cache/cacheReads';
// Diary screen (investigator).
import { cachedDeidentifiedEntries } from './cache/deidentifiedEntries';
import { cachedDiaryHistory, cachedDiaryPatients } from './cache/diaryReads';
import { checkOfflineVerifier, saveOfflineVerifier } from './cache/offlineSignIn';
import { checkpointSettingsFrom } from './checkpoint/checkpointSettings';
import { correctDiaryRecord, reviewDiaryCorrection } from './diary/diaryCorrections';
// Inspection packet (issue 6).
import { exportPacketToDataDir, verifyExportedPacket } from './export/exportService';
import { PacketJobs } from './export/packetWorker';
import { type ChooseDestination, savePacketCopy } from './export/savePacketCopy';
import { guardServerWrites } from './serverWriteGuard';
import { IdleLock, idleLockSecondsFrom } from './session/idleLock';
import { guardIdleLock, idleLockHandlers } from './session/idleLockHandlers';
import { signedContentChecks } from './signing/signedContent';
import { SigningCeremonies } from './signing/signingCeremony';
import { beginTotpEnrolment, enrolmentFailureMessage } from './signing/totpEnrolment';
import {
  diaryFormForPatient,
  discardDiaryEvent,
  listDiaryEvents,
  openDiaryConflicts,
} from './sync/diaryEventOutbox';
import { listOutbox, resolveOutboxItem } from './sync/outbox';
import { peopleFromDirectory } from './sync/peopleStream';
import { SyncService } from './sync/syncService';
import { UserFacingError } from './userFacingError';

/** Shown above the Sign button: what the signer attests to (21 CFR 11.50, 11.100(c)). */
export const signingAttestation =
  'By signing I confirm that I am the person named, that I have reviewed each listed record, and that ' +
  'this electronic signature is the legally binding equivalent of my handwritten signature, with the ' +
  'meaning stated.';

export interface WorkstationOptions {
  /** The desktop host's save dialog, for "Save as…" of an exported packet (absent in the browser host). */
  chooseExportDestination?: ChooseDestination;
  dataDir: string;
  log?: (line: string) => void;
  /** Defaults to the process environment. */
  env?: Record<string, string | undefined>;
  /** Keeps each user's cache key; defaults to 0600 key files in the data folder (browser host, tests). */
  cacheKeyStore?: CacheKeyStore;
  /** Background sync period while online (default 3 minutes). */
  syncIntervalMs?: number;
  /** While the backend connection is lost: how often to try to reconnect (default 30 seconds). */
  syncReconnectIntervalMs?: number;
  /** Hosted mode: how often an idle online session checks that the project answers (default 60 s). */
  syncHeartbeatMs?: number;
}

export type ContractEventListener = (event: ContractEventName, payload: unknown) => void;

export interface Workstation {
  handlers: ContractHandlers;
  /** Resolves when the backend is ready or has failed (the status says which). */
  backendSettled: Promise<void>;
  /** Pushed events (contractEvents), for the IPC and browser-host transports; returns unsubscribe. */
  subscribe(listener: ContractEventListener): () => void;
  close(): Promise<void>;
}

type BackendState = Pick<BackendStatus, 'state' | 'message' | 'serverVersion' | 'schemaVersion'>;

/** How the connection to the backend is protected, for the profile chooser. */
function transportOf(config: BackendConfig | null): string | null {
  if (!config) return null;
  if (config.mode === 'postgres') return describeTransport(config.tls);
  if (config.mode === 'supabase') return 'HTTPS';
  return 'this computer only';
}

/** Where the backend is, for the sign-in screen: never a password or a key. */
function endpointOf(config: BackendConfig | null): string | null {
  if (!config) return null;
  if (config.mode === 'postgres') return `${config.host}:${config.port}/${config.database}`;
  if (config.mode === 'supabase') return describeProject(config.project);
  return `127.0.0.1:${config.port}`;
}

export async function createWorkstation(options: WorkstationOptions): Promise<Workstation> {
  const log = options.log ?? (() => undefined);
  let config: BackendConfig | null = null;
  let backendState: BackendState = {
    state: 'starting',
    message: 'Starting the backend…',
    serverVersion: null,
    schemaVersion: null,
  };
  let address: ServerAddress | null = null;
  let stopBackend: (() => Promise<void>) | null = null;
  let session: BackendSession | null = null;
  // The idle lock (issue 21): its state is here, in main, so that reloading the window keeps it.
  const idleLock = new IdleLock(idleLockSecondsFrom(options.env ?? process.env));
  let signing: SigningCeremonies | null = null;
  /** Sign-in protections the PostgreSQL server lacks, checked at each online sign-in. */
  let signInWarnings: string[] = [];
  let closing = false;
  const listeners = new Set<ContractEventListener>();
  /** Packet export and verification, in a worker thread: one at a time, cancellable. */
  const packetJobs = new PacketJobs();
  const exportProgress = (progress: unknown) => {
    for (const listener of listeners) listener('export.progress', progress);
  };
  const sync = new SyncService({
    dataDir: options.dataDir,
    keyStore: options.cacheKeyStore ?? new FileCacheKeyStore(join(cacheDir(options.dataDir), 'keys')),
    log,
    emit: (syncStatus) => {
      for (const listener of listeners) listener('sync.progress', syncStatus);
    },
    intervalMs: options.syncIntervalMs,
    reconnectIntervalMs: options.syncReconnectIntervalMs,
    heartbeatMs: options.syncHeartbeatMs,
    // Cosigned checkpoints and the daily checkpoint file (issue 24).
    ...checkpointSettingsFrom(options.env ?? process.env, options.dataDir),
  });
  /** Where the backend is or would be: also known when it cannot be reached (offline sign-in). */
  const expectedAddress = (): BackendAddress | null => {
    if (config?.mode === 'supabase') return hostedBackendAddress(config.project);
    if (address) return address;
    if (config?.mode === 'embedded')
      return { host: '127.0.0.1', port: config.port, database: embeddedDatabase };
    if (config?.mode === 'postgres')
      return { host: config.host, port: config.port, database: config.database };
    return null;
  };
  /** Backend down or unreachable: the user's cache opens with the password they last signed in with. */
  const signInOffline = async (email: string, password: string, reason: string) => {
    const where = expectedAddress();
    let login: string | null = null;
    try {
      // Hosted accounts are filed by their e-mail address; direct ones by their login role.
      login = config?.mode === 'supabase' ? email.trim().toLowerCase() : loginRoleName(email);
    } catch {
      login = null;
    }
    const identity = where && login ? await sync.openOffline(where, login, password) : null;
    if (!identity) {
      return {
        ok: false as const,
        error: `${reason} Offline sign-in needs an earlier online sign-in on this computer with the same password.`,
      };
    }
    await session?.close();
    session = null;
    signing = null;
    log(`countersign: user ${identity.userId} signed in offline (from the cache)`);
    idleLock.start();
    return { ok: true as const, status: status() };
  };

  /** Ends the session and closes the cache: nothing of the person's stays open. */
  const signOut = async () => {
    const previous = session;
    session = null;
    signing = null;
    signInWarnings = [];
    idleLock.stop();
    packetJobs.cancel(); // its worker holds the cache's key
    await previous?.close();
    await sync.close();
  };

  /** The password at the idle lock: a fresh login proves it online (direct modes), else the local verifier. */
  const checkIdleLockPassword = async (password: string): Promise<boolean | string> => {
    const identity = session?.identity ?? sync.offlineIdentity;
    if (!identity) return 'You are signed out: sign in again.';
    if (session instanceof PostgresSession && address) {
      try {
        const client = await connectAsPerson(address, identity.email, password, 'countersign-unlock');
        await client.end().catch(() => undefined);
        return true;
      } catch (error) {
        if ((error as { code?: string }).code === '28P01') return false;
        // The server cannot be reached: the password the cache opens with decides.
      }
    }
    // Hosted mode too: the password the cache opens with (saved at this sign-in) decides.
    const where = expectedAddress();
    if (!where) return 'The lock cannot check your password here: sign out and sign in again.';
    return (
      (await checkOfflineVerifier(options.dataDir, backendIdFor(where), identity.email, password)) ===
      identity.userId
    );
  };

  /** After a write the reads (from the cache) must show it: pull what changed, when online. */
  const refreshCache = async () => {
    if (!sync.online) return;
    try {
      await sync.syncNow();
    } catch (error) {
      log(`countersign: sync after a change failed: ${(error as Error).message}`);
    }
  };

  const signedIn = (what: string): { session: BackendSession; signing: SigningCeremonies } => {
    if (!session || !signing) throw new UserFacingError(`Sign in to ${what}.`);
    return { session, signing };
  };
  const administration = (what: string): PeopleAdministration => {
    const { session: current } = signedIn(what);
    const call = current.callAdministration;
    if (!call) throw new UserFacingError('This backend has no people administration.');
    return new PeopleAdministration((fn, args) => call.call(current, fn, args));
  };
  /** Demo signers and admins: their TOTP secret is public in the demo, so the workstation may show the code. */
  const demoTotpSecret = (): string | null => {
    if (config?.mode !== 'embedded' || !session) return null;
    const email = session.identity.email;
    return demoPeople.find((person) => person.email.toLowerCase() === email)?.totpSecretBase32 ?? null;
  };

  /** Starts (or points at) one backend; the previous one must already be stopped. */
  const startBackend = async (next: BackendConfig) => {
    config = next;
    address = null;
    backendState = {
      state: 'starting',
      message: 'Starting the backend…',
      serverVersion: null,
      schemaVersion: null,
    };
    try {
      if (next.mode === 'embedded') {
        backendState = { ...backendState, message: 'Starting the embedded demo database…' };
        const backend = await startEmbeddedBackend({
          dataDir: options.dataDir,
          port: next.port,
          migrationsDir: findMigrationsDir(),
          log,
        });
        if (closing || config !== next) {
          await backend.stop();
          return;
        }
        address = backend.address;
        stopBackend = backend.stop;
        backendState = {
          state: 'ready',
          message: `Embedded demo backend ready: PostgreSQL ${backend.serverVersion} on 127.0.0.1:${backend.address.port}.`,
          serverVersion: backend.serverVersion,
          schemaVersion: backend.schemaVersion,
        };
      } else if (next.mode === 'postgres') {
        address = { host: next.host, port: next.port, database: next.database, tls: next.tls };
        backendState = {
          state: 'ready',
          message: `PostgreSQL backend at ${next.host}:${next.port}/${next.database}; sign in with your account.`,
          serverVersion: null,
          schemaVersion: null,
        };
      } else {
        // Hosted mode: nothing to start; Supabase Auth checks each sign-in. The key is never logged.
        backendState = {
          state: 'ready',
          message: `Supabase project ${describeProject(next.project)}; sign in with your account (and your authenticator code).`,
          serverVersion: null,
          schemaVersion: null,
        };
      }
      log(`countersign: ${backendState.message}`);
      if (next.mode === 'embedded' && backendState.state === 'ready') log(formatDemoCredentials());
    } catch (error) {
      backendState = {
        state: 'error',
        message: error instanceof Error ? error.message : String(error),
        serverVersion: null,
        schemaVersion: null,
      };
      log(`countersign: backend failed to start: ${backendState.message}`);
    }
  };

  let backendSettled: Promise<void> = (async () => {
    try {
      config = backendConfigFrom(options.env ?? process.env);
    } catch (error) {
      backendState = {
        state: 'error',
        message: error instanceof Error ? error.message : String(error),
        serverVersion: null,
        schemaVersion: null,
      };
      log(`countersign: backend failed to start: ${backendState.message}`);
      return;
    }
    await startBackend(config);
  })();

  /** The sign-in screen's profile choice: sign out, stop what runs, start the chosen backend. */
  const switchBackend = async (next: BackendConfig) => {
    const previous = backendSettled;
    backendSettled = (async () => {
      await previous;
      const current = session;
      session = null;
      signing = null;
      await current?.close();
      await sync.close();
      const stop = stopBackend;
      stopBackend = null;
      await stop?.();
      await startBackend(next);
    })();
    await backendSettled;
  };

  const status = (): BackendStatus => ({
    mode: config?.mode ?? 'embedded',
    ...backendState,
    demoUsers: config?.mode === 'embedded' && backendState.state === 'ready' ? demoSignInList() : [],
    endpoint: endpointOf(config),
    transport: transportOf(config),
    warnings: session ? signInWarnings : [],
    session: session ? { ...session.identity } : sync.offlineIdentity ? { ...sync.offlineIdentity } : null,
  });

  /** The builds the person may read: from the cache once it holds a sync, else from the server. */
  const studyBuildsFor = async (studyId: string | null) => {
    if (sync.cacheReady) return cachedStudyBuilds(sync.cache(), studyId);
    if (!session) throw new UserFacingError('Sign in to see the protocol builds.');
    if (sync.status().workOffline) {
      throw new UserFacingError(
        'The protocol builds are not in your cache yet: go online and sync to see them.',
      );
    }
    return session.studyBuilds(studyId);
  };

  const handlers: ContractHandlers = {
    ...idleLockHandlers({ lock: idleLock, checkPassword: checkIdleLockPassword, signOut, log }),
    'backend.status': async () => status(),
    'backend.configure': async (profile) => {
      await switchBackend(backendConfigFromProfile(profile));
      return status();
    },
    'session.signIn': async ({ email, password, totpCode }) => {
      if (backendState.state !== 'ready' || (!address && config?.mode !== 'supabase')) {
        if (backendState.state === 'error') {
          const offline = await signInOffline(
            email,
            password,
            `The backend is not available: ${backendState.message}`,
          );
          if (offline.ok) return offline;
        }
        return {
          ok: false,
          error:
            backendState.state === 'starting'
              ? 'The backend is still starting; try again in a moment.'
              : `The backend is not available: ${backendState.message}`,
        };
      }
      try {
        const next: BackendSession =
          config?.mode === 'supabase'
            ? await SupabaseSession.signIn(config.project, email, password, totpCode ?? null)
            : await PostgresSession.signIn(address as ServerAddress, email, password);
        await session?.close();
        session = next;
        signInWarnings = next instanceof PostgresSession ? await next.signInProtectionWarnings() : [];
        for (const warning of signInWarnings) log(`countersign: ${warning}`);
        signing = new SigningCeremonies(next.signingBackend(), {
          log,
          // The manifest is built from the cache, as the signer reviewed the records.
          cachedSubjects: (ids) => (sync.cacheReady ? cachedSigningSubjects(sync.cache(), ids) : []),
        });
        // The user id, not the e-mail address: a patient's address is personal data and stays out of logs.
        log(
          `countersign: user ${next.identity.userId} signed in (${next.identity.roles.join(', ') || 'no roles'})`,
        );
        // The cache is pulled over the person's own PostgreSQL login (direct modes), or through
        // PostgREST with the person's token (hosted mode): the same engine either way.
        const hosted = config?.mode === 'supabase' ? config.project : null;
        if (hosted || address) {
          if (hosted && next instanceof SupabaseSession) {
            await sync.openHosted({
              identity: next.identity,
              backend: hostedBackendAddress(hosted),
              password,
              server: next.syncServer(),
            });
          } else if (address) {
            await sync.openOnline({ identity: next.identity, address, password });
          }
          // A cache synced before is brought up to date before the first screen reads it (an
          // incremental pull: tens of milliseconds), so nothing stale is shown; capped at 10 s.
          // A first, full sync runs on in the background while reads go to the server.
          if (sync.cacheReady) {
            await Promise.race([
              sync.syncNow().catch(() => undefined),
              new Promise((resolve) => setTimeout(resolve, 10_000).unref()),
            ]);
          }
        }
        idleLock.start();
        return { ok: true, status: status() };
      } catch (error) {
        if (error instanceof SignInError && /cannot be reached/.test(error.message)) {
          return signInOffline(email, password, error.message);
        }
        if (error instanceof PasswordChangeRequiredError) {
          return { ok: false, error: error.message, passwordChangeRequired: true };
        }
        if (error instanceof SignInError) return { ok: false, error: error.message };
        throw error;
      }
    },
    // Required by an administrator (0058): before sign-in, so proved by the address and current password.
    'session.changeRequiredPassword': async ({ email, currentPassword, newPassword }) => {
      if (config?.mode === 'supabase' || !address) {
        return {
          ok: false,
          error: 'In hosted mode your password is kept by Supabase Auth: use its password reset.',
        };
      }
      try {
        await PostgresSession.changePassword(address, email, currentPassword, newPassword);
      } catch (error) {
        if (error instanceof UserFacingError) return { ok: false, error: error.message };
        throw error;
      }
      log('countersign: a required password change was made; the person signs in again');
      return { ok: true, status: status() };
    },
    'session.changePassword': async ({ currentPassword, newPassword }) => {
      const current = session;
      if (!(current instanceof PostgresSession) || !address) {
        return {
          ok: false,
          error:
            config?.mode === 'supabase'
              ? 'In hosted mode your password is kept by Supabase Auth: use its password reset.'
              : 'Sign in online to change your password.',
        };
      }
      try {
        await PostgresSession.changePassword(address, current.identity.email, currentPassword, newPassword);
      } catch (error) {
        if (error instanceof UserFacingError) return { ok: false, error: error.message };
        throw error;
      }
      // The cache opens offline with the new password from now on, not the old one.
      await saveOfflineVerifier(
        options.dataDir,
        backendIdFor(address),
        current.identity.email,
        current.identity.userId,
        newPassword,
      );
      log(`countersign: user ${current.identity.userId} changed their password; signed out`);
      // Everything that held the old password (the session, the sync's reconnects) ends here.
      await signOut();
      return { ok: true, status: status() };
    },
    'session.signOut': async () => {
      await signOut();
      return status();
    },
    'staging.queue': async (request) => {
      // Once the cache holds a sync, the queue is read from it (online and offline alike).
      let page: { rows: QueueRow[] } & Omit<StagingQueuePage, 'columns'>;
      if (sync.cacheReady) page = cachedStagingQueue(sync.cache(), request);
      else if (!session) throw new UserFacingError('Sign in to see the staging queue.');
      else {
        // Change summaries are computed as rows are cached: none until the first sync lands.
        const served = await session.stagingQueue(request);
        page = {
          ...served,
          rows: served.rows.map((row) => ({ ...row, changeSummary: null, targetTitle: null })),
        };
      }
      return {
        columns: queueColumnsOf(page.rows),
        nextCursor: page.nextCursor,
        countsByState: page.countsByState,
      };
    },
    'staging.detail': async ({ id }) => {
      const cached = sync.cacheReady ? cachedStagingDetail(sync.cache(), id) : null;
      const detail = cached ?? (await signedIn('see a record').session.stagingDetail(id));
      return { ...detail, signedContent: signedContentChecks(detail) };
    },
    'staging.openForReview': async ({ stagingIds }) => {
      const opened = await signedIn('review').session.signingBackend().openForReview(stagingIds);
      await refreshCache();
      return { opened };
    },
    'staging.promote': async ({ stagingIds }) => {
      const outcomes = await signedIn('promote').signing.promote(stagingIds);
      await refreshCache();
      return { outcomes };
    },
    'signing.status': async () => {
      const { session: current } = signedIn('sign');
      const backend = current.signingBackend();
      const [status, meanings, rejectionReasons] = await Promise.all([
        backend.status(),
        backend.meanings(),
        backend.rejectionReasons(),
      ]);
      return {
        ...status,
        meanings,
        rejectionReasons,
        signer: { printedName: current.identity.printedName, email: current.identity.email },
        attestation: signingAttestation,
        demoCodeAvailable: demoTotpSecret() !== null,
      };
    },
    'signing.meanings': async () => ({
      meanings: await signedIn('sign').session.signingBackend().meanings(),
    }),
    'signing.manifest': async ({ stagingIds }) => {
      const { signing: ceremonies } = signedIn('sign');
      await refreshCache();
      return ceremonies.buildManifest(stagingIds);
    },
    'signing.sign': async (request) => {
      const outcome = await signedIn('sign').signing.sign(request);
      if (outcome.ok) await refreshCache();
      return outcome;
    },
    'totp.beginEnrolment': async () => {
      const current = signedIn('set up an authenticator').session;
      const offer = current.offerTotpEnrolment
        ? await current.offerTotpEnrolment()
        : await beginTotpEnrolment(current.signingBackend(), current.identity.email);
      return { otpauthUri: offer.otpauthUri, secretBase32: offer.secretBase32, qr: offer.qr };
    },
    'totp.confirmEnrolment': async ({ code }) => {
      const result = await signedIn('set up an authenticator')
        .session.signingBackend()
        .confirmTotpEnrolment(code);
      return result.ok ? { ok: true } : { ok: false, error: enrolmentFailureMessage(result.reason) };
    },
    // Issue 21, recovery codes (V1). The codes pass through and are kept nowhere, never logged.
    'recovery.status': async () => {
      const backend = signedIn('see your recovery codes').session.signingBackend();
      const { totp } = await backend.status();
      if (!backend.recoveryStatus) {
        return { available: false, remaining: 0, generatedAt: null, replacementDue: false, totp };
      }
      return { available: true, ...(await backend.recoveryStatus()), totp };
    },
    'recovery.generate': async () => {
      const backend = signedIn('generate recovery codes').session.signingBackend();
      if (!backend.generateRecoveryCodes) {
        throw new UserFacingError(
          'Recovery codes are not used with a hosted account: Supabase Auth keeps your second factor.',
        );
      }
      return { codes: await backend.generateRecoveryCodes() };
    },
    'demo.totpCode': async () => {
      const secret = demoTotpSecret();
      const now = Date.now() / 1000;
      return {
        code: secret ? generateSync({ secret, epoch: Math.floor(now) }) : null,
        secondsLeft: 30 - (Math.floor(now) % 30),
      };
    },
    // Security alerts and unlocking (issue 21): server calls as the person; the server admits admins only.
    'admin.alerts': async () => {
      const rows = await signedIn('see the security alerts').session.securityAlerts().list();
      return { alerts: rows.map(securityAlertFrom) };
    },
    'admin.reviewAlert': async ({ alertId, decision, reason }) => {
      await signedIn('review a security alert').session.securityAlerts().review(alertId, decision, reason);
      return { state: decision };
    },
    'admin.unlock': async (request) => {
      const { session: current } = signedIn('unlock an account');
      return unlockAccount(current.signingBackend(), current.securityAlerts(), request, log);
    },
    // People, assignments, role changes and deactivation (issue 21, V3): the server admits admins only.
    'admin.people': async () => ({ people: await administration('see the people').people() }),
    'admin.roleRequests': async () => ({
      requests: await administration('see role-change requests').requests(),
    }),
    'admin.requestRoleChange': async (request) => {
      await administration('request a role change').requestRoleChange(request);
      return { ok: true as const };
    },
    'admin.decideRoleChange': async (request) => {
      await administration('decide a role change').decideRoleChange(request);
      return { ok: true as const };
    },
    'admin.deactivate': async (request) => {
      await administration('deactivate an account').deactivate(request);
      return { ok: true as const };
    },
    'admin.assignSite': async (request) => {
      await administration('assign a site').assignSite(request);
      return { ok: true as const };
    },
    'admin.unassignSite': async (request) => {
      await administration('unassign a site').unassignSite(request);
      return { ok: true as const };
    },
    // Issue 21, V4 (migration 0058): direct-login modes only; hosted passwords are Supabase Auth's.
    'admin.requirePasswordChange': async (request) => {
      if (config?.mode === 'supabase') {
        throw new UserFacingError(
          'In hosted mode Supabase Auth owns the passwords, so Countersign cannot require a change: send the person a password reset from the Supabase dashboard (Authentication → Users).',
        );
      }
      await administration('require a password change').requirePasswordChange(request);
      return { ok: true as const };
    },
    // Local cache and sync (issue 4): every read below is answered from the user's cache.
    'sync.status': async () => sync.status(),
    'sync.now': async () => sync.syncNow(),
    'sync.setOffline': async ({ offline }) => sync.setWorkOffline(offline),
    'sync.quarantine': async () => ({ items: cachedQuarantine(sync.cache()) }),
    'chain.verify': async ({ full }) => sync.verifyChain(full),
    'record.trail': async ({ stagingId }) => cachedRecordTrail(sync.cache(), stagingId),
    'provenance.list': async (request) =>
      timelinePage(
        cachedProvenance(sync.cache(), { ...request, limit: request.limit + 1 }),
        request.limit,
        (row) => row.occurredAt,
      ),
    'signatures.list': async (request) =>
      timelinePage(
        cachedSignatures(sync.cache(), { ...request, limit: request.limit + 1 }),
        request.limit,
        (row) => row.signedAt,
      ),
    'audit.list': async (request) => cachedAuditEntries(sync.cache(), request),
    // People by name (issue 19): the cache once it holds a sync; before that (and in hosted mode,
    // which has no cache) the server; neither: nobody is named and the screens show ids.
    'people.list': async () => {
      if (sync.cacheReady) return { people: cachedPeople(sync.cache()) };
      const directory = session?.peopleDirectory;
      if (!session || !directory || sync.status().workOffline) return { people: [] };
      try {
        return { people: peopleFromDirectory(await directory.call(session)) };
      } catch (error) {
        log(`countersign: people directory not read (${(error as { code?: string }).code ?? 'error'})`);
        return { people: [] };
      }
    },
    // Protocol builds (issue 20): the cache once it holds a sync; before that, and in hosted mode
    // (no cache), the server as the person (RLS).
    'builds.list': async ({ studyId }) => ({ builds: await studyBuildsFor(studyId) }),
    'builds.diff': async ({ fromBuildId, toBuildId }) =>
      studyBuildDiff(await studyBuildsFor(null), fromBuildId, toBuildId),
    'studies.list': async () => ({ studies: cachedStudies(sync.cache()) }),
    'diary.records': async (request) => ({ rows: cachedDiaryRecords(sync.cache(), request) }),
    'diary.annotate': async (request) => sync.annotate(request),
    'diary.patients': async (request) => cachedDiaryPatients(sync.cache(), request),
    'diary.history': async ({ eventUuid }) => cachedDiaryHistory(sync.cache(), eventUuid),
    'diary.resolve': async (request) => sync.resolveAnnotation(request),
    // Admin corrections and their review (issue 22): server calls as the person, then a sync so the
    // diary and the review list (read from the cache) show them.
    'diary.correct': async (request) => {
      const { session: current } = signedIn('correct a diary entry');
      const outcome = await correctDiaryRecord(
        current.signingBackend(),
        current.diaryCorrections(),
        request,
        log,
      );
      if (outcome.ok) await refreshCache();
      return outcome;
    },
    'diary.correctionReviews': async () => cachedCorrectionReviews(sync.cache()),
    'diary.reviewCorrection': async (request) => {
      const { session: current } = signedIn('review a correction');
      const outcome = await reviewDiaryCorrection(current.diaryCorrections(), request, log);
      await refreshCache();
      return outcome;
    },
    'outbox.list': async ({ includeSent }) => ({ items: listOutbox(sync.cache(), { includeSent }) }),
    // Paper transcription and diary conflicts (issue 22, H2): the outbox in the cache, resolution online.
    'diary.transcriptionForm': async ({ patientId }) => ({
      form: diaryFormForPatient(sync.cache(), patientId),
    }),
    'diary.transcribe': async (request) => sync.transcribe(request),
    'diary.events': async ({ includeSent }) => ({ items: listDiaryEvents(sync.cache(), { includeSent }) }),
    'diary.conflicts': async () => ({ conflicts: openDiaryConflicts(sync.cache()) }),
    'diary.resolveConflict': async ({ conflictId, strategy, seenAuditId }) =>
      sync.resolveDiaryConflict(conflictId, strategy, seenAuditId),
    'diary.discardEvent': async ({ id }) => discardDiaryEvent(sync.cache(), id),
    'outbox.resolve': async ({ id, action }) => {
      const item = resolveOutboxItem(sync.cache(), id, action);
      if (action === 'rebase' && sync.online) await sync.syncNow();
      return item;
    },
    // Inspection packet (issue 6): built from the cache, offline too; progress is pushed.
    'export.packet': async (request) => {
      const identity = session?.identity ?? sync.offlineIdentity;
      if (!identity) throw new UserFacingError('Sign in to export an inspection packet.');
      const workstationKey = sync.workstationKey();
      return exportPacketToDataDir(sync.cacheSource(), {
        dataDir: options.dataDir,
        request,
        identity,
        jobs: packetJobs,
        log,
        onProgress: exportProgress,
        // The workstation key signs the packet and cosigns its checkpoint (issue 24).
        ...(workstationKey ? { signingKey: workstationKey } : {}),
      });
    },
    'export.verify': async ({ fileName }) =>
      verifyExportedPacket(options.dataDir, fileName, { jobs: packetJobs, onProgress: exportProgress }),
    // Stops a running export or verification (its worker is terminated; no file is left).
    'export.cancel': async () => ({ cancelled: packetJobs.cancel() }),
    // A save dialog is the desktop host's (index.ts); a host without one offers a download instead.
    'export.saveAs': async ({ fileName }) =>
      options.chooseExportDestination
        ? savePacketCopy(options.dataDir, fileName, options.chooseExportDestination)
        : Promise.reject(
            new UserFacingError('This window downloads the packet instead: use its Download link.'),
          ),
    // The analyst's de-identified data (issue 22, H4): from the cache, offline too; the export is
    // written to exports/ and saved or downloaded like a packet (export.saveAs, /downloads/).
    'analysis.entries': async (filter) => cachedDeidentifiedEntries(sync.cache(), filter),
    'analysis.export': async ({ filter, rows }) =>
      exportDeidentifiedToDataDir(sync.cache(), {
        dataDir: options.dataDir,
        filter,
        rows,
        log,
        onProgress: (progress) => {
          for (const listener of listeners) listener('export.progress', progress);
        },
      }),
  };

  return {
    handlers: guardIdleLock(
      guardServerWrites(handlers, {
        workOffline: () => sync.status().workOffline,
        connectionLost: () => sync.connectionIsLost,
        reconnect: async () => (await sync.syncNow()).online,
        noteConnectionLost: (error) => sync.noteConnectionLost(error),
      }),
      idleLock,
    ),
    backendSettled,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closing = true;
      await sync.close();
      await session?.close();
      session = null;
      signing = null;
      await backendSettled;
      await stopBackend?.();
    },
  };
}

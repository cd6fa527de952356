// The main-process services behind the contract, shared by the Electron window and the browser
// host: starts the configured backend in the background, keeps the signed-in session, and answers
// each channel. Transport code (IPC, HTTP) lives elsewhere and only calls these handlers.

import { generateSync } from 'otplib';
import type { BackendStatus, ContractHandlers } from '../shared/contract';
import { type BackendConfig, backendConfigFrom } from './backend/backendConfig';
import { backendConfigFromProfile } from './backend/backendProfile';
import type { BackendSession } from './backend/backendSession';
import { demoPeople, demoSignInList, formatDemoCredentials } from './backend/demo/demoPeople';
import { startEmbeddedBackend } from './backend/embedded/embeddedBackend';
import { findMigrationsDir } from './backend/migrationsDir';
import { PostgresSession, type ServerAddress, SignInError } from './backend/postgres/postgresSession';
import { describeProject } from './backend/supabase/supabaseConfig';
import { SupabaseSession } from './backend/supabase/supabaseSession';
import { SigningCeremonies } from './signing/signingCeremony';
import { beginTotpEnrolment, enrolmentFailureMessage } from './signing/totpEnrolment';
import { UserFacingError } from './userFacingError';

/** Shown above the Sign button: what the signer attests to (21 CFR 11.50, 11.100(c)). */
export const signingAttestation =
  'By signing I confirm that I am the person named, that I have reviewed each listed record, and that ' +
  'this electronic signature is the legally binding equivalent of my handwritten signature, with the ' +
  'meaning stated.';

export interface WorkstationOptions {
  dataDir: string;
  log?: (line: string) => void;
  /** Defaults to the process environment. */
  env?: Record<string, string | undefined>;
}

export interface Workstation {
  handlers: ContractHandlers;
  /** Resolves when the backend is ready or has failed (the status says which). */
  backendSettled: Promise<void>;
  close(): Promise<void>;
}

type BackendState = Pick<BackendStatus, 'state' | 'message' | 'serverVersion' | 'schemaVersion'>;

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
  let signing: SigningCeremonies | null = null;
  let closing = false;

  const signedIn = (what: string): { session: BackendSession; signing: SigningCeremonies } => {
    if (!session || !signing) throw new UserFacingError(`Sign in to ${what}.`);
    return { session, signing };
  };
  /** Demo signers only: their TOTP secret is public in the demo, so the workstation may show the code. */
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
        address = { host: next.host, port: next.port, database: next.database, ssl: next.ssl };
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
    session: session ? { ...session.identity } : null,
  });

  const handlers: ContractHandlers = {
    'backend.status': async () => status(),
    'backend.configure': async (profile) => {
      await switchBackend(backendConfigFromProfile(profile));
      return status();
    },
    'session.signIn': async ({ email, password, totpCode }) => {
      if (backendState.state !== 'ready' || (!address && config?.mode !== 'supabase')) {
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
        signing = new SigningCeremonies(next.signingBackend(), { log });
        // The user id, not the e-mail address: a patient's address is personal data and stays out of logs.
        log(
          `countersign: user ${next.identity.userId} signed in (${next.identity.roles.join(', ') || 'no roles'})`,
        );
        return { ok: true, status: status() };
      } catch (error) {
        if (error instanceof SignInError) return { ok: false, error: error.message };
        throw error;
      }
    },
    'session.signOut': async () => {
      const previous = session;
      session = null;
      signing = null;
      await previous?.close();
      return status();
    },
    'staging.queue': async (request) => {
      if (!session) throw new UserFacingError('Sign in to see the staging queue.');
      return session.stagingQueue(request);
    },
    'staging.detail': async ({ id }) => signedIn('see a record').session.stagingDetail(id),
    'staging.openForReview': async ({ stagingIds }) => ({
      opened: await signedIn('review').session.signingBackend().openForReview(stagingIds),
    }),
    'staging.promote': async ({ stagingIds }) => ({
      outcomes: await signedIn('promote').signing.promote(stagingIds),
    }),
    'signing.status': async () => {
      const backend = signedIn('sign').session.signingBackend();
      const [status, meanings] = await Promise.all([backend.status(), backend.meanings()]);
      return {
        ...status,
        meanings,
        attestation: signingAttestation,
        demoCodeAvailable: demoTotpSecret() !== null,
      };
    },
    'signing.meanings': async () => ({
      meanings: await signedIn('sign').session.signingBackend().meanings(),
    }),
    'signing.manifest': async ({ stagingIds }) => signedIn('sign').signing.buildManifest(stagingIds),
    'signing.sign': async (request) => signedIn('sign').signing.sign(request),
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
    'demo.totpCode': async () => {
      const secret = demoTotpSecret();
      const now = Date.now() / 1000;
      return {
        code: secret ? generateSync({ secret, epoch: Math.floor(now) }) : null,
        secondsLeft: 30 - (Math.floor(now) % 30),
      };
    },
  };

  return {
    handlers,
    backendSettled,
    async close() {
      closing = true;
      await session?.close();
      session = null;
      signing = null;
      await backendSettled;
      await stopBackend?.();
    },
  };
}

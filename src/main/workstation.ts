// The main-process services behind the contract, shared by the Electron window and the browser
// host: starts the configured backend in the background, keeps the signed-in session, and answers
// each channel. Transport code (IPC, HTTP) lives elsewhere and only calls these handlers.

import { generateSync } from 'otplib';
import type { BackendStatus, ContractHandlers } from '../shared/contract';
import { type BackendConfig, backendConfigFrom } from './backend/backendConfig';
import { demoPeople, demoSignInList, formatDemoCredentials } from './backend/demo/demoPeople';
import { startEmbeddedBackend } from './backend/embedded/embeddedBackend';
import { findMigrationsDir } from './backend/migrationsDir';
import { PostgresSession, type ServerAddress, SignInError } from './backend/postgres/postgresSession';
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
  let session: PostgresSession | null = null;
  let signing: SigningCeremonies | null = null;
  let closing = false;

  const signedIn = (what: string): { session: PostgresSession; signing: SigningCeremonies } => {
    if (!session || !signing) throw new UserFacingError(`Sign in to ${what}.`);
    return { session, signing };
  };
  /** Demo signers only: their TOTP secret is public in the demo, so the workstation may show the code. */
  const demoTotpSecret = (): string | null => {
    if (config?.mode !== 'embedded' || !session) return null;
    const email = session.identity.email;
    return demoPeople.find((person) => person.email.toLowerCase() === email)?.totpSecretBase32 ?? null;
  };

  const backendSettled = (async () => {
    try {
      config = backendConfigFrom(options.env ?? process.env);
      if (config.mode === 'embedded') {
        backendState = { ...backendState, message: 'Starting the embedded demo database…' };
        const backend = await startEmbeddedBackend({
          dataDir: options.dataDir,
          port: config.port,
          migrationsDir: findMigrationsDir(),
          log,
        });
        if (closing) {
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
      } else if (config.mode === 'postgres') {
        address = { host: config.host, port: config.port, database: config.database, ssl: config.ssl };
        backendState = {
          state: 'ready',
          message: `PostgreSQL backend at ${config.host}:${config.port}/${config.database}; sign in with your account.`,
          serverVersion: null,
          schemaVersion: null,
        };
      } else {
        backendState = {
          state: 'error',
          message:
            'The Supabase backend is not available in this version yet; unset COUNTERSIGN_BACKEND to use the demo.',
          serverVersion: null,
          schemaVersion: null,
        };
      }
      log(`countersign: ${backendState.message}`);
      if (config.mode === 'embedded' && backendState.state === 'ready') log(formatDemoCredentials());
    } catch (error) {
      backendState = {
        state: 'error',
        message: error instanceof Error ? error.message : String(error),
        serverVersion: null,
        schemaVersion: null,
      };
      log(`countersign: backend failed to start: ${backendState.message}`);
    }
  })();

  const status = (): BackendStatus => ({
    mode: config?.mode ?? 'embedded',
    ...backendState,
    demoUsers: config?.mode === 'embedded' && backendState.state === 'ready' ? demoSignInList() : [],
    session: session ? { ...session.identity } : null,
  });

  const handlers: ContractHandlers = {
    'backend.status': async () => status(),
    'session.signIn': async ({ email, password }) => {
      if (backendState.state !== 'ready' || !address) {
        return {
          ok: false,
          error:
            backendState.state === 'starting'
              ? 'The backend is still starting; try again in a moment.'
              : `The backend is not available: ${backendState.message}`,
        };
      }
      try {
        const next = await PostgresSession.signIn(address, email, password);
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
      const offer = await beginTotpEnrolment(current.signingBackend(), current.identity.email);
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

// The signed-in user's cache and its sync, as the workstation uses them: opens the user's encrypted
// cache at sign-in (online, or offline with the local verifier), pulls on open, on demand and every
// few minutes while online, sends the outbox after each pull, verifies the chain incrementally, and
// answers the read channels from the cache. Status changes are pushed through `emit` (the
// contract's 'sync.progress' event). The server is a SyncServer (syncServer.ts) whichever the mode:
// the direct modes open one over a PostgreSQL connection as the user (openOnline), hosted mode is
// handed one that speaks PostgREST with the person's token (openHosted). Online means: the server
// answers as the user, and the person has not chosen "work offline". A connection lost after an
// online sign-in is opened again with the same login (by itself every `reconnectIntervalMs`, on
// "Sync now", or when "work offline" is turned off; in hosted mode, the server answering its probe
// again); the cache stays readable meanwhile. The connection settings (password included) are
// held only as long as the online session, as the open connection itself holds them. After an
// offline sign-in (nothing to reconnect with) a fresh sign-in reconnects. A hosted session that
// could not be renewed stops syncing with its message, the cache and outbox as they were, until a
// fresh sign-in: retrying would only fail again.

import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import type pg from 'pg';
import type { SyncStatus } from '../../shared/contract';
import { connectAsPerson, type ServerAddress } from '../backend/postgres/personConnection';
import type { SessionIdentity } from '../backend/postgres/postgresSession';
import { AuditTreeError, advanceAuditTree } from '../cache/auditTree';
import type { CacheKeyStore } from '../cache/cacheKeyStore';
import { type BackendAddress, backendIdFor, cacheFilePath } from '../cache/cacheLocation';
import { refreshChangeSummaries } from '../cache/changeSummaries';
import { checkOfflineVerifier, saveOfflineVerifier } from '../cache/offlineSignIn';
import { openCache } from '../cache/openCache';
import { writeCheckpointIfDue } from '../checkpoint/checkpointArchive';
import { type CheckpointStatus, cosignAfterVerifiedSync } from '../checkpoint/cosigner';
import { workstationPrivateKey, workstationSigner } from '../checkpoint/workstationKey';
import { UserFacingError } from '../userFacingError';
import { type ChainVerification, packedEntrySql, verifyChainFrom } from './chainVerifier';
import {
  type ConflictStrategy,
  type DiaryEventItem,
  diaryEventItem,
  enqueueTranscription,
  flushDiaryEvents,
  type NewTranscription,
  resolveDiaryConflict,
} from './diaryEventOutbox';
import {
  enqueueAnnotation,
  enqueueResolution,
  flushOutbox,
  type NewAnnotation,
  type NewResolution,
  type OutboxItem,
  outboxItem,
} from './outbox';
import { type ChainSource, verifyChainParallel } from './parallelChainVerifier';
import { postgresSyncServer } from './postgresSyncServer';
import { type PullProgress, pullAll, writeMeta } from './pullEngine';
import { isConnectionError } from './serverReader';
import { type SyncServer, SyncSessionExpiredError } from './syncServer';

const waitingIn = (state: 'pending' | 'conflict' | 'failed') =>
  `select (select count(*) from outbox where state = '${state}')
        + (select count(*) from diary_event_outbox where state = '${state}') as n`;

export interface SyncServiceOptions {
  dataDir: string;
  keyStore: CacheKeyStore;
  log: (line: string) => void;
  emit: (status: SyncStatus) => void;
  /** Background sync period while online; default 3 minutes. */
  intervalMs?: number;
  /** While the connection is lost (not by choice): how often to try to reconnect; default 30 seconds. */
  reconnectIntervalMs?: number;
  /**
   * Hosted mode only: how often an idle online session asks the server whether it still answers
   * (the probe); default 60 seconds. A direct connection notices a server going away by itself;
   * HTTP keeps no connection open, so without this the status would say "Online" until the next
   * sync.
   */
  heartbeatMs?: number;
  now?: () => Date;
  /**
   * Checkpoints (issue 24): the folder of the daily checkpoint file (default <dataDir>/checkpoints)
   * and how often one is written while the app is open (default once a day; 0 turns it off).
   */
  checkpointDir?: string;
  checkpointEveryMs?: number;
}

/** The roles that read the whole audit trail (0010), and so verify it and cosign its checkpoints. */
const cosigningRoles = new Set(['inspector', 'admin']);

export interface OnlineCredentials {
  identity: SessionIdentity;
  address: ServerAddress;
  password: string;
}

export interface HostedCredentials {
  identity: SessionIdentity;
  backend: BackendAddress;
  password: string;
  /** The hosted transport, signed in as the person (it renews their token itself). */
  server: SyncServer;
  /** Resolves when the server answers again after a lost connection; default: server.start(). */
  probe?: () => Promise<void>;
}

export class SyncService {
  private db: Database | null = null;
  private client: pg.Client | null = null;
  private source: ChainSource | null = null;
  private server: SyncServer | null = null;
  /** Hosted mode: its server, kept while the connection is lost, and how to see it back. */
  private hosted: { server: SyncServer; probe: () => Promise<void> } | null = null;
  /** A hosted session that could not be renewed: nothing syncs until a fresh sign-in. */
  private sessionExpired = false;
  private identity: SessionIdentity | null = null;
  private workOffline = false;
  private connectionLost = false;
  private offlineSince: string | null = null;
  private running: Promise<void> | null = null;
  private progress: PullProgress | null = null;
  private lastError: string | null = null;
  private chain: ChainVerification | null = null;
  private checkpoint: CheckpointStatus | null = null;
  private backendId: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  /** Opens a new connection as the signed-in user (online sessions only). */
  private connect: (() => Promise<pg.Client>) | null = null;
  private readonly now: () => Date;

  constructor(private readonly options: SyncServiceOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** After an online sign-in: the user's cache, a reader connection as the user, a first sync. */
  async openOnline(credentials: OnlineCredentials): Promise<void> {
    await this.close();
    const { identity, address, password } = credentials;
    if (!(await this.openSignedIn(identity, backendIdFor(address), password))) return;
    this.connect = async () => {
      // Rows are mirrored as the server's to_jsonb renders them in UTC, the form signatures hash.
      const client = await connectAsPerson(address, identity.email, password, 'countersign-sync', {
        options: '-c TimeZone=UTC',
      });
      // Only the current connection speaks for the state (an old one may still report its end).
      client.on('error', (error) => this.client === client && this.markConnectionLost(error));
      client.on('end', () => this.client === client && this.markConnectionLost());
      return client;
    };
    try {
      this.adoptConnection(await this.connect());
    } catch (error) {
      this.markConnectionLost(error);
    }
    this.startTimer();
    void this.syncNow();
  }

  /**
   * After a hosted (Supabase) sign-in: the user's cache, its offline verifier (so the same sign-in
   * works offline later, as in the direct modes), and a first sync through `server`; no PostgreSQL
   * connection. Online until a call fails for want of a connection; then it is back when the probe
   * succeeds.
   */
  async openHosted(credentials: HostedCredentials): Promise<void> {
    await this.close();
    const { identity, backend, password, server } = credentials;
    if (!(await this.openSignedIn(identity, backendIdFor(backend), password))) return;
    this.hosted = {
      server,
      probe:
        credentials.probe ??
        (async () => {
          await server.start();
        }),
    };
    this.server = server;
    this.connectionLost = false;
    this.startTimer();
    this.startHeartbeat();
    void this.syncNow();
  }

  /** Hosted mode: an idle online session probes the server now and then (see heartbeatMs). */
  private startHeartbeat(): void {
    this.stopHeartbeat();
    const hosted = this.hosted;
    if (!hosted) return;
    this.heartbeatTimer = setInterval(() => {
      if (this.hosted !== hosted || !this.online || this.running) return;
      hosted.probe().catch((error: unknown) => {
        if (this.hosted !== hosted) return;
        if (error instanceof SyncSessionExpiredError) this.markSessionExpired(error);
        else if (isConnectionError(error)) this.markConnectionLost(error);
      });
    }, this.options.heartbeatMs ?? 60_000);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  /**
   * After an online sign-in, in any mode: the person's cache, their identity in it, and the offline
   * verifier of this password (so the same sign-in works offline later). False when the cache
   * cannot be opened (the status says why).
   */
  private async openSignedIn(
    identity: SessionIdentity,
    backendId: string,
    password: string,
  ): Promise<boolean> {
    try {
      this.db = this.openFor(identity.userId, backendId);
    } catch (error) {
      this.lastError =
        error instanceof UserFacingError ? error.message : 'The offline cache could not be opened.';
      this.options.log(
        `countersign sync: cache of user ${identity.userId} not opened: ${(error as Error).message}`,
      );
      this.emit();
      return false;
    }
    this.identity = identity;
    writeMeta(this.db, 'identity', JSON.stringify(identity));
    await saveOfflineVerifier(this.options.dataDir, backendId, identity.email, identity.userId, password);
    return true;
  }

  /**
   * The backend cannot be reached: open the cache of the user these credentials verify against,
   * or return null (nobody synced here with them before).
   */
  async openOffline(
    address: BackendAddress,
    email: string,
    password: string,
  ): Promise<SessionIdentity | null> {
    const backendId = backendIdFor(address);
    const userId = await checkOfflineVerifier(this.options.dataDir, backendId, email, password);
    if (!userId) return null;
    await this.close();
    const db = this.openFor(userId, backendId);
    const stored = db.prepare(`select value from sync_meta where name = 'identity'`).get() as
      | { value: string }
      | undefined;
    if (!stored) {
      db.close();
      return null;
    }
    this.db = db;
    this.identity = JSON.parse(stored.value) as SessionIdentity;
    this.connectionLost = true;
    this.offlineSince = this.now().toISOString();
    this.emit();
    return this.identity;
  }

  private openFor(userId: string, backendId: string): Database {
    const path = cacheFilePath(this.options.dataDir, backendId, userId);
    const key = this.options.keyStore.keyFor(userId, backendId);
    const db = openCache({ path, key, userId, backendId });
    this.backendId = backendId;
    refreshChangeSummaries(db); // a cache from before schema 6, or one closed mid-sync
    // Kept while the cache is open, for the chain verification workers' own read-only connections.
    this.source = { path, key };
    return db;
  }

  /** The identity of an offline session (no server session exists). */
  get offlineIdentity(): SessionIdentity | null {
    return this.db && !this.client && !this.hosted ? this.identity : null;
  }

  /** A login to reconnect with: a direct one, or a hosted session. */
  private get canReconnect(): boolean {
    return this.connect !== null || this.hosted !== null;
  }

  /** A cache is open and its connection to the backend was lost (not by choice). */
  get connectionIsLost(): boolean {
    return (
      this.db !== null &&
      !this.workOffline &&
      !this.sessionExpired &&
      (this.connectionLost || this.server === null)
    );
  }

  /** A request outside the sync failed for want of a connection: say so now, reconnect as usual. */
  noteConnectionLost(error: unknown): void {
    if (this.db !== null) this.markConnectionLost(error);
  }

  get online(): boolean {
    return this.server !== null && !this.workOffline && !this.connectionLost && !this.sessionExpired;
  }

  /** The cache answers reads once it holds a completed sync. */
  get cacheReady(): boolean {
    return this.db !== null && this.meta('last_synced_at') !== null;
  }

  cache(): Database {
    if (!this.db) throw new UserFacingError('Sign in to open your offline cache.');
    return this.db;
  }

  /** The open cache's file and key, for a worker thread's own read-only connection (packet export). */
  cacheSource(): ChainSource {
    if (!this.db || !this.source) throw new UserFacingError('Sign in to open your offline cache.');
    return this.source;
  }

  /**
   * The workstation's Ed25519 key of the signed-in person on this backend (checkpoint/
   * workstationKey.ts): packets exported here are signed and their checkpoint cosigned with it. A
   * KeyObject, so that it can be handed to the export worker thread; never logged. Undefined when
   * nobody is signed in or the key store cannot open it.
   */
  workstationKey(): KeyObject | undefined {
    if (!this.identity || !this.backendId) return undefined;
    try {
      return workstationPrivateKey(this.options.keyStore, this.identity.userId, this.backendId);
    } catch (error) {
      // No keychain (Electron without one): the packet is signed by a key made for it alone.
      this.options.log(`countersign checkpoint: workstation key unavailable (${(error as Error).name})`);
      return undefined;
    }
  }

  private meta(name: string): string | null {
    const row = this.db?.prepare('select value from sync_meta where name = ?').get(name) as
      | { value: string }
      | undefined;
    return row?.value ?? null;
  }

  private adoptConnection(client: pg.Client): void {
    this.client = client;
    this.server = postgresSyncServer(client);
    this.connectionLost = false;
    this.offlineSince = this.workOffline ? this.offlineSince : null;
    this.stopReconnecting();
  }

  private markConnectionLost(error?: unknown): void {
    if (!this.connectionLost) {
      this.connectionLost = true;
      this.offlineSince ??= this.now().toISOString();
      this.lastError = this.canReconnect
        ? 'The backend cannot be reached; working from the cache. Countersign reconnects by itself, or with Sync now.'
        : 'The backend cannot be reached; working from the cache. Sign in again to reconnect.';
      this.options.log(
        `countersign sync: connection lost (${(error as { code?: string } | undefined)?.code ?? 'closed'})`,
      );
      this.startReconnecting();
      this.emit();
    }
  }

  /**
   * The hosted session could not be renewed: stop here (no reconnecting, no timed syncs), say so,
   * keep the cache and the outbox as they are.
   */
  private markSessionExpired(error: SyncSessionExpiredError): void {
    this.sessionExpired = true;
    this.lastError = error.message;
    this.offlineSince ??= this.now().toISOString();
    this.stopReconnecting();
    this.stopTimer();
    this.stopHeartbeat();
    this.options.log('countersign sync: hosted session expired; sync stopped until the next sign-in');
    this.emit();
  }

  /** The hosted server answers its probe again; false if it is still away. */
  private async reconnectHosted(hosted: {
    server: SyncServer;
    probe: () => Promise<void>;
  }): Promise<boolean> {
    try {
      await hosted.probe();
    } catch (error) {
      if (error instanceof SyncSessionExpiredError) this.markSessionExpired(error);
      else
        this.options.log(
          `countersign sync: reconnect failed (${(error as { code?: string }).code ?? 'error'})`,
        );
      return false;
    }
    if (this.hosted !== hosted) return false; // signed out meanwhile
    this.server = hosted.server;
    this.connectionLost = false;
    this.offlineSince = this.workOffline ? this.offlineSince : null;
    this.stopReconnecting();
    this.lastError = null;
    this.options.log('countersign sync: reconnected');
    return true;
  }

  /** A new connection with the same login, after the last one was lost; false if the server is still away. */
  private async reconnect(): Promise<boolean> {
    if (this.hosted) return this.reconnectHosted(this.hosted);
    const connect = this.connect;
    if (!connect) return false;
    const old = this.client;
    this.client = null;
    this.server = null;
    // A lost connection may never finish ending: do not wait for it.
    void old?.end().catch(() => undefined);
    try {
      const client = await connect();
      if (this.connect !== connect) {
        await client.end().catch(() => undefined); // signed out meanwhile
        return false;
      }
      this.adoptConnection(client);
      this.lastError = null;
      this.options.log('countersign sync: reconnected');
      return true;
    } catch (error) {
      this.options.log(
        `countersign sync: reconnect failed (${(error as { code?: string }).code ?? 'error'})`,
      );
      return false;
    }
  }

  status(): SyncStatus {
    const db = this.db;
    const count = (sql: string) => (db ? (db.prepare(sql).get() as { n: number }).n : 0);
    return {
      cacheOpen: db !== null,
      online: this.online,
      workOffline: this.workOffline,
      offlineSince: this.online ? null : this.offlineSince,
      lastSyncedAt: this.meta('last_synced_at'),
      syncing: this.running !== null,
      progress: this.progress,
      lastError: this.lastError,
      quarantined: count('select count(*) as n from quarantine'),
      // Annotations and diary events (transcriptions) alike.
      outbox: {
        pending: count(waitingIn('pending')),
        conflict: count(waitingIn('conflict')),
        failed: count(waitingIn('failed')),
      },
      chain: this.chain
        ? {
            ok: this.chain.ok,
            verifiedThroughSeq: this.chain.verifiedThroughSeq,
            firstBadSeq: this.chain.firstBadSeq,
            problem: this.chain.problem,
          }
        : null,
      keyProtection: this.options.keyStore.description,
      checkpoint: this.checkpoint,
    };
  }

  private emit(): void {
    try {
      this.options.emit(this.status());
    } catch {
      // a closed window or stream: the next status request still answers
    }
  }

  /**
   * Pull, send the outbox, pull what it created, verify the chain; one run at a time. A connection
   * lost before (not by choice) is opened again first.
   */
  async syncNow(): Promise<SyncStatus> {
    const reconnecting =
      !this.online && !this.workOffline && !this.sessionExpired && this.connectionLost && this.canReconnect;
    if (!this.online && !this.workOffline && this.connectionLost && !this.canReconnect && this.db) {
      // Signed in from the cache: there is no login to reconnect with.
      this.lastError =
        'Signed in from the cache while the backend was away: sign out and in again to reconnect.';
      this.emit();
    }
    if (!this.running && this.db && (this.online || reconnecting)) {
      const db = this.db;
      this.running = (async () => {
        this.emit();
        try {
          if (reconnecting && !(await this.reconnect())) return;
          const server = this.server;
          if (!server) return;
          await pullAll(db, server, {
            cacheFile: this.source ?? undefined,
            onProgress: (progress) => {
              this.progress = progress;
              this.emit();
            },
          });
          // Diary events first: an annotation may be about a record a transcription creates.
          const events = await flushDiaryEvents(db, server, this.now);
          const sent = events.unreachable
            ? { sent: 0, conflicts: 0, failed: 0, unreachable: true }
            : await flushOutbox(db, server, this.now);
          if (sent.unreachable) this.markConnectionLost();
          else if (sent.sent + events.sent + events.conflicts > 0) await pullAll(db, server);
          refreshChangeSummaries(db);
          this.chain = verifyChainFrom(db, { now: this.now });
          // The checkpoint tree and subject map follow the verified head (issue 24), apart from the
          // verifier itself so that a chain check costs only the chain check.
          advanceAuditTree(db);
          this.lastError =
            sent.conflicts + sent.failed + events.conflicts + events.failed > 0
              ? 'Some diary entries or annotations need your decision (outbox).'
              : null;
          if (!sent.unreachable) await this.checkpointAfterSync(db, server);
        } catch (error) {
          if (error instanceof SyncSessionExpiredError) this.markSessionExpired(error);
          else if (isConnectionError(error)) this.markConnectionLost(error);
          else {
            this.lastError = 'The last sync failed; the details are in the application log.';
            this.options.log(
              `countersign sync: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
            );
          }
        } finally {
          this.progress = null;
          this.running = null;
          this.emit();
        }
      })();
    }
    await this.running;
    return this.status();
  }

  /**
   * After a sync (online): check the cosignatures and the server's entry hashes, cosign the verified
   * head (checkpoint/cosigner.ts), pull the cosignatures just sent, and write the day's checkpoint
   * file when one is due. Only the roles that read the whole audit trail take part.
   */
  private async checkpointAfterSync(db: Database, server: SyncServer): Promise<void> {
    const identity = this.identity;
    const chain = this.chain;
    if (!identity || !this.backendId || !chain || !identity.roles.some((role) => cosigningRoles.has(role)))
      return;
    const signer = workstationSigner(this.options.keyStore, identity.userId, this.backendId);
    let outcome: Awaited<ReturnType<typeof cosignAfterVerifiedSync>>;
    try {
      outcome = await cosignAfterVerifiedSync({
        db,
        server,
        signer,
        userId: identity.userId,
        chain,
        now: this.now,
        log: this.options.log,
      });
    } catch (error) {
      // A cache without a whole audit log has no tree: nothing to cosign, the sync itself is fine.
      if (!(error instanceof AuditTreeError)) throw error;
      this.options.log(`countersign checkpoint: no tree in this cache (${error.name})`);
      return;
    }
    const { sent, ...status } = outcome;
    this.checkpoint = status;
    if (this.checkpoint.state === 'rewritten') {
      this.lastError = this.checkpoint.problem;
      return;
    }
    if (this.checkpoint.state !== 'cosigned') return;
    if (sent > 0) await pullAll(db, server); // this workstation's cosignatures, as the server recorded them
    const everyMs = this.options.checkpointEveryMs ?? 24 * 60 * 60_000;
    if (everyMs <= 0) return;
    try {
      const path = writeCheckpointIfDue({
        db,
        signer,
        userId: identity.userId,
        printedName: identity.printedName,
        dir: this.options.checkpointDir ?? join(this.options.dataDir, 'checkpoints'),
        now: this.now(),
        everyMs,
      });
      if (path) this.options.log('countersign checkpoint: daily checkpoint file written');
    } catch (error) {
      this.options.log(
        `countersign checkpoint: daily checkpoint file not written (${(error as Error).name})`,
      );
    }
  }

  async setWorkOffline(offline: boolean): Promise<SyncStatus> {
    this.workOffline = offline;
    if (offline) this.offlineSince ??= this.now().toISOString();
    else if (!this.connectionLost) this.offlineSince = null;
    this.emit();
    if (!offline) return this.syncNow(); // back online: pull, then send the outbox in order
    return this.status();
  }

  async annotate(annotation: NewAnnotation): Promise<OutboxItem> {
    const item = enqueueAnnotation(this.cache(), annotation, this.now());
    this.emit();
    if (this.online) await this.syncNow();
    return outboxItem(this.cache(), item.id);
  }

  /** Close (resolved) or reopen a query through the outbox; sent at once when online. */
  async resolveAnnotation(resolution: NewResolution): Promise<OutboxItem> {
    const item = enqueueResolution(this.cache(), resolution, this.now());
    this.emit();
    if (this.online) await this.syncNow();
    return outboxItem(this.cache(), item.id);
  }

  /** A paper transcription through the diary event outbox; sent at once when online. */
  async transcribe(transcription: NewTranscription): Promise<DiaryEventItem> {
    const item = enqueueTranscription(this.cache(), transcription, this.now());
    this.emit();
    if (this.online) await this.syncNow();
    return diaryEventItem(this.cache(), item.id);
  }

  /** Resolves a diary conflict on the server (online only), then syncs to show the result. */
  async resolveDiaryConflict(
    conflictId: number,
    strategy: ConflictStrategy,
    seenAuditId: number,
  ): Promise<{ auditId: number }> {
    const server = this.server;
    if (!server || !this.online) {
      throw new UserFacingError(
        this.sessionExpired
          ? (this.lastError ?? 'Sign in again: resolving a conflict needs the server, and nothing was sent.')
          : 'You are offline: resolving a conflict needs the server, and nothing was sent.',
      );
    }
    let resolved: { auditId: number };
    try {
      resolved = await resolveDiaryConflict(this.cache(), server, conflictId, strategy, seenAuditId);
    } catch (error) {
      if (!(error instanceof SyncSessionExpiredError)) throw error;
      this.markSessionExpired(error);
      throw new UserFacingError(error.message, { cause: error });
    }
    await this.syncNow();
    return resolved;
  }

  /** On demand (a full re-check during an inspection can be large): spread over worker threads. */
  async verifyChain(full: boolean): Promise<ChainVerification> {
    const db = this.cache();
    this.chain = this.source
      ? await verifyChainParallel(db, {
          source: this.source,
          fromGenesis: full,
          now: this.now,
          packedSql: packedEntrySql,
        })
      : verifyChainFrom(db, { fromGenesis: full, now: this.now });
    advanceAuditTree(db);
    this.emit();
    return this.chain;
  }

  private startTimer(): void {
    this.stopTimer();
    this.timer = setInterval(() => void this.syncNow(), this.options.intervalMs ?? 3 * 60_000);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private startReconnecting(): void {
    if (this.reconnectTimer || !this.canReconnect || this.sessionExpired) return;
    this.reconnectTimer = setInterval(() => {
      if (!this.workOffline) void this.syncNow();
    }, this.options.reconnectIntervalMs ?? 30_000);
    this.reconnectTimer.unref();
  }

  private stopReconnecting(): void {
    if (this.reconnectTimer) clearInterval(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  async close(): Promise<void> {
    this.stopTimer();
    this.stopReconnecting();
    this.stopHeartbeat();
    this.connect = null;
    this.hosted = null;
    await this.running?.catch(() => undefined);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
    this.server = null;
    this.sessionExpired = false;
    this.db?.close();
    this.db = null;
    this.identity = null;
    this.chain = null;
    this.checkpoint = null;
    this.backendId = null;
    this.lastError = null;
    this.workOffline = false;
    this.connectionLost = false;
    this.offlineSince = null;
  }
}

// The server side of sync, one interface for every mode (issue 23): the pull engine, the people
// refresh and both outboxes speak only to this. The direct modes implement it over the person's own
// PostgreSQL connection (postgresSyncServer.ts: keyset pages as SQL, a first pull as one COPY); hosted
// mode implements it over PostgREST RPCs with the person's token (backend/supabase/
// supabaseSyncServer.ts). Both call the same server functions of migration 0061 where SQL is not
// needed for speed (the horizon and access fingerprint, counts, keys, the outbox's writes), so the
// rules they apply are the server's, once.
//
// Errors keep one shape whichever transport carried them: an Error with the PostgreSQL `code`
// (SQLSTATE, or CS4xx for Countersign's own), and `detail`/`constraint` where the server gave them.
// A server that cannot be reached is an error `isConnectionError` (serverReader.ts) recognises; a
// hosted session that could not be renewed is a SyncSessionExpiredError.
import type { Cosignature } from '../checkpoint/checkpoint';
import type { StreamDefinition } from './streamDefinitions';

/** Where a stream's next page starts (pullEngine.ts keeps it in the cache's sync_cursor). */
export interface SyncCursor {
  lastXid: string;
  lastKey: string;
  /** During a key-ordered first pull: the fixed horizon it reads below; otherwise null. */
  initialBelow: string | null;
}

/** What a pull starts from, computed by the server (public.sync_start, 0061). */
export interface SyncStart {
  /** The commit-safe horizon: pg_snapshot_xmin(pg_current_snapshot()) as text. */
  horizon: string;
  /** What the person may see, as far as their own assignments tell; a change means a full resync. */
  fingerprint: string;
}

export interface StreamCount {
  /** Rows to pull from the cursor. */
  rows: number;
  /** All rows the person may read, for a stream whose rows can be deleted on the server; else null. */
  all: number | null;
}

/** An annotation (note, query, reply, correction) from the outbox (public.submit_annotation, 0061). */
export interface AnnotationWrite {
  clientRequestId: string;
  /** Set when the workstation chose the id (a query's reply refers to it before it is sent). */
  annotationId: string | null;
  eventUuid: string;
  parentAuditId: number;
  siteId: string;
  kind: string;
  text: string;
  requiresResponse: boolean;
  inReplyTo: string | null;
}

/** A query closed or reopened from the outbox (public.submit_annotation_resolution, 0061). */
export interface ResolutionWrite {
  requestId: string;
  annotationId: string;
  eventUuid: string;
  siteId: string;
  resolved: boolean;
  reasonCode: string | null;
  reasonText: string | null;
}

export interface WriteOutcome {
  /** True when the server already had this request id from this person: nothing was written twice. */
  replayed: boolean;
}

export interface SyncServer {
  /** 'postgres' for the direct modes, 'hosted' for PostgREST (for messages and logs only). */
  readonly transport: 'postgres' | 'hosted';
  start(): Promise<SyncStart>;
  /** Rows to pull per stream from each cursor (one round trip). */
  count(
    streams: readonly StreamDefinition[],
    cursors: ReadonlyMap<string, SyncCursor>,
  ): Promise<Map<string, StreamCount>>;
  /**
   * One keyset page from the cursor: rows in the stream's select-list shape (sync_xid as text
   * first), below the commit-safe horizon, in cursor order, at most `pageSize`.
   */
  page(stream: StreamDefinition, cursor: SyncCursor, pageSize: number): Promise<Record<string, unknown>[]>;
  /**
   * A first pull of a uuid-keyed stream in one piece (the direct modes' COPY; hosted mode reads
   * pages of `pageRows` several at a time): the rows after `cursor.lastKey` below
   * `cursor.initialBelow`, in key order, in batches of at most `batchRows`. Optional: without it the
   * engine pages.
   */
  firstPull?(
    stream: StreamDefinition,
    cursor: SyncCursor,
    batchRows: number,
    pageRows: number,
  ): AsyncIterable<Record<string, unknown>[]>;
  /** Every key of a stream the person may read (as text), to find rows deleted on the server. */
  keys(stream: StreamDefinition): Promise<string[]>;
  /**
   * The rows of public.people_directory() (0052), ordered by user_id; null when the server has
   * none for this person (older than 0052).
   */
  people(): Promise<Record<string, unknown>[] | null>;
  annotate(write: AnnotationWrite): Promise<WriteOutcome & { annotationId: string }>;
  resolveAnnotation(write: ResolutionWrite): Promise<WriteOutcome>;
  /** public.submit_diary_events (0059) with a batch of events; its JSON answer. */
  submitDiaryEvents(events: unknown[]): Promise<unknown>;
  /** public.resolve_diary_conflict (0059); its JSON answer. */
  resolveDiaryConflict(conflictId: number, strategy: string, seenAuditId: number): Promise<unknown>;
  /**
   * A checkpoint cosignature (public.submit_checkpoint_cosignature, 0062), idempotent per key and
   * checkpoint. Optional: a server without it (a test double) receives none.
   */
  submitCosignature?(cosignature: Cosignature): Promise<WriteOutcome>;
}

/**
 * A hosted session whose access token expired and could not be renewed: the sync stops here, every
 * page already written stays with its cursor, and the outbox keeps what it has not sent.
 */
export class SyncSessionExpiredError extends Error {
  readonly code = 'SESSION_EXPIRED';
  constructor(cause?: unknown) {
    super(
      'Your Supabase session expired and could not be renewed, so the sync stopped. Everything synced so far is kept and nothing waiting in the outbox was lost: sign in again to go on.',
      { cause },
    );
    this.name = 'SyncSessionExpiredError';
  }
}

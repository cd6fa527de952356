// The server side of sync in hosted mode (issue 23): every call is one PostgREST RPC of migration
// 0061 (or 0052 / 0059) with the person's token, so RLS and the server's functions decide exactly as
// in the direct modes, and the pages arrive already in the direct mode's row shape (the server
// builds them). What this file adds is the transport: errors in the direct mode's shape, one token
// renewal when PostgREST refuses an expired token, and a check that a page is what was asked for
// before the engine writes any of it.
import type { SupabaseClient } from '@supabase/supabase-js';
import type { Cosignature } from '../../checkpoint/checkpoint';
import { socketErrorCodes } from '../../sync/serverReader';
import type { StreamDefinition } from '../../sync/streamDefinitions';
import {
  type AnnotationWrite,
  type ResolutionWrite,
  type StreamCount,
  type SyncCursor,
  type SyncServer,
  SyncSessionExpiredError,
  type SyncStart,
  type WriteOutcome,
} from '../../sync/syncServer';

/** A PostgREST error body ({code, message, details, hint}) as supabase-js hands it over. */
interface PostgrestFailure {
  message: string;
  code?: string;
  details?: string | null;
  hint?: string | null;
}

/**
 * A failed request in the direct mode's shape (pg's DatabaseError): `code` is the SQLSTATE (or
 * CS4xx), `detail` the server's detail (a CS409 carries JSON there), `constraint` the unique
 * constraint a 23505 names, so the outboxes treat both transports alike. A request that got no
 * answer carries a socket code (ECONNREFUSED, ECONNRESET, ETIMEDOUT) that isConnectionError
 * (serverReader.ts) recognises.
 */
export class HostedRequestError extends Error {
  readonly code: string | undefined;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  readonly constraint: string | undefined;
  /** The HTTP status (0: no answer). */
  readonly status: number;

  constructor(
    message: string,
    fields: { code?: string; detail?: string; hint?: string; constraint?: string; status: number },
  ) {
    super(message);
    this.name = 'HostedRequestError';
    this.code = fields.code;
    this.detail = fields.detail;
    this.hint = fields.hint;
    this.constraint = fields.constraint;
    this.status = fields.status;
  }
}

/**
 * A gateway (Supabase's, or Cloudflare's in front of it) answering for a database it cannot reach:
 * to the sync that is the same as no answer, so it stops as offline and resumes later.
 */
const gatewayStatuses = new Set([502, 503, 504, 520, 521, 522, 523, 524]);

function unreachable(code: string): HostedRequestError {
  // No cause, details or URL: supabase-js's details for a failed fetch hold a stack trace.
  return new HostedRequestError('the Supabase project could not be reached', { code, status: 0 });
}

/** What a thrown fetch (supabase-js rethrows aborts and timeouts) means for the sync. */
function thrownError(error: unknown): HostedRequestError {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'AbortError' || name === 'TimeoutError') return unreachable('ETIMEDOUT');
  const cause = (error as { cause?: { code?: string } } | null)?.cause?.code;
  return unreachable(cause && socketErrorCodes.has(cause) ? cause : 'ECONNREFUSED');
}

export function hostedError(error: PostgrestFailure, status: number): HostedRequestError {
  if (status === 0) {
    // supabase-js renders a failed fetch as status 0 with the cause's code in brackets in `details`.
    const cause = /\((E[A-Z]+)\)/.exec(error.details ?? '')?.[1];
    return unreachable(cause && socketErrorCodes.has(cause) ? cause : 'ECONNREFUSED');
  }
  if (gatewayStatuses.has(status)) return unreachable('ECONNRESET');
  const code = error.code ? error.code : undefined;
  const constraint =
    code === '23505' ? /unique constraint "([^"]+)"/.exec(error.message ?? '')?.[1] : undefined;
  return new HostedRequestError(error.message || `Supabase answered ${status}`, {
    code,
    detail: error.details ?? undefined,
    hint: error.hint ?? undefined,
    constraint,
    status,
  });
}

/** PostgREST refusing the token: expired in flight, or the clock here and there disagree. */
function isExpiredToken(error: PostgrestFailure, status: number): boolean {
  return status === 401 || error.code === 'PGRST301' || error.code === 'PGRST303';
}

/** A server older than people_directory (0052), or one that does not let this person call it. */
const noPeopleDirectory = new Set(['PGRST202', '42883', '42501', '3F000']);

/**
 * First-pull pages read at once. Measured (npm run bench -- sync.hosted) on this 2-core machine,
 * where the stand-in and PostgreSQL share the cores with the workstation: see docs/benchmarks.md.
 */
const firstPullConcurrency = 3;

/** A value the server sent as text (or a number), else null. */
function text(value: unknown): string | null {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint'
    ? String(value)
    : null;
}

function outOfOrder(stream: StreamDefinition, why: string): Error {
  return new Error(
    `The server's page of ${stream.name} was not what was asked for (${why}); nothing of it was written. Sync again; if this repeats, the server's sync functions (migration 0061) need checking.`,
  );
}

/**
 * What a page's JSON must be before the engine sees it: a list of rows, no longer than asked. The
 * rows' cursor order (and a first pull's horizon) the engine checks itself, for every transport
 * (pullEngine.ts).
 */
export function checkPage(
  stream: StreamDefinition,
  rows: unknown,
  pageSize: number,
): Record<string, unknown>[] {
  if (!Array.isArray(rows)) throw outOfOrder(stream, 'not a list of rows');
  if (rows.length > pageSize) throw outOfOrder(stream, `${rows.length} rows where ${pageSize} were asked`);
  return rows as Record<string, unknown>[];
}

export class SupabaseSyncServer implements SyncServer {
  readonly transport = 'hosted' as const;

  private renewing: Promise<void> | null = null;
  /** Renewals ended so far (successful or not): which token generation a request was sent with. */
  private renewals = 0;

  constructor(private readonly client: SupabaseClient) {}

  async start(): Promise<SyncStart> {
    const answer = await this.rpc<{ horizon?: unknown; fingerprint?: unknown } | null>('sync_start');
    const horizon = text(answer?.horizon);
    if (horizon === null || !/^\d+$/.test(horizon))
      throw new Error('The server did not say where a sync starts.');
    return { horizon, fingerprint: typeof answer?.fingerprint === 'string' ? answer.fingerprint : '' };
  }

  async count(
    streams: readonly StreamDefinition[],
    cursors: ReadonlyMap<string, SyncCursor>,
  ): Promise<Map<string, StreamCount>> {
    const counts = new Map<string, StreamCount>();
    if (streams.length === 0) return counts;
    const answer = await this.rpc<Record<string, { rows?: unknown; all?: unknown }> | null>('sync_counts', {
      cursors: streams.map((stream) => {
        const cursor = cursors.get(stream.name);
        if (!cursor) throw new Error(`no cursor for ${stream.name}`);
        return cursorArgs(stream.name, cursor);
      }),
    });
    for (const stream of streams) {
      const counted = answer?.[stream.name];
      const rows = Number(counted?.rows);
      if (!counted || !Number.isFinite(rows)) throw new Error(`The server did not count ${stream.name}.`);
      counts.set(stream.name, {
        rows,
        all: counted.all === null || counted.all === undefined ? null : Number(counted.all),
      });
    }
    return counts;
  }

  async page(
    stream: StreamDefinition,
    cursor: SyncCursor,
    pageSize: number,
  ): Promise<Record<string, unknown>[]> {
    const { stream: name, ...from } = cursorArgs(stream.name, cursor);
    const rows = await this.rpc<unknown>('sync_page', { stream: name, ...from, page_size: pageSize });
    return checkPage(stream, rows, pageSize);
  }

  /**
   * A first pull read several pages at a time. Over HTTP each page is a round trip and the server
   * builds its JSON while the client waits (measured: on this machine about 29 µs a row of the
   * server's time for 200,000 rows, more than the whole direct pull's 14 µs), so one page after the
   * other leaves the server's other cores and the client idle. The server says where the pages end
   * (sync_first_pull_bounds: every page-size-th key below the fixed horizon), the ranges are read
   * `firstPullConcurrency` at a time, and handed to the engine strictly in key order, so its
   * cursor (the last key written) and a resumed pull work as with the direct modes' COPY. At most
   * that many pages are held here at once.
   */
  async *firstPull(
    stream: StreamDefinition,
    cursor: SyncCursor,
    batchRows: number,
    pageRows: number,
  ): AsyncGenerator<Record<string, unknown>[]> {
    const firstPullPageRows = Math.min(Math.max(Math.trunc(pageRows), 1), 5000);
    const below = cursor.initialBelow;
    if (below === null) throw new Error(`${stream.name}: a first pull needs its horizon`);
    const bounds = await this.rpc<unknown>('sync_first_pull_bounds', {
      stream: stream.name,
      after_key: cursor.lastKey,
      below,
      page_size: firstPullPageRows,
    });
    if (!Array.isArray(bounds)) throw new Error(`The server did not say where ${stream.name}'s pages end.`);
    // Range i holds the keys after starts[i] up to ends[i]; the last one is open (fewer rows than a
    // page, as the bounds were counted; paged on should it hold more).
    const ends: (string | null)[] = [...bounds.map(String), null];
    const starts = [cursor.lastKey, ...bounds.map(String)];
    const readRange = async (i: number): Promise<Record<string, unknown>[]> => {
      const from: SyncCursor = { lastXid: '0', lastKey: starts[i] as string, initialBelow: below };
      const upto = ends[i] ?? null;
      const rows = checkPage(
        stream,
        await this.rpc<unknown>(
          'sync_page',
          { ...cursorArgs(stream.name, from), page_size: firstPullPageRows, upto },
          stopped.signal,
        ),
        firstPullPageRows,
      );
      const last = rows.at(-1);
      if (upto !== null && last && String(last[stream.keyColumn]) > upto) {
        throw new Error(`The server's first-pull page of ${stream.name} went past its end.`);
      }
      return rows;
    };
    // A pull that ends early (a range refused, the engine stopping) leaves no request running.
    const stopped = new AbortController();
    const inFlight: Promise<Record<string, unknown>[]>[] = [];
    let next = 0;
    const startNext = () => {
      const reading = readRange(next++);
      reading.catch(() => undefined); // awaited in order below; never an unhandled rejection
      inFlight.push(reading);
    };
    while (next < ends.length && inFlight.length < firstPullConcurrency) startNext();
    let rows: Record<string, unknown>[] = [];
    try {
      while (inFlight.length > 0) {
        rows = await (inFlight.shift() as Promise<Record<string, unknown>[]>);
        if (next < ends.length) startNext();
        for (let at = 0; at < rows.length; at += batchRows) yield rows.slice(at, at + batchRows);
      }
    } finally {
      stopped.abort();
    }
    // The open last range came back as a whole page (not expected: the bounds counted fewer rows
    // after the last one): page on from its last key.
    while (rows.length === firstPullPageRows) {
      const tail: SyncCursor = {
        lastXid: '0',
        lastKey: String(rows.at(-1)?.[stream.keyColumn]),
        initialBelow: below,
      };
      rows = await this.page(stream, tail, firstPullPageRows);
      for (let at = 0; at < rows.length; at += batchRows) yield rows.slice(at, at + batchRows);
    }
  }

  async keys(stream: StreamDefinition): Promise<string[]> {
    const keys = await this.rpc<unknown>('sync_keys', { stream: stream.name });
    if (!Array.isArray(keys)) throw new Error(`The server did not list the keys of ${stream.name}.`);
    return keys.map(String);
  }

  async people(): Promise<Record<string, unknown>[] | null> {
    try {
      const rows = await this.rpc<unknown>('people_directory');
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    } catch (error) {
      if (error instanceof HostedRequestError && error.code && noPeopleDirectory.has(error.code)) return null;
      throw error;
    }
  }

  async annotate(write: AnnotationWrite): Promise<WriteOutcome & { annotationId: string }> {
    const answer = await this.rpc<{ annotation_id?: unknown; replayed?: unknown } | null>(
      'submit_annotation',
      {
        request_id: write.clientRequestId,
        chosen_id: write.annotationId,
        record_uuid: write.eventUuid,
        parent_audit: write.parentAuditId,
        site: write.siteId,
        kind: write.kind,
        note: write.text,
        needs_response: write.requiresResponse,
        reply_to: write.inReplyTo,
      },
    );
    const annotationId = text(answer?.annotation_id);
    if (annotationId === null) throw new Error('The server did not say which annotation it made.');
    return { annotationId, replayed: answer?.replayed === true };
  }

  async resolveAnnotation(write: ResolutionWrite): Promise<WriteOutcome> {
    const answer = await this.rpc<{ replayed?: unknown } | null>('submit_annotation_resolution', {
      request_id: write.requestId,
      annotation: write.annotationId,
      record_uuid: write.eventUuid,
      site: write.siteId,
      resolved: write.resolved,
      reason_code: write.reasonCode,
      reason_text: write.reasonText,
    });
    return { replayed: answer?.replayed === true };
  }

  submitDiaryEvents(events: unknown[]): Promise<unknown> {
    return this.rpc('submit_diary_events', { events });
  }

  async submitCosignature(c: Cosignature): Promise<WriteOutcome> {
    const answer = await this.rpc<{ replayed?: unknown } | null>('submit_checkpoint_cosignature', {
      tree_size: c.treeSize,
      root_hash: c.rootHash,
      subject_root: c.subjectRoot,
      cosigned_at: c.cosignedAt,
      public_key: c.publicKey,
      key_fingerprint: c.keyFingerprint,
      signature: c.signature,
    });
    return { replayed: answer?.replayed === true };
  }

  resolveDiaryConflict(conflictId: number, strategy: string, seenAuditId: number): Promise<unknown> {
    return this.rpc('resolve_diary_conflict', {
      conflict_id: conflictId,
      strategy,
      seen_audit_id: seenAuditId,
    });
  }

  /**
   * One RPC. supabase-js renews a token about to expire before sending; a token PostgREST still
   * refuses (expired in flight, clock skew) is renewed once here and the same request sent again,
   * so a pull resumes the page it was on. A second refusal, or a renewal that fails, ends the sync.
   */
  private async rpc<T>(fn: string, args: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
    const sentWith = this.renewals;
    let response = await this.send(fn, args, signal);
    if (response.error && isExpiredToken(response.error, response.status)) {
      // Pages read at once may all be refused together: they share one renewal, and a refusal of a
      // request sent before the last renewal ended needs none of its own (its token was the old one).
      if (this.renewals === sentWith) {
        this.renewing ??= this.renew().finally(() => {
          this.renewals++;
          this.renewing = null;
        });
        await this.renewing;
      }
      response = await this.send(fn, args, signal);
      if (response.error && isExpiredToken(response.error, response.status)) {
        throw new SyncSessionExpiredError(hostedError(response.error, response.status));
      }
    }
    if (response.error) throw hostedError(response.error, response.status);
    return response.data as T;
  }

  private async send(fn: string, args: Record<string, unknown>, signal?: AbortSignal) {
    try {
      const call = this.client.rpc(fn, args);
      return await (signal ? call.abortSignal(signal) : call);
    } catch (error) {
      throw thrownError(error);
    }
  }

  private async renew(): Promise<void> {
    let result: Awaited<ReturnType<SupabaseClient['auth']['refreshSession']>>;
    try {
      result = await this.client.auth.refreshSession();
    } catch (error) {
      throw thrownError(error);
    }
    const { error, data } = result;
    // Supabase Auth out of reach is being offline, not a lost session: the sync stops as offline.
    if (
      error &&
      (error.name === 'AuthRetryableFetchError' ||
        error.status === 0 ||
        gatewayStatuses.has(error.status ?? -1))
    ) {
      throw unreachable('ECONNREFUSED');
    }
    if (error || !data.session) throw new SyncSessionExpiredError(error ?? undefined);
  }
}

function cursorArgs(stream: string, cursor: SyncCursor) {
  return { stream, after_xid: cursor.lastXid, after_key: cursor.lastKey, below: cursor.initialBelow };
}

// The server side of sync for the direct modes (syncServer.ts), over the person's own PostgreSQL
// connection, so RLS decides what is cached. Where speed is at stake it stays SQL: keyset pages are
// named prepared statements (parsed and planned once per connection), and a uuid-keyed stream's first
// pull is one `COPY (select …) TO STDOUT` (no per-row protocol work; measured: sync.initial 0.41 →
// 0.47-0.49 of the raw COPY baseline). Everything else calls the functions of migration 0061 that
// hosted mode calls too (the horizon and access fingerprint, counts, keys, the outbox's idempotent
// writes), so both transports apply the same server rules.
import pg from 'pg';
import { CopyTextRows } from './copyTextRows';
import { type ServerReader, serverReaderFor } from './serverReader';
import type { StreamDefinition } from './streamDefinitions';
import type { SyncCursor, SyncServer } from './syncServer';

const uuidText = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const horizonText = /^\d+$/;

/** One keyset page of a stream from a cursor (the SQL that public.sync_page (0061) also runs). */
export function pageQuery(stream: StreamDefinition, pageSize: number, cursor: SyncCursor) {
  if (cursor.initialBelow !== null) {
    return {
      name: `cs_sync_first_${stream.name}`,
      text: `select t.sync_xid::text as sync_xid, ${stream.selectList}
             from ${stream.serverTable} t
             where t.${stream.keyColumn} > $1::${stream.keyType} and t.sync_xid < $2::xid8
             order by t.${stream.keyColumn}
             limit $3`,
      values: [cursor.lastKey, cursor.initialBelow, pageSize],
    };
  }
  if (stream.cursor === 'seq') {
    return {
      name: `cs_sync_${stream.name}`,
      text: `select ${stream.selectList} from ${stream.serverTable} t where t.seq > $1::bigint order by t.seq limit $2`,
      values: [cursor.lastKey, pageSize],
    };
  }
  return {
    name: `cs_sync_${stream.name}`,
    text: `select t.sync_xid::text as sync_xid, ${stream.selectList}
           from ${stream.serverTable} t
           where (t.sync_xid, t.${stream.keyColumn}) > ($1::xid8, $2::${stream.keyType})
             and t.sync_xid < pg_snapshot_xmin(pg_current_snapshot())
           order by t.sync_xid, t.${stream.keyColumn}
           limit $3`,
    values: [cursor.lastXid, cursor.lastKey, pageSize],
  };
}

const peopleQuery = {
  name: 'cs_sync_people',
  text: `select d.user_id::text as user_id, d.printed_name, d.roles, d.agent_id, d.subject_code
           from public.people_directory() d order by d.user_id`,
};

/** SQLSTATEs of a server that has no people_directory() for this person (older than 0052). */
const directoryMissing = new Set(['42883', '42501', '3F000']);

/** The direct modes' SyncServer over the person's own connection. */
export function postgresSyncServer(client: pg.ClientBase): SyncServer {
  return postgresSyncServerOver(serverReaderFor(client));
}

/**
 * The same over any ServerReader (one query at a time as the person): tests put a reader in between
 * that loses a reply or alters an answer, exactly where the wire would.
 */
export function postgresSyncServerOver(reader: ServerReader): SyncServer {
  const copyRows = reader.copyRows?.bind(reader);
  return {
    transport: 'postgres',

    async start() {
      const { rows } = await reader.query({ text: 'select public.sync_start() as s' });
      const start = rows[0]?.s as { horizon?: unknown; fingerprint?: unknown } | undefined;
      return { horizon: String(start?.horizon), fingerprint: String(start?.fingerprint ?? '') };
    },

    async count(streams, cursors) {
      const asked = streams.map((stream) => {
        const cursor = cursors.get(stream.name) as SyncCursor;
        return {
          stream: stream.name,
          after_xid: cursor.lastXid,
          after_key: cursor.lastKey,
          below: cursor.initialBelow,
        };
      });
      const { rows } = await reader.query({
        text: 'select public.sync_counts($1::jsonb) as c',
        values: [JSON.stringify(asked)],
      });
      const answer = (rows[0]?.c ?? {}) as Record<string, { rows?: unknown; all?: unknown } | undefined>;
      return new Map(
        streams.map((stream) => {
          const counted = answer[stream.name];
          const all = counted?.all;
          return [
            stream.name,
            { rows: Number(counted?.rows ?? 0), all: all === null || all === undefined ? null : Number(all) },
          ];
        }),
      );
    },

    async page(stream, cursor, pageSize) {
      const { rows } = await reader.query(pageQuery(stream, pageSize, cursor));
      return rows;
    },

    firstPull: copyRows
      ? async function* (stream, cursor, batchRows) {
          const below = cursor.initialBelow;
          // COPY takes no parameters: the key and the horizon are checked here, the rest is constant.
          if (below === null || !horizonText.test(below))
            throw new Error(`not a transaction horizon: ${below}`);
          if (stream.keyType !== 'uuid' || !uuidText.test(cursor.lastKey))
            throw new Error(`not a first pull by uuid: ${stream.name}`);
          const probe = await reader.query(pageQuery(stream, 0, cursor));
          const parser = new CopyTextRows(
            (probe.fields ?? []).map(({ name, dataTypeID }) => ({
              name,
              parse: pg.types.getTypeParser(dataTypeID, 'text') as (text: string) => unknown,
            })),
          );
          let batch: Record<string, unknown>[] = [];
          for await (const chunk of copyRows(
            `select t.sync_xid::text as sync_xid, ${stream.selectList}
             from ${stream.serverTable} t
             where t.${stream.keyColumn} > '${cursor.lastKey}'::uuid and t.sync_xid < '${below}'::xid8
             order by t.${stream.keyColumn}`,
          )) {
            for (const row of parser.push(chunk)) batch.push(row);
            if (batch.length >= batchRows) {
              yield batch;
              batch = [];
            }
          }
          parser.end();
          if (batch.length > 0) yield batch;
        }
      : undefined,

    async keys(stream) {
      const { rows } = await reader.query({
        name: 'cs_sync_keys',
        text: 'select public.sync_keys($1)::text as k',
        values: [stream.name],
      });
      const keys = JSON.parse(String(rows[0]?.k ?? '[]')) as unknown[];
      return keys.map(String);
    },

    async people() {
      try {
        return (await reader.query(peopleQuery)).rows;
      } catch (error) {
        if (directoryMissing.has(String((error as { code?: unknown }).code))) return null;
        throw error;
      }
    },

    async annotate(write) {
      const { rows } = await reader.query({
        text: `select public.submit_annotation($1::uuid, $2::uuid, $3::uuid, $4::bigint, $5, $6, $7, $8, $9::uuid) as r`,
        values: [
          write.clientRequestId,
          write.annotationId,
          write.eventUuid,
          write.parentAuditId,
          write.siteId,
          write.kind,
          write.text,
          write.requiresResponse,
          write.inReplyTo,
        ],
      });
      const answer = rows[0]?.r as { annotation_id?: unknown; replayed?: unknown } | undefined;
      return { annotationId: String(answer?.annotation_id), replayed: answer?.replayed === true };
    },

    async resolveAnnotation(write) {
      const { rows } = await reader.query({
        text: 'select public.submit_annotation_resolution($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7) as r',
        values: [
          write.requestId,
          write.annotationId,
          write.eventUuid,
          write.siteId,
          write.resolved,
          write.reasonCode,
          write.reasonText,
        ],
      });
      return { replayed: (rows[0]?.r as { replayed?: unknown } | undefined)?.replayed === true };
    },

    async submitDiaryEvents(events) {
      const { rows } = await reader.query({
        text: 'select public.submit_diary_events($1::jsonb) as result',
        values: [JSON.stringify(events)],
      });
      return rows[0]?.result;
    },

    async resolveDiaryConflict(conflictId, strategy, seenAuditId) {
      const { rows } = await reader.query({
        text: 'select public.resolve_diary_conflict($1, $2, $3) as result',
        values: [conflictId, strategy, seenAuditId],
      });
      return rows[0]?.result;
    },

    async submitCosignature(c) {
      const { rows } = await reader.query({
        text: 'select public.submit_checkpoint_cosignature($1, $2, $3, $4, $5, $6, $7) as result',
        values: [
          c.treeSize,
          c.rootHash,
          c.subjectRoot,
          c.cosignedAt,
          c.publicKey,
          c.keyFingerprint,
          c.signature,
        ],
      });
      return { replayed: (rows[0]?.result as { replayed?: unknown } | undefined)?.replayed === true };
    },
  };
}

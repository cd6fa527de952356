-- New rows of every cro.* table get a time-ordered key: a version 7 UUID (RFC 9562: 48 bits of
-- Unix milliseconds, then random bits) instead of a random version 4 one.
--
-- Why: a workstation's first pull of a stream reads it in key order (pullEngine.ts), so that the
-- cache's key index grows at its end and a pull cut short resumes after its last key. With random
-- keys, key order is random order on the heap: the server fetches every row from another page
-- (a buffer lookup, pin and visibility check per row), which made the ordered read of 200,000 rows
-- cost about a quarter more server CPU than a plain COPY of them (1.07-1.21 s against
-- 0.86-0.96 s). Keys made in insertion order lie on the heap in key order, so the same read walks
-- it page by page: the server's CPU for an initial sync of 200,000 rows fell from 1.04-1.17 s to
-- 0.85-0.87 s (a plain COPY of them: 0.86-0.89 s), and sync.initial, alternating 4 x 5 rounds with
-- the commit before, rose to a median of 0.519 of COPY (mean 0.527) against 0.506 (mean 0.494),
-- higher in each of the 4 pairs. The server's own key indexes gain too: inserts append at the
-- right edge instead of splitting pages anywhere.
--
-- What a key now tells: the millisecond its row was made, which the row's own created_at /
-- occurred_at already records. Keys are still unguessable (at least 62 random bits), and nothing
-- may rely on a key's form: rows made before this migration keep their version 4 keys, and keys made elsewhere
-- (sign_batch's, 0014) stay version 4.
--
-- PostgreSQL 18 has uuidv7(), monotonic within a session (12 bits of sub-millisecond time); hosted
-- Supabase may run an older server, so the same function falls back there to a portable version 7
-- UUID made from gen_random_uuid() (keys within one millisecond then come in random order, which
-- costs the read little: they are a few pages apart). Both are tested (test/db/timeOrderedKeys).

create function cs_private.uuid_v7_portable() returns uuid
language sql volatile parallel safe
as $body$
  -- The 6 leading bytes of a random UUID replaced by the Unix time in milliseconds, and the
  -- version nibble 4 (0100) turned to 7 (0111) by setting bits 52 and 53; the variant stays RFC's.
  -- (overlay, substring and extract are SQL syntax, which always means pg_catalog's functions.)
  select pg_catalog.encode(
    pg_catalog.set_bit(pg_catalog.set_bit(
      overlay(pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
        placing substring(
          pg_catalog.int8send((extract(epoch from pg_catalog.clock_timestamp()) * 1000)::bigint)
          from 3)
        from 1 for 6),
      52, 1), 53, 1),
    'hex')::uuid
$body$;

do $$
begin
  if pg_catalog.current_setting('server_version_num')::int >= 180000 then
    create function cs_private.time_ordered_uuid() returns uuid
    language sql volatile parallel safe
    as $body$ select pg_catalog.uuidv7() $body$;
  else
    create function cs_private.time_ordered_uuid() returns uuid
    language sql volatile parallel safe
    as $body$ select cs_private.uuid_v7_portable() $body$;
  end if;
end
$$;

-- A column default runs with the inserting user's rights: whoever may insert a row may make a key
-- (the functions read nothing and write nothing).
grant execute on function cs_private.time_ordered_uuid(), cs_private.uuid_v7_portable() to public;

do $$
declare
  t text;
begin
  foreach t in array array[
    'study', 'model_registry_version', 'provenance_event', 'staging_record', 'signature_event',
    'validation_evidence_run', 'live_essential_document', 'app_log', 'study_kpi', 'study_milestone',
    'study_risk', 'study_resource', 'vector_document', 'sponsor_request'
  ] loop
    execute pg_catalog.format(
      'alter table cro.%I alter column id set default cs_private.time_ordered_uuid()', t);
  end loop;
end
$$;

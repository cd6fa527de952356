-- Issue 23: hosted mode keeps the offline cache too. The pull engine reads each stream through these
-- functions in hosted mode (PostgREST RPCs with the person's token), and the direct modes call the
-- same ones where no speed is at stake (the horizon and access fingerprint, counts, keys, the
-- outbox's writes), so both readers apply the server's rules, once (src/main/sync/syncServer.ts).
--
-- Every function here is SECURITY INVOKER: row-level security decides what each person reads,
-- exactly as on their own PostgreSQL login. The streams are a fixed registry
-- (cs_private.sync_stream, one row per stream of src/main/sync/streamDefinitions.ts; a test keeps
-- the two equal); a caller names a stream, never a table, a column or any SQL. Rows come back in
-- the select-list shape the workstation validates (timestamps as UTC text, jsonb as text, the row
-- as the server's to_jsonb renders it in UTC: the form signatures and the chain hash), with the
-- same commit-safe horizon as the direct modes (0020): an xid page reads only rows whose sync_xid
-- is below the snapshot's xmin, computed by the server in the same statement.

create table cs_private.sync_stream (
  name text primary key check (name ~ '^[a-z_]+$'),
  server_table regclass not null,
  cursor_kind text not null check (cursor_kind in ('xid', 'seq')),
  key_column text not null check (key_column ~ '^[a-z_]+$'),
  key_type text not null check (key_type in ('uuid', 'text', 'bigint')),
  deletions boolean not null,
  select_list text not null
);
comment on table cs_private.sync_stream is
  'The streams a workstation cache mirrors (issue 23): read by public.sync_* as the caller; written by migrations only.';

insert into cs_private.sync_stream (name, server_table, cursor_kind, key_column, key_type, deletions, select_list) values
  ('staging_record', 'cro.staging_record'::regclass, 'xid', 'id', 'uuid', false,
   't.id, t.entity_kind, t.entity_id, t.study_id, t.agent_id, t.model_version_id, t.provenance_id, t.state::text as state, t.proposed_state::text as proposed_state, to_char(t.created_at at time zone ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.US"Z"'') as created_at, to_char(t.updated_at at time zone ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.US"Z"'') as updated_at, t.created_by, t.build_id'),
  ('provenance_event', 'cro.provenance_event'::regclass, 'xid', 'id', 'uuid', false,
   't.id, t.study_id, t.actor_kind, t.actor_id, t.model_provider, t.model_id, t.model_version_id, t.action, t.subject_kind, t.subject_id, t.retrieved_context::text as retrieved_context, t.reviewer_user_id, t.signature_id, to_char(t.occurred_at at time zone ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.US"Z"'') as occurred_at, t.payload::text as payload, t.build_id'),
  ('signature_event', 'cro.signature_event'::regclass, 'xid', 'id', 'uuid', false,
   't.id, t.study_id, t.subject_kind, t.subject_id, to_char(t.signed_at at time zone ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.US"Z"'') as signed_at, (to_jsonb(t) - ''sync_xid'')::text as doc'),
  ('study', 'cro.study'::regclass, 'xid', 'id', 'uuid', false,
   't.id, t.id as study_id, (to_jsonb(t) - ''sync_xid'')::text as doc'),
  ('study_kpi', 'cro.study_kpi'::regclass, 'xid', 'id', 'uuid', false,
   't.id, t.study_id as study_id, (to_jsonb(t) - ''sync_xid'')::text as doc'),
  ('study_milestone', 'cro.study_milestone'::regclass, 'xid', 'id', 'uuid', false,
   't.id, t.study_id as study_id, (to_jsonb(t) - ''sync_xid'')::text as doc'),
  ('study_risk', 'cro.study_risk'::regclass, 'xid', 'id', 'uuid', false,
   't.id, t.study_id as study_id, (to_jsonb(t) - ''sync_xid'')::text as doc'),
  ('study_resource', 'cro.study_resource'::regclass, 'xid', 'id', 'uuid', false,
   't.id, t.study_id as study_id, (to_jsonb(t) - ''sync_xid'')::text as doc'),
  ('live_essential_document', 'cro.live_essential_document'::regclass, 'xid', 'id', 'uuid', false,
   't.id, t.study_id as study_id, (to_jsonb(t) - ''sync_xid'')::text as doc'),
  ('model_registry_version', 'cro.model_registry_version'::regclass, 'xid', 'id', 'uuid', false,
   't.id, (to_jsonb(t) - ''sync_xid'')::text as doc'),
  ('sponsor_request', 'cro.sponsor_request'::regclass, 'xid', 'id', 'uuid', false,
   't.id, t.study_id, (to_jsonb(t) - ''sync_xid'')::text as doc'),
  ('study_build', 'cro.study_database_build'::regclass, 'xid', 'id', 'uuid', false,
   't.id, t.study_id, t.build_number, t.build_version, t.build_status::text as build_status, t.build_type::text as build_type, t.completed_sequence, (to_jsonb(t) - ''sync_xid'')::text as doc'),
  ('site', 'diary.sites'::regclass, 'xid', 'site_id', 'text', false,
   't.site_id, t.study_id, (to_jsonb(t) - ''sync_xid'')::text as doc'),
  ('enrolment', 'diary.user_site_assignments'::regclass, 'xid', 'patient_id', 'uuid', true,
   't.patient_id, t.site_id, t.subject_code, to_char(t.enrolled_at at time zone ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.US"Z"'') as enrolled_at'),
  ('record_state', 'diary.record_state'::regclass, 'xid', 'event_uuid', 'uuid', false,
   't.event_uuid, t.patient_id, t.site_id, t.current_data::text as current_data, t.version, t.last_audit_id::text as last_audit_id, t.is_deleted, t.build_id'),
  ('record_audit', 'diary.record_audit'::regclass, 'xid', 'audit_id', 'bigint', false,
   't.audit_id::text as audit_id, t.event_uuid, t.build_id, (to_jsonb(t) - ''sync_xid'')::text as doc'),
  ('annotation', 'diary.investigator_annotations'::regclass, 'xid', 'annotation_id', 'uuid', false,
   't.annotation_id, t.event_uuid, t.parent_audit_id::text as parent_audit_id, t.client_request_id, t.build_id, (to_jsonb(t) - ''sync_xid'')::text as doc'),
  ('annotation_resolution', 'diary.annotation_resolutions'::regclass, 'xid', 'request_id', 'uuid', false,
   't.request_id, t.annotation_id, t.event_uuid, t.site_id, t.resolved, t.reason_code, t.reason_text, t.requested_by, to_char(t.requested_at at time zone ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.US"Z"'') as requested_at'),
  ('deidentified_entry', 'diary.deidentified_entry'::regclass, 'xid', 'entry_id', 'uuid', true,
   't.entry_id, t.subject_code, t.site_id, t.build_id, t.version, t.is_deleted, t.data::text as data, t.origin, t.corrected'),
  ('diary_conflict', 'diary.audit_conflicts'::regclass, 'xid', 'conflict_id', 'bigint', false,
   't.conflict_id::text as conflict_id, t.event_uuid, t.patient_id, t.site_id, t.submitted_by, t.client_request_id, to_char(t.resolved_at at time zone ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.US"Z"'') as resolved_at, (to_jsonb(t) - ''sync_xid'')::text as doc'),
  ('correction_review', 'diary.correction_review'::regclass, 'xid', 'review_id', 'uuid', false,
   't.review_id, t.audit_id::text as audit_id, t.event_uuid, t.site_id, t.status, to_char(t.corrected_at at time zone ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.US"Z"'') as corrected_at, (to_jsonb(t) - ''sync_xid'')::text as doc'),
  ('audit_log', 'audit.audit_log'::regclass, 'seq', 'seq', 'bigint', false,
   't.seq::text as seq, audit.occurred_at_text(t.occurred_at) as occurred_at, t.actor, t.event_type, t.payload::text as payload, t.payload_hash, t.prev_hash, t.entry_hash');

alter table cs_private.sync_stream enable row level security;
revoke all on cs_private.sync_stream from public;
grant select on cs_private.sync_stream to authenticated;
-- Readable whole by everyone signed in (names and SQL fragments of the streams, nothing about people);
-- no policy for writes, so only the owner (migrations) changes it.
create policy "everyone signed in can read the sync streams" on cs_private.sync_stream
  for select to authenticated using (true);

-- The registry row of a stream, or CS422 naming what was asked.
create function cs_private.sync_stream_named(stream text) returns cs_private.sync_stream
language plpgsql stable security invoker
set search_path = ''
as $$
declare
  found_stream cs_private.sync_stream;
begin
  select s.* into found_stream from cs_private.sync_stream s where s.name = stream;
  if not found then
    raise exception 'not a sync stream: %', left(coalesce(stream, 'null'), 80) using errcode = 'CS422';
  end if;
  return found_stream;
end
$$;

-- The WHERE of a stream's page from a cursor, with $1 = after_xid, $2 = after_key, $3 = below (the
-- fixed horizon of a key-ordered first pull, or null), and the page's order. Built only from the
-- registry.
create function cs_private.sync_where(s cs_private.sync_stream, first_pull boolean) returns text
language sql immutable
set search_path = ''
as $$
  select case
    when first_pull then format('where t.%I > $2::%s and t.sync_xid < $3::xid8', s.key_column, s.key_type)
    when s.cursor_kind = 'seq' then 'where t.seq > $2::bigint'
    else format('where (t.sync_xid, t.%I) > ($1::xid8, $2::%s)
                   and t.sync_xid < pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())',
                s.key_column, s.key_type)
  end
$$;
create function cs_private.sync_order(s cs_private.sync_stream, first_pull boolean) returns text
language sql immutable
set search_path = ''
as $$
  select case
    when first_pull then format('order by t.%I', s.key_column)
    when s.cursor_kind = 'seq' then 'order by t.seq'
    else format('order by t.sync_xid, t.%I', s.key_column)
  end
$$;

-- Where a pull starts: the commit-safe horizon, and what the caller may see as far as their own
-- assignments tell (a change means the workstation empties its cache and pulls again).
create function public.sync_start() returns jsonb
language sql stable security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'horizon', pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text,
    'fingerprint', (
      select coalesce(string_agg(x, '|' order by x), '') from (
        select 'role:' || role::text || ':' || coalesce(study_id::text, '*') as x
          from cro.role_assignment where user_id = auth.uid()
        union all select 'investigator:' || site_id || ':' || access_level
          from diary.investigator_site_assignments where investigator_id = auth.uid()
        union all select 'analyst:' || site_id from diary.analyst_site_assignments where analyst_id = auth.uid()
        union all select 'patient:' || site_id from diary.user_site_assignments where patient_id = auth.uid()
      ) access))
$$;

-- Rows to pull per stream from each cursor: cursors is a JSON array of
-- {stream, after_xid, after_key, below}; the answer maps each stream to {rows, all} (all: every row
-- the caller may read, for a stream whose rows can be deleted on the server; else null).
create function public.sync_counts(cursors jsonb) returns jsonb
language plpgsql stable security invoker
set search_path = ''
as $$
declare
  c jsonb;
  s cs_private.sync_stream;
  n bigint;
  total bigint;
  answer jsonb := '{}'::jsonb;
begin
  if cursors is null or jsonb_typeof(cursors) <> 'array' or jsonb_array_length(cursors) > 100 then
    raise exception 'cursors must be a JSON array of at most 100 streams' using errcode = 'CS422';
  end if;
  for c in select value from jsonb_array_elements(cursors) loop
    s := cs_private.sync_stream_named(c ->> 'stream');
    execute format('select count(*) from %s t %s', s.server_table,
                   cs_private.sync_where(s, c ->> 'below' is not null))
      into n using c ->> 'after_xid', c ->> 'after_key', c ->> 'below';
    total := null;
    if s.deletions then
      execute format('select count(*) from %s t', s.server_table) into total;
    end if;
    answer := answer || jsonb_build_object(s.name, jsonb_build_object('rows', n, 'all', total));
  end loop;
  return answer;
end
$$;

-- One keyset page of a stream from a cursor, at most page_size rows (1-5000), as a JSON array of
-- rows in the stream's select-list shape (sync_xid as text first, for an xid stream), in page order.
-- A first pull's page may also end at a key (`upto`, inclusive): the ranges sync_first_pull_bounds
-- gives, read several at a time.
create function public.sync_page(stream text, after_xid text, after_key text, below text, page_size integer,
                                 upto text default null)
returns json
language plpgsql stable security invoker
set search_path = ''
set timezone = 'UTC'
as $$
declare
  s cs_private.sync_stream := cs_private.sync_stream_named(stream);
  rows json;
begin
  if below is not null and s.cursor_kind <> 'xid' then
    raise exception 'stream % has no first pull below a horizon', s.name using errcode = 'CS422';
  end if;
  if upto is not null and below is null then
    raise exception 'only a first pull''s page ends at a key' using errcode = 'CS422';
  end if;
  execute format('select coalesce(json_agg(p), ''[]''::json) from (select %s%s from %s t %s%s %s limit %s) p',
                 case when s.cursor_kind = 'xid' then 't.sync_xid::text as sync_xid, ' else '' end,
                 s.select_list, s.server_table, cs_private.sync_where(s, below is not null),
                 case when upto is not null then format(' and t.%I <= $4::%s', s.key_column, s.key_type) else '' end,
                 cs_private.sync_order(s, below is not null),
                 least(greatest(coalesce(page_size, 1), 1), 5000))
    into rows using after_xid, after_key, below, upto;
  return rows;
end
$$;

-- Where a first pull's pages end, so that a client far from the server (HTTP) can read several at
-- once: every page_size-th key (1-5000) of the rows after after_key below the horizon `below`, as the
-- caller may read them, in key order, as a JSON array of text. Rows that change meanwhile leave the
-- set (their sync_xid rises above the horizon) and new ones do not enter it, so a range only ever
-- holds fewer rows than this counted, never more.
create function public.sync_first_pull_bounds(stream text, after_key text, below text, page_size integer)
returns json
language plpgsql stable security invoker
set search_path = ''
as $$
declare
  s cs_private.sync_stream := cs_private.sync_stream_named(stream);
  bounds json;
begin
  if s.cursor_kind <> 'xid' or below is null then
    raise exception 'stream % has no first pull below a horizon', s.name using errcode = 'CS422';
  end if;
  execute format('select coalesce(json_agg(k.key order by k.n), ''[]''::json) from (
                    select t.%1$I::text as key, row_number() over (order by t.%1$I) as n
                      from %2$s t %3$s) k
                   where k.n %% %4$s = 0',
                 s.key_column, s.server_table, cs_private.sync_where(s, true),
                 least(greatest(coalesce(page_size, 1), 1), 5000))
    into bounds using null::text, after_key, below;
  return bounds;
end
$$;

-- Every key of a stream the caller may read, as text (to find rows deleted on the server).
create function public.sync_keys(stream text) returns json
language plpgsql stable security invoker
set search_path = ''
as $$
declare
  s cs_private.sync_stream := cs_private.sync_stream_named(stream);
  keys json;
begin
  execute format('select coalesce(json_agg(t.%1$I::text), ''[]''::json) from %2$s t', s.key_column, s.server_table)
    into keys;
  return keys;
end
$$;

-- An annotation from the outbox (a note, a query, a reply, a correction request), idempotent by
-- the request id the workstation chose: sent again after a lost answer, it returns the annotation
-- the first send made ("replayed") and writes nothing. The insert is the caller's own, so RLS,
-- the diary rules (0009), the outbox checks (0021) and the server-written columns decide.
create function public.submit_annotation(request_id uuid, chosen_id uuid, record_uuid uuid, parent_audit bigint,
                                         site text, kind text, note text, needs_response boolean, reply_to uuid)
returns jsonb
language plpgsql volatile security invoker
set search_path = ''
as $$
declare
  made uuid;
begin
  if request_id is null then
    raise exception 'an annotation needs its request id' using errcode = 'CS422';
  end if;
  select a.annotation_id into made from diary.investigator_annotations a
   where a.client_request_id = request_id and a.investigator_id = auth.uid();
  if found then
    return jsonb_build_object('annotation_id', made, 'replayed', true);
  end if;
  begin
    insert into diary.investigator_annotations (annotation_id, event_uuid, parent_audit_id, patient_id,
      investigator_id, site_id, annotation_kind, annotation_text, requires_response, client_request_id, in_reply_to)
    values (coalesce(chosen_id, gen_random_uuid()), record_uuid, parent_audit, auth.uid(), auth.uid(), site, kind,
            note, coalesce(needs_response, false), request_id, reply_to)
    returning annotation_id into made;
  exception when unique_violation then
    -- The same request sent twice at once: the other send made it.
    select a.annotation_id into made from diary.investigator_annotations a
     where a.client_request_id = request_id and a.investigator_id = auth.uid();
    if not found then
      raise;
    end if;
    return jsonb_build_object('annotation_id', made, 'replayed', true);
  end;
  return jsonb_build_object('annotation_id', made, 'replayed', false);
end
$$;

-- A query closed or reopened from the outbox, idempotent by its request id in the same way.
create function public.submit_annotation_resolution(request_id uuid, annotation uuid, record_uuid uuid, site text,
                                                    resolved boolean, reason_code text, reason_text text)
returns jsonb
language plpgsql volatile security invoker
set search_path = ''
as $$
begin
  if request_id is null then
    raise exception 'a resolution needs its request id' using errcode = 'CS422';
  end if;
  if exists (select 1 from diary.annotation_resolutions r
              where r.request_id = submit_annotation_resolution.request_id and r.requested_by = auth.uid()) then
    return jsonb_build_object('replayed', true);
  end if;
  begin
    insert into diary.annotation_resolutions (request_id, annotation_id, event_uuid, site_id, resolved, requested_by,
      reason_code, reason_text)
    values (submit_annotation_resolution.request_id, annotation, record_uuid, site,
            submit_annotation_resolution.resolved, auth.uid(), submit_annotation_resolution.reason_code,
            submit_annotation_resolution.reason_text);
  exception when unique_violation then
    if exists (select 1 from diary.annotation_resolutions r
                where r.request_id = submit_annotation_resolution.request_id and r.requested_by = auth.uid()) then
      return jsonb_build_object('replayed', true);
    end if;
    raise;
  end;
  return jsonb_build_object('replayed', false);
end
$$;

revoke all on function cs_private.sync_stream_named(text), cs_private.sync_where(cs_private.sync_stream, boolean),
  cs_private.sync_order(cs_private.sync_stream, boolean),
  public.sync_start(), public.sync_counts(jsonb), public.sync_page(text, text, text, text, integer, text),
  public.sync_first_pull_bounds(text, text, text, integer),
  public.sync_keys(text),
  public.submit_annotation(uuid, uuid, uuid, bigint, text, text, text, boolean, uuid),
  public.submit_annotation_resolution(uuid, uuid, uuid, text, boolean, text, text)
  from public;
grant execute on function cs_private.sync_stream_named(text), cs_private.sync_where(cs_private.sync_stream, boolean),
  cs_private.sync_order(cs_private.sync_stream, boolean),
  public.sync_start(), public.sync_counts(jsonb), public.sync_page(text, text, text, text, integer, text),
  public.sync_first_pull_bounds(text, text, text, integer),
  public.sync_keys(text),
  public.submit_annotation(uuid, uuid, uuid, bigint, text, text, text, boolean, uuid),
  public.submit_annotation_resolution(uuid, uuid, uuid, text, boolean, text, text)
  to authenticated;

do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on function public.sync_start(), public.sync_counts(jsonb),
      public.sync_page(text, text, text, text, integer, text),
      public.sync_first_pull_bounds(text, text, text, integer), public.sync_keys(text),
      public.submit_annotation(uuid, uuid, uuid, bigint, text, text, text, boolean, uuid),
      public.submit_annotation_resolution(uuid, uuid, uuid, text, boolean, text, text)
      from anon;
    revoke all on cs_private.sync_stream from anon;
  end if;
end
$$;

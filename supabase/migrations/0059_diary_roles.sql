-- The diary's other roles (seed 003, issue 22): investigators transcribe paper diaries, admins
-- correct data with a justification and their own fresh re-authentication (flagged for the site's
-- investigators to review), analysts read a de-identified projection of their sites' diaries, and a
-- diary write that was made against an entry that is no longer current is refused with the current
-- state, recorded as a conflict, and resolved by a new event that names it.
--
-- Decisions (docs/decisions.md 48-51, docs/diary-roles.md):
-- * record_audit gains three server-checked columns: source_reference (a transcription's paper page
--   and the date written on it), previous_data (the values an event replaced, set by the server for
--   every event on an existing record, so a correction keeps old and new side by side) and
--   conflict_resolution (the conflict an event resolves and how). Nothing in them is trusted from a
--   client: previous_data is overwritten, the other two are checked.
-- * A transcription creates a record (or continues one that was itself transcribed: a later page, or
--   the transcriber's own correction against the paper); it never overwrites a patient's own entry.
--   Its actor is the investigator, its owner the patient, its role INVESTIGATOR.
-- * Admin corrections and transcriptions are written only through the functions below (SECURITY
--   DEFINER); no policy lets a person insert those operations into record_audit directly. The
--   admin's direct-insert policy of 0010 is dropped: a correction without re-authentication was
--   possible through it.
-- * Analysts never read record_audit or record_state (the 0010 policy that let them read
--   record_state is replaced). They read diary.deidentified_entry: the subject code, site, build,
--   and the build's diary form fields with free text and identifiers removed and calendar dates
--   replaced by study days counted from enrolment (CDISC --DY: day 1 is the enrolment date, no day 0).
-- * A batch of diary events (public.submit_diary_events) is all-or-nothing: every parent is checked
--   under lock before anything is written; a conflict is recorded in diary.audit_conflicts (kept
--   even though nothing of the batch is written) and returned with the current state.
-- * Resolution (public.resolve_diary_conflict): keep mine, keep theirs, or a field-level merge the
--   server computes from the common ancestor, refused where both sides changed the same field to
--   different values. The resolution is always a new event carrying conflict_resolution.
-- * record_audit's server_timestamp is the transaction's time (now()), not clock_timestamp(): the
--   event store is partitioned by month from 0060 on, and a row is routed by its value before the
--   BEFORE triggers run; a trigger must not move it to another month.

-- ── record_audit: new operation, new columns ─────────────────────────────────────────────────────
alter table diary.record_audit drop constraint record_audit_operation_check;
alter table diary.record_audit add constraint record_audit_operation_check check (operation in (
  'USER_CREATE', 'USER_UPDATE', 'USER_DELETE', 'ADMIN_CORRECTION', 'INVESTIGATOR_TRANSCRIPTION'));
alter table diary.record_audit
  add column source_reference jsonb,
  add column previous_data jsonb,
  add column conflict_resolution jsonb;

-- ── conflicts: who submitted what, and how it was resolved ───────────────────────────────────────
alter table diary.audit_conflicts
  add column submitted_by uuid references auth.users (id),
  add column submitted_operation text,
  add column submitted_change_reason text,
  add column submitted_source_reference jsonb,
  add column client_request_id uuid unique,
  add column current_data jsonb,
  add column resolved_by uuid references auth.users (id),
  add column resolution_audit_id bigint,
  add column sync_xid xid8 not null default pg_catalog.pg_current_xact_id();
alter table diary.audit_conflicts add constraint audit_conflicts_resolution_check
  check (resolution is null or resolution in ('keep_mine', 'keep_theirs', 'field_merge'));
create index audit_conflicts_sync_idx on diary.audit_conflicts (sync_xid, conflict_id);
create index audit_conflicts_submitter_idx on diary.audit_conflicts (submitted_by) where resolved_at is null;
create trigger audit_conflicts_touch_sync_xid before insert or update on diary.audit_conflicts
  for each row execute function cs_private.touch_sync_xid();

-- Conflicts and correction reviews are written by the server's functions only (the operator's
-- bootstrap, e.g. the demo seed, excepted). Nobody holds a write privilege on them either.
create function cs_private.guard_server_written() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if pg_trigger_depth() > 1 or current_setting('countersign.server_write', true) = tg_table_name
     or cs_private.in_bootstrap() then
    return coalesce(new, old);
  end if;
  raise exception '% on %.% refused: written only by the server''s diary functions', tg_op, tg_table_schema, tg_table_name
    using errcode = 'CS403';
end
$$;

-- ── idempotency of diary writes made through the functions ──────────────────────────────────────
-- record_audit is partitioned from 0060 on, so a unique key on it must include the month; the
-- request ids live here instead, one row per event written through a function.
create table diary.event_request (
  client_request_id uuid primary key,
  event_uuid uuid not null,
  audit_id bigint not null,
  submitted_by uuid not null references auth.users (id),
  submitted_at timestamptz not null default now()
);
alter table diary.event_request enable row level security;
create policy "a person can read their own diary requests" on diary.event_request
  for select to authenticated using (submitted_by = (select auth.uid()));
create policy "admin can read every diary request" on diary.event_request
  for select to authenticated using ((select cs_private.is_admin()));
create trigger event_request_append_only before update or delete on diary.event_request
  for each row execute function cs_private.refuse_change_to_append_only();

-- ── admin corrections waiting for the site's investigators ───────────────────────────────────────
create table diary.correction_review (
  review_id uuid primary key default gen_random_uuid(),
  audit_id bigint not null,
  event_uuid uuid not null,
  patient_id uuid not null references auth.users (id),
  site_id text not null references diary.sites (site_id),
  corrected_by uuid not null references auth.users (id),
  corrected_at timestamptz not null,
  justification text not null check (length(btrim(justification)) between 1 and 2000),
  changed_fields text[] not null,
  status text not null default 'pending' check (status in ('pending', 'acknowledged', 'disputed')),
  decided_by uuid references auth.users (id),
  decided_at timestamptz,
  decision_comment text check (decision_comment is null or length(decision_comment) <= 2000),
  sync_xid xid8 not null default pg_catalog.pg_current_xact_id()
);
create index correction_review_site_idx on diary.correction_review (site_id, status);
create index correction_review_sync_idx on diary.correction_review (sync_xid, review_id);
alter table diary.correction_review enable row level security;
create trigger correction_review_touch_sync_xid before insert or update on diary.correction_review
  for each row execute function cs_private.touch_sync_xid();
create trigger correction_review_server_written before insert or update or delete on diary.correction_review
  for each row execute function cs_private.guard_server_written();
create trigger correction_review_no_truncate before truncate on diary.correction_review
  for each statement execute function cs_private.refuse_delete_of_history();
create trigger audit_conflicts_server_written before insert or update or delete on diary.audit_conflicts
  for each row execute function cs_private.guard_server_written();
create trigger audit_conflicts_no_truncate before truncate on diary.audit_conflicts
  for each statement execute function cs_private.refuse_delete_of_history();

create policy "investigators and inspectors read corrections at their sites" on diary.correction_review
  for select to authenticated
  using (site_id = any ((select cs_private.my_site_ids('{investigator,inspector}'))::text[]));
create policy "admin can read every correction review" on diary.correction_review
  for select to authenticated using ((select cs_private.is_admin()));

create policy "a person reads the conflicts of their own diary writes" on diary.audit_conflicts
  for select to authenticated using (submitted_by = (select auth.uid()));
create policy "investigators read conflicts at their sites" on diary.audit_conflicts
  for select to authenticated
  using (site_id = any ((select cs_private.my_site_ids('{investigator}'))::text[]));
create policy "admin can read every conflict" on diary.audit_conflicts
  for select to authenticated using ((select cs_private.is_admin()));

-- ── analysts: never the raw diary ───────────────────────────────────────────────────────────────
drop policy "site staff can read diary records at their sites" on diary.record_state;
create policy "investigators and inspectors can read diary records at their sites" on diary.record_state
  for select to authenticated
  using (site_id = any ((select cs_private.my_site_ids('{investigator,inspector}'))::text[]));
drop policy "admin can record justified corrections" on diary.record_audit;
-- A patient's direct insert carries no conflict resolution: a resolution is what
-- resolve_diary_conflict computes (strategy, merged values, fields), never a client's say-so.
drop policy "patient can record their own diary events" on diary.record_audit;
create policy "patient can record their own diary events" on diary.record_audit
  for insert to authenticated
  with check (patient_id = (select auth.uid())
              and site_id = any ((select cs_private.my_site_ids('{patient}'))::text[])
              and operation in ('USER_CREATE', 'USER_UPDATE', 'USER_DELETE')
              and conflict_resolution is null);

-- ── the event store's insert rule, redefined (0009) ─────────────────────────────────────────────
-- Who wrote it (USER, ADMIN, INVESTIGATOR, STAFF), whether it may create or continue the record,
-- the head check (a stale parent is a conflict, CS409 with the current state), and the three new
-- columns. Concurrent creations of one record are serialised by an advisory lock on its id.
create or replace function cs_private.record_audit_before_insert() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  head diary.record_state;
  caller uuid := auth.uid();
  first_operation text;
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('diary.record:' || new.event_uuid::text, 0));
  new.server_timestamp := now();
  if caller is not null then
    -- OVERRIDING SYSTEM VALUE is open to whoever may insert: an id ahead of the identity would take
    -- the id of someone else's next write (refused as a duplicate) and reorder the record's history.
    if new.audit_id > pg_catalog.pg_sequence_last_value(
         pg_catalog.pg_get_serial_sequence('diary.record_audit', 'audit_id')::regclass) then
      raise exception 'audit_id is given by the server: leave it out of a diary event' using errcode = 'CS422';
    end if;
    new.created_by := caller;
    new.role := case
      when caller = new.patient_id then 'USER'
      when new.operation = 'ADMIN_CORRECTION'
           and exists (select 1 from cro.role_assignment where user_id = caller and role = 'admin') then 'ADMIN'
      when new.operation = 'INVESTIGATOR_TRANSCRIPTION' then 'INVESTIGATOR'
      when exists (select 1 from cro.role_assignment where user_id = caller and role = 'admin') then 'ADMIN'
      else 'STAFF' end;
  elsif new.created_by is null or new.role is null then
    raise exception 'record_audit needs created_by and role outside an authenticated session'
      using errcode = 'CS422';
  end if;
  if new.operation = 'ADMIN_CORRECTION' and new.role not in ('ADMIN', 'SYSTEM') then
    raise exception 'only an admin may record an ADMIN_CORRECTION' using errcode = 'CS403';
  end if;
  if new.operation = 'INVESTIGATOR_TRANSCRIPTION' and new.role not in ('INVESTIGATOR', 'SYSTEM') then
    raise exception 'only an investigator may record an INVESTIGATOR_TRANSCRIPTION' using errcode = 'CS403';
  end if;

  -- A transcription names its paper source; nothing else does.
  if new.operation = 'INVESTIGATOR_TRANSCRIPTION' then
    perform cs_private.check_source_reference(new.source_reference);
  elsif new.source_reference is not null then
    raise exception 'only a transcription has a paper source reference' using errcode = 'CS422';
  end if;

  select * into head from diary.record_state where event_uuid = new.event_uuid for update;
  if head.event_uuid is null then
    new.previous_data := null;
    if new.parent_audit_id is not null or new.operation not in ('USER_CREATE', 'INVESTIGATOR_TRANSCRIPTION') then
      raise exception 'diary record % does not exist on the server (conflict)', new.event_uuid
        using errcode = 'CS409', detail = json_build_object('current_audit_id', null)::text;
    end if;
    if new.conflict_resolution is not null then
      raise exception 'a new diary record resolves no conflict' using errcode = 'CS422';
    end if;
  else
    if new.operation = 'USER_CREATE' then
      raise exception 'diary record % already exists (conflict)', new.event_uuid
        using errcode = 'CS409', detail = json_build_object('current_audit_id', head.last_audit_id)::text;
    end if;
    if new.parent_audit_id is distinct from head.last_audit_id then
      raise exception 'diary record % moved on: parent_audit_id % is not its current entry %',
        new.event_uuid, new.parent_audit_id, head.last_audit_id
        using errcode = 'CS409',
              detail = json_build_object('current_audit_id', head.last_audit_id, 'current_version', head.version,
                                         'current_data', head.current_data)::text,
              hint = 'Fetch the current entry, resolve, and resubmit with it as parent_audit_id.';
    end if;
    if new.patient_id <> head.patient_id or new.site_id <> head.site_id then
      raise exception 'diary record % belongs to another patient or site', new.event_uuid
        using errcode = 'CS403';
    end if;
    if new.operation = 'INVESTIGATOR_TRANSCRIPTION' then
      select a.operation into first_operation from diary.record_audit a
       where a.event_uuid = new.event_uuid order by a.audit_id limit 1;
      if first_operation is distinct from 'INVESTIGATOR_TRANSCRIPTION' then
        raise exception 'diary record % was entered by the patient: a transcription never overwrites it (an admin correction can)',
          new.event_uuid using errcode = 'CS403';
      end if;
    end if;
    new.previous_data := head.current_data;
    if new.conflict_resolution is not null then
      perform cs_private.check_conflict_resolution(new.conflict_resolution, new.event_uuid);
    end if;
  end if;
  return new;
end
$$;

-- A transcription's paper source: {"page_id": the paper page's identifier, "entry_date": the date
-- written on the paper entry, not in the future}; nothing else.
create function cs_private.check_source_reference(source jsonb) returns void
language plpgsql stable
set search_path = ''
as $$
begin
  if source is null or jsonb_typeof(source) <> 'object' then
    raise exception 'a transcription needs its paper source: the page id and the date of the paper entry'
      using errcode = 'CS422', detail = jsonb_build_object('field', 'source_reference', 'rule', 'required')::text;
  end if;
  if exists (select 1 from jsonb_object_keys(source) k where k not in ('page_id', 'entry_date')) then
    raise exception 'a paper source reference has only page_id and entry_date' using errcode = 'CS422',
      detail = jsonb_build_object('field', 'source_reference', 'rule', 'unknown')::text;
  end if;
  if jsonb_typeof(source -> 'page_id') is distinct from 'string' or length(btrim(source ->> 'page_id')) = 0
     or length(source ->> 'page_id') > 200 then
    raise exception 'the paper page id is required (at most 200 characters)' using errcode = 'CS422',
      detail = jsonb_build_object('field', 'page_id', 'rule', 'required')::text;
  end if;
  if jsonb_typeof(source -> 'entry_date') is distinct from 'string'
     or not cs_private.is_calendar_date(source ->> 'entry_date') then
    raise exception 'the date of the paper entry is required (YYYY-MM-DD)' using errcode = 'CS422',
      detail = jsonb_build_object('field', 'entry_date', 'rule', 'type')::text;
  end if;
  if (source ->> 'entry_date')::date > (now() at time zone 'UTC')::date + 1 then
    raise exception 'the date of the paper entry is in the future' using errcode = 'CS422',
      detail = jsonb_build_object('field', 'entry_date', 'rule', 'max')::text;
  end if;
end
$$;

-- An event that says it resolves a conflict must name an open conflict of that record, submitted by
-- the caller, with one of the three strategies; the after-insert trigger closes it.
create function cs_private.check_conflict_resolution(resolution jsonb, event_uuid uuid) returns void
language plpgsql stable security definer
set search_path = ''
as $$
declare
  c diary.audit_conflicts;
begin
  if jsonb_typeof(resolution) <> 'object' or resolution ->> 'strategy' is null
     or resolution ->> 'strategy' not in ('keep_mine', 'keep_theirs', 'field_merge')
     or resolution ->> 'conflict_id' !~ '^\d{1,18}$' then
    raise exception 'conflict_resolution names a conflict_id and a strategy (keep_mine, keep_theirs, field_merge)'
      using errcode = 'CS422';
  end if;
  select * into c from diary.audit_conflicts a
   where a.conflict_id = (check_conflict_resolution.resolution ->> 'conflict_id')::bigint;
  if c.conflict_id is null or c.event_uuid <> check_conflict_resolution.event_uuid then
    raise exception 'conflict % is not a conflict of diary record %', resolution ->> 'conflict_id', event_uuid
      using errcode = 'CS422';
  end if;
  if c.resolved_at is not null then
    raise exception 'conflict % was already resolved (%)', c.conflict_id, c.resolution using errcode = 'CS409';
  end if;
  if auth.uid() is not null and c.submitted_by is distinct from auth.uid() then
    raise exception 'only the person whose write conflicted resolves conflict %', c.conflict_id using errcode = 'CS403';
  end if;
end
$$;

create function cs_private.record_audit_resolves_conflict() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  perform set_config('countersign.server_write', 'audit_conflicts', true);
  update diary.audit_conflicts
     set resolved_at = now(), resolution = new.conflict_resolution ->> 'strategy',
         resolved_by = new.created_by, resolution_audit_id = new.audit_id
   where conflict_id = (new.conflict_resolution ->> 'conflict_id')::bigint;
  perform set_config('countersign.server_write', '', true);
  perform cs_private.audit_append('diary.conflict_resolved', jsonb_build_object(
    'conflict_id', (new.conflict_resolution ->> 'conflict_id')::bigint, 'event_uuid', new.event_uuid,
    'site_id', new.site_id, 'strategy', new.conflict_resolution ->> 'strategy',
    'audit_id', new.audit_id, 'resolved_by', new.created_by));
  return null;
end
$$;
create trigger record_audit_resolves_conflict after insert on diary.record_audit
  for each row when (new.conflict_resolution is not null)
  execute function cs_private.record_audit_resolves_conflict();

-- ── shared by the write functions ───────────────────────────────────────────────────────────────
-- The caller's verified re-authentication for ceremony_id (password + TOTP, at most 5 minutes old,
-- through the gateway only with a token that just passed MFA), spent: the one re-authentication
-- check of every function that needs one from here on.
create function cs_private.spend_reauth(ceremony_id uuid) returns cs_private.reauth_attempt
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  attempt cs_private.reauth_attempt;
begin
  perform cs_private.require_gateway_reauth();
  attempt := cs_private.fresh_reauth(ceremony_id);
  update cs_private.reauth_attempt set outcome = 'consumed', consumed_at = clock_timestamp() where id = attempt.id;
  return attempt;
end
$$;

-- The fields whose values differ between two versions of an entry (keys of either).
create function cs_private.changed_fields(before jsonb, after jsonb) returns text[]
language sql immutable
set search_path = ''
as $$
  select coalesce(array_agg(k order by k), '{}')
    from (select jsonb_object_keys(coalesce(before, '{}'::jsonb)) as k
          union select jsonb_object_keys(coalesce(after, '{}'::jsonb))) keys
   where (before -> k) is distinct from (after -> k)
$$;

-- ── diary writes in batches: all or nothing, conflicts recorded ─────────────────────────────────
-- events: a JSON array of at most 500 objects {client_request_id, event_uuid, patient_id,
-- operation, data, parent_audit_id, change_reason, client_timestamp, source_reference}.
-- A patient writes USER_CREATE / USER_UPDATE / USER_DELETE about themselves at their site; an
-- investigator with full access at the patient's site writes INVESTIGATOR_TRANSCRIPTION. The site is
-- the patient's enrolment site, never the caller's choice. Returns {"status": "applied", "events":
-- [{client_request_id, event_uuid, audit_id, replayed}]} or {"status": "conflict", "conflicts":
-- [{conflict_id, client_request_id, event_uuid, submitted_parent_audit_id, current_audit_id,
-- current_version, current_data}]}; on a conflict nothing of the batch is written, but the conflicts
-- are (a resend of the same request returns the same conflict).
create function cs_private.submit_diary_events(events jsonb) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  e jsonb;
  req uuid;
  ev uuid;
  patient uuid;
  site text;
  op text;
  parent bigint;
  head diary.record_state;
  prior diary.event_request;
  existing_conflict diary.audit_conflicts;
  conflict_id bigint;
  conflicts jsonb := '[]'::jsonb;
  applied jsonb := '[]'::jsonb;
  replayed integer := 0;
  n integer;
  new_audit_id bigint;
begin
  if jsonb_typeof(events) is distinct from 'array' or jsonb_array_length(events) = 0 then
    raise exception 'send a non-empty array of diary events' using errcode = 'CS422';
  end if;
  n := jsonb_array_length(events);
  if n > 500 then
    raise exception 'send at most 500 diary events at a time' using errcode = 'CS422';
  end if;
  if (select count(distinct x ->> 'client_request_id') from jsonb_array_elements(events) x) <> n
     or (select count(distinct x ->> 'event_uuid') from jsonb_array_elements(events) x) <> n then
    raise exception 'each event of a batch has its own client_request_id and its own record' using errcode = 'CS422';
  end if;

  -- Pass 1: validate, authorise, lock each record (in id order, so two batches cannot deadlock),
  -- recognise resends, find conflicts.
  for e in select x from jsonb_array_elements(events) x order by x ->> 'event_uuid' loop
    if jsonb_typeof(e) <> 'object'
       or coalesce(e ->> 'client_request_id', '') !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       or coalesce(e ->> 'event_uuid', '') !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       or coalesce(e ->> 'patient_id', '') !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
      raise exception 'each diary event needs client_request_id, event_uuid and patient_id (UUIDs)' using errcode = 'CS422';
    end if;
    req := (e ->> 'client_request_id')::uuid;
    ev := (e ->> 'event_uuid')::uuid;
    patient := (e ->> 'patient_id')::uuid;
    op := e ->> 'operation';
    if e ? 'parent_audit_id' and jsonb_typeof(e -> 'parent_audit_id') not in ('number', 'null') then
      raise exception 'parent_audit_id is a number or null' using errcode = 'CS422';
    end if;
    parent := (e ->> 'parent_audit_id')::bigint;
    select u.site_id into site from diary.user_site_assignments u where u.patient_id = patient;
    if site is null then
      raise exception 'that patient is not enrolled at any site' using errcode = 'CS403';
    end if;
    if op in ('USER_CREATE', 'USER_UPDATE', 'USER_DELETE') then
      if patient <> uid then
        raise exception 'a patient writes only their own diary' using errcode = 'CS403';
      end if;
    elsif op = 'INVESTIGATOR_TRANSCRIPTION' then
      if not site = any (cs_private.my_site_ids('{investigator_writer}')) then
        raise exception 'you may transcribe only for patients at a site where you are an investigator with full access'
          using errcode = 'CS403';
      end if;
      perform cs_private.require_reason(e ->> 'change_reason', 'a transcription');
    else
      raise exception 'operation % is not written through this function', coalesce(op, 'none')
        using errcode = 'CS422', hint = 'An admin correction goes through correct_diary_record.';
    end if;
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('diary.record:' || ev::text, 0));
    select * into prior from diary.event_request r where r.client_request_id = req;
    if prior.client_request_id is not null then
      if prior.event_uuid <> ev or prior.submitted_by <> uid then
        raise exception 'client_request_id % was already used for another write', req using errcode = 'CS422';
      end if;
      replayed := replayed + 1;
      continue;
    end if;
    select * into head from diary.record_state s where s.event_uuid = ev for update;
    if (head.event_uuid is null and parent is null) or (head.event_uuid is not null and parent = head.last_audit_id) then
      continue;
    end if;
    if head.event_uuid is not null and head.patient_id <> patient then
      raise exception 'diary record % belongs to another patient', ev using errcode = 'CS403';
    end if;
    -- A conflict: recorded once per request.
    select * into existing_conflict from diary.audit_conflicts c where c.client_request_id = req;
    if existing_conflict.conflict_id is null then
      perform set_config('countersign.server_write', 'audit_conflicts', true);
      insert into diary.audit_conflicts (event_uuid, patient_id, site_id, submitted_parent_audit_id, current_audit_id,
                                         submitted_data, submitted_by, submitted_operation, submitted_change_reason,
                                         submitted_source_reference, client_request_id, current_data)
      values (ev, patient, site, parent, head.last_audit_id, coalesce(e -> 'data', '{}'::jsonb), uid, op,
              e ->> 'change_reason', e -> 'source_reference', req, head.current_data)
      returning audit_conflicts.conflict_id into conflict_id;
      perform set_config('countersign.server_write', '', true);
      perform cs_private.audit_append('diary.conflict', jsonb_build_object(
        'conflict_id', conflict_id, 'event_uuid', ev, 'site_id', site, 'submitted_by', uid,
        'submitted_parent_audit_id', parent, 'current_audit_id', head.last_audit_id,
        'submitted_data_sha256', cs_private.json_sha256(coalesce(e -> 'data', '{}'::jsonb))));
    else
      -- A resend is the same person's same write; anyone else's request id is not theirs to reuse.
      if existing_conflict.submitted_by is distinct from uid or existing_conflict.event_uuid <> ev then
        raise exception 'client_request_id % was already used for another write', req using errcode = 'CS422';
      end if;
      conflict_id := existing_conflict.conflict_id;
    end if;
    conflicts := conflicts || jsonb_build_object(
      'conflict_id', conflict_id, 'client_request_id', req, 'event_uuid', ev,
      'submitted_parent_audit_id', parent, 'current_audit_id', head.last_audit_id,
      'current_version', head.version, 'current_data', head.current_data);
  end loop;

  if jsonb_array_length(conflicts) > 0 then
    return jsonb_build_object('status', 'conflict', 'conflicts', conflicts);
  end if;
  if replayed > 0 and replayed < n then
    raise exception 'part of this batch was already written under the same request ids; resend it whole or not at all'
      using errcode = 'CS422';
  end if;

  -- Pass 2: write, in the order given.
  for e in select x from jsonb_array_elements(events) x loop
    req := (e ->> 'client_request_id')::uuid;
    select * into prior from diary.event_request r where r.client_request_id = req;
    if prior.client_request_id is not null then
      applied := applied || jsonb_build_object('client_request_id', req, 'event_uuid', prior.event_uuid,
                                               'audit_id', prior.audit_id, 'replayed', true);
      continue;
    end if;
    ev := (e ->> 'event_uuid')::uuid;
    patient := (e ->> 'patient_id')::uuid;
    select u.site_id into site from diary.user_site_assignments u where u.patient_id = patient;
    insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, created_by, role,
                                    client_timestamp, parent_audit_id, change_reason, source_reference)
    values (ev, patient, site, e ->> 'operation', coalesce(e -> 'data', '{}'::jsonb), uid, 'SYSTEM',
            coalesce(cs_private.client_time(e ->> 'client_timestamp'), now()),
            (e ->> 'parent_audit_id')::bigint, e ->> 'change_reason', e -> 'source_reference')
    returning audit_id into new_audit_id;
    insert into diary.event_request (client_request_id, event_uuid, audit_id, submitted_by)
    values (req, ev, new_audit_id, uid);
    applied := applied || jsonb_build_object('client_request_id', req, 'event_uuid', ev,
                                             'audit_id', new_audit_id, 'replayed', false);
  end loop;
  return jsonb_build_object('status', 'applied', 'events', applied);
end
$$;

-- A client's timestamp, or null if it is not one (the server's time is used then).
create function cs_private.client_time(text_value text) returns timestamptz
language plpgsql stable
set search_path = ''
as $$
begin
  if text_value is null or text_value !~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}' then
    return null;
  end if;
  return text_value::timestamptz;
exception when others then
  return null;
end
$$;

-- ── conflict resolution ─────────────────────────────────────────────────────────────────────────
-- The submitter of a conflicting write resolves it against the entry they were shown (seen_audit_id
-- must still be the record's head, or CS409 with the new current state): keep_mine writes what they
-- submitted, keep_theirs writes the current values again (the record does not change, the
-- resolution is on record), field_merge writes the current values plus their own changes to fields
-- the other side did not change; a field both changed to different values is refused (CS409, the
-- fields named). Returns {audit_id, conflict_id, strategy, data}.
create function cs_private.resolve_diary_conflict(conflict_id bigint, strategy text, seen_audit_id bigint)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  c diary.audit_conflicts;
  head diary.record_state;
  base jsonb;
  mine_changed text[];
  theirs_changed text[];
  overlap text[];
  merged jsonb;
  k text;
  new_audit_id bigint;
begin
  if strategy is null or strategy not in ('keep_mine', 'keep_theirs', 'field_merge') then
    raise exception 'resolve a conflict by keep_mine, keep_theirs or field_merge' using errcode = 'CS422';
  end if;
  select * into c from diary.audit_conflicts a where a.conflict_id = resolve_diary_conflict.conflict_id for update;
  if c.conflict_id is null or c.submitted_by is distinct from uid then
    raise exception 'conflict % is not one of your writes', conflict_id using errcode = 'CS403';
  end if;
  if c.resolved_at is not null then
    raise exception 'conflict % was already resolved (%)', conflict_id, c.resolution using errcode = 'CS409';
  end if;
  if c.submitted_operation = 'INVESTIGATOR_TRANSCRIPTION'
     and not c.site_id = any (cs_private.my_site_ids('{investigator_writer}')) then
    raise exception 'you no longer have full access at site %', c.site_id using errcode = 'CS403';
  end if;
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('diary.record:' || c.event_uuid::text, 0));
  select * into head from diary.record_state s where s.event_uuid = c.event_uuid for update;
  if head.last_audit_id is distinct from seen_audit_id then
    raise exception 'diary record % moved on again: its current entry is %', c.event_uuid, head.last_audit_id
      using errcode = 'CS409',
            detail = json_build_object('current_audit_id', head.last_audit_id, 'current_version', head.version,
                                       'current_data', head.current_data)::text;
  end if;
  select a.data into base from diary.record_audit a
   where a.audit_id = c.submitted_parent_audit_id and a.event_uuid = c.event_uuid;
  base := coalesce(base, '{}'::jsonb);
  mine_changed := cs_private.changed_fields(base, c.submitted_data);
  theirs_changed := cs_private.changed_fields(base, head.current_data);
  if strategy = 'keep_mine' then
    merged := c.submitted_data;
  elsif strategy = 'keep_theirs' then
    merged := head.current_data;
  else
    select coalesce(array_agg(f order by f), '{}') into overlap
      from unnest(mine_changed) f
     where f = any (theirs_changed) and (c.submitted_data -> f) is distinct from (head.current_data -> f);
    if cardinality(overlap) > 0 then
      raise exception 'both versions changed %: a field merge cannot choose; keep yours or theirs',
        array_to_string(overlap, ', ')
        using errcode = 'CS409', detail = jsonb_build_object('fields', to_jsonb(overlap))::text;
    end if;
    merged := head.current_data;
    foreach k in array mine_changed loop
      if c.submitted_data ? k then
        merged := merged || jsonb_build_object(k, c.submitted_data -> k);
      else
        merged := merged - k;
      end if;
    end loop;
  end if;
  insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, created_by, role,
                                  client_timestamp, parent_audit_id, change_reason, source_reference,
                                  conflict_resolution)
  values (c.event_uuid, c.patient_id, c.site_id,
          case when c.submitted_operation = 'USER_CREATE' then 'USER_UPDATE' else c.submitted_operation end,
          merged, uid, 'SYSTEM', now(), head.last_audit_id,
          'Conflict ' || c.conflict_id || ' resolved: ' || replace(strategy, '_', ' ')
            || coalesce(' (' || nullif(btrim(c.submitted_change_reason), '') || ')', ''),
          case when c.submitted_operation = 'INVESTIGATOR_TRANSCRIPTION' then c.submitted_source_reference end,
          jsonb_build_object('conflict_id', c.conflict_id, 'strategy', strategy,
                             'submitted_parent_audit_id', c.submitted_parent_audit_id,
                             'conflicting_audit_id', c.current_audit_id,
                             'resolved_against_audit_id', head.last_audit_id,
                             'fields_mine', to_jsonb(mine_changed), 'fields_theirs', to_jsonb(theirs_changed)))
  returning audit_id into new_audit_id;
  return jsonb_build_object('audit_id', new_audit_id, 'conflict_id', c.conflict_id, 'strategy', strategy,
                            'data', merged);
end
$$;

-- ── admin correction ────────────────────────────────────────────────────────────────────────────
-- An administrator corrects a diary record they have read (parent_audit_id: the entry they saw),
-- with a justification and their own verified re-authentication for ceremony_id (spent here). The
-- event keeps old (previous_data) and new values; a review item is opened for the investigators of
-- the record's site. Returns {audit_id, review_id, changed_fields}.
create function cs_private.correct_diary_record(event_uuid uuid, parent_audit_id bigint, data jsonb,
                                                justification text, ceremony_id uuid)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  head diary.record_state;
  attempt cs_private.reauth_attempt;
  changed text[];
  new_audit_id bigint;
  review uuid;
begin
  if not cs_private.is_admin() then
    raise exception 'only an administrator may correct diary data' using errcode = 'CS403';
  end if;
  perform cs_private.require_reason(justification, 'a correction');  -- 0057
  if length(justification) > 2000 then
    raise exception 'the justification is longer than 2000 characters' using errcode = 'CS422';
  end if;
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('diary.record:' || event_uuid::text, 0));
  select * into head from diary.record_state s where s.event_uuid = correct_diary_record.event_uuid for update;
  if head.event_uuid is null then
    raise exception 'there is no diary record %', event_uuid using errcode = 'CS422';
  end if;
  if head.last_audit_id is distinct from parent_audit_id then
    raise exception 'diary record % moved on: parent_audit_id % is not its current entry %',
      event_uuid, parent_audit_id, head.last_audit_id
      using errcode = 'CS409',
            detail = json_build_object('current_audit_id', head.last_audit_id, 'current_version', head.version,
                                       'current_data', head.current_data)::text;
  end if;
  changed := cs_private.changed_fields(head.current_data, data);
  if cardinality(changed) = 0 then
    raise exception 'the correction changes nothing' using errcode = 'CS422';
  end if;
  attempt := cs_private.spend_reauth(ceremony_id);
  insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, created_by, role,
                                  client_timestamp, parent_audit_id, change_reason)
  values (head.event_uuid, head.patient_id, head.site_id, 'ADMIN_CORRECTION', data, uid, 'ADMIN', now(),
          head.last_audit_id, justification)
  returning audit_id into new_audit_id;
  perform set_config('countersign.server_write', 'correction_review', true);
  insert into diary.correction_review (audit_id, event_uuid, patient_id, site_id, corrected_by, corrected_at,
                                       justification, changed_fields)
  values (new_audit_id, head.event_uuid, head.patient_id, head.site_id, uid, now(), justification, changed)
  returning review_id into review;
  perform set_config('countersign.server_write', '', true);
  perform cs_private.audit_append('diary.correction', jsonb_build_object(
    'audit_id', new_audit_id, 'event_uuid', head.event_uuid, 'site_id', head.site_id, 'review_id', review,
    'corrected_by', uid, 'changed_fields', to_jsonb(changed),
    'justification_sha256', cs_private.sha256_hex(justification),
    'reauth_attempt_id', attempt.id, 'ceremony_id', ceremony_id));
  return jsonb_build_object('audit_id', new_audit_id, 'review_id', review, 'changed_fields', to_jsonb(changed));
end
$$;

-- An investigator of the record's site acknowledges a correction, or disputes it with a comment.
-- The first decision closes the item for every investigator of the site.
create function cs_private.review_diary_correction(review_id uuid, decision text, comment text) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  r diary.correction_review;
begin
  if decision is null or decision not in ('acknowledged', 'disputed') then
    raise exception 'a correction is acknowledged or disputed' using errcode = 'CS422';
  end if;
  if decision = 'disputed' then
    perform cs_private.require_reason(comment, 'disputing a correction');
  end if;
  if comment is not null and length(comment) > 2000 then
    raise exception 'the comment is longer than 2000 characters' using errcode = 'CS422';
  end if;
  select * into r from diary.correction_review c where c.review_id = review_diary_correction.review_id for update;
  if r.review_id is null or not r.site_id = any (cs_private.my_site_ids('{investigator}')) then
    raise exception 'there is no correction % for you to review', review_id using errcode = 'CS403';
  end if;
  -- The review is a second person's: an administrator who is also an investigator of the site does
  -- not review their own correction.
  if r.corrected_by = uid then
    raise exception 'you made this correction: another investigator of the site reviews it' using errcode = 'CS403';
  end if;
  if r.status <> 'pending' then
    raise exception 'that correction was already % by someone else', r.status using errcode = 'CS409';
  end if;
  perform set_config('countersign.server_write', 'correction_review', true);
  update diary.correction_review c
     set status = decision, decided_by = uid, decided_at = now(), decision_comment = nullif(btrim(comment), '')
   where c.review_id = r.review_id;
  perform set_config('countersign.server_write', '', true);
  perform cs_private.audit_append('diary.correction_reviewed', jsonb_build_object(
    'review_id', r.review_id, 'audit_id', r.audit_id, 'event_uuid', r.event_uuid, 'site_id', r.site_id,
    'decision', decision, 'decided_by', uid,
    'comment_sha256', case when nullif(btrim(comment), '') is not null then cs_private.sha256_hex(comment) end));
  return jsonb_build_object('review_id', r.review_id, 'status', decision);
end
$$;

-- ── the analyst's de-identified projection ──────────────────────────────────────────────────────
-- The build's diary form decides: choice, integer, decimal, boolean and time fields are kept; text
-- (free text) and uuid (identifiers) fields are removed; a date or date-time field becomes
-- <field>_study_day, counted from the patient's enrolment date (day 1; the day before is -1).
create function cs_private.study_day(value_date date, reference date) returns integer
language sql immutable
set search_path = ''
as $$
  select case when value_date >= reference then value_date - reference + 1 else value_date - reference end
$$;

create function cs_private.deidentified_diary_data(build_id uuid, data jsonb, enrolled_on date) returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  f record;
  result jsonb := '{}'::jsonb;
  v jsonb;
  day date;
begin
  for f in select x.field_code, x.data_type from cro.build_form b
             join cro.build_form_field x on x.build_id = b.build_id and x.form_code = b.form_code
            where b.build_id = deidentified_diary_data.build_id and b.form_kind = 'diary'
            order by x.ordinal loop
    v := data -> f.field_code;
    continue when v is null or jsonb_typeof(v) = 'null';
    if f.data_type in ('choice', 'integer', 'decimal', 'boolean', 'time') then
      result := result || jsonb_build_object(f.field_code, v);
    elsif f.data_type in ('date', 'datetime') then
      day := null;
      begin
        day := case when f.data_type = 'date' then (v #>> '{}')::date
                    else ((v #>> '{}')::timestamptz at time zone 'UTC')::date end;
      exception when others then
        day := null;
      end;
      if day is not null then
        result := result || jsonb_build_object(f.field_code || '_study_day', cs_private.study_day(day, enrolled_on));
      end if;
    end if;
  end loop;
  return result;
end
$$;

-- How an entry came in ('patient': the patient's own device; 'paper': transcribed by an investigator)
-- and whether an administrator corrected it. Functions, not subqueries, so that the view does not
-- depend on record_audit's table (0060 rebuilds it partitioned). The view's caller needs EXECUTE on
-- every function the view calls (PostgreSQL checks functions as the invoker, tables as the owner), so
-- these are granted to authenticated below and answer only for an entry at one of the caller's
-- analyst sites (null, or false, for any other): called directly they tell no more than the view.
create function cs_private.diary_entry_origin(entry uuid) returns text
language sql stable security definer
set search_path = ''
as $$
  select case when a.operation = 'INVESTIGATOR_TRANSCRIPTION' then 'paper' else 'patient' end
    from diary.record_audit a
   where a.event_uuid = entry
     and exists (select 1 from diary.analyst_site_assignments x
                  where x.analyst_id = (select auth.uid()) and x.site_id = a.site_id)
   order by a.audit_id limit 1
$$;
create function cs_private.diary_entry_corrected(entry uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (select 1 from diary.record_audit a
                  where a.event_uuid = entry and a.operation = 'ADMIN_CORRECTION'
                    and exists (select 1 from diary.analyst_site_assignments x
                                 where x.analyst_id = (select auth.uid()) and x.site_id = a.site_id))
$$;

-- Two layers, so that a keyset page costs its own rows only: the private scope (a security barrier:
-- the caller's analyst sites, filtered before any condition of theirs runs) holds the cheap columns;
-- the public view computes the de-identified values from it, which the planner defers until after
-- the page's sort and limit (measured: a 2,000-row page of 10,000 entries took 1.05 s when the
-- functions sat inside the barrier and were computed for every row). Nobody may read the scope
-- directly (it holds the raw values); the public view reads it with its owner's rights.
create view cs_private.analyst_diary_scope with (security_barrier) as
  select s.event_uuid, u.subject_code, s.site_id, s.build_id, s.version, s.is_deleted, s.current_data,
         (u.enrolled_at at time zone 'UTC')::date as enrolled_on, s.sync_xid
    from diary.record_state s
    join diary.user_site_assignments u on u.patient_id = s.patient_id
   where s.site_id = any (cs_private.my_site_ids('{analyst}'));
revoke all on cs_private.analyst_diary_scope from public;

create view diary.deidentified_entry as
  select x.event_uuid as entry_id,
         x.subject_code,
         x.site_id,
         x.build_id,
         x.version,
         x.is_deleted,
         cs_private.deidentified_diary_data(x.build_id, x.current_data, x.enrolled_on) as data,
         cs_private.diary_entry_origin(x.event_uuid) as origin,
         cs_private.diary_entry_corrected(x.event_uuid) as corrected,
         x.sync_xid
    from cs_private.analyst_diary_scope x;

-- ── the public API (PostgREST-callable wrappers, as in 0056) ─────────────────────────────────────
create function public.submit_diary_events(events jsonb) returns jsonb
language sql volatile set search_path = ''
as $$ select cs_private.submit_diary_events(events) $$;
create function public.resolve_diary_conflict(conflict_id bigint, strategy text, seen_audit_id bigint) returns jsonb
language sql volatile set search_path = ''
as $$ select cs_private.resolve_diary_conflict(conflict_id, strategy, seen_audit_id) $$;
create function public.correct_diary_record(event_uuid uuid, parent_audit_id bigint, data jsonb,
                                            justification text, ceremony_id uuid) returns jsonb
language sql volatile set search_path = ''
as $$ select cs_private.correct_diary_record(event_uuid, parent_audit_id, data, justification, ceremony_id) $$;
create function public.review_diary_correction(review_id uuid, decision text, comment text) returns jsonb
language sql volatile set search_path = ''
as $$ select cs_private.review_diary_correction(review_id, decision, comment) $$;

revoke all on function cs_private.guard_server_written(), cs_private.check_source_reference(jsonb),
  cs_private.check_conflict_resolution(jsonb, uuid), cs_private.record_audit_resolves_conflict(),
  cs_private.spend_reauth(uuid), cs_private.changed_fields(jsonb, jsonb),
  cs_private.submit_diary_events(jsonb), cs_private.client_time(text),
  cs_private.resolve_diary_conflict(bigint, text, bigint),
  cs_private.correct_diary_record(uuid, bigint, jsonb, text, uuid),
  cs_private.review_diary_correction(uuid, text, text), cs_private.study_day(date, date),
  cs_private.deidentified_diary_data(uuid, jsonb, date), cs_private.diary_entry_origin(uuid),
  cs_private.diary_entry_corrected(uuid),
  public.submit_diary_events(jsonb), public.resolve_diary_conflict(bigint, text, bigint),
  public.correct_diary_record(uuid, bigint, jsonb, text, uuid), public.review_diary_correction(uuid, text, text)
  from public;
grant execute on function cs_private.submit_diary_events(jsonb), cs_private.resolve_diary_conflict(bigint, text, bigint),
  cs_private.correct_diary_record(uuid, bigint, jsonb, text, uuid),
  cs_private.review_diary_correction(uuid, text, text),
  public.submit_diary_events(jsonb), public.resolve_diary_conflict(bigint, text, bigint),
  public.correct_diary_record(uuid, bigint, jsonb, text, uuid), public.review_diary_correction(uuid, text, text)
  to authenticated;
-- The view runs as its owner (it must read record_state, which analysts may not); its own WHERE
-- limits it to the caller's analyst sites, and security_barrier keeps that filter first. Its
-- functions are checked as the caller: deidentified_diary_data only reshapes the values it is given
-- (and reads a build's form definition), the two provenance helpers answer only at the caller's
-- analyst sites; study_day is called by deidentified_diary_data (definer) and stays private.
grant execute on function cs_private.deidentified_diary_data(uuid, jsonb, date),
  cs_private.diary_entry_origin(uuid), cs_private.diary_entry_corrected(uuid) to authenticated;
grant select on diary.deidentified_entry, diary.correction_review, diary.event_request to authenticated;
revoke all on diary.deidentified_entry from public;
grant select on diary.deidentified_entry to authenticated;

do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on function public.submit_diary_events(jsonb), public.resolve_diary_conflict(bigint, text, bigint),
      public.correct_diary_record(uuid, bigint, jsonb, text, uuid), public.review_diary_correction(uuid, text, text)
      from anon;
    revoke all on diary.deidentified_entry, diary.correction_review, diary.event_request from anon;
  end if;
end
$$;

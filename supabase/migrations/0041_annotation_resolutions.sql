-- Closing and reopening a query from the workstation's outbox (src/main/sync/outbox.ts), exactly once.
--
-- 0009 allows one UPDATE of an annotation: its resolution (close = resolved true, reopen = resolved
-- false), audited as diary.annotation_resolved / diary.annotation_reopened. A plain UPDATE cannot be
-- resent safely: after a lost reply the client cannot tell whether its close landed, and a resend
-- after someone reopened the query would close it a second time. So a resolution made offline is
-- an insert-only request in diary.annotation_resolutions, keyed by the client's request id:
--
--   * request_id: the idempotency key the client picks when the person closes or reopens; a resend
--     hits the primary key (23505) and changes nothing, whatever happened to the query since.
--   * resolved: the state asked for. If the annotation is already in that state (someone else
--     closed or reopened it first) the request is a conflict (SQLSTATE CS409, detail
--     {"current_resolved": ...}) and changes nothing; the client keeps it for the person to decide.
--   * The server, not the client, sets the record, site, requester and time; the request then sets
--     the annotation's resolution in the same transaction, through 0009's rules and audit.
--
-- Who may: an investigator with full access at the annotation's site, as for 0010's UPDATE policy.
-- Requests are never changed or deleted (they are part of the record of who decided what).

create table diary.annotation_resolutions (
  request_id uuid primary key,
  annotation_id uuid not null references diary.investigator_annotations (annotation_id),
  event_uuid uuid not null references diary.record_state (event_uuid),
  site_id text not null references diary.sites (site_id),
  resolved boolean not null,
  requested_by uuid not null references auth.users (id),
  requested_at timestamptz not null default now()
);
create index annotation_resolutions_annotation_idx on diary.annotation_resolutions (annotation_id);
create index annotation_resolutions_site_idx on diary.annotation_resolutions (site_id);

create function cs_private.annotation_resolution_before_insert() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  target diary.investigator_annotations;
  prior diary.annotation_resolutions;
  caller uuid := auth.uid();
begin
  -- A resend of a request that already landed: let the primary key say so (the client recognises
  -- it), whatever the annotation's state is now. It stands as the first one did, so RLS lets its
  -- requester through to that answer (and refuses anybody else).
  select * into prior from diary.annotation_resolutions where request_id = new.request_id;
  if prior.request_id is not null then
    new.annotation_id := prior.annotation_id;
    new.event_uuid := prior.event_uuid;
    new.site_id := prior.site_id;
    new.requested_by := prior.requested_by;
    return new;
  end if;
  select * into target from diary.investigator_annotations
    where annotation_id = new.annotation_id for update;
  if target.annotation_id is null then
    raise exception 'annotation % does not exist', new.annotation_id using errcode = 'CS422';
  end if;
  new.event_uuid := target.event_uuid;
  new.site_id := target.site_id;
  if caller is not null then
    new.requested_by := caller;
    -- A person's session is checked before the state is compared, so that nobody learns the state
    -- of a query they may not resolve (RLS checks again after this trigger).
    if not cs_private.is_operator_session()
       and not (target.site_id = any (cs_private.my_site_ids('{investigator_writer}'))) then
      raise exception 'only an investigator with full access at site % may close or reopen its queries',
        target.site_id using errcode = '42501';
    end if;
  elsif new.requested_by is null then
    raise exception 'annotation_resolutions needs requested_by outside an authenticated session'
      using errcode = 'CS422';
  end if;
  if not cs_private.in_bootstrap() then
    new.requested_at := now();
  end if;
  if target.resolved = new.resolved then
    raise exception 'annotation % is already %', new.annotation_id,
      case when target.resolved then 'closed' else 'open' end
      using errcode = 'CS409', detail = json_build_object('current_resolved', target.resolved)::text,
            hint = 'Read the annotation again; discard the request, or send the opposite one.';
  end if;
  return new;
end
$$;

create function cs_private.annotation_resolution_after_insert() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  -- 0009's triggers set resolved_at / resolved_by (auth.uid(): the requester) and audit the change.
  update diary.investigator_annotations set resolved = new.resolved where annotation_id = new.annotation_id;
  return null;
end
$$;

create trigger annotation_resolutions_before_insert before insert on diary.annotation_resolutions
  for each row execute function cs_private.annotation_resolution_before_insert();
create trigger annotation_resolutions_after_insert after insert on diary.annotation_resolutions
  for each row execute function cs_private.annotation_resolution_after_insert();
create trigger annotation_resolutions_append_only before update or delete on diary.annotation_resolutions
  for each row execute function cs_private.refuse_change_to_append_only();
create trigger annotation_resolutions_no_truncate before truncate on diary.annotation_resolutions
  for each statement execute function cs_private.refuse_change_to_append_only();

alter table diary.annotation_resolutions enable row level security;
grant select, insert on diary.annotation_resolutions to authenticated;

create policy "investigators and inspectors can read resolutions at their sites" on diary.annotation_resolutions
  for select to authenticated
  using (site_id = any ((select cs_private.my_site_ids('{investigator,inspector}'))::text[]));
create policy "admin can read all resolutions" on diary.annotation_resolutions
  for select to authenticated using ((select cs_private.is_admin()));
create policy "investigator can close or reopen queries at their sites" on diary.annotation_resolutions
  for insert to authenticated
  with check (requested_by = (select auth.uid())
              and site_id = any ((select cs_private.my_site_ids('{investigator_writer}'))::text[]));

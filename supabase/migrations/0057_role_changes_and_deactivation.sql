-- Assignments, role changes with a second administrator's approval, and deactivation (issue 21;
-- 21 CFR 11.10(d),(g), 11.300(b); seed 003: "Role changes require admin approval and are audited").
--
-- * Site assignments (patients, investigators, analysts) change only through public.assign_site and
--   public.unassign_site: an administrator, a reason, an audit entry. The direct INSERT/DELETE
--   grants 0010 gave on diary.*_site_assignments are revoked.
-- * A role change (grant or revoke of a role, per study or for every study; reactivation) is a
--   request by one administrator and a decision (approve or refuse, with a reason) by ANOTHER one.
--   Granting `signer` needs a confirmed TOTP factor, checked at the request and at the approval.
-- * Deactivation keeps every row of the person's history and refuses them at once: their login
--   role becomes NOLOGIN and their open sessions end (owner is a superuser), in hosted mode their
--   Supabase user is banned, every Countersign function refuses them (cs_private.require_user), and
--   their pending re-authentications are void. Reactivation is a role change (needs approval).

create table cs_private.deactivation (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete restrict,
  deactivated_at timestamptz not null default now(),
  deactivated_by uuid not null references auth.users (id) on delete restrict,
  reason text not null check (length(btrim(reason)) > 0),
  reactivated_at timestamptz,
  -- The approved reactivation request that ended it.
  reactivation_request_id uuid
);
create unique index deactivation_one_open_per_user on cs_private.deactivation (user_id) where reactivated_at is null;
alter table cs_private.deactivation enable row level security;

create table cs_private.role_change_request (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete restrict,
  change text not null check (change in ('grant', 'revoke', 'reactivate')),
  role cro.app_role,
  -- null: every study (as cro.role_assignment.study_id).
  study_id uuid references cro.study (id),
  reason text not null check (length(btrim(reason)) > 0),
  requested_by uuid not null references auth.users (id) on delete restrict,
  requested_at timestamptz not null default now(),
  status text not null default 'pending' check (status in ('pending', 'approved', 'refused')),
  decided_by uuid references auth.users (id) on delete restrict,
  decided_at timestamptz,
  decision_reason text,
  check ((change = 'reactivate') = (role is null)),
  check (decided_by is null or decided_by <> requested_by),
  check ((status = 'pending') = (decided_at is null))
);
create index role_change_request_pending_idx on cs_private.role_change_request (requested_at) where status = 'pending';
alter table cs_private.role_change_request enable row level security;

create function cs_private.is_deactivated(person uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$ select exists (select 1 from cs_private.deactivation d where d.user_id = person and d.reactivated_at is null) $$;

-- Refuses a deactivated caller. cs_private.require_user (where every Countersign function starts)
-- calls it, so a deactivated person is refused on a session that is still open too; a later
-- migration that replaces require_user keeps the call.
create function cs_private.require_active(person uuid) returns void
language plpgsql stable
set search_path = ''
as $$
begin
  if cs_private.is_deactivated(person) then
    raise exception 'this account is deactivated' using errcode = 'CS403',
      hint = 'An administrator can request its reactivation.';
  end if;
end
$$;

create or replace function cs_private.require_user() returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
begin
  if uid is null then
    raise exception 'sign in first' using errcode = 'CS403';
  end if;
  perform cs_private.require_active(uid);
  return uid;
end
$$;

create function cs_private.require_reason(reason text, action text) returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  if reason is null or length(btrim(reason)) = 0 then
    raise exception 'say why (% needs a reason)', action using errcode = 'CS422';
  end if;
end
$$;

-- Login allowed or refused, and the Supabase ban, for a deactivation or a reactivation.
create function cs_private.set_login_allowed(person uuid, allowed boolean) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  login name := (select l.role_name from cs_private.login_role l where l.user_id = person);
begin
  if login is not null and cs_private.owner_is_superuser() then
    execute pg_catalog.format('alter role %I %s', login, case when allowed then 'login' else 'nologin' end);
    if not allowed then
      perform pg_catalog.pg_terminate_backend(a.pid) from pg_catalog.pg_stat_activity a
        where a.usename = login and a.pid <> pg_catalog.pg_backend_pid();
    end if;
  end if;
  if exists (select 1 from pg_catalog.pg_attribute
              where attrelid = 'auth.users'::regclass and attname = 'banned_until' and not attisdropped) then
    execute 'update auth.users set banned_until = $2 where id = $1'
      using person, case when allowed then null else 'infinity'::timestamptz end;
  end if;
end
$$;

create function cs_private.deactivate_person(person uuid, reason text) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_admin_over(person, reason, 'deactivate an account');
begin
  perform pg_catalog.pg_advisory_xact_lock(4242057, pg_catalog.hashtext(person::text));
  if not exists (select 1 from auth.users u where u.id = person) then
    raise exception 'no such person' using errcode = 'CS404';
  end if;
  if cs_private.is_deactivated(person) then
    raise exception 'that account is already deactivated' using errcode = 'CS409';
  end if;
  insert into cs_private.deactivation (user_id, deactivated_by, reason) values (person, uid, reason);
  update cs_private.reauth_attempt
     set outcome = 'cancelled', failure_reason = 'account deactivated', decided_at = pg_catalog.clock_timestamp()
   where user_id = person and outcome in ('pending', 'verified');
  perform cs_private.set_login_allowed(person, false);
  perform cs_private.audit_append('person.deactivated', jsonb_build_object(
    'user_id', person, 'deactivated_by', uid, 'reason', reason));
end
$$;

create function cs_private.has_confirmed_totp(person uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$ select exists (select 1 from cs_private.totp_factor f where f.user_id = person and f.confirmed_at is not null) $$;

-- What a role change needs besides the two administrators; checked at the request and at approval.
create function cs_private.check_role_change(request cs_private.role_change_request) returns void
language plpgsql stable security definer
set search_path = ''
as $$
declare
  held constant boolean := exists (
    select 1 from cro.role_assignment r
     where r.user_id = request.user_id and r.role = request.role and r.study_id is not distinct from request.study_id);
begin
  if request.change = 'reactivate' then
    if not cs_private.is_deactivated(request.user_id) then
      raise exception 'that account is not deactivated' using errcode = 'CS409';
    end if;
    return;
  end if;
  if cs_private.is_deactivated(request.user_id) then
    raise exception 'that account is deactivated; reactivate it first' using errcode = 'CS409';
  end if;
  if request.change = 'grant' and held then
    raise exception 'the person already holds that role there' using errcode = 'CS409';
  end if;
  if request.change = 'revoke' and not held then
    raise exception 'the person does not hold that role there' using errcode = 'CS409';
  end if;
  if request.change = 'grant' and request.role = 'signer' and not cs_private.has_confirmed_totp(request.user_id) then
    raise exception 'a signer needs an enrolled authenticator (TOTP) first' using errcode = 'CS422',
      hint = 'The person enrols an authenticator, then the request can be made.';
  end if;
end
$$;

create function cs_private.request_role_change(person uuid, change text, role cro.app_role, study uuid, reason text)
returns uuid
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_admin_over(person, reason, 'request a role change');
  request cs_private.role_change_request;
begin
  if change is null or change not in ('grant', 'revoke', 'reactivate') then
    raise exception 'a role change is grant, revoke or reactivate' using errcode = 'CS422';
  end if;
  if (change = 'reactivate') <> (role is null) then
    raise exception 'grant and revoke name a role; reactivate names none' using errcode = 'CS422';
  end if;
  if not exists (select 1 from auth.users u where u.id = person) then
    raise exception 'no such person' using errcode = 'CS404';
  end if;
  request := row(gen_random_uuid(), person, change, role, study, reason, uid, pg_catalog.clock_timestamp(),
                 'pending', null, null, null)::cs_private.role_change_request;
  perform cs_private.check_role_change(request);
  insert into cs_private.role_change_request select (request).*;
  perform cs_private.audit_append('role_change.requested', jsonb_build_object(
    'request_id', request.id, 'user_id', person, 'change', change, 'role', role, 'study_id', study,
    'requested_by', uid, 'reason', reason));
  return request.id;
end
$$;

create function cs_private.decide_role_change(request_id uuid, approve boolean, reason text) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  request cs_private.role_change_request;
begin
  if not cs_private.is_admin() then
    raise exception 'only an administrator may decide a role change' using errcode = 'CS403';
  end if;
  perform cs_private.require_reason(reason, 'a decision on a role change');
  select * into request from cs_private.role_change_request r where r.id = request_id for update;
  if not found then
    raise exception 'no such role change request' using errcode = 'CS404';
  end if;
  if request.status <> 'pending' then
    raise exception 'that request was already decided' using errcode = 'CS409';
  end if;
  if request.requested_by = uid then
    raise exception 'another administrator decides your own request' using errcode = 'CS403';
  end if;
  if request.user_id = uid then
    raise exception 'another administrator decides a change to your own account' using errcode = 'CS403';
  end if;
  if approve then
    perform cs_private.check_role_change(request);
    if request.change = 'grant' then
      insert into cro.role_assignment (user_id, role, study_id, granted_by)
      values (request.user_id, request.role, request.study_id, uid);
    elsif request.change = 'revoke' then
      delete from cro.role_assignment r
       where r.user_id = request.user_id and r.role = request.role and r.study_id is not distinct from request.study_id;
    else
      update cs_private.deactivation
         set reactivated_at = pg_catalog.clock_timestamp(), reactivation_request_id = request.id
       where user_id = request.user_id and reactivated_at is null;
      perform cs_private.set_login_allowed(request.user_id, true);
    end if;
  end if;
  update cs_private.role_change_request
     set status = case when approve then 'approved' else 'refused' end,
         decided_by = uid, decided_at = pg_catalog.clock_timestamp(), decision_reason = decide_role_change.reason
   where id = request.id;
  perform cs_private.audit_append(case when approve then 'role_change.approved' else 'role_change.refused' end,
    jsonb_build_object('request_id', request.id, 'user_id', request.user_id, 'change', request.change,
      'role', request.role, 'study_id', request.study_id, 'requested_by', request.requested_by,
      'decided_by', uid, 'reason', decide_role_change.reason));
end
$$;

-- Site assignments: kind is 'patient' (enrolment, with a subject code), 'investigator' or 'analyst'.
create function cs_private.assign_site(person uuid, kind text, site text, reason text, subject_code text)
returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_admin_over(person, reason, 'assign a site');
begin
  if cs_private.is_deactivated(person) then
    raise exception 'that account is deactivated' using errcode = 'CS409';
  end if;
  if kind = 'patient' then
    if subject_code is null or length(btrim(subject_code)) = 0 then
      raise exception 'enrolling a patient needs a subject code' using errcode = 'CS422';
    end if;
    insert into diary.user_site_assignments (patient_id, site_id, subject_code) values (person, site, subject_code);
  elsif kind = 'investigator' then
    insert into diary.investigator_site_assignments (investigator_id, site_id) values (person, site);
  elsif kind = 'analyst' then
    insert into diary.analyst_site_assignments (analyst_id, site_id) values (person, site);
  else
    raise exception 'a site assignment is for a patient, an investigator or an analyst' using errcode = 'CS422';
  end if;
  perform cs_private.audit_append('site.assigned', jsonb_build_object(
    'user_id', person, 'kind', kind, 'site_id', site, 'subject_code', subject_code,
    'assigned_by', uid, 'reason', reason));
exception
  when unique_violation then
    raise exception 'that assignment (or subject code) already exists' using errcode = 'CS409';
  when foreign_key_violation then
    raise exception 'no such site or person' using errcode = 'CS404';
end
$$;

create function cs_private.unassign_site(person uuid, kind text, site text, reason text) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_admin_over(person, reason, 'unassign a site');
  removed integer;
begin
  if kind = 'patient' then
    delete from diary.user_site_assignments a where a.patient_id = person and a.site_id = site;
  elsif kind = 'investigator' then
    delete from diary.investigator_site_assignments a where a.investigator_id = person and a.site_id = site;
  elsif kind = 'analyst' then
    delete from diary.analyst_site_assignments a where a.analyst_id = person and a.site_id = site;
  else
    raise exception 'a site assignment is for a patient, an investigator or an analyst' using errcode = 'CS422';
  end if;
  get diagnostics removed = row_count;
  if removed = 0 then
    raise exception 'no such assignment' using errcode = 'CS404';
  end if;
  perform cs_private.audit_append('site.unassigned', jsonb_build_object(
    'user_id', person, 'kind', kind, 'site_id', site, 'unassigned_by', uid, 'reason', reason));
end
$$;

-- The Administration screen's people list (administrators only).
create function cs_private.admin_people()
returns table (user_id uuid, email text, printed_name text, roles jsonb, sites jsonb, totp_enrolled boolean,
               sign_in_locked boolean, signing_locked boolean, active boolean)
language plpgsql stable security definer
set search_path = ''
as $$
begin
  perform cs_private.require_user();
  if not cs_private.is_admin() then
    raise exception 'only an administrator may list people' using errcode = 'CS403';
  end if;
  return query
  select u.id, u.email::text, p.printed_name,
         coalesce((select jsonb_agg(jsonb_build_object('role', r.role, 'study_id', r.study_id, 'study_code', s.code)
                                    order by r.role, s.code nulls first)
                     from cro.role_assignment r left join cro.study s on s.id = r.study_id
                    where r.user_id = u.id), '[]'::jsonb),
         coalesce((select jsonb_agg(jsonb_build_object('kind', a.kind, 'site_id', a.site_id) order by a.kind, a.site_id)
                     from (select 'patient' as kind, x.site_id from diary.user_site_assignments x where x.patient_id = u.id
                           union all
                           select 'investigator', x.site_id from diary.investigator_site_assignments x where x.investigator_id = u.id
                           union all
                           select 'analyst', x.site_id from diary.analyst_site_assignments x where x.analyst_id = u.id) a),
                  '[]'::jsonb),
         cs_private.has_confirmed_totp(u.id),
         cs_private.sign_in_locked(u.id),
         cs_private.signing_locked(u.id),
         not cs_private.is_deactivated(u.id)
    from auth.users u
    left join cro.user_profile p on p.user_id = u.id
   order by p.printed_name nulls last, u.email;
end
$$;

create function cs_private.role_change_requests()
returns table (id uuid, user_id uuid, change text, role text, study_id uuid, reason text, requested_by uuid,
               requested_at timestamptz, status text, decided_by uuid, decided_at timestamptz, decision_reason text)
language plpgsql stable security definer
set search_path = ''
as $$
begin
  perform cs_private.require_user();
  if not cs_private.is_admin() then
    raise exception 'only an administrator may read role change requests' using errcode = 'CS403';
  end if;
  return query
  select r.id, r.user_id, r.change, r.role::text, r.study_id, r.reason, r.requested_by, r.requested_at, r.status,
         r.decided_by, r.decided_at, r.decision_reason
    from cs_private.role_change_request r
   order by (r.status = 'pending') desc, r.requested_at desc;
end
$$;

create function public.deactivate_person(person uuid, reason text) returns void
language sql volatile set search_path = '' as $$ select cs_private.deactivate_person(person, reason) $$;
create function public.request_role_change(person uuid, change text, role cro.app_role, study uuid, reason text)
returns uuid
language sql volatile set search_path = '' as $$ select cs_private.request_role_change(person, change, role, study, reason) $$;
create function public.decide_role_change(request_id uuid, approve boolean, reason text) returns void
language sql volatile set search_path = '' as $$ select cs_private.decide_role_change(request_id, approve, reason) $$;
create function public.assign_site(person uuid, kind text, site text, reason text, subject_code text default null)
returns void
language sql volatile set search_path = '' as $$ select cs_private.assign_site(person, kind, site, reason, subject_code) $$;
create function public.unassign_site(person uuid, kind text, site text, reason text) returns void
language sql volatile set search_path = '' as $$ select cs_private.unassign_site(person, kind, site, reason) $$;
create function public.admin_people()
returns table (user_id uuid, email text, printed_name text, roles jsonb, sites jsonb, totp_enrolled boolean,
               sign_in_locked boolean, signing_locked boolean, active boolean)
language sql stable set search_path = '' as $$ select * from cs_private.admin_people() $$;
create function public.role_change_requests()
returns table (id uuid, user_id uuid, change text, role text, study_id uuid, reason text, requested_by uuid,
               requested_at timestamptz, status text, decided_by uuid, decided_at timestamptz, decision_reason text)
language sql stable set search_path = '' as $$ select * from cs_private.role_change_requests() $$;

-- Assignments change only through the functions above.
revoke insert, delete on diary.user_site_assignments, diary.investigator_site_assignments,
  diary.analyst_site_assignments from authenticated;
drop policy "admin can enrol patients" on diary.user_site_assignments;
drop policy "admin can withdraw enrolments" on diary.user_site_assignments;
drop policy "admin can assign investigators" on diary.investigator_site_assignments;
drop policy "admin can unassign investigators" on diary.investigator_site_assignments;
drop policy "admin can assign analysts" on diary.analyst_site_assignments;
drop policy "admin can unassign analysts" on diary.analyst_site_assignments;

revoke all on function cs_private.is_deactivated(uuid), cs_private.require_active(uuid),
  cs_private.require_reason(text, text),
  cs_private.set_login_allowed(uuid, boolean), cs_private.deactivate_person(uuid, text),
  cs_private.has_confirmed_totp(uuid), cs_private.check_role_change(cs_private.role_change_request),
  cs_private.request_role_change(uuid, text, cro.app_role, uuid, text),
  cs_private.decide_role_change(uuid, boolean, text),
  cs_private.assign_site(uuid, text, text, text, text), cs_private.unassign_site(uuid, text, text, text),
  cs_private.admin_people(), cs_private.role_change_requests(),
  public.deactivate_person(uuid, text), public.request_role_change(uuid, text, cro.app_role, uuid, text),
  public.decide_role_change(uuid, boolean, text), public.assign_site(uuid, text, text, text, text),
  public.unassign_site(uuid, text, text, text), public.admin_people(), public.role_change_requests()
  from public;
grant execute on function cs_private.deactivate_person(uuid, text), cs_private.request_role_change(uuid, text, cro.app_role, uuid, text),
  cs_private.decide_role_change(uuid, boolean, text), cs_private.assign_site(uuid, text, text, text, text),
  cs_private.unassign_site(uuid, text, text, text), cs_private.admin_people(), cs_private.role_change_requests(),
  public.deactivate_person(uuid, text), public.request_role_change(uuid, text, cro.app_role, uuid, text),
  public.decide_role_change(uuid, boolean, text), public.assign_site(uuid, text, text, text, text),
  public.unassign_site(uuid, text, text, text), public.admin_people(), public.role_change_requests()
  to authenticated;
do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on function public.deactivate_person(uuid, text),
      public.request_role_change(uuid, text, cro.app_role, uuid, text), public.decide_role_change(uuid, boolean, text),
      public.assign_site(uuid, text, text, text, text), public.unassign_site(uuid, text, text, text),
      public.admin_people(), public.role_change_requests() from anon;
  end if;
end
$$;

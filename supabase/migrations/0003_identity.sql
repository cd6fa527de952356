-- Who is calling: auth.uid() in every mode, printed names, and application roles.

-- Embedded / postgres mode: each person signs in as their own LOGIN role; this maps it to the user.
create table cs_private.login_role (
  role_name name primary key,
  user_id uuid not null unique references auth.users (id) on delete restrict
);
alter table cs_private.login_role enable row level security;

-- auth.uid(): Supabase defines its own (from request.jwt.claims). The shim below is created only
-- where Supabase's is absent. It never trusts request.jwt.claims on a connection whose
-- session_user is a person's own login role (anyone can set_config that); claims are honoured only
-- for the PostgREST gateway role and for superusers (migrations, seeding, tests).
do $$
begin
  if to_regprocedure('auth.uid()') is null then
    create function auth.uid() returns uuid
    language sql stable security definer
    set search_path = ''
    as $fn$
      select case
        when exists (select 1 from cs_private.login_role where role_name = session_user)
          then (select user_id from cs_private.login_role where role_name = session_user)
        when session_user = 'authenticator'
          or (select rolsuper from pg_catalog.pg_roles where rolname = session_user)
          then nullif(
            nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', ''
          )::uuid
        else null
      end
    $fn$;
    grant execute on function auth.uid() to anon, authenticated;
  end if;
end
$$;

-- Printed names live here, not in auth.users.raw_user_meta_data, which a Supabase user can edit
-- about themselves: a signature manifestation must show a name the person cannot change alone.
create table cro.user_profile (
  user_id uuid primary key references auth.users (id) on delete restrict,
  printed_name text not null check (length(btrim(printed_name)) between 1 and 200),
  -- The sponsor organisation a sponsor user speaks for (matches cro.sponsor_request.sponsor_id).
  sponsor_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Application roles. CRO roles are granted per study (study_id null: every study, used for admin
-- and global inspectors); diary roles are scoped by the site assignment tables of seed 003.
create table cro.role_assignment (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete restrict,
  role cro.app_role not null,
  study_id uuid,
  granted_at timestamptz not null default now(),
  granted_by uuid references auth.users (id) on delete restrict,
  unique nulls not distinct (user_id, role, study_id)
);
create index role_assignment_user_idx on cro.role_assignment (user_id, role);

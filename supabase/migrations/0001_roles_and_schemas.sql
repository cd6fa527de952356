-- Countersign: roles, schemas and the auth shim.
--
-- The same SQL runs in three backend modes (ARCHITECTURE.md): embedded and postgres, where every
-- person is a PostgreSQL LOGIN role, and supabase, where PostgREST logs in as `authenticator` and
-- switches to `authenticated` with the caller's JWT claims. Every person login role is a member of
-- `authenticated`, so grants and policies are written once, `to authenticated`, in both modes.
-- Which application role (signer, inspector, ...) a person holds is data (cro.role_assignment),
-- never a PostgreSQL role, so that it works identically under PostgREST.

do $$
begin
  -- Supabase owns these roles; create them only where they are absent (embedded / postgres).
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator nologin noinherit;
  end if;
end
$$;

create schema if not exists auth;
create schema cro;
create schema diary;
create schema audit;
-- Not exposed to clients: security-definer helpers and internal tables live here.
create schema cs_private;

revoke all on schema cs_private from public;
revoke create on schema public from public;
-- Person login roles may not create temporary objects that could shadow anything.
do $$ begin execute format('revoke temporary on database %I from public', current_database()); end $$;

grant usage on schema cro, diary, audit to authenticated;
-- auth.uid() must be callable; auth.users itself stays without grants (Supabase grants the same usage).
grant usage on schema auth to anon, authenticated;

-- auth.users belongs to Supabase Auth when hosted; the embedded and postgres modes get a shim with
-- the columns of seed 000. Guarded so that it is created only where Supabase's is absent.
do $$
begin
  if to_regclass('auth.users') is null then
    create table auth.users (
      id uuid primary key default gen_random_uuid(),
      email text,
      encrypted_password text,
      email_confirmed_at timestamptz,
      raw_app_meta_data jsonb,
      raw_user_meta_data jsonb,
      last_sign_in_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create unique index users_email_key on auth.users (lower(email));
    -- Deny by default: no grants to anon or authenticated; people read cro.user_profile instead.
    alter table auth.users enable row level security;
  end if;
end
$$;

create type cro.staging_state as enum ('proposed', 'reviewing', 'signed', 'promoted', 'rejected');
create type cro.signature_intent as enum ('approve', 'reject', 'approve_release');
create type cro.app_role as enum (
  'sponsor', 'monitor', 'coordinator', 'signer', 'admin', 'inspector', 'agent',
  'patient', 'investigator', 'analyst'
);

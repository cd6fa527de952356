-- Password change rules for the direct-login modes (embedded, postgres; hosted mode delegates its
-- passwords to Supabase Auth, see docs/security.md):
-- * Changing one's own password needs the CURRENT password, proved by the server itself: it is
--   checked against the SCRAM-SHA-256 verifier PostgreSQL stores for the login (pg_authid, read by
--   this security-definer code only). 0048's change_my_password(new) relied on "a login opened in
--   the last two minutes", which any session left open for two minutes after sign-in satisfied
--   without anyone typing the old password again; it is dropped. Comparing with the verifier
--   (rather than trusting the client to have opened a fresh connection) keeps the proof on the
--   server for every caller, including one calling the function from psql.
-- * An administrator can require a person to change their password at the next sign-in (with a
--   reason, audited). Until the person has changed it, auth.uid() answers "nobody" on their
--   login: auth.uid() is the one place every policy and function learns who is calling, so that
--   single guard refuses all other work (RLS sees nobody, require_user refuses with a message that
--   says what to do). Only change_my_password (which identifies the login by session_user) works.

-- HMAC-SHA-256 from pgcrypto (0012 installed it), bound to whichever schema holds it.
do $do$
declare
  ext_schema text;
begin
  select extnamespace::regnamespace::text into ext_schema from pg_catalog.pg_extension where extname = 'pgcrypto';
  execute format(
    $f$create function cs_private.hmac_sha256(message bytea, key bytea) returns bytea
       language sql immutable strict parallel safe
       set search_path = ''
       as $b$ select %s.hmac(message, key, 'sha256') $b$ $f$,
    ext_schema);
end
$do$;

-- One administrator's demand that a person change their password; met when they do.
create table cs_private.password_change_demand (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete restrict,
  reason text not null check (length(btrim(reason)) between 1 and 1000),
  demanded_by uuid not null references auth.users (id) on delete restrict,
  demanded_at timestamptz not null default pg_catalog.clock_timestamp(),
  met_at timestamptz
);
create unique index password_change_demand_one_open_per_user
  on cs_private.password_change_demand (user_id) where met_at is null;
alter table cs_private.password_change_demand enable row level security;

-- Does this password match the SCRAM-SHA-256 verifier stored for the login? (RFC 5802/7677:
-- SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations); StoredKey = SHA-256(HMAC(
-- SaltedPassword, 'Client Key')).) Non-ASCII passwords are tried as typed and NFKC-normalised (the
-- bulk of SASLprep). Null when the verifier cannot be read (owner not a superuser, not SCRAM).
create function cs_private.password_matches(login name, password text) returns boolean
language plpgsql stable security definer
set search_path = ''
as $$
declare
  verifier text;
  parts text[];
  iterations integer;
  salt bytea;
  stored_key bytea;
  candidate text;
  block bytea;
  accumulated bit(256);
  salted bytea;
begin
  if not cs_private.owner_is_superuser() or password is null then
    return null;
  end if;
  execute 'select rolpassword from pg_catalog.pg_authid where rolname = $1' into verifier using login;
  parts := pg_catalog.regexp_match(coalesce(verifier, ''), '^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$');
  if parts is null then
    return null;
  end if;
  iterations := parts[1]::integer;
  salt := pg_catalog.decode(parts[2], 'base64');
  stored_key := pg_catalog.decode(parts[3], 'base64');
  foreach candidate in array array[password, normalize(password, nfkc)] loop
    block := cs_private.hmac_sha256(salt || '\x00000001'::bytea, pg_catalog.convert_to(candidate, 'UTF8'));
    accumulated := ('x' || pg_catalog.encode(block, 'hex'))::bit(256);
    for i in 2..iterations loop
      block := cs_private.hmac_sha256(block, pg_catalog.convert_to(candidate, 'UTF8'));
      accumulated := accumulated # ('x' || pg_catalog.encode(block, 'hex'))::bit(256);
    end loop;
    salted := pg_catalog.int8send(pg_catalog.substring(accumulated, 1, 64)::bigint)
           || pg_catalog.int8send(pg_catalog.substring(accumulated, 65, 64)::bigint)
           || pg_catalog.int8send(pg_catalog.substring(accumulated, 129, 64)::bigint)
           || pg_catalog.int8send(pg_catalog.substring(accumulated, 193, 64)::bigint);
    if pg_catalog.sha256(cs_private.hmac_sha256('Client Key'::bytea, salted)) = stored_key then
      return true;
    end if;
    exit when candidate = normalize(password, nfkc);
  end loop;
  return false;
end
$$;

-- Is an administrator's demand to change the password open for the person on this login?
create function cs_private.password_change_pending() returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (select 1 from cs_private.login_role l
                   join cs_private.password_change_demand d on d.user_id = l.user_id and d.met_at is null
                  where l.role_name = session_user)
$$;

-- The guard: on a direct login with an open demand, auth.uid() is nobody. Only our own shim is
-- replaced (Supabase's auth.uid() reads the token; hosted passwords are Supabase Auth's).
do $do$
begin
  if (select p.prosrc from pg_catalog.pg_proc p where p.oid = 'auth.uid()'::regprocedure)
     like '%cs_private.login_role%' then
    create or replace function auth.uid() returns uuid
    language sql stable security definer
    set search_path = ''
    as $fn$
      -- One probe of the login and one of its open demand (the old body made two of the login).
      select case
        when l.role_name is not null then case when d.id is null then l.user_id end
        when session_user = 'authenticator'
          or (select rolsuper from pg_catalog.pg_roles where rolname = session_user)
          then nullif(
            nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', ''
          )::uuid
        else null
      end
      from (select) as caller
      left join cs_private.login_role l on l.role_name = session_user
      left join cs_private.password_change_demand d on d.user_id = l.user_id and d.met_at is null
    $fn$;
  end if;
end
$do$;

-- Nobody calling: say why when it is an open demand to change the password.
create or replace function cs_private.require_user() returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
begin
  if uid is null then
    if cs_private.password_change_pending() then
      raise exception 'change your password first: an administrator requires it before any other work'
        using errcode = 'CS428';
    end if;
    raise exception 'sign in first' using errcode = 'CS403';
  end if;
  perform cs_private.require_active(uid);  -- 0057: a deactivated person is refused (V3)
  return uid;
end
$$;

drop function public.change_my_password(text);
drop function cs_private.change_my_password(text);

-- A person changes their own password: the current one is proved against the stored verifier,
-- the new one meets the policy (0048's set_login_password), and an open demand is met.
create function cs_private.change_my_password(current_password text, new_password text) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  login cs_private.login_role;
  matches boolean;
  demand_id uuid;
begin
  select * into login from cs_private.login_role l where l.role_name = session_user;
  if not found then
    raise exception 'this person signs in through the hosted service; change the password there'
      using errcode = 'CS409';
  end if;
  matches := cs_private.password_matches(login.role_name, current_password);
  if matches is null then
    raise exception 'the server cannot check your current password, so it cannot be changed here'
      using errcode = 'CS409', hint = 'See docs/security.md, "A PostgreSQL of your own".';
  end if;
  if not matches then
    raise exception 'your current password is wrong' using errcode = 'CS403';
  end if;
  if new_password = current_password then
    raise exception 'the new password must differ from the current one' using errcode = 'CS422';
  end if;
  perform cs_private.set_login_password(login.user_id, new_password);
  update cs_private.password_change_demand d set met_at = pg_catalog.clock_timestamp()
   where d.user_id = login.user_id and d.met_at is null
  returning d.id into demand_id;
  -- The demand is met above, so the audit entry's actor is the person again (auth.uid()).
  perform cs_private.audit_append('password.changed', jsonb_build_object(
    'user_id', login.user_id, 'demand_id', demand_id));
end
$$;

-- An administrator requires another person to change their password at the next sign-in (their
-- open sessions are refused all other work at once, too).
create function cs_private.require_password_change(person uuid, reason text) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_admin_over(person, reason, 'require a password change');
begin
  if not exists (select 1 from cs_private.login_role l where l.user_id = person) then
    raise exception 'this person signs in through the hosted service; require the change there'
      using errcode = 'CS409';
  end if;
  if exists (select 1 from cs_private.password_change_demand d where d.user_id = person and d.met_at is null) then
    raise exception 'a password change is already required of this person' using errcode = 'CS409';
  end if;
  insert into cs_private.password_change_demand (user_id, reason, demanded_by) values (person, reason, uid);
  perform cs_private.audit_append('password.change_required', jsonb_build_object(
    'user_id', person, 'required_by', uid, 'reason', reason));
end
$$;

create function public.change_my_password(current_password text, new_password text) returns void
language sql volatile set search_path = ''
as $$ select cs_private.change_my_password(current_password, new_password) $$;
create function public.require_password_change(person uuid, reason text) returns void
language sql volatile set search_path = ''
as $$ select cs_private.require_password_change(person, reason) $$;
create function public.password_change_required() returns boolean
language sql stable set search_path = ''
as $$ select cs_private.password_change_pending() $$;

revoke all on function cs_private.hmac_sha256(bytea, bytea), cs_private.password_matches(name, text),
  cs_private.password_change_pending(), cs_private.change_my_password(text, text),
  cs_private.require_password_change(uuid, text),
  public.change_my_password(text, text), public.require_password_change(uuid, text),
  public.password_change_required()
  from public;
grant execute on function cs_private.password_change_pending(), cs_private.change_my_password(text, text),
  cs_private.require_password_change(uuid, text),
  public.change_my_password(text, text), public.require_password_change(uuid, text),
  public.password_change_required()
  to authenticated;
do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on function public.change_my_password(text, text), public.require_password_change(uuid, text),
      public.password_change_required() from anon;
  end if;
end
$$;

-- The Administration screen's people list also says who owes a password change (issue 21, V4):
-- 0057's list is wrapped, not copied; its own admin check still runs (auth.uid() reads session_user).
create function cs_private.admin_people_with_password_demands()
returns table (user_id uuid, email text, printed_name text, roles jsonb, sites jsonb, totp_enrolled boolean,
               sign_in_locked boolean, signing_locked boolean, active boolean, password_change_required boolean)
language sql stable security definer
set search_path = ''
as $$
  select p.*, exists (select 1 from cs_private.password_change_demand d
                       where d.user_id = p.user_id and d.met_at is null)
    from cs_private.admin_people() p
$$;
drop function public.admin_people();
create function public.admin_people()
returns table (user_id uuid, email text, printed_name text, roles jsonb, sites jsonb, totp_enrolled boolean,
               sign_in_locked boolean, signing_locked boolean, active boolean, password_change_required boolean)
language sql stable set search_path = '' as $$ select * from cs_private.admin_people_with_password_demands() $$;
revoke all on function cs_private.admin_people_with_password_demands(), public.admin_people() from public;
grant execute on function cs_private.admin_people_with_password_demands(), public.admin_people() to authenticated;
do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on function public.admin_people() from anon;
  end if;
end
$$;

-- Sign-in protection for database logins (issue 17, 21 CFR 11.300(d)).
--
-- Before: 40 wrong passwords against a person's login in 0.2 s met no delay, no lockout, no alert
-- and no audit entry, and a person could ALTER ROLE their own password with no policy and no trace.
--
-- What PostgreSQL offers, and what Countersign builds on it (docs/security.md):
--   * auth_delay (a server module) delays every failed authentication; the embedded server loads it.
--   * PostgreSQL does not tell SQL about failed sign-ins; its log does. The sign-in guard, a task
--     of the process that owns the server (src/main/backend/postgres/signInGuard.ts), reads the
--     log and reports each failure to cs_private.record_sign_in_failure: counted per person,
--     audited, and at the configured number in a row (cs_private.security_setting) the login is
--     locked, with a security alert. The lock sets the role's VALID UNTIL in the past, so the
--     server refuses the right password exactly as a wrong one (no oracle while locked). An
--     administrator unlocks, with a reason.
--   * A successful sign-in is recorded by a login event trigger (PostgreSQL 17 and later), which
--     resets the count. The same trigger refuses a login whose password was changed outside
--     Countersign: the change function records a fingerprint of the stored verifier, and a
--     mismatch means someone ran ALTER ROLE ... PASSWORD. The guard then locks the account,
--     raises an alert and ends the role's sessions (cs_private.sign_in_guard_poll).
--   * Passwords change only through public.change_my_password (on a fresh login, with the
--     policy below) and public.reset_password (an administrator), both audited.
-- In hosted mode Supabase Auth checks passwords and codes; its verification hooks report each
-- attempt here (cs_private.hook_password_verification_attempt, hook_mfa_verification_attempt).
--
-- The catalog parts (pg_authid, event triggers, ALTER ROLE) need the migrating role to be a
-- superuser, as in the embedded and most on-premises deployments. Where it is not (Supabase, a
-- restricted on-premises owner) those parts stay off, and public.sign_in_protection() says so,
-- which the workstation shows as a warning.

create table cs_private.security_setting (
  name text primary key check (name in ('sign_in_lock_threshold', 'sign_in_guard_seen_at')),
  value text not null
);
alter table cs_private.security_setting enable row level security;
insert into cs_private.security_setting (name, value) values ('sign_in_lock_threshold', '5');

create table cs_private.sign_in_failure (
  id bigint generated always as identity primary key,
  user_id uuid not null references auth.users (id),
  failed_at timestamptz not null,
  client_addr text,
  source text not null check (source in ('server_log', 'auth_hook')),
  recorded_at timestamptz not null default now()
);
create index sign_in_failure_user_idx on cs_private.sign_in_failure (user_id, failed_at desc);
alter table cs_private.sign_in_failure enable row level security;

create table cs_private.sign_in_lock (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id),
  locked_at timestamptz not null default now(),
  reason text not null check (reason in ('failed_sign_ins', 'password_changed_outside')),
  failed_attempts integer not null default 0,
  -- The role's VALID UNTIL before the lock, restored by the unlock (direct modes).
  previous_valid_until timestamptz,
  unlocked_at timestamptz,
  unlocked_by uuid references auth.users (id),
  unlock_reason text
);
create unique index sign_in_lock_one_open_per_user on cs_private.sign_in_lock (user_id) where unlocked_at is null;
alter table cs_private.sign_in_lock enable row level security;

alter table cs_private.login_role add column password_fingerprint text;

-- Whether this deployment's owner may read pg_authid and alter roles (a superuser).
create function cs_private.owner_is_superuser() returns boolean
language sql stable security definer
set search_path = ''
as $$ select coalesce((select r.rolsuper from pg_catalog.pg_roles r where r.rolname = current_user), false) $$;

-- A fingerprint of the password verifier PostgreSQL stores for a login (never the password): it
-- changes whenever the password is set, so a change made outside Countersign shows.
create function cs_private.password_fingerprint(login name) returns text
language plpgsql stable security definer
set search_path = ''
as $$
declare
  verifier text;
begin
  if not cs_private.owner_is_superuser() then
    return null;
  end if;
  execute 'select rolpassword from pg_catalog.pg_authid where rolname = $1' into verifier using login;
  return pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(coalesce(verifier, ''), 'UTF8')), 'hex');
end
$$;

-- Was this login's password set since Countersign recorded its fingerprint (ALTER ROLE ... PASSWORD)?
-- Unknown (no fingerprint recorded, or the catalog unreadable) is not a change.
create function cs_private.password_changed_outside(login cs_private.login_role) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select login.password_fingerprint is not null
     and login.password_fingerprint <> coalesce(cs_private.password_fingerprint(login.role_name),
                                                login.password_fingerprint)
$$;

create function cs_private.login_role_fingerprint() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  new.password_fingerprint := cs_private.password_fingerprint(new.role_name);
  return new;
end
$$;
create trigger login_role_fingerprint before insert on cs_private.login_role
  for each row execute function cs_private.login_role_fingerprint();
update cs_private.login_role set password_fingerprint = cs_private.password_fingerprint(role_name);

-- The password policy (NIST SP 800-63B: length over composition rules, no name, nothing common).
-- Returns what is wrong with the password, or null.
create function cs_private.password_problem(login text, printed_name text, password text) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  local_part constant text := lower(split_part(coalesce(login, ''), '@', 1));
  name_part text;
begin
  if password is null or length(password) < 12 then
    return 'must be at least 12 characters long';
  end if;
  if length(password) > 128 then
    return 'must be at most 128 characters long';
  end if;
  if password ~ '[[:cntrl:]]' then
    return 'must not contain control characters';
  end if;
  if length(local_part) >= 3 and position(local_part in lower(password)) > 0 then
    return 'must not contain your user name';
  end if;
  for name_part in select p from regexp_split_to_table(lower(coalesce(printed_name, '')), '[^[:alpha:]]+') p
                   where length(p) >= 4 loop
    if position(name_part in lower(password)) > 0 then
      return 'must not contain your name';
    end if;
  end loop;
  if password !~ '[[:alpha:]]' or password !~ '[^[:alpha:]]' then
    return 'must contain both letters and other characters';
  end if;
  if (select count(distinct c) from regexp_split_to_table(password, '') c) < 6 then
    return 'must use at least 6 different characters';
  end if;
  if lower(password) ~ '(passw(or)?d|countersign|qwerty|letmein|welcome|123456|abcdef|iloveyou)' then
    return 'is too common';
  end if;
  return null;
end
$$;

create function cs_private.sign_in_lock_threshold() returns integer
language sql stable security definer
set search_path = ''
as $$
  select greatest(3, least(100, coalesce(
    (select s.value::integer from cs_private.security_setting s where s.name = 'sign_in_lock_threshold'), 5)))
$$;

-- Failed sign-ins since the person's last successful one or last unlock.
create function cs_private.consecutive_sign_in_failures(person uuid) returns integer
language sql stable security definer
set search_path = ''
as $$
  select count(*)::integer from cs_private.sign_in_failure f
   where f.user_id = person
     and f.failed_at > greatest(
       (select u.last_sign_in_at from auth.users u where u.id = person),
       (select max(l.unlocked_at) from cs_private.sign_in_lock l where l.user_id = person),
       '-infinity'::timestamptz)
$$;

create function cs_private.sign_in_locked(person uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$ select exists (select 1 from cs_private.sign_in_lock l where l.user_id = person and l.unlocked_at is null) $$;

-- Locks a person's sign-in: the lock row, the role's VALID UNTIL in the past (direct modes), a
-- security alert and an audit entry. No-op if already locked.
create function cs_private.lock_sign_in(person uuid, why text, failures integer, client_addr text) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  login name := (select l.role_name from cs_private.login_role l where l.user_id = person);
  previous timestamptz;
  lock_id uuid;
begin
  perform pg_catalog.pg_advisory_xact_lock(4242005, pg_catalog.hashtext(person::text));
  if cs_private.sign_in_locked(person) then
    return;
  end if;
  if login is not null and cs_private.owner_is_superuser() then
    select r.rolvaliduntil into previous from pg_catalog.pg_roles r where r.rolname = login;
    execute pg_catalog.format('alter role %I valid until %L', login, '-infinity');
  end if;
  insert into cs_private.sign_in_lock (user_id, reason, failed_attempts, previous_valid_until)
  values (person, why, failures, previous)
  returning id into lock_id;
  insert into audit.security_alert (kind, user_id, detail)
  values (case when why = 'failed_sign_ins' then 'sign_in_locked' else 'password_changed_outside' end, person,
          jsonb_build_object('failed_attempts', failures, 'lock_id', lock_id, 'client_addr', client_addr));
  perform cs_private.audit_append('sign_in.locked', jsonb_build_object(
    'user_id', person, 'reason', why, 'failed_attempts', failures));
end
$$;

-- The one count of failed sign-ins, whoever reports them (the guard, Supabase Auth's hook): each
-- is recorded, audited until the account is locked, and the configured number in a row locks it.
create function cs_private.count_sign_in_failure(person uuid, failed_at timestamptz, client_addr text, source text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  failures integer;
  threshold constant integer := cs_private.sign_in_lock_threshold();
begin
  perform pg_catalog.pg_advisory_xact_lock(4242005, pg_catalog.hashtext(person::text));
  insert into cs_private.sign_in_failure (user_id, failed_at, client_addr, source)
  values (person, coalesce(failed_at, pg_catalog.clock_timestamp()), left(client_addr, 100), source);
  if cs_private.sign_in_locked(person) then
    return jsonb_build_object('person', true, 'locked', true);
  end if;
  failures := cs_private.consecutive_sign_in_failures(person);
  perform cs_private.audit_append('sign_in.failed', jsonb_build_object(
    'user_id', person, 'failures', failures, 'client_addr', left(client_addr, 100), 'source', source));
  if failures >= threshold then
    perform cs_private.lock_sign_in(person, 'failed_sign_ins', failures, left(client_addr, 100));
  end if;
  return jsonb_build_object('person', true, 'locked', failures >= threshold, 'failures', failures);
end
$$;

-- Called by the sign-in guard for each failed password authentication in the server log.
create function cs_private.record_sign_in_failure(login text, failed_at timestamptz, client_addr text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  person uuid := (select l.user_id from cs_private.login_role l where l.role_name = login);
begin
  if person is null then
    -- Not a Countersign person (or no such role): nothing to count against.
    return jsonb_build_object('person', false);
  end if;
  return cs_private.count_sign_in_failure(person, failed_at, client_addr, 'server_log');
end
$$;

-- The login event trigger's work: a person's successful sign-in is recorded (it ends a run of
-- failures), and a login whose password was set outside Countersign is refused.
create function cs_private.on_sign_in() returns event_trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  login cs_private.login_role;
begin
  select * into login from cs_private.login_role l where l.role_name = session_user;
  if not found then
    return;
  end if;
  if cs_private.password_changed_outside(login) then
    raise exception 'the password of % was changed outside Countersign; the account is locked', session_user
      using errcode = 'CS403', hint = 'An administrator sets a new password (reset_password).';
  end if;
  update auth.users set last_sign_in_at = pg_catalog.clock_timestamp() where id = login.user_id;
exception
  when sqlstate 'CS403' then
    raise;
  when others then
    -- Bookkeeping never refuses a sign-in.
    raise warning 'countersign: sign-in not recorded: %', sqlerrm;
end
$$;

do $$
begin
  if pg_catalog.current_setting('server_version_num')::integer >= 170000 and cs_private.owner_is_superuser() then
    execute 'create event trigger countersign_sign_in on login execute function cs_private.on_sign_in()';
  end if;
end
$$;

-- The guard's regular check: locks accounts whose password was changed outside Countersign (and
-- ends their sessions), and notes that the guard is alive. Returns how many it locked.
create function cs_private.sign_in_guard_poll() returns integer
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  changed record;
  locked integer := 0;
begin
  -- The heartbeat is read at a ten-minute grain: written at most once a minute, not every poll.
  insert into cs_private.security_setting as s (name, value)
  values ('sign_in_guard_seen_at', audit.occurred_at_text(pg_catalog.now()))
  on conflict (name) do update set value = excluded.value
    where s.value < audit.occurred_at_text(pg_catalog.now() - interval '1 minute');
  if not cs_private.owner_is_superuser() then
    return 0;
  end if;
  for changed in
    select l.user_id, l.role_name from cs_private.login_role l
     where cs_private.password_changed_outside(l) and not cs_private.sign_in_locked(l.user_id)
  loop
    perform cs_private.lock_sign_in(changed.user_id, 'password_changed_outside', 0, null);
    perform pg_catalog.pg_terminate_backend(a.pid) from pg_catalog.pg_stat_activity a
      where a.usename = changed.role_name;
    locked := locked + 1;
  end loop;
  return locked;
end
$$;

-- Sets a login's password through the server's own ALTER ROLE, after the policy, and records its
-- new fingerprint.
create function cs_private.set_login_password(person uuid, new_password text) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  login cs_private.login_role;
  printed text := (select p.printed_name from cro.user_profile p where p.user_id = person);
  problem text;
begin
  select * into login from cs_private.login_role l where l.user_id = person;
  if not found then
    raise exception 'this person signs in through the hosted service; change the password there'
      using errcode = 'CS409';
  end if;
  if not cs_private.owner_is_superuser() then
    raise exception 'the database owner of this deployment may not change passwords'
      using errcode = 'CS409', hint = 'See docs/security.md, "A PostgreSQL of your own".';
  end if;
  problem := cs_private.password_problem(login.role_name, printed, new_password);
  if problem is not null then
    raise exception 'the new password %', problem using errcode = 'CS422';
  end if;
  begin
    execute pg_catalog.format('alter role %I password %L', login.role_name, new_password);
  exception when others then
    -- The failed statement holds the password: report the failure without it (nor its context).
    raise exception 'the server refused the new password (%)', sqlstate using errcode = 'CS422';
  end;
  update cs_private.login_role set password_fingerprint = cs_private.password_fingerprint(login.role_name)
   where role_name = login.role_name;
end
$$;

-- A person changes their own password, on a login opened within the last two minutes (which
-- proved the current one).
create function cs_private.change_my_password(new_password text) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  login_start constant timestamptz := cs_private.own_login_started_at();
begin
  if login_start is null or login_start < pg_catalog.clock_timestamp() - interval '2 minutes' then
    raise exception 'sign in again to change your password: a fresh login proves the current one'
      using errcode = 'CS403';
  end if;
  perform cs_private.set_login_password(uid, new_password);
  perform cs_private.audit_append('password.changed', jsonb_build_object('user_id', uid));
end
$$;

-- An administrator acting on someone else's account, with a reason: returns the administrator.
create function cs_private.require_admin_over(person uuid, reason text, action text) returns uuid
language plpgsql stable security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
begin
  if not cs_private.is_admin() then
    raise exception 'only an administrator may %', action using errcode = 'CS403';
  end if;
  if person = uid then
    raise exception 'an administrator cannot % for their own account', action using errcode = 'CS403';
  end if;
  if reason is null or length(btrim(reason)) = 0 then
    raise exception 'say why (% needs a reason)', action using errcode = 'CS422';
  end if;
  return uid;
end
$$;

-- An administrator sets another person's password (a forgotten one, or one changed outside
-- Countersign), with a reason; any sign-in lock is lifted with it.
create function cs_private.reset_password(person uuid, new_password text, reason text) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_admin_over(person, reason, 'reset a password');
  lock cs_private.sign_in_lock;
begin
  perform cs_private.set_login_password(person, new_password);
  perform cs_private.audit_append('password.reset', jsonb_build_object(
    'user_id', person, 'reset_by', uid, 'reason', reason));
  select * into lock from cs_private.sign_in_lock l where l.user_id = person and l.unlocked_at is null;
  if found then
    perform cs_private.release_sign_in_lock(lock, uid, reason);
  end if;
end
$$;

create function cs_private.release_sign_in_lock(lock cs_private.sign_in_lock, unlocked_by uuid, reason text)
returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  login name := (select l.role_name from cs_private.login_role l where l.user_id = lock.user_id);
begin
  if login is not null and cs_private.owner_is_superuser() then
    execute pg_catalog.format('alter role %I valid until %L', login,
                              coalesce(lock.previous_valid_until::text, 'infinity'));
  end if;
  update cs_private.sign_in_lock
     set unlocked_at = pg_catalog.clock_timestamp(), unlocked_by = release_sign_in_lock.unlocked_by,
         unlock_reason = release_sign_in_lock.reason
   where id = lock.id;
  perform cs_private.audit_append('sign_in.unlocked', jsonb_build_object(
    'user_id', lock.user_id, 'unlocked_by', release_sign_in_lock.unlocked_by,
    'reason', release_sign_in_lock.reason));
end
$$;

create function cs_private.unlock_sign_in(person uuid, reason text) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_admin_over(person, reason, 'unlock a sign-in');
  lock cs_private.sign_in_lock;
begin
  select * into lock from cs_private.sign_in_lock l where l.user_id = person and l.unlocked_at is null for update;
  if not found then
    raise exception 'that account is not locked for sign-in' using errcode = 'CS409';
  end if;
  if lock.reason = 'password_changed_outside' then
    raise exception 'the password of that account was changed outside Countersign; set a new one with reset_password'
      using errcode = 'CS409';
  end if;
  perform cs_private.release_sign_in_lock(lock, uid, reason);
end
$$;

-- What the workstation checks after a sign-in, to warn where sign-ins are not protected.
create function cs_private.sign_in_protection() returns jsonb
language sql stable security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'auth_delay_ms', (select g.setting::integer from pg_catalog.pg_settings g where g.name = 'auth_delay.milliseconds'),
    'lock_threshold', cs_private.sign_in_lock_threshold(),
    'login_trigger', exists (select 1 from pg_catalog.pg_event_trigger e
                              where e.evtname = 'countersign_sign_in' and e.evtenabled <> 'D'),
    'password_fingerprints', cs_private.owner_is_superuser(),
    'guard_seen_at', (select s.value from cs_private.security_setting s where s.name = 'sign_in_guard_seen_at'),
    'other_databases_open', coalesce((
      select jsonb_agg(d.datname order by d.datname) from pg_catalog.pg_database d
       where d.datname <> pg_catalog.current_database() and d.datallowconn
         and pg_catalog.has_database_privilege('public', d.oid, 'connect')), '[]'::jsonb))
$$;

-- Supabase Auth hooks (Authentication > Hooks; Team and Enterprise plans). Each attempt GoTrue
-- verifies is reported here: a wrong password counts toward the sign-in lock, a wrong code toward
-- the signing lock, and a locked account is refused whatever it sent.
create function cs_private.hook_password_verification_attempt(event jsonb) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  person uuid := (event ->> 'user_id')::uuid;
begin
  if person is null then
    return jsonb_build_object('decision', 'continue');
  end if;
  if not (event ->> 'valid')::boolean then
    perform cs_private.count_sign_in_failure(person, null, null, 'auth_hook');
  end if;
  if cs_private.sign_in_locked(person) then
    return jsonb_build_object('decision', 'reject', 'should_logout_user', true,
      'message', 'This account is locked after repeated failed sign-ins. An administrator can unlock it.');
  end if;
  return jsonb_build_object('decision', 'continue');
end
$$;

create function cs_private.hook_mfa_verification_attempt(event jsonb) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  person uuid := (event ->> 'user_id')::uuid;
  attempt cs_private.reauth_attempt;
begin
  if person is null then
    return jsonb_build_object('decision', 'continue');
  end if;
  if not (event ->> 'valid')::boolean then
    insert into cs_private.reauth_attempt (user_id, ceremony_id, outcome)
    values (person, gen_random_uuid(), 'pending')
    returning * into attempt;
    perform cs_private.fail_reauth(attempt, 'failed_totp', 'totp_wrong_at_auth');
  end if;
  if cs_private.signing_locked(person) then
    return jsonb_build_object('decision', 'reject',
      'message', 'Too many wrong codes: this account is locked for signing. An administrator can unlock it.');
  end if;
  return jsonb_build_object('decision', 'continue');
end
$$;

create function public.change_my_password(new_password text) returns void
language sql volatile set search_path = '' as $$ select cs_private.change_my_password(new_password) $$;
create function public.reset_password(person uuid, new_password text, reason text) returns void
language sql volatile set search_path = '' as $$ select cs_private.reset_password(person, new_password, reason) $$;
create function public.unlock_sign_in(person uuid, reason text) returns void
language sql volatile set search_path = '' as $$ select cs_private.unlock_sign_in(person, reason) $$;
create function public.sign_in_protection() returns jsonb
language sql stable set search_path = '' as $$ select cs_private.sign_in_protection() $$;

revoke all on function cs_private.owner_is_superuser(), cs_private.password_fingerprint(name),
  cs_private.login_role_fingerprint(), cs_private.password_changed_outside(cs_private.login_role),
  cs_private.password_problem(text, text, text),
  cs_private.sign_in_lock_threshold(), cs_private.consecutive_sign_in_failures(uuid),
  cs_private.sign_in_locked(uuid), cs_private.lock_sign_in(uuid, text, integer, text),
  cs_private.count_sign_in_failure(uuid, timestamptz, text, text),
  cs_private.record_sign_in_failure(text, timestamptz, text), cs_private.on_sign_in(),
  cs_private.sign_in_guard_poll(), cs_private.set_login_password(uuid, text),
  cs_private.require_admin_over(uuid, text, text),
  cs_private.change_my_password(text), cs_private.reset_password(uuid, text, text),
  cs_private.release_sign_in_lock(cs_private.sign_in_lock, uuid, text), cs_private.unlock_sign_in(uuid, text),
  cs_private.sign_in_protection(), cs_private.hook_password_verification_attempt(jsonb),
  cs_private.hook_mfa_verification_attempt(jsonb),
  public.change_my_password(text), public.reset_password(uuid, text, text), public.unlock_sign_in(uuid, text),
  public.sign_in_protection()
  from public;
grant execute on function cs_private.change_my_password(text), cs_private.reset_password(uuid, text, text),
  cs_private.unlock_sign_in(uuid, text), cs_private.sign_in_protection(),
  public.change_my_password(text), public.reset_password(uuid, text, text), public.unlock_sign_in(uuid, text),
  public.sign_in_protection()
  to authenticated;
do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on function public.change_my_password(text), public.reset_password(uuid, text, text),
      public.unlock_sign_in(uuid, text), public.sign_in_protection() from anon;
  end if;
  -- Supabase Auth runs its hooks as supabase_auth_admin.
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'supabase_auth_admin') then
    grant usage on schema cs_private to supabase_auth_admin;
    grant execute on function cs_private.hook_password_verification_attempt(jsonb),
      cs_private.hook_mfa_verification_attempt(jsonb) to supabase_auth_admin;
  end if;
end
$$;

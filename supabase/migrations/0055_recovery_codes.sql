-- Recovery codes (issue 21; seed 001: "single-use and stored hashed"; 21 CFR 11.300(b), (d)).
--
-- A signer who loses the phone with the authenticator has a way back that needs no administrator:
--
--   public.generate_recovery_codes()       a person with a confirmed authenticator gets 10 codes,
--                                          shown once in the answer; only bcrypt hashes are kept
--                                          (cs_private.recovery_code: RLS, no grants, so no role but
--                                          the owner reads it). Regenerating voids every earlier code.
--   CALL public.complete_reauth_with_recovery_code(attempt, code, null)
--                                          one re-authentication with a recovery code instead of
--                                          the TOTP code, committed before it is answered exactly as
--                                          0045's complete_reauth: step 1 matches the code against
--                                          the hashes, records only which code matched (or none)
--                                          and counts the attempt as a failure until judged; COMMIT;
--                                          step 2 answers. A wrong code is a failed attempt and
--                                          counts toward the five-in-a-row signing lock.
--
-- A code that is judged right is used up, raises a security alert (`recovery_code_used`) and retires
-- the person's authenticator: it is presumed lost. Until a new one is confirmed no re-authentication
-- can begin (one trigger on cs_private.reauth_attempt, so every path that starts one - direct or
-- hosted - is covered), so the signature that the recovery code proved is the last one before a new
-- authenticator is enrolled. Sign-in in the direct modes is a PostgreSQL password login with no TOTP
-- step, so a recovery code replaces the TOTP code in re-authentication only. Hosted mode: Supabase
-- Auth owns the second factor (no cs_private.totp_factor), so there are no Countersign recovery codes
-- there (generation needs a confirmed factor here; the procedure needs a person's own login); an
-- administrator removes the lost factor in Supabase Auth (docs/security.md).
--
-- No code and no hash ever reaches the audit log, an alert, a log line or a cache.

-- pgcrypto's bcrypt and random bytes, through wrappers created against the schema that holds it (as
-- 0012 does for hmac), so no search_path is trusted.
do $do$
declare
  ext_schema text;
begin
  select extnamespace::regnamespace::text into ext_schema from pg_catalog.pg_extension where extname = 'pgcrypto';
  execute format(
    $f$create function cs_private.recovery_code_hash(code text) returns text
       language sql volatile strict
       set search_path = ''
       as $b$ select %1$s.crypt(code, %1$s.gen_salt('bf', 8)) $b$ $f$,
    ext_schema);
  execute format(
    $f$create function cs_private.recovery_code_matches(code text, code_hash text) returns boolean
       language sql immutable strict
       set search_path = ''
       as $b$ select %1$s.crypt(code, code_hash) = code_hash $b$ $f$,
    ext_schema);
  execute format(
    $f$create function cs_private.random_bytes(how_many integer) returns bytea
       language sql volatile strict
       set search_path = ''
       as $b$ select %1$s.gen_random_bytes(how_many) $b$ $f$,
    ext_schema);
end
$do$;

create table cs_private.recovery_code (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete restrict,
  code_hash text not null check (code_hash ~ '^\$2[abxy]?\$'),
  created_at timestamptz not null default clock_timestamp(),
  used_at timestamptz,
  used_by_attempt uuid references cs_private.reauth_attempt (id),
  voided_at timestamptz,
  check (used_at is null or voided_at is null)
);
create index recovery_code_user on cs_private.recovery_code (user_id) where voided_at is null;
alter table cs_private.recovery_code enable row level security;
revoke all on cs_private.recovery_code from public;

-- An attempt made with a recovery code: which of the person's codes matched, if any (never the code).
alter table cs_private.reauth_attempt
  add column recovery_code_submitted boolean not null default false,
  add column recovery_code_id uuid references cs_private.recovery_code (id);

-- Typed codes are compared case- and separator-insensitively (Crockford base32: O is 0, I and L are 1).
create function cs_private.normalise_recovery_code(code text) returns text
language sql immutable strict parallel safe
set search_path = ''
as $$ select pg_catalog.translate(pg_catalog.regexp_replace(pg_catalog.upper(code), '[^0-9A-Z]', '', 'g'), 'OIL', '011') $$;

-- 10 characters of Crockford base32 (50 random bits), shown as XXXXX-XXXXX.
create function cs_private.new_recovery_code() returns text
language plpgsql volatile
set search_path = ''
as $$
declare
  alphabet constant text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  bytes constant bytea := cs_private.random_bytes(10);
  code text := '';
begin
  for position in 0 .. 9 loop
    code := code || pg_catalog.substr(alphabet, (pg_catalog.get_byte(bytes, position) % 32) + 1, 1);
  end loop;
  return pg_catalog.substr(code, 1, 5) || '-' || pg_catalog.substr(code, 6, 5);
end
$$;

-- Has the person used a recovery code since their authenticator was last confirmed? Then a new one
-- must be enrolled before anything else is signed.
create function cs_private.authenticator_replacement_due(person uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (
    select 1 from cs_private.recovery_code r
     where r.user_id = person and r.used_at is not null
       and not exists (select 1 from cs_private.totp_factor f
                        where f.user_id = person and f.confirmed_at > r.used_at))
$$;

-- The one place that enforces it: no re-authentication (so no signature) begins until then.
create function cs_private.refuse_reauth_until_new_authenticator() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if cs_private.authenticator_replacement_due(new.user_id) then
    raise exception 'a recovery code was used: enrol a new authenticator before you sign again'
      using errcode = 'CS403', hint = 'Open your account and enrol a new authenticator.';
  end if;
  return new;
end
$$;
create trigger reauth_attempt_needs_current_authenticator before insert on cs_private.reauth_attempt
  for each row execute function cs_private.refuse_reauth_until_new_authenticator();

create function cs_private.generate_recovery_codes() returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  voided integer;
  code text;
  codes jsonb := '[]'::jsonb;
begin
  if not exists (select 1 from cs_private.totp_factor f where f.user_id = uid and f.confirmed_at is not null) then
    raise exception 'recovery codes need a confirmed authenticator'
      using errcode = 'CS409', hint = 'Enrol an authenticator first (in hosted mode Supabase Auth keeps the second factor).';
  end if;
  perform pg_catalog.pg_advisory_xact_lock(4242055, pg_catalog.hashtext(uid::text));
  update cs_private.recovery_code set voided_at = clock_timestamp()
   where user_id = uid and voided_at is null and used_at is null;
  get diagnostics voided = row_count;
  for counter in 1 .. 10 loop
    code := cs_private.new_recovery_code();
    insert into cs_private.recovery_code (user_id, code_hash)
    values (uid, cs_private.recovery_code_hash(cs_private.normalise_recovery_code(code)));
    codes := codes || pg_catalog.to_jsonb(code);
  end loop;
  perform cs_private.audit_append('recovery_codes.generated', jsonb_build_object(
    'user_id', uid, 'count', 10, 'voided', voided));
  return jsonb_build_object('codes', codes, 'generated_at', audit.occurred_at_text(clock_timestamp()));
end
$$;

-- What the account view shows: how many codes are left, and whether a new authenticator is due.
create function cs_private.my_recovery_status() returns jsonb
language sql stable security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'remaining', (select count(*)::integer from cs_private.recovery_code r
                   where r.user_id = uid and r.used_at is null and r.voided_at is null),
    'generated_at', (select audit.occurred_at_text(max(r.created_at)) from cs_private.recovery_code r
                      where r.user_id = uid and r.voided_at is null),
    'authenticator_replacement_due', cs_private.authenticator_replacement_due(uid))
  from (select cs_private.require_user() as uid) caller
$$;

-- The fresh-login proof of 0045's step 1 (expiry, lock, a login as oneself opened after the attempt
-- began and not used before). Returns when that login started.
create function cs_private.check_reauth_login(attempt cs_private.reauth_attempt) returns timestamptz
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  login_start constant timestamptz := cs_private.own_login_started_at();
begin
  if attempt.started_at < now() - interval '5 minutes' then
    raise exception 're-authentication % expired; start the signature again', attempt.id using errcode = 'CS409';
  end if;
  if cs_private.signing_locked(attempt.user_id) then
    raise exception 'your account is locked for signing after repeated failed re-authentications'
      using errcode = 'CS403', hint = 'An administrator can unlock it.';
  end if;
  if login_start is null or login_start < attempt.started_at then
    raise exception 'this connection was opened before the re-authentication began; log in again'
      using errcode = 'CS403';
  end if;
  if exists (select 1 from cs_private.reauth_attempt a
             where a.login_backend_pid = pg_catalog.pg_backend_pid() and a.login_backend_start = login_start) then
    raise exception 'this login was already used for a re-authentication; log in again' using errcode = 'CS409';
  end if;
  return login_start;
end
$$;

-- Step 1, on the fresh login: which unvoided code of the caller's matches (every one is compared, so
-- the time taken says nothing), recorded with the attempt, which now counts as a failure. No answer.
create function cs_private.submit_reauth_recovery_code(attempt_id uuid, recovery_code text) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  attempt constant cs_private.reauth_attempt := cs_private.caller_attempt(attempt_id, 'pending');
  login_start constant timestamptz := cs_private.check_reauth_login(attempt);
  typed constant text := cs_private.normalise_recovery_code(coalesce(recovery_code, ''));
  matched uuid;
  candidate cs_private.recovery_code;
begin
  for candidate in
    select * from cs_private.recovery_code r where r.user_id = uid and r.voided_at is null order by r.id
  loop
    if cs_private.recovery_code_matches(typed, candidate.code_hash) and matched is null then
      matched := candidate.id;
    end if;
  end loop;
  update cs_private.reauth_attempt
     set outcome = 'checking', code_submitted_at = clock_timestamp(),
         code_submitted_xid = pg_catalog.pg_current_xact_id(),
         recovery_code_submitted = true, recovery_code_id = matched,
         login_backend_pid = pg_catalog.pg_backend_pid(), login_backend_start = login_start
   where id = attempt.id;
  perform cs_private.audit_append('reauth.recovery_code_submitted', jsonb_build_object(
    'user_id', uid, 'attempt_id', attempt.id, 'ceremony_id', attempt.ceremony_id));
  perform cs_private.enforce_reauth_limit(uid, attempt.id, 'recovery_code_submitted');
end
$$;

-- Step 2: the answer, only for a committed submission. A right code is used up, raises the alert and
-- retires the authenticator. Returns {ok: true, re_auth_at, enrol_new_authenticator} or fail_reauth's.
create function cs_private.judge_reauth_recovery_code(attempt_id uuid) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  attempt constant cs_private.reauth_attempt := cs_private.caller_attempt(attempt_id, 'checking');
  open_lock cs_private.signing_lock;
  codes_left integer;
begin
  if not attempt.recovery_code_submitted then
    raise exception 're-authentication % was not made with a recovery code', attempt_id using errcode = 'CS409';
  end if;
  if pg_catalog.pg_xact_status(attempt.code_submitted_xid) is distinct from 'committed' then
    raise exception 'the recovery code of re-authentication % is not committed yet, so it is not checked', attempt_id
      using errcode = 'CS409',
            hint = 'Submit it with CALL public.complete_reauth_with_recovery_code(...) outside a transaction block.';
  end if;
  if attempt.code_submitted_at < clock_timestamp() - interval '2 minutes' then
    return cs_private.fail_reauth(attempt, 'failed_totp', 'recovery_code_unanswered');
  end if;
  select * into open_lock from cs_private.signing_lock l where l.user_id = uid and l.unlocked_at is null;
  if found and open_lock.reached_by_attempt is distinct from attempt.id then
    return cs_private.fail_reauth(attempt, 'failed_totp', 'locked');
  end if;
  if attempt.recovery_code_id is null then
    return cs_private.fail_reauth(attempt, 'failed_totp', 'recovery_code_wrong');
  end if;
  update cs_private.recovery_code set used_at = clock_timestamp(), used_by_attempt = attempt.id
   where id = attempt.recovery_code_id and used_at is null and voided_at is null;
  if not found then
    return cs_private.fail_reauth(attempt, 'failed_totp', 'recovery_code_used');
  end if;

  update cs_private.reauth_attempt
     set outcome = 'verified', decided_at = clock_timestamp(), password_verified_at = attempt.login_backend_start,
         totp_verified_at = attempt.code_submitted_at
   where id = attempt.id;
  select count(*) into codes_left from cs_private.recovery_code r
   where r.user_id = uid and r.used_at is null and r.voided_at is null;
  perform cs_private.audit_append('reauth.verified', jsonb_build_object(
    'user_id', uid, 'attempt_id', attempt.id, 'ceremony_id', attempt.ceremony_id, 'method', 'recovery_code'));
  perform cs_private.audit_append('recovery_code.used', jsonb_build_object(
    'user_id', uid, 'attempt_id', attempt.id, 'codes_left', codes_left));
  insert into audit.security_alert (kind, user_id, detail)
  values ('recovery_code_used', uid, jsonb_build_object(
    'attempt_id', attempt.id, 'codes_left', codes_left,
    'client_addr', pg_catalog.host(pg_catalog.inet_client_addr()),
    'application_name', pg_catalog.current_setting('application_name')));
  -- The authenticator is presumed lost: retired, so that a new one can be (and must be) enrolled.
  delete from cs_private.totp_factor where user_id = uid;
  perform cs_private.audit_append('totp.retired', jsonb_build_object('user_id', uid, 'reason', 'recovery_code_used'));
  if open_lock.id is not null then
    update cs_private.signing_lock
       set unlocked_at = clock_timestamp(), unlock_reason = 'the attempt that reached the limit was verified'
     where id = open_lock.id;
    perform cs_private.audit_append('signing.unlocked', jsonb_build_object(
      'user_id', uid, 'unlocked_by', null, 'reason', 'the attempt that reached the limit was verified'));
  end if;
  return jsonb_build_object('ok', true, 're_auth_at', audit.occurred_at_text(attempt.code_submitted_at),
                            'enrol_new_authenticator', true, 'recovery_codes_left', codes_left);
end
$$;

create function public.generate_recovery_codes() returns jsonb
language sql volatile set search_path = ''
as $$ select cs_private.generate_recovery_codes() $$;

create function public.my_recovery_status() returns jsonb
language sql stable set search_path = ''
as $$ select cs_private.my_recovery_status() $$;

-- As public.complete_reauth (0045): no SET clause, so that it can COMMIT between the two steps.
create procedure public.complete_reauth_with_recovery_code(attempt_id uuid, recovery_code text,
                                                           inout result jsonb default null)
language plpgsql
as $$
begin
  perform cs_private.submit_reauth_recovery_code(attempt_id, recovery_code);
  commit;
  result := cs_private.judge_reauth_recovery_code(attempt_id);
  commit;
end
$$;

revoke all on function cs_private.recovery_code_hash(text), cs_private.recovery_code_matches(text, text),
  cs_private.random_bytes(integer), cs_private.normalise_recovery_code(text), cs_private.new_recovery_code(),
  cs_private.authenticator_replacement_due(uuid), cs_private.refuse_reauth_until_new_authenticator(),
  cs_private.generate_recovery_codes(), cs_private.my_recovery_status(),
  cs_private.check_reauth_login(cs_private.reauth_attempt), cs_private.submit_reauth_recovery_code(uuid, text),
  cs_private.judge_reauth_recovery_code(uuid), public.generate_recovery_codes(), public.my_recovery_status()
  from public;
revoke all on procedure public.complete_reauth_with_recovery_code(uuid, text, jsonb) from public;
grant execute on function cs_private.generate_recovery_codes(), cs_private.my_recovery_status(),
  cs_private.submit_reauth_recovery_code(uuid, text), cs_private.judge_reauth_recovery_code(uuid),
  public.generate_recovery_codes(), public.my_recovery_status()
  to authenticated;
grant execute on procedure public.complete_reauth_with_recovery_code(uuid, text, jsonb) to authenticated;
do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on function public.generate_recovery_codes(), public.my_recovery_status() from anon;
    revoke all on procedure public.complete_reauth_with_recovery_code(uuid, text, jsonb) from anon;
  end if;
end
$$;

-- A re-authentication attempt is committed before its answer is given (issue 17, 21 CFR 11.300(d)).
--
-- Before: complete_reauth checked the TOTP code and recorded a failure in the caller's own
-- transaction. A person holding a signer's password could send thousands of codes inside
-- transactions or savepoints they rolled back: every failure and audit entry went with the
-- rollback, and the right code was then accepted. Whatever is written in the transaction that
-- gives the answer can be undone by whoever receives the answer.
--
-- Now the answer comes only after the attempt is committed, in two steps that the procedure
-- public.complete_reauth runs with a COMMIT between them (on the fresh login, as before):
--
--   1. cs_private.submit_reauth_code(attempt, code): checks the attempt (the caller's own, pending,
--      fresh, this login unused, not locked), stores a digest of the code, and moves the attempt to
--      `checking`. A `checking` attempt counts as a failure. If it is the fifth unverified attempt
--      in a row, signing is locked and the security alert raised, here. Nothing about the code is
--      answered.                                                                        COMMIT
--   2. cs_private.judge_reauth_code(attempt): refuses unless step 1 is committed
--      (pg_xact_status of its transaction), then checks the stored code: verified, or failed.
--      A verified fifth attempt lifts the lock it raised.                              COMMIT
--
-- A procedure that COMMITs cannot run inside a transaction block, a savepoint, a DO block with an
-- exception handler or a function (PostgreSQL refuses: invalid transaction termination), so there
-- is no way to get step 2's answer without step 1 committed. A person who calls the two functions
-- directly gains nothing: step 2 in a transaction they roll back leaves the attempt `checking`,
-- still counted, and asking again judges the same stored code. Every code tried costs one
-- committed attempt, at most five before the lock.
--
-- Counting is serialised per person (an advisory lock) and runs at READ COMMITTED only, so two
-- connections at once, or a REPEATABLE READ snapshot taken before someone else's attempt, cannot
-- see a count that is already out of date. The hosted path (0030) counts through the same helper;
-- PostgREST commits each RPC, and its failures are returned, never raised, so they are committed.
-- docs/security.md describes the design and test/db/reauthAttemptsCommitted.test.ts attacks it.

alter table cs_private.reauth_attempt
  add column code_submitted_at timestamptz,
  add column code_submitted_xid xid8,
  add column code_digest text check (code_digest is null or code_digest ~ '^[0-9a-f]{64}$');
alter table cs_private.reauth_attempt drop constraint reauth_attempt_outcome_check;
alter table cs_private.reauth_attempt add constraint reauth_attempt_outcome_check check (outcome in (
  'pending', 'checking', 'verified', 'consumed', 'cancelled', 'failed_password', 'failed_totp'));

-- The attempt whose recording reached the limit: if it turns out verified, its lock is lifted.
alter table cs_private.signing_lock
  add column reached_by_attempt uuid references cs_private.reauth_attempt (id);

-- A code is kept only as a digest, salted with its attempt's id, until it is judged.
create function cs_private.totp_code_digest(salt text, code text) returns text
language sql immutable strict parallel safe
set search_path = ''
as $$ select pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(salt || ':' || code, 'UTF8')), 'hex') $$;

-- The one TOTP check (RFC 6238, one step of drift, single use): does the code behind `digest`
-- match one of the steps around `at_step`? On a match the step is used up. reason is null on
-- success, else 'no_factor', 'not_confirmed', 'reused' or 'wrong'.
create function cs_private.match_totp(for_user uuid, salt text, digest text, at_step bigint, confirmed_only boolean,
                                      out accepted_step bigint, out reason text)
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  factor cs_private.totp_factor;
  secret bytea;
begin
  select * into factor from cs_private.totp_factor where user_id = for_user for update;
  if not found then
    reason := 'no_factor';
    return;
  end if;
  if confirmed_only and factor.confirmed_at is null then
    reason := 'not_confirmed';
    return;
  end if;
  secret := cs_private.base32_decode(factor.secret_base32);
  for step in at_step - 1 .. at_step + 1 loop
    if cs_private.totp_code_digest(salt, cs_private.totp_code(secret, step)) = digest then
      if step <= coalesce(factor.last_used_step, -1) then
        reason := 'reused';
        return;
      end if;
      update cs_private.totp_factor set last_used_step = step where user_id = for_user;
      accepted_step := step;
      return;
    end if;
  end loop;
  reason := 'wrong';
end
$$;

-- 0012's check (used by enrolment) is now the same check, on a code typed now.
create or replace function cs_private.accept_totp(for_user uuid, code text, confirmed_only boolean,
                                                  out accepted_step bigint, out reason text)
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  if code is null or code !~ '^[0-9]{6}$' then
    reason := 'malformed';
    return;
  end if;
  select m.accepted_step, m.reason into accepted_step, reason
    from cs_private.match_totp(for_user, '', cs_private.totp_code_digest('', code),
                               cs_private.totp_step_now(), confirmed_only) m;
end
$$;

-- Attempts that count as failures: failed ones, and submitted codes not (yet) verified, since the
-- last verified attempt or unlock. An attempt is placed in time by when its code was submitted,
-- or else when it was decided.
create or replace function cs_private.consecutive_reauth_failures(person uuid) returns integer
language sql stable security definer
set search_path = ''
as $$
  select count(*)::integer from cs_private.reauth_attempt a
  where a.user_id = person and a.outcome in ('failed_password', 'failed_totp', 'checking')
    and coalesce(a.code_submitted_at, a.decided_at) > greatest(
      (select max(coalesce(s.code_submitted_at, s.decided_at)) from cs_private.reauth_attempt s
        where s.user_id = person and s.outcome in ('verified', 'consumed')),
      (select max(l.unlocked_at) from cs_private.signing_lock l where l.user_id = person),
      '-infinity'::timestamptz)
$$;

-- Serialises one person's counting and makes it read the latest committed attempts. At REPEATABLE
-- READ or SERIALIZABLE a snapshot taken before another connection's attempt would count too few.
create function cs_private.lock_reauth_state(person uuid) returns void
language plpgsql volatile
set search_path = ''
as $$
begin
  if pg_catalog.current_setting('transaction_isolation') <> 'read committed' then
    raise exception 're-authentication runs at isolation level read committed only'
      using errcode = 'CS409', hint = 'Use the default isolation level.';
  end if;
  perform pg_catalog.pg_advisory_xact_lock(4242004, pg_catalog.hashtext(person::text));
end
$$;

-- The lockout rule, in one place: at five counted attempts in a row signing is locked, once, with
-- a security alert and an audit entry. Returns the state the signer is told about.
create function cs_private.enforce_reauth_limit(person uuid, attempt_id uuid, reason text) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  failures integer;
  lock_id uuid;
begin
  perform cs_private.lock_reauth_state(person);
  failures := cs_private.consecutive_reauth_failures(person);
  if failures >= 5 and not cs_private.signing_locked(person) then
    insert into cs_private.signing_lock (user_id, failed_attempts, reached_by_attempt)
    values (person, failures, attempt_id)
    returning id into lock_id;
    insert into audit.security_alert (kind, user_id, detail)
    values ('signing_locked', person, jsonb_build_object(
      'failed_attempts', failures, 'last_reason', reason, 'lock_id', lock_id,
      'client_addr', pg_catalog.host(pg_catalog.inet_client_addr()),
      'application_name', pg_catalog.current_setting('application_name')));
    perform cs_private.audit_append('signing.locked', jsonb_build_object(
      'user_id', person, 'failed_attempts', failures));
  end if;
  return jsonb_build_object('ok', false, 'reason', reason, 'locked', cs_private.signing_locked(person),
                            'failures', failures, 'attempts_left', greatest(0, 5 - failures));
end
$$;

-- 0013's fail_reauth, with the lockout rule factored out (every caller of it counts through the
-- helper above: wrong passwords, abandoned attempts, refused claims, judged codes).
create or replace function cs_private.fail_reauth(attempt cs_private.reauth_attempt, outcome text, reason text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  update cs_private.reauth_attempt
     set outcome = fail_reauth.outcome, failure_reason = reason, decided_at = clock_timestamp()
   where id = attempt.id;
  perform cs_private.audit_append('reauth.failed', jsonb_build_object(
    'user_id', attempt.user_id, 'attempt_id', attempt.id, 'ceremony_id', attempt.ceremony_id,
    'reason', reason));
  return cs_private.enforce_reauth_limit(attempt.user_id, attempt.id, reason);
end
$$;

-- The caller's own attempt, locked, in the state wanted; then the caller's counting lock (the row
-- first, then the lock: the order begin_reauth takes them in).
create function cs_private.caller_attempt(attempt_id uuid, wanted text) returns cs_private.reauth_attempt
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  attempt cs_private.reauth_attempt;
begin
  select * into attempt from cs_private.reauth_attempt a where a.id = attempt_id for update;
  if not found or attempt.user_id <> uid then
    raise exception 'no re-authentication % of yours', attempt_id using errcode = 'CS403';
  end if;
  perform cs_private.lock_reauth_state(uid);
  if attempt.outcome <> wanted then
    raise exception 're-authentication % is %, not %; start the signature again', attempt_id, attempt.outcome, wanted
      using errcode = 'CS409';
  end if;
  return attempt;
end
$$;

-- When this connection logged in, if it is the caller's own login role (a password just proved);
-- otherwise an error. The hosted gateway's connection is nobody's own login.
create function cs_private.own_login_started_at() returns timestamptz
language plpgsql stable security definer
set search_path = ''
as $$
declare
  started timestamptz;
begin
  if not exists (select 1 from cs_private.login_role l
                  where l.role_name = session_user and l.user_id = cs_private.require_user()) then
    raise exception 'the password must be proved by a fresh login as yourself' using errcode = 'CS403';
  end if;
  select s.backend_start into started from pg_catalog.pg_stat_activity s where s.pid = pg_catalog.pg_backend_pid();
  return started;
end
$$;

-- Step 1, on the fresh login: records the code, counts the attempt. Answers nothing about the code.
create function cs_private.submit_reauth_code(attempt_id uuid, totp_code text) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  attempt constant cs_private.reauth_attempt := cs_private.caller_attempt(attempt_id, 'pending');
  login_start constant timestamptz := cs_private.own_login_started_at();
begin
  if attempt.started_at < now() - interval '5 minutes' then
    raise exception 're-authentication % expired; start the signature again', attempt_id using errcode = 'CS409';
  end if;
  if cs_private.signing_locked(uid) then
    raise exception 'your account is locked for signing after repeated failed re-authentications'
      using errcode = 'CS403', hint = 'An administrator can unlock it.';
  end if;
  -- The password proof: this connection logged in as the signer's own role after the attempt began.
  if login_start is null or login_start < attempt.started_at then
    raise exception 'this connection was opened before the re-authentication began; log in again'
      using errcode = 'CS403';
  end if;
  if exists (select 1 from cs_private.reauth_attempt a
             where a.login_backend_pid = pg_catalog.pg_backend_pid() and a.login_backend_start = login_start) then
    raise exception 'this login was already used for a re-authentication; log in again' using errcode = 'CS409';
  end if;

  update cs_private.reauth_attempt
     set outcome = 'checking', code_submitted_at = clock_timestamp(),
         code_submitted_xid = pg_catalog.pg_current_xact_id(),
         code_digest = case when totp_code ~ '^[0-9]{6}$'
                            then cs_private.totp_code_digest(attempt.id::text, totp_code) end,
         login_backend_pid = pg_catalog.pg_backend_pid(), login_backend_start = login_start
   where id = attempt.id;
  perform cs_private.audit_append('reauth.code_submitted', jsonb_build_object(
    'user_id', uid, 'attempt_id', attempt.id, 'ceremony_id', attempt.ceremony_id));
  perform cs_private.enforce_reauth_limit(uid, attempt.id, 'code_submitted');
end
$$;

-- Step 2: the answer, only for a code whose submission is committed. Returns {ok: true,
-- re_auth_at} or the failure from fail_reauth.
create function cs_private.judge_reauth_code(attempt_id uuid) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  attempt constant cs_private.reauth_attempt := cs_private.caller_attempt(attempt_id, 'checking');
  open_lock cs_private.signing_lock;
  checked record;
begin
  if pg_catalog.pg_xact_status(attempt.code_submitted_xid) is distinct from 'committed' then
    raise exception 'the code of re-authentication % is not committed yet, so it is not checked', attempt_id
      using errcode = 'CS409',
            hint = 'Submit it with CALL public.complete_reauth(...) on its own, outside a transaction block.';
  end if;
  if attempt.code_submitted_at < clock_timestamp() - interval '2 minutes' then
    return cs_private.fail_reauth(attempt, 'failed_totp', 'totp_unanswered');
  end if;
  select * into open_lock from cs_private.signing_lock l where l.user_id = uid and l.unlocked_at is null;
  if found and open_lock.reached_by_attempt is distinct from attempt.id then
    return cs_private.fail_reauth(attempt, 'failed_totp', 'locked');
  end if;
  if attempt.code_digest is null then
    return cs_private.fail_reauth(attempt, 'failed_totp', 'totp_malformed');
  end if;
  select * into checked from cs_private.match_totp(uid, attempt.id::text, attempt.code_digest,
    floor(extract(epoch from attempt.code_submitted_at) / 30)::bigint, true);
  if checked.reason is not null then
    return cs_private.fail_reauth(attempt, 'failed_totp', 'totp_' || checked.reason);
  end if;

  update cs_private.reauth_attempt
     set outcome = 'verified', decided_at = clock_timestamp(), password_verified_at = attempt.login_backend_start,
         totp_verified_at = attempt.code_submitted_at
   where id = attempt.id;
  perform cs_private.audit_append('reauth.verified', jsonb_build_object(
    'user_id', uid, 'attempt_id', attempt.id, 'ceremony_id', attempt.ceremony_id));
  if open_lock.id is not null then
    -- This attempt was the fifth in a row and locked signing when it was submitted; it was right.
    update cs_private.signing_lock
       set unlocked_at = clock_timestamp(), unlock_reason = 'the attempt that reached the limit was verified'
     where id = open_lock.id;
    perform cs_private.audit_append('signing.unlocked', jsonb_build_object(
      'user_id', uid, 'unlocked_by', null, 'reason', 'the attempt that reached the limit was verified'));
  end if;
  return jsonb_build_object('ok', true, 're_auth_at', audit.occurred_at_text(attempt.code_submitted_at));
end
$$;

-- Step 3 of 0013 is now this procedure. The old function answered in the caller's transaction.
drop function public.complete_reauth(uuid, text);
drop function cs_private.complete_reauth(uuid, text);

-- No SET clause (a procedure with one cannot COMMIT); every name is schema-qualified, and it runs
-- as the caller, so a search_path of theirs can only mislead themselves.
create procedure public.complete_reauth(attempt_id uuid, totp_code text, inout result jsonb default null)
language plpgsql
as $$
begin
  perform cs_private.submit_reauth_code(attempt_id, totp_code);
  commit;
  result := cs_private.judge_reauth_code(attempt_id);
  commit;
end
$$;

revoke all on function cs_private.totp_code_digest(text, text), cs_private.match_totp(uuid, text, text, bigint, boolean),
  cs_private.caller_attempt(uuid, text), cs_private.own_login_started_at(),
  cs_private.lock_reauth_state(uuid), cs_private.enforce_reauth_limit(uuid, uuid, text),
  cs_private.submit_reauth_code(uuid, text), cs_private.judge_reauth_code(uuid)
  from public;
revoke all on procedure public.complete_reauth(uuid, text, jsonb) from public;
grant execute on function cs_private.submit_reauth_code(uuid, text), cs_private.judge_reauth_code(uuid)
  to authenticated;
grant execute on procedure public.complete_reauth(uuid, text, jsonb) to authenticated;

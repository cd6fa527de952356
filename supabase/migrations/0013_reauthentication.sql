-- Re-authentication for a signing ceremony (21 CFR 11.200(a): both components at each signing that
-- is not part of one continuous session of controlled access). In the direct modes:
--
--   1. begin_reauth(ceremony_id), on the signer's session: records a pending attempt.
--   2. The workstation opens a FRESH connection as the signer, with the password they just typed:
--      PostgreSQL's own SCRAM authentication is the password check.
--   3. complete_reauth(attempt_id, totp_code), on that fresh connection: the server checks that the
--      connection is the signer's own login, authenticated after the attempt began and never used
--      for another attempt, then verifies the TOTP code itself.
--
-- A verified attempt is valid for 5 minutes and is consumed by the one ceremony it names (sign_batch).
-- Failures are recorded: a wrong TOTP code by complete_reauth; a wrong password, which the server
-- never sees, by the workstation (record_reauth_failure) and, should it not report, by the next
-- begin_reauth, which counts every attempt left pending as a failed password. Five failures in a
-- row lock the account for signing and raise an alert (11.300(d)); only an administrator unlocks,
-- and the unlock is audited.

create table cs_private.reauth_attempt (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id),
  ceremony_id uuid not null,
  started_at timestamptz not null default now(),
  outcome text not null default 'pending'
    check (outcome in ('pending', 'verified', 'consumed', 'cancelled', 'failed_password', 'failed_totp')),
  failure_reason text,
  decided_at timestamptz,
  password_verified_at timestamptz,
  totp_verified_at timestamptz,
  login_backend_pid integer,
  login_backend_start timestamptz,
  consumed_at timestamptz,
  -- One fresh login proves one re-authentication.
  unique (login_backend_pid, login_backend_start)
);
create index reauth_attempt_user_idx on cs_private.reauth_attempt (user_id, started_at desc);
create index reauth_attempt_ceremony_idx on cs_private.reauth_attempt (ceremony_id);
alter table cs_private.reauth_attempt enable row level security;

create table cs_private.signing_lock (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id),
  locked_at timestamptz not null default now(),
  failed_attempts integer not null,
  unlocked_at timestamptz,
  unlocked_by uuid references auth.users (id),
  unlock_reason text
);
create unique index signing_lock_one_open_per_user on cs_private.signing_lock (user_id) where unlocked_at is null;
alter table cs_private.signing_lock enable row level security;

-- Security alerts for administrators (11.300(d): detect and report attempts at unauthorised use).
create table audit.security_alert (
  id uuid primary key default gen_random_uuid(),
  raised_at timestamptz not null default now(),
  kind text not null,
  user_id uuid references auth.users (id),
  detail jsonb not null default '{}'::jsonb
);
alter table audit.security_alert enable row level security;
create trigger security_alert_append_only before update or delete on audit.security_alert
  for each row execute function cs_private.refuse_change_to_append_only();
create trigger security_alert_no_truncate before truncate on audit.security_alert
  for each statement execute function cs_private.refuse_change_to_append_only();
grant select on audit.security_alert to authenticated;
create policy "admin can read security alerts" on audit.security_alert
  for select to authenticated using ((select cs_private.is_admin()));

create function cs_private.signing_locked(person uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$ select exists (select 1 from cs_private.signing_lock where user_id = person and unlocked_at is null) $$;

create function cs_private.consecutive_reauth_failures(person uuid) returns integer
language sql stable security definer
set search_path = ''
as $$
  select count(*)::integer from cs_private.reauth_attempt a
  where a.user_id = person and a.outcome in ('failed_password', 'failed_totp')
    and a.decided_at > greatest(
      (select max(s.decided_at) from cs_private.reauth_attempt s
        where s.user_id = person and s.outcome in ('verified', 'consumed')),
      (select max(l.unlocked_at) from cs_private.signing_lock l where l.user_id = person),
      '-infinity'::timestamptz)
$$;

-- Marks an attempt failed, audits it, and locks the account at the fifth failure in a row.
-- Returns the state the signer is told about.
create function cs_private.fail_reauth(attempt cs_private.reauth_attempt, outcome text, reason text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  failures integer;
  locked boolean;
begin
  update cs_private.reauth_attempt
     set outcome = fail_reauth.outcome, failure_reason = reason, decided_at = clock_timestamp()
   where id = attempt.id;
  perform cs_private.audit_append('reauth.failed', jsonb_build_object(
    'user_id', attempt.user_id, 'attempt_id', attempt.id, 'ceremony_id', attempt.ceremony_id,
    'reason', reason));
  failures := cs_private.consecutive_reauth_failures(attempt.user_id);
  locked := cs_private.signing_locked(attempt.user_id);
  if failures >= 5 and not locked then
    insert into cs_private.signing_lock (user_id, failed_attempts) values (attempt.user_id, failures);
    insert into audit.security_alert (kind, user_id, detail)
    values ('signing_locked', attempt.user_id,
            jsonb_build_object('failed_attempts', failures, 'last_reason', reason));
    perform cs_private.audit_append('signing.locked', jsonb_build_object(
      'user_id', attempt.user_id, 'failed_attempts', failures));
    locked := true;
  end if;
  return jsonb_build_object('ok', false, 'reason', reason, 'locked', locked,
                            'failures', failures, 'attempts_left', greatest(0, 5 - failures));
end
$$;

-- Step 1, on the signer's session. Returns {ok, attempt_id} or {ok: false, reason: 'locked'}.
create function cs_private.begin_reauth(ceremony_id uuid) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  abandoned cs_private.reauth_attempt;
  attempt_id uuid;
begin
  if ceremony_id is null then
    raise exception 'a ceremony id is required' using errcode = 'CS422';
  end if;
  if not cs_private.has_any_role('{signer}') then
    raise exception 'only a signer can sign' using errcode = 'CS403';
  end if;
  -- An attempt never completed is a password that was not proved.
  for abandoned in
    select * from cs_private.reauth_attempt a where a.user_id = uid and a.outcome = 'pending' for update
  loop
    perform cs_private.fail_reauth(abandoned, 'failed_password', 'abandoned');
  end loop;
  if cs_private.signing_locked(uid) then
    return jsonb_build_object('ok', false, 'reason', 'locked', 'locked', true);
  end if;
  insert into cs_private.reauth_attempt (user_id, ceremony_id) values (uid, ceremony_id)
  returning id into attempt_id;
  return jsonb_build_object('ok', true, 'attempt_id', attempt_id);
end
$$;

-- Step 2 failed: the fresh login was refused (wrong password). Reported by the workstation.
create function cs_private.record_reauth_failure(attempt_id uuid) returns jsonb
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
  if attempt.outcome <> 'pending' then
    raise exception 're-authentication % is already %', attempt_id, attempt.outcome using errcode = 'CS409';
  end if;
  return cs_private.fail_reauth(attempt, 'failed_password', 'wrong_password');
end
$$;

create function cs_private.cancel_reauth(attempt_id uuid) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  update cs_private.reauth_attempt a set outcome = 'cancelled', decided_at = clock_timestamp()
   where a.id = attempt_id and a.user_id = cs_private.require_user() and a.outcome = 'pending';
end
$$;

-- Step 3, on the fresh connection. Returns {ok: true, re_auth_at} or the failure from fail_reauth.
create function cs_private.complete_reauth(attempt_id uuid, totp_code text) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  attempt cs_private.reauth_attempt;
  login_start timestamptz;
  checked record;
  verified_at timestamptz;
begin
  select * into attempt from cs_private.reauth_attempt a where a.id = attempt_id for update;
  if not found or attempt.user_id <> uid then
    raise exception 'no re-authentication % of yours', attempt_id using errcode = 'CS403';
  end if;
  if attempt.outcome <> 'pending' then
    raise exception 're-authentication % is already %; start the signature again', attempt_id, attempt.outcome
      using errcode = 'CS409';
  end if;
  if attempt.started_at < now() - interval '5 minutes' then
    raise exception 're-authentication % expired; start the signature again', attempt_id using errcode = 'CS409';
  end if;
  if cs_private.signing_locked(uid) then
    raise exception 'your account is locked for signing after repeated failed re-authentications'
      using errcode = 'CS403', hint = 'An administrator can unlock it.';
  end if;
  -- The password proof: this connection logged in as the signer's own role after the attempt began.
  if not exists (select 1 from cs_private.login_role l where l.role_name = session_user and l.user_id = uid) then
    raise exception 'the password must be proved by a fresh login as yourself' using errcode = 'CS403';
  end if;
  select s.backend_start into login_start from pg_catalog.pg_stat_activity s where s.pid = pg_catalog.pg_backend_pid();
  if login_start is null or login_start < attempt.started_at then
    raise exception 'this connection was opened before the re-authentication began; log in again'
      using errcode = 'CS403';
  end if;
  if exists (select 1 from cs_private.reauth_attempt a
             where a.login_backend_pid = pg_catalog.pg_backend_pid() and a.login_backend_start = login_start) then
    raise exception 'this login was already used for a re-authentication; log in again' using errcode = 'CS409';
  end if;

  select * into checked from cs_private.accept_totp(uid, totp_code, true);
  if checked.reason is not null then
    return cs_private.fail_reauth(attempt, 'failed_totp', 'totp_' || checked.reason);
  end if;
  verified_at := clock_timestamp();
  update cs_private.reauth_attempt
     set outcome = 'verified', decided_at = verified_at, password_verified_at = login_start,
         totp_verified_at = verified_at, login_backend_pid = pg_catalog.pg_backend_pid(),
         login_backend_start = login_start
   where id = attempt.id;
  perform cs_private.audit_append('reauth.verified', jsonb_build_object(
    'user_id', uid, 'attempt_id', attempt.id, 'ceremony_id', attempt.ceremony_id));
  return jsonb_build_object('ok', true, 're_auth_at', audit.occurred_at_text(verified_at));
end
$$;

create function cs_private.unlock_signing(person uuid, reason text) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  if not cs_private.is_admin() then
    raise exception 'only an administrator may unlock signing' using errcode = 'CS403';
  end if;
  if reason is null or length(btrim(reason)) = 0 then
    raise exception 'say why the account is unlocked' using errcode = 'CS422';
  end if;
  update cs_private.signing_lock
     set unlocked_at = clock_timestamp(), unlocked_by = auth.uid(), unlock_reason = reason
   where user_id = person and unlocked_at is null;
  if not found then
    raise exception 'that account is not locked for signing' using errcode = 'CS409';
  end if;
  perform cs_private.audit_append('signing.unlocked', jsonb_build_object(
    'user_id', person, 'unlocked_by', auth.uid(), 'reason', reason));
end
$$;

-- What the signing dialog needs to know before it asks for anything.
create function cs_private.my_signing_status() returns jsonb
language sql stable security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'is_signer', cs_private.has_any_role('{signer}'),
    'totp', case when f.user_id is null then 'none' when f.confirmed_at is null then 'unconfirmed' else 'confirmed' end,
    'locked', cs_private.signing_locked(auth.uid()),
    'consecutive_failures', cs_private.consecutive_reauth_failures(auth.uid()))
  from (select 1) one
  left join cs_private.totp_factor f on f.user_id = auth.uid()
$$;

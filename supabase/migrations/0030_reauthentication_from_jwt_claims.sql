-- Re-authentication in hosted mode (Supabase). There is no per-person login role there: PostgREST
-- logs in as `authenticator`, switches to `authenticated` and sets `request.jwt.claims` to the
-- caller's verified JWT. The proof of a fresh re-authentication is that JWT itself: Supabase Auth
-- (GoTrue) checked the password (signInWithPassword) and the TOTP code (mfa.challengeAndVerify),
-- and says so in the claims:
--
--   aal = 'aal2', and amr = [{method: 'password', timestamp}, {method: 'totp', timestamp}, ...]
--
-- A re-authentication from claims is accepted when aal is aal2 and the newest `password` entry and
-- the newest `totp` entry of amr (newest per method; the order of amr is not trusted) are both within
-- the last 5 minutes (and not more than a minute in the future: clock skew). The flow mirrors the
-- direct modes (0013):
--
--   1. begin_reauth(ceremony_id)                       (unchanged: records a pending attempt)
--   2. the workstation: signInWithPassword, then mfa.challengeAndVerify (a fresh aal2 session)
--   3. complete_reauth_from_claims(attempt_id)          (below: checks the claims of that session)
--
-- Every refusal (aal1, stale or missing amr, a TOTP verification already used) is a failed
-- re-authentication and counts toward the 5-in-a-row lockout, exactly like a wrong code. Wrong
-- passwords and wrong codes never reach this server (GoTrue refuses them): the workstation reports
-- them (record_reauth_failure, record_reauth_totp_failure), and an attempt left pending still counts
-- as a failed password at the next begin_reauth.
--
-- Single use: the timestamp of the amr `totp` entry is consumed by the one attempt it verifies, and
-- a later attempt must carry a newer one (as last_used_step does for codes verified in SQL), so one
-- MFA verification backs at most one ceremony. That a code is not accepted twice by mfa.verify is
-- GoTrue's rule; this server never sees the code.
--
-- Claims are trusted only when session_user is `authenticator` (the PostgREST gateway). On a
-- person's own login (direct modes) request.jwt.claims is set_config-able by that person, so this
-- path refuses there, whatever the claims say.

alter table cs_private.reauth_attempt
  add column amr_totp_at timestamptz,
  add column jwt_session_id text;
create unique index reauth_attempt_amr_totp_once on cs_private.reauth_attempt (user_id, amr_totp_at)
  where amr_totp_at is not null;

-- True only on the PostgREST gateway's connection.
create function cs_private.via_api_gateway() returns boolean
language sql stable
set search_path = ''
as $$ select session_user = 'authenticator' $$;

-- The claims of the current request, or null when not on the gateway or none are set.
create function cs_private.gateway_claims() returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  raw text := nullif(current_setting('request.jwt.claims', true), '');
begin
  if not cs_private.via_api_gateway() or raw is null then
    return null;
  end if;
  return raw::jsonb;
exception when invalid_text_representation then
  return null;
end
$$;

-- The newest amr timestamp of one method (seconds since the epoch, as GoTrue writes them).
create function cs_private.newest_amr(claims jsonb, method text) returns timestamptz
language sql immutable
set search_path = ''
as $$
  select pg_catalog.to_timestamp(max((e ->> 'timestamp')::double precision))
    from pg_catalog.jsonb_array_elements(
           case when pg_catalog.jsonb_typeof(claims -> 'amr') = 'array' then claims -> 'amr' else '[]'::jsonb end) e
   where pg_catalog.jsonb_typeof(e) = 'object' and e ->> 'method' = method
     and e ->> 'timestamp' ~ '^[0-9]{1,12}(\.[0-9]+)?$'
$$;

-- Judges claims as a proof of re-authentication. reason is null when they are one; else
-- 'no_claims', 'token_expired', 'not_aal2', 'password_missing', 'password_stale', 'totp_missing',
-- 'totp_stale' or 'amr_in_future'.
create function cs_private.reauth_claims_verdict(claims jsonb, out reason text,
                                                 out password_at timestamptz, out totp_at timestamptz)
language plpgsql stable
set search_path = ''
as $$
declare
  fresh_after constant timestamptz := now() - interval '5 minutes';
  not_after constant timestamptz := now() + interval '1 minute';
begin
  if claims is null or pg_catalog.jsonb_typeof(claims) <> 'object' or claims ->> 'role' is distinct from 'authenticated' then
    reason := 'no_claims';
    return;
  end if;
  if claims ->> 'exp' ~ '^[0-9]{1,12}$' and pg_catalog.to_timestamp((claims ->> 'exp')::bigint) <= now() then
    reason := 'token_expired';
    return;
  end if;
  if claims ->> 'aal' is distinct from 'aal2' then
    reason := 'not_aal2';
    return;
  end if;
  password_at := cs_private.newest_amr(claims, 'password');
  totp_at := cs_private.newest_amr(claims, 'totp');
  if password_at is null then
    reason := 'password_missing';
  elsif totp_at is null then
    reason := 'totp_missing';
  elsif password_at > not_after or totp_at > not_after then
    reason := 'amr_in_future';
  elsif password_at < fresh_after then
    reason := 'password_stale';
  elsif totp_at < fresh_after then
    reason := 'totp_stale';
  end if;
end
$$;

-- Step 3 in hosted mode. Returns {ok: true, re_auth_at} or the failure from fail_reauth.
create function cs_private.complete_reauth_from_claims(attempt_id uuid) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  attempt cs_private.reauth_attempt;
  claims jsonb;
  verdict record;
begin
  if not cs_private.via_api_gateway() then
    raise exception 'a re-authentication from JWT claims is accepted only through the API gateway'
      using errcode = 'CS403', hint = 'On a direct login, prove the password with a fresh login and use complete_reauth.';
  end if;
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
  -- One verification at a time per person, so two attempts cannot consume the same amr entry.
  perform pg_catalog.pg_advisory_xact_lock(4242003, pg_catalog.hashtext(uid::text));

  claims := cs_private.gateway_claims();
  select * into verdict from cs_private.reauth_claims_verdict(claims);
  if verdict.reason is not null then
    return cs_private.fail_reauth(attempt,
      case when verdict.reason like 'password%' then 'failed_password' else 'failed_totp' end,
      'claims_' || verdict.reason);
  end if;
  if exists (select 1 from cs_private.reauth_attempt a
             where a.user_id = uid and a.amr_totp_at >= verdict.totp_at) then
    return cs_private.fail_reauth(attempt, 'failed_totp', 'totp_reused');
  end if;

  update cs_private.reauth_attempt
     set outcome = 'verified', decided_at = clock_timestamp(), password_verified_at = verdict.password_at,
         totp_verified_at = verdict.totp_at, amr_totp_at = verdict.totp_at,
         jwt_session_id = left(claims ->> 'session_id', 64)
   where id = attempt.id;
  perform cs_private.audit_append('reauth.verified', jsonb_build_object(
    'user_id', uid, 'attempt_id', attempt.id, 'ceremony_id', attempt.ceremony_id, 'proof', 'jwt_aal2'));
  return jsonb_build_object('ok', true, 're_auth_at', audit.occurred_at_text(verdict.totp_at));
end
$$;

-- Step 2 failed at GoTrue's mfa.verify (wrong code). Reported by the workstation.
create function cs_private.record_reauth_totp_failure(attempt_id uuid) returns jsonb
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
  return cs_private.fail_reauth(attempt, 'failed_totp', 'totp_wrong');
end
$$;

-- sign_batch through the gateway also needs the caller's own token to be a fresh aal2 one, so a
-- verified attempt cannot be spent with a token that never passed MFA (defence in depth; the attempt
-- is still consumed as in 0014). A resend of a ceremony already recorded is answered as before.
-- The check sits in front of cs_private.sign_batch (0014, unchanged), which is now reached only
-- through it: public.sign_batch calls the check, and people lose EXECUTE on the rule itself.
create function cs_private.sign_batch_checked(ceremony_id uuid, nonce text, intent cro.signature_intent,
                                              meaning text, signature_comment text, manifest jsonb)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  verdict record;
begin
  if cs_private.via_api_gateway()
     and not exists (select 1 from cs_private.signing_ceremony c
                     where c.id = sign_batch_checked.ceremony_id and c.user_id = auth.uid()) then
    select * into verdict from cs_private.reauth_claims_verdict(cs_private.gateway_claims());
    if verdict.reason is not null then
      raise exception 'signing needs a session that has just passed password and TOTP verification (%)',
        verdict.reason
        using errcode = 'CS403', hint = 'Re-authenticate (password and a current code) and sign again.';
    end if;
  end if;
  return cs_private.sign_batch(ceremony_id, nonce, intent, meaning, signature_comment, manifest);
end
$$;

create or replace function public.sign_batch(ceremony_id uuid, nonce text, intent cro.signature_intent,
                                             meaning text, signature_comment text, manifest jsonb) returns jsonb
language sql volatile set search_path = ''
as $$ select cs_private.sign_batch_checked(ceremony_id, nonce, intent, meaning, signature_comment, manifest) $$;

revoke execute on function cs_private.sign_batch(uuid, text, cro.signature_intent, text, text, jsonb)
  from public, authenticated;

create function public.complete_reauth_from_claims(attempt_id uuid) returns jsonb
language sql volatile set search_path = '' as $$ select cs_private.complete_reauth_from_claims(attempt_id) $$;
create function public.record_reauth_totp_failure(attempt_id uuid) returns jsonb
language sql volatile set search_path = '' as $$ select cs_private.record_reauth_totp_failure(attempt_id) $$;

revoke execute on function cs_private.via_api_gateway(), cs_private.gateway_claims(),
  cs_private.newest_amr(jsonb, text), cs_private.reauth_claims_verdict(jsonb) from public;
revoke execute on function public.complete_reauth_from_claims(uuid), public.record_reauth_totp_failure(uuid)
  from public;
grant execute on function public.complete_reauth_from_claims(uuid), public.record_reauth_totp_failure(uuid)
  to authenticated;
grant execute on function cs_private.complete_reauth_from_claims(uuid),
  cs_private.record_reauth_totp_failure(uuid),
  cs_private.sign_batch_checked(uuid, text, cro.signature_intent, text, text, jsonb)
  to authenticated;

-- Supabase grants EXECUTE on every new function in schema public to anon, authenticated and
-- service_role by default privileges, which `revoke ... from public` does not undo. Nothing of ours
-- in public is for anon.
do $$
declare
  f regprocedure;
begin
  for f in
    select p.oid::regprocedure from pg_catalog.pg_proc p
     where p.pronamespace = 'public'::regnamespace
       and p.proname in ('begin_totp_enrolment', 'confirm_totp_enrolment', 'reset_totp', 'my_signing_status',
                         'begin_reauth', 'record_reauth_failure', 'cancel_reauth', 'complete_reauth',
                         'unlock_signing', 'signing_content', 'sign_batch', 'open_for_review', 'promote',
                         'complete_reauth_from_claims', 'record_reauth_totp_failure')
  loop
    execute format('revoke execute on function %s from anon', f);
  end loop;
end
$$;

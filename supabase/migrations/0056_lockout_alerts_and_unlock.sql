-- Lockout alerts and unlocking (issue 21, 21 CFR 11.300(d)): an administrator reads the security
-- alerts the lockouts raise, acknowledges or closes each with a reason, and unlocks a person.
--
--   * public.security_alerts(): every alert (signing locks of 0013/0045, sign-in locks of 0048, and
--     any other kind), newest first, with who, when, how many failures, from which workstation
--     (address and application name, recorded since 0045 for signing and 0048 for sign-in; older
--     alerts show none), whether its lock is still closed, and its review state. Admins only.
--   * public.review_security_alert(alert, decision, reason): acknowledged or closed, with a
--     reason. audit.security_alert stays append-only: a decision is an audit_log entry
--     (security_alert.acknowledged / security_alert.closed) and the state is read from them.
--   * public.unlock_account(person, lock_kind, reason, ceremony_id): one rule for the signing lock
--     and the sign-in lock. An administrator, never for their own account, with a reason, and with
--     their own fresh re-authentication (password + TOTP) for that ceremony, made through the
--     re-authentication attempts of 0013/0045 and spent here as sign_batch spends it.
--     It supersedes public.unlock_signing (0016) and public.unlock_sign_in (0048), which took a
--     reason only: nobody may execute those any more.

-- Administrators re-authenticate through the same attempts (and the same lockout) as signers.
-- 0013's begin_reauth, with the role check widened from signer to signer or administrator.
create or replace function cs_private.begin_reauth(ceremony_id uuid) returns jsonb
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
  if not cs_private.has_any_role('{signer,admin}') then
    -- The message a non-signer has always been given (administrators re-authenticate only to administer).
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

-- Which lock an alert is about: 'signing', 'sign_in', or null for an alert that locks nothing.
create function cs_private.lock_kind_of_alert(kind text) returns text
language sql immutable parallel safe
set search_path = ''
as $$
  select case when kind = 'signing_locked' then 'signing'
              when kind in ('sign_in_locked', 'password_changed_outside') then 'sign_in' end
$$;

-- An alert's review state: the latest security_alert.* decision in the audit log, else open.
create function cs_private.security_alert_review(alert_id uuid,
                                                 out state text, out decided_by uuid, out decided_at timestamptz,
                                                 out reason text)
language sql stable security definer
set search_path = ''
as $$
  select coalesce(pg_catalog.replace(l.event_type, 'security_alert.', ''), 'open'),
         (l.payload ->> 'decided_by')::uuid, l.occurred_at, l.payload ->> 'reason'
    from (select 1) one
    left join lateral (
      select a.event_type, a.payload, a.occurred_at from audit.audit_log a
       where a.event_type in ('security_alert.acknowledged', 'security_alert.closed')
         and a.payload ->> 'alert_id' = security_alert_review.alert_id::text
       order by a.seq desc limit 1) l on true
$$;
create index audit_log_security_alert_decision_idx on audit.audit_log ((payload ->> 'alert_id'))
  where event_type in ('security_alert.acknowledged', 'security_alert.closed');

create function cs_private.security_alerts()
returns table (id uuid, kind text, raised_at text, user_id uuid, printed_name text, failed_attempts integer,
               client_addr text, application_name text, lock_kind text, still_locked boolean, state text,
               decided_by uuid, decided_by_name text, decided_at text, decision_reason text)
language plpgsql stable security definer
set search_path = ''
as $$
begin
  if not cs_private.is_admin() then
    raise exception 'only an administrator may read the security alerts' using errcode = 'CS403';
  end if;
  return query
  select s.id, s.kind, audit.occurred_at_text(s.raised_at), s.user_id, p.printed_name,
         (s.detail ->> 'failed_attempts')::integer, s.detail ->> 'client_addr', s.detail ->> 'application_name',
         cs_private.lock_kind_of_alert(s.kind),
         case cs_private.lock_kind_of_alert(s.kind)
           when 'signing' then
             case when s.detail ? 'lock_id'
                  then exists (select 1 from cs_private.signing_lock l
                                where l.id = (s.detail ->> 'lock_id')::uuid and l.unlocked_at is null)
                  else cs_private.signing_locked(s.user_id) end
           when 'sign_in' then
             case when s.detail ? 'lock_id'
                  then exists (select 1 from cs_private.sign_in_lock l
                                where l.id = (s.detail ->> 'lock_id')::uuid and l.unlocked_at is null)
                  else cs_private.sign_in_locked(s.user_id) end
           else false end,
         r.state, r.decided_by, dp.printed_name, audit.occurred_at_text(r.decided_at), r.reason
    from audit.security_alert s
    left join cro.user_profile p on p.user_id = s.user_id
    cross join lateral cs_private.security_alert_review(s.id) r
    left join cro.user_profile dp on dp.user_id = r.decided_by
   order by s.raised_at desc, s.id
   limit 5000;
end
$$;

-- Acknowledge (seen, being looked into) or close (dealt with) an alert, with a reason. A closed
-- alert stays closed; acknowledging twice is refused.
create function cs_private.review_security_alert(alert_id uuid, decision text, reason text) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  alert audit.security_alert;
  current_state text;
begin
  if not cs_private.is_admin() then
    raise exception 'only an administrator may review a security alert' using errcode = 'CS403';
  end if;
  if decision is null or decision not in ('acknowledged', 'closed') then
    raise exception 'a security alert is acknowledged or closed, not %', coalesce(decision, 'nothing')
      using errcode = 'CS422';
  end if;
  if reason is null or btrim(reason) = '' then
    raise exception 'say why the alert is %', decision using errcode = 'CS422';
  end if;
  if length(reason) > 2000 then
    raise exception 'the reason is longer than 2000 characters' using errcode = 'CS422';
  end if;
  perform pg_catalog.pg_advisory_xact_lock(4242021, pg_catalog.hashtext(alert_id::text));
  select * into alert from audit.security_alert s where s.id = alert_id;
  if not found then
    raise exception 'no security alert %', alert_id using errcode = 'CS404';
  end if;
  select r.state into current_state from cs_private.security_alert_review(alert_id) r;
  if current_state = 'closed' then
    raise exception 'that alert is already closed' using errcode = 'CS409';
  end if;
  if current_state = decision then
    raise exception 'that alert is already %', decision using errcode = 'CS409';
  end if;
  perform cs_private.audit_append('security_alert.' || decision, jsonb_build_object(
    'alert_id', alert_id, 'kind', alert.kind, 'user_id', alert.user_id, 'decided_by', uid, 'reason', reason));
  return jsonb_build_object('alert_id', alert_id, 'state', decision);
end
$$;

-- The one unlock rule, for both locks. The administrator's verified re-authentication for
-- ceremony_id (at most 5 minutes old) is spent by the unlock, as sign_batch spends a signer's.
create function cs_private.unlock_account(person uuid, lock_kind text, reason text, ceremony_id uuid)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_admin_over(person, reason, 'unlock an account');
  attempt cs_private.reauth_attempt;
  sign_in cs_private.sign_in_lock;
  signing_lock_id uuid;
begin
  if lock_kind is null or lock_kind not in ('signing', 'sign_in') then
    raise exception 'the lock to lift is signing or sign_in, not %', coalesce(lock_kind, 'nothing')
      using errcode = 'CS422';
  end if;
  if length(reason) > 2000 then
    raise exception 'the reason is longer than 2000 characters' using errcode = 'CS422';
  end if;
  perform cs_private.require_gateway_reauth();
  attempt := cs_private.fresh_reauth(ceremony_id);
  if lock_kind = 'signing' then
    select l.id into signing_lock_id from cs_private.signing_lock l
     where l.user_id = person and l.unlocked_at is null for update;
    if not found then
      raise exception 'that account is not locked for signing' using errcode = 'CS409';
    end if;
    update cs_private.signing_lock
       set unlocked_at = clock_timestamp(), unlocked_by = uid, unlock_reason = reason
     where id = signing_lock_id;
    perform cs_private.audit_append('signing.unlocked', jsonb_build_object(
      'user_id', person, 'unlocked_by', uid, 'reason', reason, 'reauth_attempt_id', attempt.id));
  else
    select * into sign_in from cs_private.sign_in_lock l
     where l.user_id = person and l.unlocked_at is null for update;
    if not found then
      raise exception 'that account is not locked for sign-in' using errcode = 'CS409';
    end if;
    if sign_in.reason = 'password_changed_outside' then
      raise exception 'the password of that account was changed outside Countersign; set a new one with reset_password'
        using errcode = 'CS409';
    end if;
    perform cs_private.release_sign_in_lock(sign_in, uid, reason);
  end if;
  update cs_private.reauth_attempt set outcome = 'consumed', consumed_at = clock_timestamp() where id = attempt.id;
  perform cs_private.audit_append('account.unlocked', jsonb_build_object(
    'user_id', person, 'lock_kind', lock_kind, 'unlocked_by', uid, 'reason', reason,
    'reauth_attempt_id', attempt.id, 'ceremony_id', ceremony_id));
  return jsonb_build_object('user_id', person, 'lock_kind', lock_kind, 'unlocked', true);
end
$$;

create function public.security_alerts()
returns table (id uuid, kind text, raised_at text, user_id uuid, printed_name text, failed_attempts integer,
               client_addr text, application_name text, lock_kind text, still_locked boolean, state text,
               decided_by uuid, decided_by_name text, decided_at text, decision_reason text)
language sql stable set search_path = '' as $$ select * from cs_private.security_alerts() $$;
create function public.review_security_alert(alert_id uuid, decision text, reason text) returns jsonb
language sql volatile set search_path = ''
as $$ select cs_private.review_security_alert(alert_id, decision, reason) $$;
create function public.unlock_account(person uuid, lock_kind text, reason text, ceremony_id uuid) returns jsonb
language sql volatile set search_path = ''
as $$ select cs_private.unlock_account(person, lock_kind, reason, ceremony_id) $$;

revoke all on function cs_private.lock_kind_of_alert(text), cs_private.security_alert_review(uuid),
  cs_private.security_alerts(), cs_private.review_security_alert(uuid, text, text),
  cs_private.unlock_account(uuid, text, text, uuid),
  public.security_alerts(), public.review_security_alert(uuid, text, text),
  public.unlock_account(uuid, text, text, uuid)
  from public;
grant execute on function cs_private.security_alerts(), cs_private.review_security_alert(uuid, text, text),
  cs_private.unlock_account(uuid, text, text, uuid),
  public.security_alerts(), public.review_security_alert(uuid, text, text),
  public.unlock_account(uuid, text, text, uuid)
  to authenticated;

-- Superseded: an unlock with a reason only, and no re-authentication.
revoke execute on function public.unlock_signing(uuid, text), cs_private.unlock_signing(uuid, text),
  public.unlock_sign_in(uuid, text), cs_private.unlock_sign_in(uuid, text)
  from authenticated;

do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on function public.security_alerts(), public.review_security_alert(uuid, text, text),
      public.unlock_account(uuid, text, text, uuid) from anon;
  end if;
end
$$;

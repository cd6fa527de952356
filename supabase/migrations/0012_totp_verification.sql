-- TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second step) verified by the database itself, against
-- secrets that only these security-definer functions read (cs_private.totp_factor has RLS and no
-- grants). One step of clock drift either way. A code is single use: a step once accepted, and every
-- step before it, is never accepted again for that person (the factor row is locked while checking,
-- so two concurrent uses of one code cannot both pass). Enrolment: the workstation generates the
-- secret (otplib), shows it as an otpauth:// URI and QR code, and stores it unconfirmed; the first
-- correct code confirms it. Replacing a confirmed factor takes an administrator's audited reset.

-- pgcrypto for HMAC. Supabase has it in schema `extensions`; elsewhere it is installed there. The
-- wrapper is created against whichever schema holds it, so no search_path is trusted.
do $do$
declare
  ext_schema text;
begin
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pgcrypto') then
    create schema if not exists extensions;
    create extension pgcrypto with schema extensions;
  end if;
  select extnamespace::regnamespace::text into ext_schema from pg_catalog.pg_extension where extname = 'pgcrypto';
  execute format(
    $f$create function cs_private.hmac_sha1(message bytea, key bytea) returns bytea
       language sql immutable strict parallel safe
       set search_path = ''
       as $b$ select %s.hmac(message, key, 'sha1') $b$ $f$,
    ext_schema);
end
$do$;

alter table cs_private.totp_factor add column last_used_step bigint;

create function cs_private.base32_decode(encoded text) returns bytea
language plpgsql immutable strict parallel safe
set search_path = ''
as $$
declare
  alphabet constant text := 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  clean constant text := upper(replace(rtrim(encoded, '='), ' ', ''));
  buffer integer := 0;
  bits integer := 0;
  value integer;
  decoded bytea := '\x'::bytea;
begin
  for i in 1 .. length(clean) loop
    value := strpos(alphabet, substr(clean, i, 1)) - 1;
    if value < 0 then
      raise exception 'the TOTP secret is not base32' using errcode = 'CS422';
    end if;
    -- At most 12 significant bits are ever pending; the mask keeps the integer small.
    buffer := ((buffer << 5) | value) & 65535;
    bits := bits + 5;
    if bits >= 8 then
      bits := bits - 8;
      decoded := decoded || set_byte('\x00'::bytea, 0, (buffer >> bits) & 255);
    end if;
  end loop;
  return decoded;
end
$$;

-- The 6-digit code of one 30-second step (RFC 4226 dynamic truncation).
create function cs_private.totp_code(secret bytea, step bigint) returns text
language plpgsql immutable strict parallel safe
set search_path = ''
as $$
declare
  mac bytea := cs_private.hmac_sha1(int8send(step), secret);
  pos integer := get_byte(mac, 19) & 15;
  truncated bigint;
begin
  truncated := ((get_byte(mac, pos) & 127)::bigint << 24) | (get_byte(mac, pos + 1)::bigint << 16)
             | (get_byte(mac, pos + 2)::bigint << 8) | get_byte(mac, pos + 3)::bigint;
  return lpad((truncated % 1000000)::text, 6, '0');
end
$$;

create function cs_private.totp_step_now() returns bigint
language sql volatile
set search_path = ''
as $$ select floor(extract(epoch from clock_timestamp()) / 30)::bigint $$;

-- Checks a code for a person and, when it is good, consumes its step. reason is null on success,
-- else 'no_factor', 'not_confirmed', 'malformed', 'reused' or 'wrong'.
create function cs_private.accept_totp(for_user uuid, code text, confirmed_only boolean,
                                       out accepted_step bigint, out reason text)
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  factor cs_private.totp_factor;
  secret bytea;
  now_step constant bigint := cs_private.totp_step_now();
begin
  if code is null or code !~ '^[0-9]{6}$' then
    reason := 'malformed';
    return;
  end if;
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
  for step in now_step - 1 .. now_step + 1 loop
    if cs_private.totp_code(secret, step) = code then
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

create function cs_private.require_user() returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
begin
  if uid is null then
    raise exception 'sign in first' using errcode = 'CS403';
  end if;
  return uid;
end
$$;

create function cs_private.begin_totp_enrolment(secret_base32 text) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
begin
  if exists (select 1 from cs_private.totp_factor f where f.user_id = uid and f.confirmed_at is not null) then
    raise exception 'you already have a confirmed authenticator'
      using errcode = 'CS409', hint = 'To replace it, ask an administrator to reset it (the reset is audited).';
  end if;
  if secret_base32 is null or secret_base32 !~ '^[A-Z2-7]{32,128}$' then
    raise exception 'a TOTP secret must be at least 160 bits, base32 without padding'
      using errcode = 'CS422';
  end if;
  insert into cs_private.totp_factor (user_id, secret_base32, confirmed_at, created_at, last_used_step)
  values (uid, secret_base32, null, now(), null)
  on conflict (user_id) do update
    set secret_base32 = excluded.secret_base32, confirmed_at = null, created_at = now(), last_used_step = null;
  perform cs_private.audit_append('totp.enrolment_started', jsonb_build_object('user_id', uid));
end
$$;

-- Returns {ok: true} or {ok: false, reason}; never raises for a wrong code.
create function cs_private.confirm_totp_enrolment(code text) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  checked record;
begin
  if exists (select 1 from cs_private.totp_factor f where f.user_id = uid and f.confirmed_at is not null) then
    return jsonb_build_object('ok', false, 'reason', 'already_confirmed');
  end if;
  select * into checked from cs_private.accept_totp(uid, code, false);
  if checked.reason is not null then
    return jsonb_build_object('ok', false, 'reason', checked.reason);
  end if;
  update cs_private.totp_factor set confirmed_at = now() where user_id = uid;
  perform cs_private.audit_append('totp.enrolled', jsonb_build_object('user_id', uid));
  return jsonb_build_object('ok', true);
end
$$;

create function cs_private.reset_totp(person uuid, reason text) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  if not cs_private.is_admin() then
    raise exception 'only an administrator may reset an authenticator' using errcode = 'CS403';
  end if;
  if reason is null or length(btrim(reason)) = 0 then
    raise exception 'say why the authenticator is reset' using errcode = 'CS422';
  end if;
  delete from cs_private.totp_factor where user_id = person;
  perform cs_private.audit_append('totp.reset', jsonb_build_object(
    'user_id', person, 'reset_by', auth.uid(), 'reason', reason));
end
$$;

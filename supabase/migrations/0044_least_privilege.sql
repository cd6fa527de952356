-- Least privilege for functions (issue 17). Every function is executable by PUBLIC when it is
-- created, and 0010's `alter default privileges in schema cs_private revoke execute ... from public`
-- did nothing: per-schema default privileges can only add to the global ones. So 39 of the 72
-- functions in cs_private were callable by every signed-in person, security-definer helpers
-- included (accept_totp for anyone's codes, fail_reauth for anyone's audit entries, live_row_json
-- for any live row).
--
-- From here on:
--   1. Functions the migrating role creates start closed: a global default privilege (for the role
--      that runs the migrations) revokes EXECUTE from PUBLIC on every later function.
--   2. Every existing function of the project schemas loses EXECUTE for PUBLIC, anon and
--      authenticated, and gets back exactly the grants below: the API a person calls, the policy
--      helpers RLS evaluates as the caller, column defaults, and the pure helpers a security-invoker
--      API function runs as the caller. Everything else is reached only from inside
--      security-definer functions and triggers, which run as the owner.
--   3. The signing content a reader may recompute (public.signing_content) runs entirely as the
--      caller: live_row_json, signing_content and signing_content_hash become SECURITY INVOKER, so
--      RLS decides which staging record and which live row they read. Called from sign_batch and the
--      staging trigger, which run as the owner, they still see every row.
--
-- docs/access-matrix.md lists every function with its security, search_path and grantees, and
-- test/db/functionPrivileges.test.ts checks the catalog against it.

-- 1. Functions created later by the migrating role start closed (global, not per schema).
alter default privileges for role current_user revoke execute on functions from public;
-- Supabase grants anon and authenticated EXECUTE on every new function in schema public through
-- per-schema default privileges of its migrating role. Those are grants of that schema's own entry,
-- so that entry can take them back (a per-schema revoke cannot touch a global grant, which is why
-- PUBLIC is revoked globally above). Nothing of Countersign's in public is for anon, and what
-- authenticated may call is granted by name.
do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    alter default privileges for role current_user in schema public revoke execute on functions from anon;
  end if;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticated') then
    alter default privileges for role current_user in schema public revoke execute on functions from authenticated;
  end if;
end
$$;

-- 2. Close every existing function of the project schemas (not extension members, and only the
-- ones the migrating role owns: on Supabase, auth.uid() and friends belong to the platform).
do $$
declare
  f regprocedure;
begin
  for f in
    select p.oid::regprocedure
      from pg_catalog.pg_proc p
      join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     where n.nspname in ('auth', 'cro', 'diary', 'audit', 'cs_private', 'public')
       and p.proowner = (select oid from pg_catalog.pg_roles where rolname = current_user)
       and not exists (select 1 from pg_catalog.pg_depend d
                        where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
  loop
    execute pg_catalog.format('revoke all on routine %s from public', f);
    if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
      execute pg_catalog.format('revoke all on routine %s from anon', f);
    end if;
    execute pg_catalog.format('revoke all on routine %s from authenticated', f);
  end loop;
end
$$;

-- 3. The signing content as the caller sees it (see above).
alter function cs_private.live_row_json(text, uuid) security invoker;
alter function cs_private.signing_content(cro.staging_record) security invoker;
alter function cs_private.signing_content_hash(cro.staging_record) security invoker;

-- PostgreSQL's advisory locks are open to everyone, and the server's own rules hold some of them
-- until commit (the audit chain's writer lock 4242001, a ceremony's 4242002, ...): a person holding
-- one in an idle session would stall every regulated write. Nobody but the owner needs them here.
-- (Only a superuser may change pg_catalog's grants; where the migrating role is not one, as on
-- Supabase, people have no SQL of their own to call them with.)
do $$
declare
  f regprocedure;
begin
  if coalesce((select rolsuper from pg_catalog.pg_roles where rolname = current_user), false) then
    for f in select p.oid::regprocedure from pg_catalog.pg_proc p
              where p.pronamespace = 'pg_catalog'::regnamespace and p.proname like 'pg%advisory%' loop
      execute pg_catalog.format('revoke execute on function %s from public', f);
    end loop;
  end if;
end
$$;

-- The grants, by purpose.

-- Who is calling (ours only exists outside Supabase; Supabase's own is left as Supabase grants it).
do $$
begin
  if exists (select 1 from pg_catalog.pg_proc p
              where p.oid = 'auth.uid()'::regprocedure
                and p.proowner = (select oid from pg_catalog.pg_roles where rolname = current_user)) then
    grant execute on function auth.uid() to anon, authenticated;
  end if;
end
$$;

-- Policy helpers: RLS policies evaluate them as the caller. Each answers about the caller only.
grant execute on function cs_private.is_admin(), cs_private.has_any_role(cro.app_role[]),
  cs_private.my_study_ids(cro.app_role[]), cs_private.my_sponsor_id(), cs_private.my_site_ids(text[])
  to authenticated;

-- Column defaults run with the inserting person's rights (they read and write nothing). On Supabase,
-- server-side tools that hold the service key insert as service_role, which bypasses RLS but not this.
grant execute on function cs_private.time_ordered_uuid(), cs_private.uuid_v7_portable() to authenticated;
do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
    grant execute on function cs_private.time_ordered_uuid(), cs_private.uuid_v7_portable() to service_role;
  end if;
end
$$;

-- Pure functions that security-invoker API functions run as the caller: the content hash
-- (public.signing_content) and the audit entry's time text (the workstation's audit stream).
grant execute on function cs_private.utf16_sort_key(text), cs_private.canonical_number(numeric),
  cs_private.canonical_json(jsonb), cs_private.sha256_hex(text), cs_private.json_sha256(jsonb),
  audit.occurred_at_text(timestamptz)
  to authenticated;
grant execute on function cs_private.signing_content_of(uuid), cs_private.signing_content(cro.staging_record),
  cs_private.live_row_json(text, uuid)
  to authenticated;

-- The API (0016, 0030, 0031, 0040): the public wrappers PostgREST exposes, and the cs_private
-- function each one calls as the caller (the wrappers are security invoker).
grant execute on function
  public.begin_totp_enrolment(text), public.confirm_totp_enrolment(text), public.reset_totp(uuid, text),
  public.my_signing_status(), public.begin_reauth(uuid), public.record_reauth_failure(uuid),
  public.cancel_reauth(uuid), public.complete_reauth(uuid, text), public.unlock_signing(uuid, text),
  public.signing_content(uuid), public.sign_batch(uuid, text, cro.signature_intent, text, text, jsonb),
  public.open_for_review(uuid[]), public.promote(uuid[]), public.complete_reauth_from_claims(uuid),
  public.record_reauth_totp_failure(uuid), public.sign_release(uuid, text, text, text, uuid, text),
  public.staging_queue(integer, timestamptz, uuid, cro.staging_state[], uuid), public.staging_detail(uuid),
  public.signing_subjects(uuid[]), public.my_identity(), public.signature_meanings()
  to authenticated;
grant execute on function
  cs_private.begin_totp_enrolment(text), cs_private.confirm_totp_enrolment(text), cs_private.reset_totp(uuid, text),
  cs_private.my_signing_status(), cs_private.begin_reauth(uuid), cs_private.record_reauth_failure(uuid),
  cs_private.cancel_reauth(uuid), cs_private.complete_reauth(uuid, text), cs_private.unlock_signing(uuid, text),
  cs_private.sign_batch_checked(uuid, text, cro.signature_intent, text, text, jsonb),
  cs_private.open_for_review(uuid[]), cs_private.promote(uuid[]), cs_private.complete_reauth_from_claims(uuid),
  cs_private.record_reauth_totp_failure(uuid), cs_private.sign_release(uuid, text, text, text, uuid, text)
  to authenticated;

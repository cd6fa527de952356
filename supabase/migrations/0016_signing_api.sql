-- The signing API a workstation calls (PostgREST exposes schema public as RPC under Supabase). Each
-- is a thin security-invoker wrapper over the security-definer function in cs_private that holds the
-- rule, so the exposed schema holds no privileged code.

create function public.begin_totp_enrolment(secret_base32 text) returns void
language sql volatile set search_path = '' as $$ select cs_private.begin_totp_enrolment(secret_base32) $$;
create function public.confirm_totp_enrolment(code text) returns jsonb
language sql volatile set search_path = '' as $$ select cs_private.confirm_totp_enrolment(code) $$;
create function public.reset_totp(person uuid, reason text) returns void
language sql volatile set search_path = '' as $$ select cs_private.reset_totp(person, reason) $$;

create function public.my_signing_status() returns jsonb
language sql stable set search_path = '' as $$ select cs_private.my_signing_status() $$;
create function public.begin_reauth(ceremony_id uuid) returns jsonb
language sql volatile set search_path = '' as $$ select cs_private.begin_reauth(ceremony_id) $$;
create function public.record_reauth_failure(attempt_id uuid) returns jsonb
language sql volatile set search_path = '' as $$ select cs_private.record_reauth_failure(attempt_id) $$;
create function public.cancel_reauth(attempt_id uuid) returns void
language sql volatile set search_path = '' as $$ select cs_private.cancel_reauth(attempt_id) $$;
create function public.complete_reauth(attempt_id uuid, totp_code text) returns jsonb
language sql volatile set search_path = '' as $$ select cs_private.complete_reauth(attempt_id, totp_code) $$;
create function public.unlock_signing(person uuid, reason text) returns void
language sql volatile set search_path = '' as $$ select cs_private.unlock_signing(person, reason) $$;

create function public.signing_content(staging_id uuid) returns jsonb
language sql stable set search_path = '' as $$ select cs_private.signing_content_of(staging_id) $$;
create function public.sign_batch(ceremony_id uuid, nonce text, intent cro.signature_intent, meaning text,
                                  signature_comment text, manifest jsonb) returns jsonb
language sql volatile set search_path = ''
as $$ select cs_private.sign_batch(ceremony_id, nonce, intent, meaning, signature_comment, manifest) $$;
create function public.open_for_review(staging_ids uuid[]) returns integer
language sql volatile set search_path = '' as $$ select cs_private.open_for_review(staging_ids) $$;
create function public.promote(staging_ids uuid[]) returns jsonb
language sql volatile set search_path = '' as $$ select cs_private.promote(staging_ids) $$;

-- Functions are executable by PUBLIC by default in schema public; only signed-in people may call these.
revoke execute on function public.begin_totp_enrolment(text), public.confirm_totp_enrolment(text),
  public.reset_totp(uuid, text), public.my_signing_status(), public.begin_reauth(uuid),
  public.record_reauth_failure(uuid), public.cancel_reauth(uuid), public.complete_reauth(uuid, text),
  public.unlock_signing(uuid, text), public.signing_content(uuid),
  public.sign_batch(uuid, text, cro.signature_intent, text, text, jsonb), public.open_for_review(uuid[]),
  public.promote(uuid[])
  from public;
grant execute on function public.begin_totp_enrolment(text), public.confirm_totp_enrolment(text),
  public.reset_totp(uuid, text), public.my_signing_status(), public.begin_reauth(uuid),
  public.record_reauth_failure(uuid), public.cancel_reauth(uuid), public.complete_reauth(uuid, text),
  public.unlock_signing(uuid, text), public.signing_content(uuid),
  public.sign_batch(uuid, text, cro.signature_intent, text, text, jsonb), public.open_for_review(uuid[]),
  public.promote(uuid[])
  to authenticated;
grant execute on function cs_private.begin_totp_enrolment(text), cs_private.confirm_totp_enrolment(text),
  cs_private.reset_totp(uuid, text), cs_private.my_signing_status(), cs_private.begin_reauth(uuid),
  cs_private.record_reauth_failure(uuid), cs_private.cancel_reauth(uuid), cs_private.complete_reauth(uuid, text),
  cs_private.unlock_signing(uuid, text), cs_private.signing_content_of(uuid),
  cs_private.sign_batch(uuid, text, cro.signature_intent, text, text, jsonb), cs_private.open_for_review(uuid[]),
  cs_private.promote(uuid[])
  to authenticated;
-- signing_content_of runs as the caller (RLS picks the record) and needs these two underneath.
grant execute on function cs_private.signing_content(cro.staging_record) to authenticated;

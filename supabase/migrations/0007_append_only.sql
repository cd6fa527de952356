-- Append-only regulated history: refused by trigger for every role, the table owner included.
-- (audit.audit_log got the same triggers in 0004.)

create trigger provenance_event_append_only before update or delete on cro.provenance_event
  for each row execute function cs_private.refuse_change_to_append_only();
create trigger provenance_event_no_truncate before truncate on cro.provenance_event
  for each statement execute function cs_private.refuse_change_to_append_only();

create trigger signature_event_append_only before update or delete on cro.signature_event
  for each row execute function cs_private.refuse_change_to_append_only();
create trigger signature_event_no_truncate before truncate on cro.signature_event
  for each statement execute function cs_private.refuse_change_to_append_only();

create trigger record_audit_append_only before update or delete on diary.record_audit
  for each row execute function cs_private.refuse_change_to_append_only();
create trigger record_audit_no_truncate before truncate on diary.record_audit
  for each statement execute function cs_private.refuse_change_to_append_only();

-- A connection of the deployment itself (migrations, provisioning, demo seeding), never a
-- person's login role nor the PostgREST gateway. Only such a session may use bootstrap mode.
create function cs_private.is_operator_session() returns boolean
language sql stable security definer
set search_path = ''
as $$
  select not exists (select 1 from cs_private.login_role where role_name = session_user)
     and session_user not in ('authenticator', 'authenticated', 'anon')
$$;

-- Bootstrap mode (set local countersign.bootstrap = 'on' in an operator session) lets the
-- provisioning and demo scripts create reference data (studies, their first live rows) and keep
-- historical timestamps. A person's session cannot use it.
create function cs_private.in_bootstrap() returns boolean
language sql stable
set search_path = ''
as $$
  select coalesce(current_setting('countersign.bootstrap', true), '') = 'on'
     and cs_private.is_operator_session()
$$;

create function cs_private.audit_signature() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  perform cs_private.audit_append('signature.recorded', jsonb_build_object(
    'signature_id', new.id, 'user_id', new.user_id, 'intent', new.intent,
    'subject_kind', new.subject_kind, 'subject_id', new.subject_id, 'study_id', new.study_id,
    'meaning_of_signature', new.meaning_of_signature, 'content_hash', new.content_hash,
    'signed_at', audit.occurred_at_text(new.signed_at), 're_auth_at', audit.occurred_at_text(new.re_auth_at),
    'ceremony_id', new.ceremony_id));
  return null;
end
$$;
create trigger signature_event_audit after insert on cro.signature_event
  for each row execute function cs_private.audit_signature();

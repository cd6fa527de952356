-- Diary rules of seed 003: record_audit is the event store and the only way in; record_state is
-- kept by trigger only; a write whose parent_audit_id is not the record's current head is a
-- conflict (SQLSTATE CS409) and changes nothing; annotations never touch patient data. Diary
-- events, annotations and access changes append to audit.audit_log in the same transaction,
-- with hashes rather than the patient's own words (the audit chain is read by QA; PHI stays in
-- the diary tables).

create function cs_private.record_audit_before_insert() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  head diary.record_state;
  caller uuid := auth.uid();
begin
  new.server_timestamp := clock_timestamp();
  if caller is not null then
    new.created_by := caller;
    new.role := case
      when caller = new.patient_id then 'USER'
      when exists (select 1 from cro.role_assignment where user_id = caller and role = 'admin') then 'ADMIN'
      else 'STAFF' end;
  elsif new.created_by is null or new.role is null then
    raise exception 'record_audit needs created_by and role outside an authenticated session'
      using errcode = 'CS422';
  end if;
  if new.operation = 'ADMIN_CORRECTION' and new.role not in ('ADMIN', 'SYSTEM') then
    raise exception 'only an admin may record an ADMIN_CORRECTION' using errcode = 'CS403';
  end if;

  select * into head from diary.record_state where event_uuid = new.event_uuid for update;
  if head.event_uuid is null then
    if new.parent_audit_id is not null or new.operation <> 'USER_CREATE' then
      raise exception 'diary record % does not exist on the server (conflict)', new.event_uuid
        using errcode = 'CS409', detail = json_build_object('current_audit_id', null)::text;
    end if;
  else
    if new.operation = 'USER_CREATE' then
      raise exception 'diary record % already exists (conflict)', new.event_uuid
        using errcode = 'CS409', detail = json_build_object('current_audit_id', head.last_audit_id)::text;
    end if;
    if new.parent_audit_id is distinct from head.last_audit_id then
      raise exception 'diary record % moved on: parent_audit_id % is not its current entry %',
        new.event_uuid, new.parent_audit_id, head.last_audit_id
        using errcode = 'CS409', detail = json_build_object('current_audit_id', head.last_audit_id)::text,
              hint = 'Fetch the current entry, resolve, and resubmit with it as parent_audit_id.';
    end if;
    if new.patient_id <> head.patient_id or new.site_id <> head.site_id then
      raise exception 'diary record % belongs to another patient or site', new.event_uuid
        using errcode = 'CS403';
    end if;
  end if;
  return new;
end
$$;

create function cs_private.record_audit_after_insert() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into diary.record_state as s (event_uuid, patient_id, site_id, current_data, version, last_audit_id, is_deleted)
  values (new.event_uuid, new.patient_id, new.site_id, new.data, 1, new.audit_id, new.operation = 'USER_DELETE')
  on conflict (event_uuid) do update
    set current_data = excluded.current_data,
        version = s.version + 1,
        last_audit_id = excluded.last_audit_id,
        is_deleted = excluded.is_deleted;
  perform cs_private.audit_append('diary.event', jsonb_build_object(
    'audit_id', new.audit_id, 'event_uuid', new.event_uuid, 'patient_id', new.patient_id,
    'site_id', new.site_id, 'operation', new.operation, 'parent_audit_id', new.parent_audit_id,
    'data_sha256', cs_private.json_sha256(new.data),
    'change_reason_sha256', cs_private.sha256_hex(new.change_reason)));
  return null;
end
$$;

create trigger record_audit_before_insert before insert on diary.record_audit
  for each row execute function cs_private.record_audit_before_insert();
create trigger record_audit_after_insert after insert on diary.record_audit
  for each row execute function cs_private.record_audit_after_insert();

-- record_state: only the record_audit trigger (trigger depth > 1) may write it.
create function cs_private.guard_record_state() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if pg_trigger_depth() > 1 then
    return coalesce(new, old);
  end if;
  raise exception '% on diary.record_state refused: the read model is derived from diary.record_audit only', tg_op
    using errcode = 'CS403', hint = 'Insert an event into diary.record_audit instead.';
end
$$;
create trigger record_state_guard before insert or update or delete on diary.record_state
  for each row execute function cs_private.guard_record_state();
create trigger record_state_no_truncate before truncate on diary.record_state
  for each statement execute function cs_private.refuse_delete_of_history();

create function cs_private.annotation_before_write() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  head diary.record_state;
begin
  if tg_op = 'INSERT' then
    select * into head from diary.record_state where event_uuid = new.event_uuid;
    if head.event_uuid is null then
      raise exception 'diary record % does not exist', new.event_uuid using errcode = 'CS422';
    end if;
    -- The server, not the client, says whose record and which site this is.
    new.patient_id := head.patient_id;
    new.site_id := head.site_id;
    if not exists (select 1 from diary.record_audit
                   where audit_id = new.parent_audit_id and event_uuid = new.event_uuid) then
      raise exception 'parent_audit_id % is not an entry of diary record %', new.parent_audit_id, new.event_uuid
        using errcode = 'CS422';
    end if;
    if auth.uid() is not null then
      new.investigator_id := auth.uid();
    end if;
    new.resolved := false;
    new.resolved_at := null;
    new.resolved_by := null;
    if not cs_private.in_bootstrap() then
      new.created_at := now();
    end if;
    new.updated_at := new.created_at;
    return new;
  end if;
  -- UPDATE: only the resolution may change (answer/close/reopen is a new state, never an edit).
  if (new.annotation_id, new.event_uuid, new.patient_id, new.parent_audit_id, new.investigator_id,
      new.site_id, new.annotation_kind, new.annotation_text, new.requires_response, new.created_at)
     is distinct from
     (old.annotation_id, old.event_uuid, old.patient_id, old.parent_audit_id, old.investigator_id,
      old.site_id, old.annotation_kind, old.annotation_text, old.requires_response, old.created_at) then
    raise exception 'an annotation is never edited; add a new one instead' using errcode = 'CS403';
  end if;
  if new.resolved is distinct from old.resolved then
    new.resolved_at := case when new.resolved then now() end;
    new.resolved_by := case when new.resolved then auth.uid() end;
  else
    new.resolved_at := old.resolved_at;
    new.resolved_by := old.resolved_by;
  end if;
  new.updated_at := now();
  return new;
end
$$;

create function cs_private.annotation_audit() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform cs_private.audit_append('diary.annotation', jsonb_build_object(
      'annotation_id', new.annotation_id, 'event_uuid', new.event_uuid, 'site_id', new.site_id,
      'parent_audit_id', new.parent_audit_id, 'annotation_kind', new.annotation_kind,
      'requires_response', new.requires_response,
      'annotation_text_sha256', cs_private.sha256_hex(new.annotation_text)));
  elsif new.resolved is distinct from old.resolved then
    perform cs_private.audit_append(
      case when new.resolved then 'diary.annotation_resolved' else 'diary.annotation_reopened' end,
      jsonb_build_object('annotation_id', new.annotation_id, 'event_uuid', new.event_uuid,
                         'site_id', new.site_id));
  end if;
  return null;
end
$$;

create trigger investigator_annotations_before_write before insert or update on diary.investigator_annotations
  for each row execute function cs_private.annotation_before_write();
create trigger investigator_annotations_audit after insert or update on diary.investigator_annotations
  for each row execute function cs_private.annotation_audit();
create trigger investigator_annotations_no_delete before delete on diary.investigator_annotations
  for each row execute function cs_private.refuse_delete_of_history();
create trigger investigator_annotations_no_truncate before truncate on diary.investigator_annotations
  for each statement execute function cs_private.refuse_delete_of_history();

-- Who may see what is regulated too: grants and revocations of access are audited.
create function cs_private.access_change_audit() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  perform cs_private.audit_append(
    case when tg_op = 'INSERT' then 'access.granted' else 'access.revoked' end,
    jsonb_build_object('table', tg_table_schema || '.' || tg_table_name,
                       'row', to_jsonb(case when tg_op = 'INSERT' then new else old end)));
  return null;
end
$$;

create trigger role_assignment_audit after insert or delete on cro.role_assignment
  for each row execute function cs_private.access_change_audit();
create trigger user_site_assignments_audit after insert or delete on diary.user_site_assignments
  for each row execute function cs_private.access_change_audit();
create trigger investigator_site_assignments_audit after insert or delete on diary.investigator_site_assignments
  for each row execute function cs_private.access_change_audit();
create trigger analyst_site_assignments_audit after insert or delete on diary.analyst_site_assignments
  for each row execute function cs_private.access_change_audit();

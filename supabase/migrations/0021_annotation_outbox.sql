-- Offline annotations, queries and replies (the workstation's outbox, src/main/sync/outbox.ts).
--
--   * client_request_id: the idempotency key the client picks when the annotation is made; a
--     resend after a lost reply hits the unique constraint instead of writing a second row.
--   * in_reply_to: a reply answers an earlier annotation (a query) on the same diary record.
--   * An annotation that carries a client_request_id states what the investigator saw: its
--     parent_audit_id must still be the record's current entry, or the insert fails with CS409 and
--     detail {"current_audit_id": ...}, as diary writes do (0009). The client keeps such an
--     annotation as a conflict for the person to resolve; it is never dropped. Annotations without
--     a client_request_id keep the rules of 0009 unchanged.

alter table diary.investigator_annotations
  add column client_request_id uuid unique,
  add column in_reply_to uuid references diary.investigator_annotations (annotation_id);

create function cs_private.annotation_basis_check() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  head_audit_id bigint;
begin
  if tg_op = 'UPDATE' then
    if new.client_request_id is distinct from old.client_request_id
       or new.in_reply_to is distinct from old.in_reply_to then
      raise exception 'an annotation is never edited; add a new one instead' using errcode = 'CS403';
    end if;
    return new;
  end if;
  if new.in_reply_to is not null and not exists (
      select 1 from diary.investigator_annotations
      where annotation_id = new.in_reply_to and event_uuid = new.event_uuid) then
    raise exception 'annotation % answers no annotation of diary record %', new.in_reply_to, new.event_uuid
      using errcode = 'CS422';
  end if;
  if new.client_request_id is null then
    return new;
  end if;
  -- A resend of a request that already landed: let the unique constraint say so (the client
  -- recognises it), even if the record has moved on since.
  if exists (select 1 from diary.investigator_annotations where client_request_id = new.client_request_id) then
    return new;
  end if;
  select last_audit_id into head_audit_id from diary.record_state where event_uuid = new.event_uuid;
  if head_audit_id is not null and new.parent_audit_id is distinct from head_audit_id then
    raise exception 'diary record % moved on: the annotation was made on entry %, the current entry is %',
      new.event_uuid, new.parent_audit_id, head_audit_id
      using errcode = 'CS409', detail = json_build_object('current_audit_id', head_audit_id)::text,
            hint = 'Read the current entry, then annotate it again or discard the annotation.';
  end if;
  return new;
end
$$;

create trigger investigator_annotations_basis_check before insert or update on diary.investigator_annotations
  for each row execute function cs_private.annotation_basis_check();

-- Closing a query needs a reason (issue 19), as every EDC asks: a code from a fixed list, and text
-- where the code is `other` (optional otherwise). Reopening may carry one. The reason is stored with
-- the close/reopen request (diary.annotation_resolutions, 0041), bound into the audit chain by its
-- own entry, and streamed to the workstations so the history and the inspection packet show it.
--
--   answered              the site answered the query
--   data_corrected        the data was corrected (by the patient, or as a correction annotation)
--   confirmed_as_entered  the value was confirmed as entered
--   raised_in_error       the query was raised in error
--   other                 anything else: the text says what
--
-- Why a fixed list and not a configured table: the codes are part of what an inspector reads in the
-- packet and what the chain binds; a list that can change under old entries would change their
-- meaning (docs/decisions.md). The text is the investigator's words (not the patient's), kept to
-- 2,000 characters; the chain carries its SHA-256, as it does for annotation text (0009).

alter table diary.annotation_resolutions
  add column reason_code text
    constraint annotation_resolutions_reason_code_known
    check (reason_code in ('answered', 'data_corrected', 'confirmed_as_entered', 'raised_in_error', 'other')),
  add column reason_text text
    constraint annotation_resolutions_reason_text_size
    check (reason_text is null or (length(btrim(reason_text)) between 1 and 2000));

-- Streamed to the workstation (0020's commit-safe watermark): the close/reopen history with reasons.
alter table diary.annotation_resolutions
  add column sync_xid xid8 not null default pg_catalog.pg_current_xact_id();
create index annotation_resolutions_sync_idx on diary.annotation_resolutions (sync_xid, request_id);
create trigger annotation_resolutions_touch_sync_xid before insert on diary.annotation_resolutions
  for each row execute function cs_private.touch_sync_xid();

-- The reason rule, as its own trigger: it runs after 0041's check (triggers fire in name order), so
-- a resend of a request that already landed still meets the primary key and is recognised.
create function cs_private.annotation_resolution_reason_check() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if exists (select 1 from diary.annotation_resolutions where request_id = new.request_id) then
    return new;
  end if;
  new.reason_text := nullif(btrim(new.reason_text), '');
  if new.resolved and new.reason_code is null then
    raise exception 'closing a query needs a reason'
      using errcode = 'CS422',
            hint = 'Choose one: answered, data_corrected, confirmed_as_entered, raised_in_error, or other with a text.';
  end if;
  if new.reason_code = 'other' and new.reason_text is null then
    raise exception 'a reason of "other" needs a text that says what it is' using errcode = 'CS422';
  end if;
  if new.reason_code is null and new.reason_text is not null then
    raise exception 'a reason text needs a reason code (other, if none fits)' using errcode = 'CS422';
  end if;
  return new;
end
$$;

create trigger annotation_resolutions_reason_check before insert on diary.annotation_resolutions
  for each row execute function cs_private.annotation_resolution_reason_check();

-- The chain binds the reason: its own entry, after 0041's update has written the close or reopen.
create function cs_private.annotation_resolution_reason_audit() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.reason_code is not null then
    perform cs_private.audit_append('diary.annotation_resolution_reason', jsonb_build_object(
      'request_id', new.request_id, 'annotation_id', new.annotation_id, 'event_uuid', new.event_uuid,
      'site_id', new.site_id, 'resolved', new.resolved, 'reason_code', new.reason_code,
      'reason_text_sha256', case when new.reason_text is null then null
                                 else cs_private.sha256_hex(new.reason_text) end));
  end if;
  return null;
end
$$;

create trigger annotation_resolutions_reason_audit after insert on diary.annotation_resolutions
  for each row execute function cs_private.annotation_resolution_reason_audit();

-- Trigger functions: nobody calls them (0044's rule: closed to every person).
revoke all on function cs_private.annotation_resolution_reason_check() from public, anon, authenticated;
revoke all on function cs_private.annotation_resolution_reason_audit() from public, anon, authenticated;

-- One way to close or reopen a query: a request with its reason. 0010 let an investigator also set
-- `resolved` with a plain UPDATE, which would close a query without one; that grant and its policy go.
-- 0041's trigger applies each request as the table's owner, so the requests still work.
revoke update (resolved) on diary.investigator_annotations from authenticated;
drop policy "investigator can resolve or reopen annotations at their sites" on diary.investigator_annotations;

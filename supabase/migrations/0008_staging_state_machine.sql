-- The staging state machine, enforced by the database for every role, the owner included:
--
--   proposed ──► reviewing ──► signed ──► promoted
--                    │
--                    └────────► rejected
--
-- `signed` needs an approving signature_event for the record; `rejected` a rejecting one;
-- `promoted` needs the approving signature and writes the live row in the same transaction (the
-- trigger itself applies proposed_state, so no promotion can leave the live table behind).
-- A change of proposed_state is allowed only before signing and sends the record back to
-- `proposed` (its reviewer must read it again). Staging rows are never deleted. Every insert and
-- transition appends to audit.audit_log in the same transaction.

-- Columns a proposal may set, per live table: everything but identity and system columns.
create function cs_private.proposable_columns(entity_kind text) returns text[]
language sql stable security definer
set search_path = ''
as $$
  select coalesce(array_agg(a.attname::text order by a.attnum), '{}')
  from pg_catalog.pg_attribute a
  where a.attrelid = to_regclass('cro.' || quote_ident(entity_kind))
    and a.attnum > 0 and not a.attisdropped
    and a.attname not in ('id', 'study_id', 'created_at', 'updated_at', 'created_by', 'provenance_id',
                          'promoted_from_staging_id', 'signature_id', 'code')
$$;

create function cs_private.staging_before_insert() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  unknown_keys text[];
  missing_keys text[];
begin
  if new.state <> 'proposed' then
    raise exception 'a staging record starts in proposed, not %', new.state
      using errcode = 'CS422';
  end if;
  if jsonb_typeof(new.proposed_state) <> 'object' then
    raise exception 'proposed_state must be a JSON object' using errcode = 'CS422';
  end if;
  select array_agg(k order by k) into unknown_keys
  from jsonb_object_keys(new.proposed_state) as k
  where k <> all (cs_private.proposable_columns(new.entity_kind));
  if unknown_keys is not null then
    raise exception 'proposed_state for % has fields that are not proposable: %',
      new.entity_kind, array_to_string(unknown_keys, ', ')
      using errcode = 'CS422',
            hint = 'Identity and system columns (id, study_id, created_*, provenance_id, ...) are set by the server.';
  end if;
  if new.entity_id is null then
    select array_agg(a.attname::text order by a.attnum) into missing_keys
    from pg_catalog.pg_attribute a
    where a.attrelid = to_regclass('cro.' || quote_ident(new.entity_kind)) and a.attnum > 0
      and not a.attisdropped and a.attnotnull
      and a.attname::text = any (cs_private.proposable_columns(new.entity_kind))
      and not new.proposed_state ? a.attname::text;
    if missing_keys is not null then
      raise exception 'a new % needs the fields: %', new.entity_kind, array_to_string(missing_keys, ', ')
        using errcode = 'CS422';
    end if;
  end if;
  begin
    -- Every value must fit its column type now, not at promotion time.
    execute format('select jsonb_populate_record(null::cro.%I, $1)', new.entity_kind) using new.proposed_state;
  exception when others then
    raise exception 'proposed_state for % does not fit the live table: %', new.entity_kind, sqlerrm
      using errcode = 'CS422';
  end;
  if new.entity_kind = 'study' and new.entity_id is distinct from new.study_id then
    raise exception 'a study proposal must name its own study as entity_id' using errcode = 'CS422';
  end if;
  if new.entity_kind = 'study' and new.proposed_state = '{}'::jsonb then
    raise exception 'a study proposal must change at least one field' using errcode = 'CS422';
  end if;
  if new.entity_id is not null and new.entity_kind <> 'study' then
    perform cs_private.assert_live_row_in_study(new.entity_kind, new.entity_id, new.study_id);
  end if;
  if not cs_private.in_bootstrap() then
    new.created_at := now();
    new.updated_at := now();
  end if;
  return new;
end
$$;

create function cs_private.assert_live_row_in_study(entity_kind text, entity_id uuid, study_id uuid)
returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  live_study uuid;
  found_row boolean;
begin
  execute format('select true, study_id from cro.%I where id = $1', entity_kind)
    into found_row, live_study using entity_id;
  if found_row is null then
    raise exception 'the % % that this proposal changes does not exist', entity_kind, entity_id
      using errcode = 'CS422';
  end if;
  if live_study is distinct from study_id then
    raise exception 'the % % belongs to another study', entity_kind, entity_id using errcode = 'CS422';
  end if;
end
$$;

create function cs_private.approving_signature(staging_id uuid, wanted cro.signature_intent) returns uuid
language sql stable security definer
set search_path = ''
as $$
  select id from cro.signature_event
  where subject_kind = 'staging_record' and subject_id = staging_id::text and intent = wanted
  order by signed_at desc, id desc
  limit 1
$$;

-- Applies a signed proposal to its live table; returns the live row id. Runs only from the
-- staging trigger (the live tables refuse writes from anywhere else).
create function cs_private.apply_staging_to_live(rec cro.staging_record, signature_id uuid) returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  provenance_id uuid;
  live_id uuid := rec.entity_id;
  system_fields jsonb;
  assignments text;
  changed integer;
begin
  insert into cro.provenance_event (study_id, actor_kind, actor_id, action, subject_kind, subject_id,
                                    retrieved_context, reviewer_user_id, signature_id, payload)
  values (rec.study_id, case when auth.uid() is null then 'system' else 'human' end,
          coalesce(auth.uid()::text, 'db:' || session_user), 'promote', rec.entity_kind,
          coalesce(rec.entity_id, gen_random_uuid())::text, '[]'::jsonb, auth.uid(), signature_id,
          jsonb_build_object('staging_id', rec.id, 'proposal_provenance_id', rec.provenance_id))
  returning id into provenance_id;

  if live_id is null then
    select subject_id::uuid into live_id from cro.provenance_event where id = provenance_id;
    system_fields := jsonb_build_object(
      'id', live_id, 'created_at', now(), 'updated_at', now(),
      'created_by', coalesce(auth.uid(), rec.created_by), 'provenance_id', provenance_id,
      'study_id', rec.study_id);
    if rec.entity_kind = 'live_essential_document' then
      system_fields := system_fields || jsonb_build_object(
        'promoted_from_staging_id', rec.id, 'signature_id', signature_id);
    end if;
    execute format(
      'insert into cro.%I select * from jsonb_populate_record(null::cro.%I, $1)',
      rec.entity_kind, rec.entity_kind)
      using rec.proposed_state || system_fields;
  else
    select string_agg(format('%I = r.%I', k, k), ', ') into assignments
    from jsonb_object_keys(rec.proposed_state) as k;
    assignments := coalesce(assignments || ', ', '') || 'updated_at = now(), provenance_id = $3';
    if rec.entity_kind = 'live_essential_document' then
      assignments := assignments || ', promoted_from_staging_id = $4, signature_id = $5';
    end if;
    execute format(
      'update cro.%I t set %s from jsonb_populate_record(null::cro.%I, $1) r where t.id = $2',
      rec.entity_kind, assignments, rec.entity_kind)
      using rec.proposed_state, live_id, provenance_id, rec.id, signature_id;
    get diagnostics changed = row_count;
    if changed <> 1 then
      raise exception 'the live % % no longer exists; the proposal cannot be promoted', rec.entity_kind, live_id
        using errcode = 'CS409';
    end if;
  end if;
  return live_id;
end
$$;

create function cs_private.staging_before_update() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  signature_id uuid;
begin
  if new.id <> old.id or new.entity_kind <> old.entity_kind or new.study_id <> old.study_id
     or new.agent_id <> old.agent_id or new.model_version_id is distinct from old.model_version_id
     or new.provenance_id is distinct from old.provenance_id or new.created_at <> old.created_at
     or new.created_by <> old.created_by
     or (new.entity_id is distinct from old.entity_id and new.state <> 'promoted') then
    raise exception 'staging record %: only state and proposed_state may change', old.id
      using errcode = 'CS422';
  end if;

  if new.proposed_state is distinct from old.proposed_state then
    if old.state not in ('proposed', 'reviewing') or new.state not in ('proposed', 'reviewing') then
      raise exception 'staging record % is %: its proposed_state can no longer change', old.id, old.state
        using errcode = 'CS409';
    end if;
    if jsonb_typeof(new.proposed_state) <> 'object' then
      raise exception 'proposed_state must be a JSON object' using errcode = 'CS422';
    end if;
    new.state := 'proposed';
  elsif new.state is distinct from old.state then
    if not ((old.state = 'proposed' and new.state = 'reviewing')
         or (old.state = 'reviewing' and new.state in ('signed', 'rejected'))
         or (old.state = 'signed' and new.state = 'promoted')) then
      raise exception 'illegal staging transition % -> % for record %', old.state, new.state, old.id
        using errcode = 'CS409',
              hint = 'Allowed: proposed -> reviewing -> signed -> promoted, and reviewing -> rejected.';
    end if;
    if new.state = 'signed' and cs_private.approving_signature(old.id, 'approve') is null then
      raise exception 'staging record % cannot be signed without an approving signature_event', old.id
        using errcode = 'CS409';
    end if;
    if new.state = 'rejected' and cs_private.approving_signature(old.id, 'reject') is null then
      raise exception 'staging record % cannot be rejected without a rejecting signature_event', old.id
        using errcode = 'CS409';
    end if;
    if new.state = 'promoted' then
      signature_id := cs_private.approving_signature(old.id, 'approve');
      if signature_id is null then
        raise exception 'staging record % cannot be promoted without an approving signature', old.id
          using errcode = 'CS409';
      end if;
      new.entity_id := cs_private.apply_staging_to_live(new, signature_id);
    end if;
  end if;
  if not cs_private.in_bootstrap() or new.updated_at = old.updated_at then
    new.updated_at := now();
  end if;
  return new;
end
$$;

create function cs_private.staging_audit() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform cs_private.audit_append('staging.proposed', jsonb_build_object(
      'staging_id', new.id, 'study_id', new.study_id, 'entity_kind', new.entity_kind,
      'entity_id', new.entity_id, 'agent_id', new.agent_id,
      'proposed_state_sha256', cs_private.json_sha256(new.proposed_state)));
  elsif new.proposed_state is distinct from old.proposed_state then
    perform cs_private.audit_append('staging.revised', jsonb_build_object(
      'staging_id', new.id, 'from_state', old.state, 'to_state', new.state,
      'proposed_state_sha256', cs_private.json_sha256(new.proposed_state)));
  elsif new.state is distinct from old.state then
    perform cs_private.audit_append('staging.' || new.state::text, jsonb_build_object(
      'staging_id', new.id, 'study_id', new.study_id, 'from_state', old.state, 'to_state', new.state,
      'entity_kind', new.entity_kind, 'entity_id', new.entity_id,
      'signature_id', case when new.state in ('signed', 'promoted')
                             then cs_private.approving_signature(new.id, 'approve')
                           when new.state = 'rejected'
                             then cs_private.approving_signature(new.id, 'reject') end,
      'proposed_state_sha256', cs_private.json_sha256(new.proposed_state)));
  end if;
  return null;
end
$$;

create trigger staging_record_before_insert before insert on cro.staging_record
  for each row execute function cs_private.staging_before_insert();
create trigger staging_record_before_update before update on cro.staging_record
  for each row execute function cs_private.staging_before_update();
create trigger staging_record_audit after insert or update on cro.staging_record
  for each row execute function cs_private.staging_audit();

create function cs_private.refuse_delete_of_history() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception '% on %.% is not allowed: regulated records are never deleted', tg_op, tg_table_schema, tg_table_name
    using errcode = 'CS403';
end
$$;
create trigger staging_record_no_delete before delete on cro.staging_record
  for each row execute function cs_private.refuse_delete_of_history();
create trigger staging_record_no_truncate before truncate on cro.staging_record
  for each statement execute function cs_private.refuse_delete_of_history();

-- Live regulated tables change only through promotion of a signed proposal (the staging trigger
-- above, at trigger depth > 1) or in an operator's bootstrap session.
create function cs_private.guard_live_write() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if pg_trigger_depth() > 1 or cs_private.in_bootstrap() then
    return coalesce(new, old);
  end if;
  raise exception '% on %.% refused: live regulated rows change only by promoting a signed proposal',
    tg_op, tg_table_schema, tg_table_name
    using errcode = 'CS403', hint = 'Propose the change in cro.staging_record instead.';
end
$$;

do $$
declare
  t text;
begin
  foreach t in array array['study', 'study_kpi', 'study_milestone', 'study_risk', 'study_resource',
                           'live_essential_document'] loop
    execute format('create trigger %I before insert or update or delete on cro.%I
                      for each row execute function cs_private.guard_live_write()', t || '_live_write_guard', t);
    execute format('create trigger %I before truncate on cro.%I
                      for each statement execute function cs_private.refuse_delete_of_history()', t || '_no_truncate', t);
  end loop;
end
$$;

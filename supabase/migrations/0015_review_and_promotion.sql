-- Opening a record for review (proposed → reviewing) and promoting a signed record (signed →
-- promoted) as the signer's own audited steps, and the content-hash rule in the staging trigger:
-- outside an operator's bootstrap session, a record becomes `signed` only with an approving
-- signature whose content hash is the record's current one, and is promoted only if that is still
-- so, i.e. neither the proposal nor the live row it was reviewed against changed since signing.
-- A live row changed meanwhile is a conflict: reported, audited, and the live row is not touched.

create or replace function cs_private.staging_before_update() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  signature_id uuid;
  signed_hash text;
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
    if new.state in ('signed', 'promoted') then
      signature_id := cs_private.approving_signature(old.id, 'approve');
      if signature_id is null then
        raise exception 'staging record % cannot be % without an approving signature_event', old.id, new.state
          using errcode = 'CS409';
      end if;
      if not cs_private.in_bootstrap() then
        select s.content_hash into signed_hash from cro.signature_event s where s.id = signature_id;
        if signed_hash <> cs_private.signing_content_hash(old) then
          raise exception 'conflict: record % or its live % changed after it was signed; nothing was overwritten',
            old.id, old.entity_kind
            using errcode = 'CS409',
                  hint = 'The signed content no longer matches. A new proposal against the current row is needed.';
        end if;
      end if;
    end if;
    if new.state = 'rejected' and cs_private.approving_signature(old.id, 'reject') is null then
      raise exception 'staging record % cannot be rejected without a rejecting signature_event', old.id
        using errcode = 'CS409';
    end if;
    if new.state = 'promoted' then
      new.entity_id := cs_private.apply_staging_to_live(new, signature_id);
    end if;
  end if;
  if not cs_private.in_bootstrap() or new.updated_at = old.updated_at then
    new.updated_at := now();
  end if;
  return new;
end
$$;

-- The promotion's provenance now also records the content hash of what was promoted (computed
-- before the live row changes), so a promoted record's trail can be checked against its signature.
create or replace function cs_private.apply_staging_to_live(rec cro.staging_record, signature_id uuid) returns uuid
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
          jsonb_build_object('staging_id', rec.id, 'proposal_provenance_id', rec.provenance_id,
                             'signed_content_hash', cs_private.signing_content_hash(rec)))
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

-- proposed → reviewing for the records the signer opened. Records already in reviewing are left as
-- they are (opening twice is harmless); any other state is refused. Returns how many moved.
create function cs_private.open_for_review(staging_ids uuid[]) returns integer
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  signer_studies constant uuid[] := cs_private.my_study_ids('{signer}');
  rec record;
  moved integer := 0;
begin
  if staging_ids is null or cardinality(staging_ids) = 0 then
    return 0;
  end if;
  for rec in
    select u.id as wanted, s.id, s.state, s.study_id
      from (select distinct unnest(staging_ids) as id) u
      left join cro.staging_record s on s.id = u.id
     order by u.id
  loop
    if rec.id is null or not rec.study_id = any (signer_studies) then
      raise exception 'record % does not exist or is not in a study you sign for', rec.wanted
        using errcode = 'CS403';
    end if;
  end loop;
  for rec in
    select s.* from cro.staging_record s where s.id = any (staging_ids) order by s.id for update
  loop
    if rec.state = 'reviewing' then
      continue;
    end if;
    if rec.state <> 'proposed' then
      raise exception 'record % is %; only proposed records can be opened for review', rec.id, rec.state
        using errcode = 'CS409';
    end if;
    insert into cro.provenance_event (study_id, actor_kind, actor_id, action, subject_kind, subject_id,
                                      retrieved_context, reviewer_user_id, payload)
    values (rec.study_id, 'human', uid::text, 'open_for_review', 'staging_record', rec.id::text, '[]'::jsonb,
            uid, jsonb_build_object('proposed_state_sha256', cs_private.json_sha256(rec.proposed_state)));
    update cro.staging_record set state = 'reviewing' where id = rec.id;
    moved := moved + 1;
  end loop;
  return moved;
end
$$;

-- signed → promoted, per record: {staging_record_id, outcome: promoted | conflict | refused,
-- message, live_id}. Who may promote is checked for all records first (all or nothing); then each
-- record is promoted in its own subtransaction, so one conflict does not undo the others.
create function cs_private.promote(staging_ids uuid[]) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  signer_studies constant uuid[] := cs_private.my_study_ids('{signer}');
  rec record;
  outcomes jsonb := '[]'::jsonb;
  live_id uuid;
begin
  if staging_ids is null or cardinality(staging_ids) = 0 then
    return outcomes;
  end if;
  if cardinality(staging_ids) > 5000 then
    raise exception 'promote at most 5000 records at a time' using errcode = 'CS422';
  end if;
  for rec in
    select u.id as wanted, s.id, s.study_id
      from (select distinct unnest(staging_ids) as id) u left join cro.staging_record s on s.id = u.id
  loop
    if rec.id is null or not rec.study_id = any (signer_studies) then
      raise exception 'record % does not exist or is not in a study you sign for', rec.wanted
        using errcode = 'CS403';
    end if;
  end loop;
  -- Lock in a fixed order first (two promoters cannot deadlock), then read the committed states.
  perform 1 from cro.staging_record s where s.id = any (staging_ids) order by s.id for update;
  for rec in
    select s.id, s.state, s.entity_kind from cro.staging_record s
     where s.id = any (staging_ids) order by array_position(staging_ids, s.id)
  loop
    if rec.state <> 'signed' then
      outcomes := outcomes || jsonb_build_object('staging_record_id', rec.id, 'outcome', 'refused',
        'message', format('record %s is %s; only signed records can be promoted', rec.id, rec.state));
      continue;
    end if;
    begin
      update cro.staging_record set state = 'promoted' where id = rec.id and state = 'signed'
      returning entity_id into live_id;
      outcomes := outcomes || jsonb_build_object('staging_record_id', rec.id, 'outcome', 'promoted',
        'live_id', live_id, 'message', format('promoted to %s %s', rec.entity_kind, live_id));
    exception when sqlstate 'CS409' then
      outcomes := outcomes || jsonb_build_object('staging_record_id', rec.id, 'outcome', 'conflict',
        'message', sqlerrm);
      perform cs_private.audit_append('staging.promotion_conflict', jsonb_build_object(
        'staging_id', rec.id, 'user_id', uid, 'message', sqlerrm));
    end;
  end loop;
  return outcomes;
end
$$;

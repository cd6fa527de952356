-- What a signer needs beside the diff, recorded by the server (issue 19):
--
-- 1. Citation grounding. An agent's provenance carries the citations it relied on
--    (retrieved_context: [{source_uri, chunk_index, quote, ...}]). Whether each one resolves is
--    decided here, when the provenance is written, against the knowledge index (cro.vector_document),
--    which signers cannot read: a citation resolves when it names a source_uri and a quote, a chunk of
--    that source exists (the same chunk_index when the citation gives one) in the proposal's own study
--    (or in no study), and the quote appears in that chunk's text, character for character. The result
--    is added to the event's payload as `citation_grounding` (decision 33 in docs/decisions.md), so it
--    is synced, cached, shown offline and exported with the rest of the provenance, and cannot be
--    supplied by the agent: whatever it wrote under that key is replaced.
-- 2. The live row before promotion. A promotion's provenance (0015) recorded the hash of what was
--    signed but not the live row it replaced, so a promoted record could only be shown as "0 changes"
--    against the row it had itself written. The row as it was just before is now added to the
--    promotion's payload as `live_row_before` (null for a new row), rendered as the signature's
--    live_row_sha256 was computed over it (cs_private.live_row_json).
-- 3. public.staging_detail also returns each provenance event's retrieved context and payload, the
--    record's own provenance id, and the model registry version the proposal names (provider, model,
--    prompt version and prompt hash), and each signature's rejection reason (0050). The direct modes
--    call the same function.

create index vector_document_source_idx on cro.vector_document (source_uri, chunk_index);

-- Per citation, in order: {resolves: true} or {resolves: false, reason}; reasons are
-- incomplete | unknown_source | other_study | quote_not_in_source. Reads the knowledge index as the
-- owner (called only from the trigger below).
create function cs_private.citation_grounding(study_id uuid, retrieved_context jsonb) returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  citation jsonb;
  study_code text := (select s.code from cro.study s where s.id = citation_grounding.study_id);
  results jsonb := '[]'::jsonb;
  uri text;
  quote text;
  chunk integer;
  any_chunk boolean;
  in_study boolean;
  quoted boolean;
begin
  if retrieved_context is null or jsonb_typeof(retrieved_context) <> 'array' then
    return jsonb_build_object('citations', results);
  end if;
  for citation in select value from jsonb_array_elements(retrieved_context) loop
    uri := case when jsonb_typeof(citation) = 'object' and jsonb_typeof(citation -> 'source_uri') = 'string'
                then btrim(citation ->> 'source_uri') end;
    quote := case when jsonb_typeof(citation) = 'object' and jsonb_typeof(citation -> 'quote') = 'string'
                  then citation ->> 'quote' end;
    -- A chunk index that is not a small whole number names no chunk (and must not fail the insert).
    chunk := case when jsonb_typeof(citation) = 'object' and jsonb_typeof(citation -> 'chunk_index') = 'number'
                       and citation ->> 'chunk_index' ~ '^-?[0-9]{1,9}$'
                  then (citation ->> 'chunk_index')::integer end;
    if uri is null or uri = '' or quote is null or btrim(quote) = '' then
      results := results || jsonb_build_array(jsonb_build_object('resolves', false, 'reason', 'incomplete'));
      continue;
    end if;
    if coalesce(jsonb_typeof(citation -> 'chunk_index'), 'null') <> 'null' and chunk is null then
      results := results || jsonb_build_array(jsonb_build_object('resolves', false, 'reason', 'unknown_source'));
      continue;
    end if;
    select count(*) > 0,
           coalesce(bool_or(d.metadata ->> 'study_code' is null or d.metadata ->> 'study_code' = study_code), false),
           coalesce(bool_or((d.metadata ->> 'study_code' is null or d.metadata ->> 'study_code' = study_code)
                            and strpos(d.content, quote) > 0), false)
      into any_chunk, in_study, quoted
      from cro.vector_document d
     where d.source_uri = uri and (chunk is null or d.chunk_index = chunk);
    results := results || jsonb_build_array(
      case when quoted then jsonb_build_object('resolves', true)
           else jsonb_build_object('resolves', false, 'reason',
                  case when not any_chunk then 'unknown_source'
                       when not in_study then 'other_study'
                       else 'quote_not_in_source' end) end);
  end loop;
  return jsonb_build_object('citations', results);
end
$$;

create function cs_private.ground_agent_citations() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.actor_kind = 'agent' then
    new.payload := coalesce(new.payload, '{}'::jsonb) || jsonb_build_object(
      'citation_grounding',
      cs_private.citation_grounding(new.study_id, new.retrieved_context)
        || jsonb_build_object('checked_at', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')));
  end if;
  return new;
end
$$;

create function cs_private.record_live_row_before_promotion() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.action = 'promote' and new.payload ? 'staging_id'
     and new.subject_kind in ('study', 'study_kpi', 'study_milestone', 'study_risk', 'study_resource',
                              'live_essential_document')
     and new.subject_id ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then
    -- Written before the live row changes (cs_private.apply_staging_to_live): the row as it was.
    new.payload := new.payload || jsonb_build_object(
      'live_row_before', cs_private.live_row_json(new.subject_kind, new.subject_id::uuid));
  end if;
  return new;
end
$$;

create trigger provenance_event_ground_citations before insert on cro.provenance_event
  for each row execute function cs_private.ground_agent_citations();
create trigger provenance_event_live_row_before before insert on cro.provenance_event
  for each row execute function cs_private.record_live_row_before_promotion();

create or replace function public.staging_detail(staging_id uuid) returns jsonb
language plpgsql stable security invoker
set search_path = ''
set timezone = 'UTC'
as $$
declare
  rec record;
  live jsonb;
begin
  select s.*, st.code as study_code,
         case when m.id is null then null
              else m.provider || ' ' || m.model_id || ' (prompt ' || m.prompt_version || ')' end as model_version,
         case when m.id is null then null
              else jsonb_build_object(
                'id', m.id, 'provider', m.provider, 'modelId', m.model_id, 'promptVersion', m.prompt_version,
                'promptHash', m.prompt_hash,
                'registeredAt', to_char(m.registered_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                'retiredAt', to_char(m.retired_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) end as model
    into rec
    from cro.staging_record s
    join cro.study st on st.id = s.study_id
    left join cro.model_registry_version m on m.id = s.model_version_id
   where s.id = staging_id;
  if not found then
    return null;
  end if;
  if rec.entity_id is not null and rec.entity_kind in ('study', 'study_kpi', 'study_milestone', 'study_risk',
                                                       'study_resource', 'live_essential_document') then
    execute format('select to_jsonb(t) from cro.%I t where t.id = $1', rec.entity_kind) into live using rec.entity_id;
  end if;
  return jsonb_build_object(
    'record', jsonb_build_object(
      'id', rec.id, 'state', rec.state, 'entityKind', rec.entity_kind, 'entityId', rec.entity_id,
      'studyId', rec.study_id, 'studyCode', rec.study_code, 'agentId', rec.agent_id,
      'modelVersion', rec.model_version,
      'createdAt', to_char(rec.created_at, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
      'updatedAt', to_char(rec.updated_at, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
      'proposedState', rec.proposed_state, 'liveRow', live, 'provenanceId', rec.provenance_id),
    'model', rec.model,
    'signatures', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', g.id, 'printedName', g.user_display_name, 'intent', g.intent,
               'meaning', g.meaning_of_signature, 'comment', g.signature_comment,
               'signedAt', to_char(g.signed_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'reAuthAt', to_char(g.re_auth_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'contentHash', g.content_hash, 'ceremonyId', g.ceremony_id,
               'rejection', case when g.rejection_reason is null then null
                                 else jsonb_build_object('reason', g.rejection_reason,
                                                         'explanation', g.rejection_explanation) end)
             order by g.signed_at, g.id)
        from cro.signature_event g
       where g.subject_kind = 'staging_record' and g.subject_id = staging_id::text), '[]'::jsonb),
    'provenance', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', p.id, 'action', p.action, 'actorKind', p.actor_kind, 'actorId', p.actor_id,
               'occurredAt', to_char(p.occurred_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'retrievedContext', p.retrieved_context, 'payload', p.payload) order by p.occurred_at, p.id)
        from cro.provenance_event p
       where (p.subject_kind = 'staging_record' and p.subject_id = staging_id::text)
          or p.payload ->> 'staging_id' = staging_id::text
          or p.id = rec.provenance_id), '[]'::jsonb));
end
$$;

revoke all on function cs_private.citation_grounding(uuid, jsonb), cs_private.ground_agent_citations(),
  cs_private.record_live_row_before_promotion()
  from public;

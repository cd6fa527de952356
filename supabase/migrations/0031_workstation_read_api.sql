-- What the workstation reads in hosted mode, as RPCs in the exposed schema `public`, so that a
-- Supabase project needs no other schema exposed for the queue, a record's detail and a signing
-- manifest. Each is SECURITY INVOKER: the caller's RLS decides what they see, exactly as when the
-- direct modes run the same queries on the person's own login (src/main/backend/postgres). Rows come
-- back as JSON built by the server, with timestamps as text in UTC, and live rows as to_jsonb renders
-- them in UTC (the form the content hash of a signature is computed over, see 0014).

create function public.staging_queue(page_size integer, after_created_at timestamptz, after_id uuid,
                                     states cro.staging_state[], study uuid)
returns jsonb
language sql stable security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'rows', coalesce((
      select jsonb_agg(r order by r ->> 'createdAt', r ->> 'id') from (
        select jsonb_build_object(
                 'id', s.id, 'state', s.state, 'entityKind', s.entity_kind, 'entityId', s.entity_id,
                 'studyId', s.study_id, 'studyCode', st.code, 'agentId', s.agent_id,
                 'modelVersion', case when m.id is null then null
                                      else m.provider || ' ' || m.model_id || ' (prompt ' || m.prompt_version || ')' end,
                 'createdAt', to_char(s.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                 'updatedAt', to_char(s.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) as r
          from cro.staging_record s
          join cro.study st on st.id = s.study_id
          left join cro.model_registry_version m on m.id = s.model_version_id
         where (study is null or s.study_id = study)
           and (states is null or cardinality(states) = 0 or s.state = any (states))
           and (after_id is null or (s.created_at, s.id) > (after_created_at, after_id))
         order by s.created_at, s.id
         limit least(greatest(page_size, 1), 5001)
      ) page), '[]'::jsonb),
    'counts', coalesce((
      select jsonb_object_agg(c.state, c.n) from (
        select s.state::text as state, count(*) as n from cro.staging_record s
         where study is null or s.study_id = study group by s.state) c), '{}'::jsonb))
$$;

-- One record with its proposal, the live row it changes, its signatures and its provenance.
create function public.staging_detail(staging_id uuid) returns jsonb
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
              else m.provider || ' ' || m.model_id || ' (prompt ' || m.prompt_version || ')' end as model_version
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
      'proposedState', rec.proposed_state, 'liveRow', live),
    'signatures', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', g.id, 'printedName', g.user_display_name, 'intent', g.intent,
               'meaning', g.meaning_of_signature, 'comment', g.signature_comment,
               'signedAt', to_char(g.signed_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'reAuthAt', to_char(g.re_auth_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'contentHash', g.content_hash, 'ceremonyId', g.ceremony_id) order by g.signed_at, g.id)
        from cro.signature_event g
       where g.subject_kind = 'staging_record' and g.subject_id = staging_id::text), '[]'::jsonb),
    'provenance', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', p.id, 'action', p.action, 'actorKind', p.actor_kind, 'actorId', p.actor_id,
               'occurredAt', to_char(p.occurred_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) order by p.occurred_at, p.id)
        from cro.provenance_event p
       where (p.subject_kind = 'staging_record' and p.subject_id = staging_id::text)
          or p.payload ->> 'staging_id' = staging_id::text
          or p.id = rec.provenance_id), '[]'::jsonb));
end
$$;

-- What a signing manifest is built from: each visible record and the live row it replaces, read as
-- the caller (RLS) and rendered by to_jsonb in UTC, as cs_private.live_row_json renders it for the
-- server's own recomputation.
create function public.signing_subjects(staging_ids uuid[]) returns jsonb
language plpgsql stable security invoker
set search_path = ''
set timezone = 'UTC'
as $$
declare
  rec record;
  live jsonb;
  subjects jsonb := '[]'::jsonb;
begin
  if staging_ids is null or cardinality(staging_ids) > 5000 then
    raise exception 'ask for at most 5000 records at a time' using errcode = 'CS422';
  end if;
  for rec in
    select s.id, s.study_id, st.code as study_code, s.entity_kind, s.entity_id, s.state, s.proposed_state
      from cro.staging_record s join cro.study st on st.id = s.study_id
     where s.id = any (staging_ids)
     order by array_position(staging_ids, s.id)
  loop
    live := null;
    if rec.entity_id is not null and rec.entity_kind in ('study', 'study_kpi', 'study_milestone', 'study_risk',
                                                         'study_resource', 'live_essential_document') then
      execute format('select to_jsonb(t) from cro.%I t where t.id = $1', rec.entity_kind) into live
        using rec.entity_id;
    end if;
    subjects := subjects || jsonb_build_object(
      'staging_record_id', rec.id, 'study_id', rec.study_id, 'study_code', rec.study_code,
      'entity_kind', rec.entity_kind, 'entity_id', rec.entity_id, 'state', rec.state,
      'proposed_state', rec.proposed_state, 'live_row', live);
  end loop;
  return subjects;
end
$$;

-- The meanings of signature and the caller's identity, for a session that reaches only `public`.
create function public.my_identity() returns jsonb
language sql stable security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'user_id', auth.uid(),
    'printed_name', (select p.printed_name from cro.user_profile p where p.user_id = auth.uid()),
    'roles', coalesce((select jsonb_agg(distinct r.role::text) from cro.role_assignment r
                        where r.user_id = auth.uid()), '[]'::jsonb))
$$;
create function public.signature_meanings() returns jsonb
language sql stable security invoker
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object('intent', m.intent, 'meaning', m.meaning)
                            order by m.intent, m.position), '[]'::jsonb)
    from cro.signature_meaning m
$$;

revoke execute on function public.staging_queue(integer, timestamptz, uuid, cro.staging_state[], uuid),
  public.staging_detail(uuid), public.signing_subjects(uuid[]), public.my_identity(),
  public.signature_meanings()
  from public;
-- Supabase's default privileges grant anon EXECUTE on new functions in public; none of these is for anon.
revoke execute on function public.staging_queue(integer, timestamptz, uuid, cro.staging_state[], uuid),
  public.staging_detail(uuid), public.signing_subjects(uuid[]), public.my_identity(),
  public.signature_meanings()
  from anon;
grant execute on function public.staging_queue(integer, timestamptz, uuid, cro.staging_state[], uuid),
  public.staging_detail(uuid), public.signing_subjects(uuid[]), public.my_identity(),
  public.signature_meanings()
  to authenticated;

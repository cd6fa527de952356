-- Provenance is written by the server, with the caller's own identity; a sponsor request goes only to
-- the organisation that sponsors its study (issue 17).
--
-- Before: an agent inserted cro.provenance_event rows directly, choosing actor_id and action
-- itself, so it could record an `approve` under another agent's name; and it could stage a sponsor
-- request into another sponsor organisation's intake as long as the study was its own.
--
-- Now:
--   * An agent service account has one agent id (cro.user_profile.agent_id, set by whoever
--     provisions it: a person cannot edit their profile). Provenance of agent work is recorded
--     only by cs_private.record_agent_provenance, which takes the actor, time and model from the
--     server: actor_kind 'agent', actor_id the caller's agent id, model provider and id from the
--     registry, and only the actions an agent performs. Human and system provenance was already
--     written only by the server's functions (review, signing, promotion). Nobody inserts
--     provenance directly any more.
--   * A proposal (cro.staging_record) a person inserts names the caller's own agent id, and the
--     provenance it cites must be the caller's own `propose` event about this very proposal.
--   * An agent stages a sponsor request only for the organisation that sponsors the study: one
--     whose sponsor users are assigned to that study.

alter table cro.user_profile add column agent_id text unique
  check (agent_id is null or agent_id ~ '^[A-Za-z0-9][A-Za-z0-9:._-]{0,99}$');
comment on column cro.user_profile.agent_id is
  'The agent id an agent service account speaks as (provenance_event.actor_id, staging_record.agent_id).';

-- The caller's agent id, or null.
create function cs_private.my_agent_id() returns text
language sql stable security definer
set search_path = ''
as $$
  select p.agent_id from cro.user_profile p
   where p.user_id = auth.uid()
     and exists (select 1 from cro.role_assignment r where r.user_id = auth.uid() and r.role = 'agent')
$$;

create function cs_private.record_agent_provenance(study_id uuid, action text, subject_kind text, subject_id text,
                                                   model_version_id uuid, retrieved_context jsonb, payload jsonb)
returns uuid
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  agent constant text := cs_private.my_agent_id();
  model cro.model_registry_version;
  new_id uuid;
begin
  if agent is null then
    raise exception 'only an agent service account records agent provenance' using errcode = 'CS403',
      hint = 'An administrator gives the account its agent id (cro.user_profile.agent_id).';
  end if;
  if study_id is null or not study_id = any (cs_private.my_study_ids('{agent}')) then
    raise exception 'you are not an agent of study %', study_id using errcode = 'CS403';
  end if;
  if action is null or action not in ('propose', 'retrieve', 'draft', 'summarise', 'stage_request') then
    raise exception '"%" is not an action an agent records; approving, rejecting, reviewing and promoting are recorded by the server for the person who does them',
      action using errcode = 'CS422';
  end if;
  if subject_kind is null or subject_kind !~ '^[a-z][a-z0-9_]{0,62}$'
     or subject_id is null or length(subject_id) not between 1 and 200 then
    raise exception 'provenance needs a subject_kind (lower-case identifier) and a subject_id' using errcode = 'CS422';
  end if;
  if retrieved_context is null or jsonb_typeof(retrieved_context) <> 'array' then
    raise exception 'retrieved_context must be a JSON array (the citations)' using errcode = 'CS422';
  end if;
  if payload is null or jsonb_typeof(payload) <> 'object' then
    raise exception 'payload must be a JSON object' using errcode = 'CS422';
  end if;
  if model_version_id is not null then
    select * into model from cro.model_registry_version m where m.id = model_version_id;
    if not found then
      raise exception 'model version % is not in the registry', model_version_id using errcode = 'CS422';
    end if;
  end if;
  insert into cro.provenance_event (study_id, actor_kind, actor_id, model_provider, model_id, model_version_id,
                                    action, subject_kind, subject_id, retrieved_context, reviewer_user_id,
                                    signature_id, occurred_at, payload)
  values (study_id, 'agent', agent, model.provider, model.model_id, model.id, action, subject_kind, subject_id,
          retrieved_context, null, null, now(), payload)
  returning id into new_id;
  return new_id;
end
$$;

create function public.record_agent_provenance(study_id uuid, action text, subject_kind text, subject_id text,
                                               model_version_id uuid, retrieved_context jsonb, payload jsonb)
returns uuid
language sql volatile set search_path = ''
as $$ select cs_private.record_agent_provenance(study_id, action, subject_kind, subject_id, model_version_id,
                                                retrieved_context, payload) $$;

drop policy "agent can record its own provenance in its studies" on cro.provenance_event;
revoke insert on cro.provenance_event from authenticated;

-- A proposal speaks for the caller's own agent id and cites the caller's own provenance of it.
-- (The deployment's own sessions, which seed and provision, are not people and are not checked.)
create function cs_private.staging_agent_identity() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  agent text;
begin
  if cs_private.is_operator_session() then
    return new;
  end if;
  agent := cs_private.my_agent_id();
  if agent is null then
    raise exception 'only an agent service account proposes changes' using errcode = 'CS403';
  end if;
  if new.agent_id is distinct from agent then
    raise exception 'a proposal names its own agent: yours is %, not %', agent, new.agent_id using errcode = 'CS403';
  end if;
  if new.provenance_id is not null and not exists (
      select 1 from cro.provenance_event p
       where p.id = new.provenance_id and p.actor_kind = 'agent' and p.actor_id = agent and p.action = 'propose'
         and p.subject_kind = 'staging_record' and p.subject_id = new.id::text) then
    raise exception 'provenance % is not your own record of proposing %', new.provenance_id, new.id
      using errcode = 'CS403',
            hint = 'Record it first with record_agent_provenance(study, ''propose'', ''staging_record'', <this id>, ...).';
  end if;
  return new;
end
$$;
create trigger staging_record_agent_identity before insert on cro.staging_record
  for each row execute function cs_private.staging_agent_identity();

-- The organisation that sponsors a study: the one its sponsor users speak for. Answers only about
-- studies the caller may read, so it tells nobody anything about other studies.
create function cs_private.sponsors_study(sponsor_id text, study_id uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select (study_id = any (cs_private.my_study_ids('{sponsor,monitor,coordinator,signer,inspector,agent}'))
          or cs_private.is_admin())
     and exists (select 1 from cro.role_assignment r join cro.user_profile p on p.user_id = r.user_id
                  where r.role = 'sponsor' and r.study_id = sponsors_study.study_id
                    and p.sponsor_id = sponsors_study.sponsor_id)
$$;

drop policy "agent can stage requests in its studies" on cro.sponsor_request;
create policy "agent can stage requests in its studies for their sponsor" on cro.sponsor_request
  for insert to authenticated
  with check (study_id = any ((select cs_private.my_study_ids('{agent}'))::uuid[])
              and created_by = (select auth.uid())
              and cs_private.sponsors_study(sponsor_id, study_id));

revoke all on function cs_private.my_agent_id(), cs_private.staging_agent_identity(),
  cs_private.record_agent_provenance(uuid, text, text, text, uuid, jsonb, jsonb),
  public.record_agent_provenance(uuid, text, text, text, uuid, jsonb, jsonb),
  cs_private.sponsors_study(text, uuid)
  from public;
grant execute on function cs_private.record_agent_provenance(uuid, text, text, text, uuid, jsonb, jsonb),
  public.record_agent_provenance(uuid, text, text, text, uuid, jsonb, jsonb),
  cs_private.sponsors_study(text, uuid)
  to authenticated;
do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on function public.record_agent_provenance(uuid, text, text, text, uuid, jsonb, jsonb) from anon;
  end if;
end
$$;

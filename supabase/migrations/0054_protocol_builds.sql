-- Protocol builds (issue 20, seed 004 "Study Database Builds" and "Build Tracking Implementation").
--
-- A study's protocol is versioned as builds. A build is created as DRAFT by an administrator, holds
-- its configuration (the forms a value can be captured on) as JSON while DRAFT or IN_PROGRESS, and
-- goes DRAFT -> IN_PROGRESS -> COMPLETED, or IN_PROGRESS -> FAILED (retry: FAILED -> IN_PROGRESS),
-- or -> CANCELLED from DRAFT, IN_PROGRESS or FAILED. Completing validates the configuration (an error
-- names the field), freezes the build and writes its definitions (cro.build_form, cro.build_form_field)
-- once; a COMPLETED or CANCELLED build refuses every change, by every role. Every change is an
-- audit_log entry (study_build.transition, study_build.configured).
--
-- Every value written carries the build it was written under, set by the server from the study's
-- current build (its latest COMPLETED one): diary events (record_audit and so record_state),
-- annotations, staging records and provenance. A study without a completed build accepts no data.
-- A diary event's data is validated against its build's diary form, a proposal's fields against its
-- build's entity form. What is signed includes the build (content-hash version 2; a signature records
-- the version it was computed with, and every signature before this migration is version 1).
--
-- Decisions where the seed is silent are in docs/protocol-builds.md and docs/decisions.md.

create type cro.build_status as enum ('DRAFT', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED');
create type cro.build_type as enum ('INITIAL', 'AMENDMENT', 'CORRECTION');

create table cro.study_database_build (
  id uuid primary key default cs_private.time_ordered_uuid(),
  study_id uuid not null references cro.study (id),
  build_number text not null check (build_number ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$'),
  build_version text not null check (char_length(btrim(build_version)) between 1 and 50),
  build_status cro.build_status not null default 'DRAFT',
  build_description text not null default '' check (char_length(build_description) <= 4000),
  build_type cro.build_type not null default 'INITIAL',
  amendment_reference text check (char_length(btrim(amendment_reference)) between 1 and 200),
  build_start_time timestamptz,
  build_end_time timestamptz,
  build_duration_seconds integer,
  configuration_snapshot jsonb not null default '{"forms": []}'::jsonb,
  configuration_sha256 text not null default '',
  total_visits integer not null default 0,
  total_forms integer not null default 0,
  total_fields integer not null default 0,
  validation_rules_count integer not null default 0,
  visits_built integer not null default 0,
  forms_built integer not null default 0,
  error_count integer not null default 0,
  error_log jsonb not null default '[]'::jsonb,
  -- The build's place among its study's COMPLETED builds (1, 2, ...): the highest is current.
  completed_sequence integer,
  built_by uuid not null references auth.users (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (study_id, build_number),
  unique (study_id, completed_sequence)
);
create index study_database_build_current_idx on cro.study_database_build (study_id, completed_sequence desc)
  where completed_sequence is not null;

-- A completed build's forms: the diary form (kind 'diary', at most one per build) and the entity
-- kinds a proposal may be made for (kind 'entity', code = the live table). field_codes is what a
-- proposal's keys are checked against in one comparison.
create table cro.build_form (
  build_id uuid not null references cro.study_database_build (id),
  form_code text not null,
  form_kind text not null check (form_kind in ('diary', 'entity')),
  title text not null,
  ordinal integer not null,
  field_codes text[] not null,
  primary key (build_id, form_code)
);
create unique index build_form_one_diary_idx on cro.build_form (build_id) where form_kind = 'diary';

create table cro.build_form_field (
  build_id uuid not null,
  form_code text not null,
  field_code text not null,
  ordinal integer not null,
  label text not null,
  data_type text not null check (data_type in (
    'text', 'integer', 'decimal', 'boolean', 'date', 'time', 'datetime', 'choice', 'json', 'uuid')),
  required boolean not null,
  allowed_values text[],
  min_value numeric,
  max_value numeric,
  max_length integer,
  primary key (build_id, form_code, field_code),
  foreign key (build_id, form_code) references cro.build_form (build_id, form_code)
);

-- ── The configuration and its validation ─────────────────────────────────────────────────────────
-- The columns a proposal may carry (0008/0020's proposable_columns) with the build's type for each.
create function cs_private.proposable_column_types(entity_kind text)
returns table (column_name text, data_type text, ordinal integer)
language sql stable
set search_path = ''
as $$
  select a.attname::text,
         case when t.typname in ('int2', 'int4', 'int8') then 'integer'
              when t.typname in ('numeric', 'float4', 'float8') then 'decimal'
              when t.typname = 'bool' then 'boolean'
              when t.typname = 'date' then 'date'
              when t.typname in ('timestamptz', 'timestamp') then 'datetime'
              when t.typname in ('json', 'jsonb') then 'json'
              when t.typname = 'uuid' then 'uuid'
              else 'text' end,
         a.attnum::integer
    from pg_catalog.pg_attribute a
    join pg_catalog.pg_type t on t.oid = a.atttypid
   where a.attrelid = pg_catalog.to_regclass('cro.' || pg_catalog.quote_ident(entity_kind))
     and a.attnum > 0 and not a.attisdropped
     and a.attname::text = any (cs_private.proposable_columns(entity_kind))
   order by a.attnum
$$;

-- The entity kinds a proposal can be made for (staging_record's check constraint).
create function cs_private.proposable_entity_kinds() returns text[]
language sql immutable
set search_path = ''
as $$
  select array['study', 'study_kpi', 'study_milestone', 'study_risk', 'study_resource', 'live_essential_document']
$$;

-- Every problem of a configuration, each {path, field, message}; empty when it is valid. A path
-- names the form and field ("forms[diary_entry].fields[duration_minutes].max"). Definer: a person
-- checking a draft reaches the catalog (proposable columns) through it, and nothing else.
create function cs_private.build_configuration_errors(config jsonb) returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  errors jsonb := '[]'::jsonb;
  form jsonb;
  field jsonb;
  form_index integer := 0;
  field_index integer;
  form_code text;
  form_path text;
  field_code text;
  field_path text;
  field_type text;
  form_codes text[] := '{}';
  field_codes text[];
  diary_forms integer := 0;
  k text;
  columns text[];
  v jsonb;
begin
  if config is null or jsonb_typeof(config) <> 'object' then
    return jsonb_build_array(jsonb_build_object('path', 'configuration', 'field', null,
      'message', 'the configuration must be a JSON object with a "forms" array'));
  end if;
  for k in select jsonb_object_keys(config) loop
    if k <> 'forms' then
      errors := errors || jsonb_build_object('path', k, 'field', null, 'message', 'unknown key "' || k || '"');
    end if;
  end loop;
  if jsonb_typeof(config -> 'forms') is distinct from 'array' or jsonb_array_length(config -> 'forms') = 0 then
    return errors || jsonb_build_object('path', 'forms', 'field', null,
      'message', 'at least one form is needed');
  end if;

  for form in select f from jsonb_array_elements(config -> 'forms') f loop
    form_index := form_index + 1;
    form_code := case when jsonb_typeof(form -> 'code') = 'string' then form ->> 'code' end;
    form_path := 'forms[' || coalesce(form_code, form_index::text) || ']';
    if jsonb_typeof(form) <> 'object' then
      errors := errors || jsonb_build_object('path', form_path, 'field', null, 'message', 'a form must be an object');
      continue;
    end if;
    for k in select jsonb_object_keys(form) loop
      if k not in ('code', 'kind', 'title', 'fields') then
        errors := errors || jsonb_build_object('path', form_path || '.' || k, 'field', null,
          'message', 'unknown key "' || k || '"');
      end if;
    end loop;
    if form_code is null or form_code !~ '^[a-z][a-z0-9_]{0,62}$' then
      errors := errors || jsonb_build_object('path', form_path || '.code', 'field', null,
        'message', 'a form code is 1-63 lower-case letters, digits and underscores, starting with a letter');
    elsif form_code = any (form_codes) then
      errors := errors || jsonb_build_object('path', form_path || '.code', 'field', null,
        'message', 'form "' || form_code || '" appears twice');
    else
      form_codes := form_codes || form_code;
    end if;
    if form ->> 'kind' = 'diary' then
      diary_forms := diary_forms + 1;
      if diary_forms = 2 then
        errors := errors || jsonb_build_object('path', form_path || '.kind', 'field', null,
          'message', 'a build has at most one diary form');
      end if;
    elsif form ->> 'kind' = 'entity' then
      if form_code is not null and not form_code = any (cs_private.proposable_entity_kinds()) then
        errors := errors || jsonb_build_object('path', form_path || '.code', 'field', null,
          'message', '"' || form_code || '" is not an entity kind a proposal can be made for');
      end if;
    else
      errors := errors || jsonb_build_object('path', form_path || '.kind', 'field', null,
        'message', 'kind must be "diary" or "entity"');
    end if;
    if form ? 'title' and (jsonb_typeof(form -> 'title') <> 'string' or char_length(btrim(form ->> 'title')) not between 1 and 200) then
      errors := errors || jsonb_build_object('path', form_path || '.title', 'field', null,
        'message', 'a title is 1-200 characters of text');
    end if;
    if jsonb_typeof(form -> 'fields') is distinct from 'array' or jsonb_array_length(form -> 'fields') = 0 then
      errors := errors || jsonb_build_object('path', form_path || '.fields', 'field', null,
        'message', 'a form needs at least one field');
      continue;
    end if;
    columns := case when form ->> 'kind' = 'entity' and form_code = any (cs_private.proposable_entity_kinds())
                    then cs_private.proposable_columns(form_code) end;
    field_codes := '{}';
    field_index := 0;
    for field in select f from jsonb_array_elements(form -> 'fields') f loop
      field_index := field_index + 1;
      field_code := case when jsonb_typeof(field -> 'code') = 'string' then field ->> 'code' end;
      field_path := form_path || '.fields[' || coalesce(field_code, field_index::text) || ']';
      if jsonb_typeof(field) <> 'object' then
        errors := errors || jsonb_build_object('path', field_path, 'field', field_code, 'message', 'a field must be an object');
        continue;
      end if;
      for k in select jsonb_object_keys(field) loop
        if k not in ('code', 'label', 'type', 'required', 'values', 'min', 'max', 'max_length') then
          errors := errors || jsonb_build_object('path', field_path || '.' || k, 'field', field_code,
            'message', 'unknown key "' || k || '"');
        end if;
      end loop;
      if field_code is null or field_code !~ '^[a-z][a-z0-9_]{0,62}$' then
        errors := errors || jsonb_build_object('path', field_path || '.code', 'field', field_code,
          'message', 'a field code is 1-63 lower-case letters, digits and underscores, starting with a letter');
      elsif field_code = any (field_codes) then
        errors := errors || jsonb_build_object('path', field_path || '.code', 'field', field_code,
          'message', 'field "' || field_code || '" appears twice');
      else
        field_codes := field_codes || field_code;
        if columns is not null and not field_code = any (columns) then
          errors := errors || jsonb_build_object('path', field_path || '.code', 'field', field_code,
            'message', '"' || field_code || '" is not a column of cro.' || form_code || ' that a proposal may set');
        end if;
      end if;
      if field ? 'label' and (jsonb_typeof(field -> 'label') <> 'string' or char_length(btrim(field ->> 'label')) not between 1 and 200) then
        errors := errors || jsonb_build_object('path', field_path || '.label', 'field', field_code,
          'message', 'a label is 1-200 characters of text');
      end if;
      field_type := field ->> 'type';
      if jsonb_typeof(field -> 'type') is distinct from 'string' or field_type not in (
           'text', 'integer', 'decimal', 'boolean', 'date', 'time', 'datetime', 'choice', 'json', 'uuid') then
        errors := errors || jsonb_build_object('path', field_path || '.type', 'field', field_code,
          'message', 'type must be one of text, integer, decimal, boolean, date, time, datetime, choice, json, uuid');
        field_type := null;
      end if;
      if field ? 'required' and jsonb_typeof(field -> 'required') <> 'boolean' then
        errors := errors || jsonb_build_object('path', field_path || '.required', 'field', field_code,
          'message', 'required must be true or false');
      end if;
      v := field -> 'values';
      if field_type = 'choice' then
        if jsonb_typeof(v) is distinct from 'array' or jsonb_array_length(v) = 0
           or exists (select 1 from jsonb_array_elements(v) e where jsonb_typeof(e) <> 'string' or e #>> '{}' = '')
           or (select count(distinct e) from jsonb_array_elements_text(v) e) <> jsonb_array_length(v) then
          errors := errors || jsonb_build_object('path', field_path || '.values', 'field', field_code,
            'message', 'a choice field needs a list of distinct, non-empty text values');
        end if;
      elsif v is not null then
        errors := errors || jsonb_build_object('path', field_path || '.values', 'field', field_code,
          'message', 'values apply to a choice field only');
      end if;
      for k in select unnest(array['min', 'max']) loop
        if field ? k then
          if field_type is not null and field_type not in ('integer', 'decimal') then
            errors := errors || jsonb_build_object('path', field_path || '.' || k, 'field', field_code,
              'message', k || ' applies to an integer or decimal field only');
          elsif jsonb_typeof(field -> k) <> 'number'
                or (field_type = 'integer' and (field ->> k)::numeric <> trunc((field ->> k)::numeric)) then
            errors := errors || jsonb_build_object('path', field_path || '.' || k, 'field', field_code,
              'message', k || ' must be ' || case when field_type = 'integer' then 'a whole number' else 'a number' end);
          end if;
        end if;
      end loop;
      if jsonb_typeof(field -> 'min') = 'number' and jsonb_typeof(field -> 'max') = 'number'
         and (field ->> 'min')::numeric > (field ->> 'max')::numeric then
        errors := errors || jsonb_build_object('path', field_path || '.max', 'field', field_code,
          'message', 'max (' || (field ->> 'max') || ') is below min (' || (field ->> 'min') || ')');
      end if;
      if field ? 'max_length' then
        if field_type is not null and field_type <> 'text' then
          errors := errors || jsonb_build_object('path', field_path || '.max_length', 'field', field_code,
            'message', 'max_length applies to a text field only');
        elsif jsonb_typeof(field -> 'max_length') <> 'number' or (field ->> 'max_length')::numeric < 1
              or (field ->> 'max_length')::numeric > 100000
              or (field ->> 'max_length')::numeric <> trunc((field ->> 'max_length')::numeric) then
          errors := errors || jsonb_build_object('path', field_path || '.max_length', 'field', field_code,
            'message', 'max_length must be a whole number from 1 to 100000');
        end if;
      end if;
    end loop;
  end loop;
  return errors;
end
$$;

-- A build's problems: its configuration's, an AMENDMENT without the amendment it implements, and a
-- type out of order (a study's first completed build is its INITIAL one, later ones are not), so that
-- run_study_build records them as a FAILED build. The completion trigger checks the order again under
-- the study's lock.
create function cs_private.build_errors(b cro.study_database_build) returns jsonb
language sql stable
set search_path = ''
as $$
  select cs_private.build_configuration_errors(b.configuration_snapshot)
         || case when b.build_type = 'AMENDMENT' and b.amendment_reference is null
                 then jsonb_build_array(jsonb_build_object('path', 'amendment_reference', 'field', 'amendment_reference',
                        'message', 'an AMENDMENT build names the protocol amendment it implements'))
                 else '[]'::jsonb end
         || case when (b.build_type = 'INITIAL') = exists (
                        select 1 from cro.study_database_build o
                         where o.study_id = b.study_id and o.completed_sequence is not null and o.id <> b.id)
                 then jsonb_build_array(jsonb_build_object('path', 'build_type', 'field', 'build_type',
                        'message', case when b.build_type = 'INITIAL'
                                        then 'the study already has a completed build: a later build is an AMENDMENT or a CORRECTION'
                                        else 'the first completed build of a study is its INITIAL build, not ' || b.build_type end))
                 else '[]'::jsonb end
$$;

-- ── Which build is current ───────────────────────────────────────────────────────────────────────
create function cs_private.current_build(study_id uuid) returns uuid
language sql stable security definer
set search_path = ''
as $$
  select b.id from cro.study_database_build b
   where b.study_id = current_build.study_id and b.completed_sequence is not null
   order by b.completed_sequence desc
   limit 1
$$;

-- The current build, or a refusal: a study without a completed build accepts no data.
create function cs_private.require_current_build(study_id uuid) returns uuid
language plpgsql stable security definer
set search_path = ''
as $$
declare
  build uuid := cs_private.current_build(study_id);
begin
  if build is null then
    raise exception 'study % has no completed protocol build: no data can be entered yet', study_id
      using errcode = 'CS422',
            hint = 'An administrator completes the study''s INITIAL build first (docs/protocol-builds.md).';
  end if;
  return build;
end
$$;

create function cs_private.build_label(build_id uuid) returns text
language sql stable security definer
set search_path = ''
as $$
  select b.build_number || ' (' || b.build_version || ')' from cro.study_database_build b where b.id = build_id
$$;

-- ── The state machine ────────────────────────────────────────────────────────────────────────────
create function cs_private.study_build_before_write() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  bootstrap constant boolean := cs_private.in_bootstrap();
  errors jsonb;
  first jsonb;
  attempts integer;
begin
  if tg_op = 'INSERT' then
    if new.build_status <> 'DRAFT' then
      raise exception 'a build starts as DRAFT, not %', new.build_status using errcode = 'CS422';
    end if;
    if auth.uid() is not null then
      new.built_by := auth.uid();
    elsif new.built_by is null then
      raise exception 'a build needs built_by outside an authenticated session' using errcode = 'CS422';
    end if;
    if not bootstrap or new.created_at is null then
      new.created_at := now();
    end if;
    new.updated_at := new.created_at;
    new.build_start_time := null;
    new.build_end_time := null;
    new.build_duration_seconds := null;
    new.completed_sequence := null;
    new.error_count := 0;
    new.error_log := '[]'::jsonb;
    new.total_visits := 0; new.total_forms := 0; new.total_fields := 0; new.validation_rules_count := 0;
    new.visits_built := 0; new.forms_built := 0;
    new.configuration_sha256 := cs_private.json_sha256(new.configuration_snapshot);
    return new;
  end if;

  if old.build_status in ('COMPLETED', 'CANCELLED') then
    raise exception 'build % is % and frozen: it can no longer change', old.build_number, old.build_status
      using errcode = 'CS409',
            hint = 'A change to a completed protocol is a new build (AMENDMENT or CORRECTION).';
  end if;
  if (new.id, new.study_id, new.build_number, new.build_type, new.built_by, new.created_at)
     is distinct from (old.id, old.study_id, old.build_number, old.build_type, old.built_by, old.created_at) then
    raise exception 'build %: its id, study, number, type, author and creation time never change', old.build_number
      using errcode = 'CS422';
  end if;
  -- What the server keeps: a client's value for these is ignored.
  new.build_start_time := old.build_start_time;
  new.build_end_time := old.build_end_time;
  new.build_duration_seconds := old.build_duration_seconds;
  new.completed_sequence := old.completed_sequence;
  new.error_count := old.error_count;
  new.error_log := old.error_log;
  new.total_visits := old.total_visits; new.total_forms := old.total_forms;
  new.total_fields := old.total_fields; new.validation_rules_count := old.validation_rules_count;
  new.visits_built := old.visits_built; new.forms_built := old.forms_built;
  new.updated_at := case when bootstrap and new.updated_at <> old.updated_at then new.updated_at else now() end;

  if (new.configuration_snapshot, new.build_description, new.build_version, new.amendment_reference)
     is distinct from (old.configuration_snapshot, old.build_description, old.build_version, old.amendment_reference)
     and old.build_status not in ('DRAFT', 'IN_PROGRESS') then
    raise exception 'build % is %: retry it (IN_PROGRESS) before changing its configuration', old.build_number, old.build_status
      using errcode = 'CS409';
  end if;
  new.configuration_sha256 := cs_private.json_sha256(new.configuration_snapshot);

  if new.build_status is distinct from old.build_status then
    if not ((old.build_status = 'DRAFT' and new.build_status in ('IN_PROGRESS', 'CANCELLED'))
         or (old.build_status = 'IN_PROGRESS' and new.build_status in ('COMPLETED', 'FAILED', 'CANCELLED'))
         or (old.build_status = 'FAILED' and new.build_status in ('IN_PROGRESS', 'CANCELLED'))) then
      raise exception 'illegal build transition % -> % for build %', old.build_status, new.build_status, old.build_number
        using errcode = 'CS409',
              hint = 'Allowed: DRAFT -> IN_PROGRESS -> COMPLETED; IN_PROGRESS -> FAILED -> IN_PROGRESS (retry); DRAFT, IN_PROGRESS or FAILED -> CANCELLED.';
    end if;
    if new.build_status = 'IN_PROGRESS' then
      new.build_start_time := case when bootstrap then new.updated_at else now() end;
      new.build_end_time := null;
      new.build_duration_seconds := null;
    elsif new.build_status in ('COMPLETED', 'FAILED') then
      new.build_end_time := case when bootstrap then new.updated_at else now() end;
      new.build_duration_seconds := greatest(0, extract(epoch from new.build_end_time - new.build_start_time))::integer;
    end if;

    if new.build_status = 'COMPLETED' then
      errors := cs_private.build_errors(new);
      if jsonb_array_length(errors) > 0 then
        first := errors -> 0;
        raise exception 'build % cannot be completed: %: %', old.build_number, first ->> 'path', first ->> 'message'
          using errcode = 'CS422', detail = errors::text,
                hint = 'Correct the configuration; public.run_study_build records the errors as a FAILED build.';
      end if;
      -- One completion at a time per study, so that the sequence is the completion order.
      perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('countersign.build:' || new.study_id::text, 0));
      select coalesce(max(b.completed_sequence), 0) + 1 into new.completed_sequence
        from cro.study_database_build b where b.study_id = new.study_id;
      if new.completed_sequence = 1 and new.build_type <> 'INITIAL' then
        raise exception 'the first completed build of a study is its INITIAL build, not %', new.build_type
          using errcode = 'CS422';
      elsif new.completed_sequence > 1 and new.build_type = 'INITIAL' then
        raise exception 'study already has a completed build: a later build is an AMENDMENT or a CORRECTION'
          using errcode = 'CS422';
      end if;
      select count(*)::integer, coalesce(sum(jsonb_array_length(f -> 'fields')), 0)::integer
        into new.total_forms, new.total_fields
        from jsonb_array_elements(new.configuration_snapshot -> 'forms') f;
      select count(*)::integer into new.validation_rules_count
        from jsonb_array_elements(new.configuration_snapshot -> 'forms') f,
             jsonb_array_elements(f -> 'fields') x,
             lateral (values (x -> 'required' = 'true'::jsonb), (x ? 'values'), (x ? 'min'), (x ? 'max'),
                             (x ? 'max_length')) as r (applies)
       where r.applies;
      new.forms_built := new.total_forms;
      new.error_count := 0;
    elsif new.build_status = 'FAILED' then
      errors := cs_private.build_errors(new);
      if jsonb_array_length(errors) = 0 then
        errors := jsonb_build_array(jsonb_build_object('path', null, 'field', null,
          'message', 'marked failed by the administrator; the configuration itself is valid'));
      end if;
      attempts := jsonb_array_length(old.error_log);
      new.error_log := old.error_log || jsonb_build_array(jsonb_build_object(
        'attempt', attempts + 1, 'at', new.build_end_time, 'by', auth.uid(), 'errors', errors));
      new.error_count := jsonb_array_length(errors);
    end if;
  end if;
  return new;
end
$$;

create trigger study_database_build_before_write before insert or update on cro.study_database_build
  for each row execute function cs_private.study_build_before_write();
create trigger study_database_build_no_delete before delete on cro.study_database_build
  for each row execute function cs_private.refuse_change_to_append_only();
create trigger study_database_build_no_truncate before truncate on cro.study_database_build
  for each statement execute function cs_private.refuse_change_to_append_only();

-- After: the definitions of a completed build (written once, here only), and the audit entry.
create function cs_private.study_build_after_write() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.build_status = 'COMPLETED' then
    insert into cro.build_form (build_id, form_code, form_kind, title, ordinal, field_codes)
    select new.id, f.value ->> 'code', f.value ->> 'kind', coalesce(f.value ->> 'title', f.value ->> 'code'),
           f.ordinality::integer,
           array(select x ->> 'code' from jsonb_array_elements(f.value -> 'fields') x)
      from jsonb_array_elements(new.configuration_snapshot -> 'forms') with ordinality f;
    insert into cro.build_form_field (build_id, form_code, field_code, ordinal, label, data_type, required,
                                      allowed_values, min_value, max_value, max_length)
    select new.id, f.value ->> 'code', x.value ->> 'code', x.ordinality::integer,
           coalesce(x.value ->> 'label', x.value ->> 'code'), x.value ->> 'type',
           coalesce((x.value ->> 'required')::boolean, false),
           case when x.value ? 'values' then array(select jsonb_array_elements_text(x.value -> 'values')) end,
           (x.value ->> 'min')::numeric, (x.value ->> 'max')::numeric, (x.value ->> 'max_length')::integer
      from jsonb_array_elements(new.configuration_snapshot -> 'forms') f,
           jsonb_array_elements(f.value -> 'fields') with ordinality x;
  end if;
  if tg_op = 'INSERT' or new.build_status is distinct from old.build_status then
    perform cs_private.audit_append('study_build.transition', jsonb_build_object(
      'build_id', new.id, 'study_id', new.study_id, 'build_number', new.build_number,
      'build_version', new.build_version, 'build_type', new.build_type,
      'from_status', case when tg_op = 'UPDATE' then old.build_status end, 'to_status', new.build_status,
      'completed_sequence', new.completed_sequence, 'configuration_sha256', new.configuration_sha256,
      'error_count', new.error_count));
  elsif (new.configuration_snapshot, new.build_description, new.build_version, new.amendment_reference)
        is distinct from (old.configuration_snapshot, old.build_description, old.build_version, old.amendment_reference) then
    perform cs_private.audit_append('study_build.configured', jsonb_build_object(
      'build_id', new.id, 'study_id', new.study_id, 'build_number', new.build_number,
      'build_version', new.build_version, 'status', new.build_status,
      'configuration_sha256', new.configuration_sha256,
      'description_sha256', cs_private.sha256_hex(new.build_description)));
  end if;
  return null;
end
$$;
create trigger study_database_build_after_write after insert or update on cro.study_database_build
  for each row execute function cs_private.study_build_after_write();

-- The definitions are written by the completion above only, and never change.
create function cs_private.guard_build_definition() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' and pg_catalog.pg_trigger_depth() > 1 then
    return new;
  end if;
  raise exception '% on %.% refused: a build''s definitions are written when it completes and are frozen',
    tg_op, tg_table_schema, tg_table_name
    using errcode = 'CS403', hint = 'Change the configuration of a DRAFT or IN_PROGRESS build instead.';
end
$$;
create trigger build_form_guard before insert or update or delete on cro.build_form
  for each row execute function cs_private.guard_build_definition();
create trigger build_form_no_truncate before truncate on cro.build_form
  for each statement execute function cs_private.refuse_change_to_append_only();
create trigger build_form_field_guard before insert or update or delete on cro.build_form_field
  for each row execute function cs_private.guard_build_definition();
create trigger build_form_field_no_truncate before truncate on cro.build_form_field
  for each statement execute function cs_private.refuse_change_to_append_only();

-- ── Validation of a value against its build ──────────────────────────────────────────────────────
-- A diary event's data against the build's diary form: no field outside the form, every required
-- field present, each value of its type, in its list or range, within its length. The first problem
-- is raised (SQLSTATE CS422) with the field in the message and {field, rule, build_id} as detail.
create function cs_private.check_diary_data(build_id uuid, data jsonb) returns void
language plpgsql stable security definer
set search_path = ''
as $$
declare
  form cro.build_form;
  f cro.build_form_field;
  v jsonb;
  t text;
  extra text;
  problem text;
  rule text;
begin
  if jsonb_typeof(data) is distinct from 'object' then
    raise exception 'diary data must be a JSON object of the form''s fields' using errcode = 'CS422',
      detail = jsonb_build_object('field', null, 'rule', 'type', 'build_id', build_id)::text;
  end if;
  select * into form from cro.build_form b where b.build_id = check_diary_data.build_id and b.form_kind = 'diary';
  if form.form_code is null then
    raise exception 'build % has no diary form: diary entries cannot be recorded under it', cs_private.build_label(build_id)
      using errcode = 'CS422', detail = jsonb_build_object('field', null, 'rule', 'form', 'build_id', build_id)::text;
  end if;
  select k into extra from jsonb_object_keys(data) k where not k = any (form.field_codes) order by k limit 1;
  if extra is not null then
    raise exception 'diary field "%" is not in form % of build %', extra, form.form_code, cs_private.build_label(build_id)
      using errcode = 'CS422', detail = jsonb_build_object('field', extra, 'rule', 'unknown', 'build_id', build_id)::text;
  end if;
  for f in select * from cro.build_form_field x where x.build_id = check_diary_data.build_id and x.form_code = form.form_code
           order by x.ordinal loop
    v := data -> f.field_code;
    problem := null;
    if v is null or jsonb_typeof(v) = 'null' then
      if f.required then problem := 'is required'; rule := 'required'; end if;
    else
      t := jsonb_typeof(v);
      rule := 'type';
      if f.data_type in ('text', 'choice', 'date', 'time', 'datetime', 'uuid') and t <> 'string' then
        problem := 'must be text';
      elsif f.data_type in ('integer', 'decimal') and t <> 'number' then
        problem := 'must be a number';
      elsif f.data_type = 'integer' and (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric) then
        problem := 'must be a whole number';
      elsif f.data_type = 'boolean' and t <> 'boolean' then
        problem := 'must be true or false';
      elsif f.data_type = 'date' and not cs_private.is_calendar_date(v #>> '{}') then
        problem := 'must be a date (YYYY-MM-DD)';
      elsif f.data_type = 'time' and v #>> '{}' !~ '^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$' then
        problem := 'must be a time of day (HH:MM)';
      elsif f.data_type = 'datetime' and v #>> '{}' !~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$' then
        problem := 'must be a date and time (ISO 8601 with a zone)';
      elsif f.data_type = 'uuid' and v #>> '{}' !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        problem := 'must be a UUID';
      elsif f.data_type = 'choice' and not (v #>> '{}') = any (f.allowed_values) then
        problem := 'must be one of ' || array_to_string(f.allowed_values, ', '); rule := 'values';
      elsif f.data_type in ('integer', 'decimal') and f.min_value is not null and (v #>> '{}')::numeric < f.min_value then
        problem := 'must be at least ' || f.min_value::text; rule := 'min';
      elsif f.data_type in ('integer', 'decimal') and f.max_value is not null and (v #>> '{}')::numeric > f.max_value then
        problem := 'must be at most ' || f.max_value::text; rule := 'max';
      elsif f.data_type = 'text' and f.max_length is not null and char_length(v #>> '{}') > f.max_length then
        problem := 'must be at most ' || f.max_length || ' characters'; rule := 'max_length';
      end if;
    end if;
    if problem is not null then
      raise exception 'diary field "%" % (form %, build %)', f.field_code, problem, form.form_code, cs_private.build_label(build_id)
        using errcode = 'CS422', detail = jsonb_build_object('field', f.field_code, 'rule', rule, 'build_id', build_id)::text;
    end if;
  end loop;
end
$$;

-- Whether a text is a real calendar date written YYYY-MM-DD (2025-02-30 is not).
create function cs_private.is_calendar_date(text_value text) returns boolean
language plpgsql immutable
set search_path = ''
as $$
begin
  if text_value !~ '^\d{4}-\d{2}-\d{2}$' then
    return false;
  end if;
  return pg_catalog.to_char(text_value::date, 'YYYY-MM-DD') = text_value;
exception when others then
  return false;
end
$$;

-- A proposal's fields against its build's entity form (keys only: a proposal may change some fields).
create function cs_private.check_proposal_fields(build_id uuid, entity_kind text, proposed_state jsonb) returns void
language plpgsql stable security definer
set search_path = ''
as $$
declare
  allowed text[];
  extra text;
begin
  select b.field_codes into allowed from cro.build_form b
   where b.build_id = check_proposal_fields.build_id and b.form_code = entity_kind and b.form_kind = 'entity';
  if allowed is null then
    raise exception 'entity kind % is not proposable under build %', entity_kind, cs_private.build_label(build_id)
      using errcode = 'CS422', detail = jsonb_build_object('field', null, 'rule', 'form', 'build_id', build_id)::text;
  end if;
  if jsonb_typeof(proposed_state) = 'object' then
    select k into extra from jsonb_object_keys(proposed_state) k where not k = any (allowed) order by k limit 1;
    if extra is not null then
      raise exception 'proposed field "%" is not in the % form of build %', extra, entity_kind, cs_private.build_label(build_id)
        using errcode = 'CS422', detail = jsonb_build_object('field', extra, 'rule', 'unknown', 'build_id', build_id)::text;
    end if;
  end if;
end
$$;

-- ── build_id on every value, set by the server ──────────────────────────────────────────────────
alter table diary.record_audit add column build_id uuid references cro.study_database_build (id);
alter table diary.record_state add column build_id uuid references cro.study_database_build (id);
alter table diary.investigator_annotations add column build_id uuid references cro.study_database_build (id);
alter table cro.staging_record add column build_id uuid references cro.study_database_build (id);
alter table cro.provenance_event add column build_id uuid references cro.study_database_build (id);
alter table cro.signature_event add column content_hash_version smallint not null default 1
  check (content_hash_version in (1, 2));
alter table cro.signature_event alter column content_hash_version set default 2;

create function cs_private.study_of_site(site_id text) returns uuid
language sql stable security definer
set search_path = ''
as $$
  select s.study_id from diary.sites s where s.site_id = study_of_site.site_id
$$;

create function cs_private.diary_event_build() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  new.build_id := cs_private.require_current_build(cs_private.study_of_site(new.site_id));
  if new.operation <> 'USER_DELETE' then
    perform cs_private.check_diary_data(new.build_id, new.data);
  end if;
  return new;
end
$$;
-- Named to fire after record_audit_before_insert (alphabetical), which decides conflicts first.
create trigger record_audit_build before insert on diary.record_audit
  for each row execute function cs_private.diary_event_build();

create function cs_private.annotation_build() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  site text := (select s.site_id from diary.record_state s where s.event_uuid = new.event_uuid);
begin
  if site is not null then  -- (a missing record is refused by annotation_before_write)
    new.build_id := cs_private.require_current_build(cs_private.study_of_site(site));
  end if;
  return new;
end
$$;
create trigger investigator_annotations_build before insert on diary.investigator_annotations
  for each row execute function cs_private.annotation_build();
create trigger investigator_annotations_build_fixed before update of build_id on diary.investigator_annotations
  for each row when (new.build_id is distinct from old.build_id)
  execute function cs_private.refuse_change_to_append_only();

create function cs_private.staging_build() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' or new.proposed_state is distinct from old.proposed_state then
    -- A proposal (or its revision) is written under the study's current build and checked against it.
    new.build_id := cs_private.require_current_build(new.study_id);
    perform cs_private.check_proposal_fields(new.build_id, new.entity_kind, new.proposed_state);
  elsif new.build_id is distinct from old.build_id then
    raise exception 'staging record %: build_id is set by the server', old.id using errcode = 'CS422';
  end if;
  return new;
end
$$;
create trigger staging_record_build before insert on cro.staging_record
  for each row execute function cs_private.staging_build();
-- Only an update that names proposed_state or build_id can change the build: a state change (review,
-- signing, promotion of thousands of records at once) does not run the trigger at all.
create trigger staging_record_build_on_revision before update of proposed_state, build_id on cro.staging_record
  for each row execute function cs_private.staging_build();

create function cs_private.provenance_build() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  -- Provenance of a staging record (a proposal, its promotion) carries that record's build; other
  -- provenance the study's current build, if it has one.
  new.build_id := coalesce(
    (select r.build_id from cro.staging_record r
      where r.id = case when new.payload ->> 'staging_id' ~* '^[0-9a-f-]{36}$' then (new.payload ->> 'staging_id')::uuid
                        when new.subject_kind = 'staging_record' and new.subject_id ~* '^[0-9a-f-]{36}$' then new.subject_id::uuid end),
    case when new.study_id is not null then cs_private.current_build(new.study_id) end);
  return new;
end
$$;
create trigger provenance_event_build before insert on cro.provenance_event
  for each row execute function cs_private.provenance_build();

-- record_state carries the build of its latest event; the diary.event audit entry names the build.
create or replace function cs_private.record_audit_after_insert() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into diary.record_state as s (event_uuid, patient_id, site_id, current_data, version, last_audit_id,
                                       is_deleted, build_id)
  values (new.event_uuid, new.patient_id, new.site_id, new.data, 1, new.audit_id, new.operation = 'USER_DELETE',
          new.build_id)
  on conflict (event_uuid) do update
    set current_data = excluded.current_data,
        version = s.version + 1,
        last_audit_id = excluded.last_audit_id,
        is_deleted = excluded.is_deleted,
        build_id = excluded.build_id;
  perform cs_private.audit_append('diary.event', jsonb_build_object(
    'audit_id', new.audit_id, 'event_uuid', new.event_uuid, 'patient_id', new.patient_id,
    'site_id', new.site_id, 'operation', new.operation, 'parent_audit_id', new.parent_audit_id,
    'data_sha256', cs_private.json_sha256(new.data),
    'change_reason_sha256', cs_private.sha256_hex(new.change_reason),
    'build_id', new.build_id));
  return null;
end
$$;

-- The diary.annotation audit entry (0009) names the build the annotation was written under.
create or replace function cs_private.annotation_audit() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform cs_private.audit_append('diary.annotation', jsonb_build_object(
      'annotation_id', new.annotation_id, 'event_uuid', new.event_uuid, 'site_id', new.site_id,
      'parent_audit_id', new.parent_audit_id, 'annotation_kind', new.annotation_kind,
      'requires_response', new.requires_response,
      'annotation_text_sha256', cs_private.sha256_hex(new.annotation_text),
      'build_id', new.build_id));
  elsif new.resolved is distinct from old.resolved then
    perform cs_private.audit_append(
      case when new.resolved then 'diary.annotation_resolved' else 'diary.annotation_reopened' end,
      jsonb_build_object('annotation_id', new.annotation_id, 'event_uuid', new.event_uuid,
                         'site_id', new.site_id));
  end if;
  return null;
end
$$;

-- The staging audit entries (0050's statement-level trigger) name the build a proposal and its
-- revisions were written under: the same entries with "build_id" added to their payloads.
create or replace function cs_private.staging_audit() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into audit.audit_log (seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash)
    select 0, now(), '', 'staging.proposed', jsonb_build_object(
             'staging_id', n.id, 'study_id', n.study_id, 'entity_kind', n.entity_kind,
             'entity_id', n.entity_id, 'agent_id', n.agent_id,
             'proposed_state_sha256', cs_private.json_sha256(n.proposed_state), 'build_id', n.build_id),
           '', '', ''
      from (select r.*, row_number() over () as ord from staging_inserted r) n
     order by n.ord;
  else
    insert into audit.audit_log (seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash)
    select 0, now(), '', entry.event_type, entry.payload, '', '', ''
      from (select r.*, row_number() over () as ord from staging_updated r) n
      join staging_before_update o on o.id = n.id
     cross join lateral (
       select 'staging.revised' as event_type, jsonb_build_object(
                'staging_id', n.id, 'from_state', o.state, 'to_state', n.state,
                'proposed_state_sha256', cs_private.json_sha256(n.proposed_state), 'build_id', n.build_id) as payload
        where n.proposed_state is distinct from o.proposed_state
       union all
       select 'staging.' || n.state::text, jsonb_build_object(
                'staging_id', n.id, 'study_id', n.study_id, 'from_state', o.state, 'to_state', n.state,
                'entity_kind', n.entity_kind, 'entity_id', n.entity_id,
                'signature_id', case when n.state in ('signed', 'promoted')
                                       then cs_private.approving_signature(n.id, 'approve')
                                     when n.state = 'rejected'
                                       then cs_private.approving_signature(n.id, 'reject') end,
                'proposed_state_sha256', cs_private.json_sha256(n.proposed_state), 'build_id', n.build_id)
        where n.proposed_state is not distinct from o.proposed_state and n.state is distinct from o.state
     ) as entry
     order by n.ord;
  end if;
  return null;
end
$$;

-- ── What a signature signs: version 2 binds the build ────────────────────────────────────────────
-- Version 1 (0014, 0050): the six keys below without build_id. Version 2 adds "build_id" (sorted
-- first in RFC 8785 order). A record is hashed at the version its approving or rejecting signature
-- recorded, and at version 2 before it is signed; so every caller of signing_content_hash (sign_batch,
-- the staging state machine, promotion, staging_detail) stays as it was and old signatures stay
-- verifiable.
create function cs_private.signing_content_hash_at(rec cro.staging_record, version smallint) returns text
language sql stable security invoker
set search_path = ''
as $$
  select cs_private.sha256_hex(
    '{' || case when version >= 2 then '"build_id":' || coalesce(to_json(rec.build_id)::text, 'null') || ',' else '' end
    || '"entity_id":' || coalesce(to_json(rec.entity_id)::text, 'null')
    || ',"entity_kind":' || coalesce(to_json(rec.entity_kind)::text, 'null')
    || ',"live_row_sha256":' || coalesce(to_json(case when rec.entity_id is null then null
         else cs_private.json_sha256(cs_private.live_row_json(rec.entity_kind, rec.entity_id)) end)::text, 'null')
    || ',"proposed_state":' || coalesce(cs_private.canonical_json(rec.proposed_state), 'null')
    || ',"staging_record_id":' || coalesce(to_json(rec.id)::text, 'null')
    || ',"study_id":' || coalesce(to_json(rec.study_id)::text, 'null')
    || '}')
$$;

-- The version a record is hashed at: its latest signature's, or 2 before it is signed. As the caller
-- (public.signing_content reads it through RLS; sign_batch and promotion as the owner).
create function cs_private.signing_content_version(rec cro.staging_record) returns smallint
language sql stable security invoker
set search_path = ''
as $$
  select coalesce(
    (select s.content_hash_version from cro.signature_event s
      where s.subject_kind = 'staging_record' and s.subject_id = rec.id::text
      order by s.signed_at desc, s.id desc limit 1),
    2::smallint)
$$;

create or replace function cs_private.signing_content_hash(rec cro.staging_record) returns text
language sql stable security invoker
set search_path = ''
as $$
  select cs_private.signing_content_hash_at(rec, cs_private.signing_content_version(rec))
$$;

-- The content a reader recomputes (public.signing_content, 0014/0044): the same keys, with build_id
-- at version 2, so that json_sha256(signing_content(rec)) = signing_content_hash(rec) still holds.
create or replace function cs_private.signing_content(rec cro.staging_record) returns jsonb
language sql stable security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'staging_record_id', rec.id, 'study_id', rec.study_id, 'entity_kind', rec.entity_kind,
    'entity_id', rec.entity_id, 'proposed_state', rec.proposed_state,
    'live_row_sha256', case when rec.entity_id is null then null
                            else cs_private.json_sha256(cs_private.live_row_json(rec.entity_kind, rec.entity_id)) end)
    || case when cs_private.signing_content_version(rec) >= 2 then jsonb_build_object('build_id', rec.build_id)
            else '{}'::jsonb end
$$;

-- The records a manifest is built from (0031), as RLS shows them, now with the build each was
-- written under: a workstation on the API gateway (hosted mode) hashes a version-2 manifest from it.
create or replace function public.signing_subjects(staging_ids uuid[]) returns jsonb
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
    select s.id, s.study_id, st.code as study_code, s.entity_kind, s.entity_id, s.state, s.proposed_state, s.build_id
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
      'proposed_state', rec.proposed_state, 'live_row', live, 'build_id', rec.build_id);
  end loop;
  return subjects;
end
$$;

-- ── Backfill: every existing study gets a completed INITIAL build ────────────────────────────────
-- The standard diary form is seed 003's diary entry ("JSONB Schema Examples"); the entity forms are
-- every column a proposal may set. Existing values are recorded under it (not re-validated: they were
-- captured before builds existed, which the build's description says).
create function cs_private.standard_build_configuration() returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object('forms',
    jsonb_build_array(jsonb_build_object(
      'code', 'diary_entry', 'kind', 'diary', 'title', 'Patient diary entry',
      'fields', jsonb_build_array(
        jsonb_build_object('code', 'event_type', 'label', 'Event type', 'type', 'choice', 'required', true,
                           'values', jsonb_build_array('epistaxis', 'nausea', 'fatigue', 'headache', 'other')),
        jsonb_build_object('code', 'date', 'label', 'Date', 'type', 'date', 'required', true),
        jsonb_build_object('code', 'time', 'label', 'Time', 'type', 'time'),
        jsonb_build_object('code', 'duration_minutes', 'label', 'Duration (minutes)', 'type', 'integer',
                           'min', 0, 'max', 1440),
        jsonb_build_object('code', 'intensity', 'label', 'Intensity', 'type', 'choice',
                           'values', jsonb_build_array('mild', 'moderate', 'severe')),
        jsonb_build_object('code', 'side', 'label', 'Side', 'type', 'choice',
                           'values', jsonb_build_array('left', 'right', 'both')),
        jsonb_build_object('code', 'notes', 'label', 'Notes', 'type', 'text', 'max_length', 20000))))
    || (select coalesce(jsonb_agg(jsonb_build_object(
              'code', k.kind, 'kind', 'entity', 'title', k.kind,
              'fields', (select jsonb_agg(jsonb_build_object('code', c.column_name, 'type', c.data_type) order by c.ordinal)
                           from cs_private.proposable_column_types(k.kind) c)) order by k.ord), '[]'::jsonb)
          from unnest(cs_private.proposable_entity_kinds()) with ordinality as k (kind, ord)))
$$;

create function cs_private.complete_initial_build(study_id uuid, built_by uuid, description text) returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  build uuid;
begin
  insert into cro.study_database_build (study_id, build_number, build_version, build_type, build_description,
                                        configuration_snapshot, built_by)
  values (study_id, 'B1', '1.0', 'INITIAL', description,
          cs_private.standard_build_configuration(),
          built_by)
  returning id into build;
  update cro.study_database_build set build_status = 'IN_PROGRESS' where id = build;
  update cro.study_database_build set build_status = 'COMPLETED' where id = build;
  return build;
end
$$;

do $$
declare
  s record;
begin
  for s in select id, created_by from cro.study order by created_at, id loop
    perform cs_private.complete_initial_build(s.id, s.created_by,
      'Initial build recorded when build tracking was introduced (migration 0054); values captured before it are assigned to it.');
  end loop;
end
$$;
-- Existing values: their append-only and state triggers are bypassed for this backfill only, and
-- sync_xid is moved on so that a workstation's next pull fetches each row again with its build.
alter table diary.record_audit disable trigger user;
update diary.record_audit a set build_id = b.id, sync_xid = pg_catalog.pg_current_xact_id()
  from diary.sites t join cro.study_database_build b on b.study_id = t.study_id and b.completed_sequence = 1
 where t.site_id = a.site_id;
alter table diary.record_audit enable trigger user;
alter table diary.record_state disable trigger user;
update diary.record_state a set build_id = b.id, sync_xid = pg_catalog.pg_current_xact_id()
  from diary.sites t join cro.study_database_build b on b.study_id = t.study_id and b.completed_sequence = 1
 where t.site_id = a.site_id;
alter table diary.record_state enable trigger user;
alter table diary.investigator_annotations disable trigger user;
update diary.investigator_annotations a set build_id = b.id, sync_xid = pg_catalog.pg_current_xact_id()
  from diary.sites t join cro.study_database_build b on b.study_id = t.study_id and b.completed_sequence = 1
 where t.site_id = a.site_id;
alter table diary.investigator_annotations enable trigger user;
alter table cro.staging_record disable trigger user;
update cro.staging_record a set build_id = b.id, sync_xid = pg_catalog.pg_current_xact_id()
  from cro.study_database_build b where b.study_id = a.study_id and b.completed_sequence = 1;
alter table cro.staging_record enable trigger user;
alter table cro.provenance_event disable trigger user;
update cro.provenance_event a set build_id = b.id, sync_xid = pg_catalog.pg_current_xact_id()
  from cro.study_database_build b where b.study_id = a.study_id and b.completed_sequence = 1;
alter table cro.provenance_event enable trigger user;

alter table diary.record_audit alter column build_id set not null;
alter table diary.record_state alter column build_id set not null;
alter table diary.investigator_annotations alter column build_id set not null;
alter table cro.staging_record alter column build_id set not null;
create index record_audit_build_idx on diary.record_audit (build_id);
create index staging_record_build_idx on cro.staging_record (build_id);

-- ── Sync ─────────────────────────────────────────────────────────────────────────────────────────
alter table cro.study_database_build add column sync_xid xid8 not null default pg_catalog.pg_current_xact_id();
create index study_database_build_sync_idx on cro.study_database_build (sync_xid, id);
create trigger study_database_build_touch_sync_xid before insert or update on cro.study_database_build
  for each row execute function cs_private.touch_sync_xid();

-- ── The administrator's call: run a build ────────────────────────────────────────────────────────
-- Completes an IN_PROGRESS build, or, when its configuration has errors, records them and leaves it
-- FAILED (the direct UPDATE to COMPLETED refuses instead, naming the first error). Returns
-- {"status": ..., "errors": [...]}. Runs as the caller: RLS lets only an administrator update.
create function public.run_study_build(build_id uuid) returns jsonb
language plpgsql security invoker
set search_path = ''
as $$
declare
  b cro.study_database_build;
  errors jsonb;
begin
  select * into b from cro.study_database_build where id = build_id;
  if b.id is null then
    raise exception 'build % does not exist or is not yours to read', build_id using errcode = 'CS404';
  end if;
  if b.build_status <> 'IN_PROGRESS' then
    raise exception 'build % is %: only an IN_PROGRESS build can be run', b.build_number, b.build_status
      using errcode = 'CS409';
  end if;
  errors := cs_private.build_errors(b);
  update cro.study_database_build
     set build_status = case when jsonb_array_length(errors) = 0 then 'COMPLETED' else 'FAILED' end::cro.build_status
   where id = build_id
  returning * into b;
  if b.id is null then
    raise exception 'only an administrator runs a build' using errcode = 'CS403';
  end if;
  return jsonb_build_object('status', b.build_status, 'errors', errors, 'completed_sequence', b.completed_sequence);
end
$$;

-- ── The hosted queue (0031's staging_queue) with each row's build and a build filter ──────────────
-- The same page, each row with its buildId, and `build` narrowing the page and the counts to one
-- build. The old five-argument form is dropped: a caller that names five arguments gets this one
-- (build defaults to null), so there is one body.
drop function public.staging_queue(integer, timestamptz, uuid, cro.staging_state[], uuid);
create function public.staging_queue(page_size integer, after_created_at timestamptz, after_id uuid,
                                     states cro.staging_state[], study uuid, build uuid default null)
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
                 'updatedAt', to_char(s.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                 'buildId', s.build_id) as r
          from cro.staging_record s
          join cro.study st on st.id = s.study_id
          left join cro.model_registry_version m on m.id = s.model_version_id
         where (study is null or s.study_id = study)
           and (build is null or s.build_id = build)
           and (states is null or cardinality(states) = 0 or s.state = any (states))
           and (after_id is null or (s.created_at, s.id) > (after_created_at, after_id))
         order by s.created_at, s.id
         limit least(greatest(page_size, 1), 5001)
      ) page), '[]'::jsonb),
    'counts', coalesce((
      select jsonb_object_agg(c.state, c.n) from (
        select s.state::text as state, count(*) as n from cro.staging_record s
         where (study is null or s.study_id = study) and (build is null or s.build_id = build)
         group by s.state) c), '{}'::jsonb))
$$;
revoke all on function public.staging_queue(integer, timestamptz, uuid, cro.staging_state[], uuid, uuid)
  from public, anon;
grant execute on function public.staging_queue(integer, timestamptz, uuid, cro.staging_state[], uuid, uuid)
  to authenticated;

-- ── Who may do what ──────────────────────────────────────────────────────────────────────────────
-- Everyone with access to the study reads its builds: its staff (every cro role of the study),
-- administrators, and the patients, investigators and analysts of its diary sites. Only an
-- administrator creates and advances builds (docs/decisions.md: no separate study_builder role).
create function cs_private.my_build_study_ids() returns uuid[]
language sql stable security definer
set search_path = ''
as $$
  select coalesce(array_agg(distinct id), '{}') from (
    select unnest(cs_private.my_study_ids('{sponsor,monitor,coordinator,signer,inspector,agent,admin}')) as id
    union all
    select s.study_id from diary.sites s
     where s.site_id = any (cs_private.my_site_ids('{patient,investigator,analyst}'))
  ) as reachable
$$;

alter table cro.study_database_build enable row level security;
alter table cro.build_form enable row level security;
alter table cro.build_form_field enable row level security;

create policy "study people can read their studies' builds" on cro.study_database_build
  for select to authenticated using (study_id = any ((select cs_private.my_build_study_ids())::uuid[]));
create policy "admin can read every build" on cro.study_database_build
  for select to authenticated using ((select cs_private.is_admin()));
create policy "admin can create builds" on cro.study_database_build
  for insert to authenticated with check ((select cs_private.is_admin()));
create policy "admin can advance builds" on cro.study_database_build
  for update to authenticated using ((select cs_private.is_admin())) with check ((select cs_private.is_admin()));

create policy "study people can read their studies' build forms" on cro.build_form
  for select to authenticated
  using (exists (select 1 from cro.study_database_build b where b.id = build_id));
create policy "study people can read their studies' build fields" on cro.build_form_field
  for select to authenticated
  using (exists (select 1 from cro.study_database_build b where b.id = build_id));

grant select on cro.study_database_build, cro.build_form, cro.build_form_field to authenticated;
grant insert (study_id, build_number, build_version, build_description, build_type, amendment_reference,
              configuration_snapshot) on cro.study_database_build to authenticated;
grant update (build_status, build_version, build_description, amendment_reference, configuration_snapshot)
  on cro.study_database_build to authenticated;

revoke all on function
  cs_private.proposable_column_types(text), cs_private.proposable_entity_kinds(),
  cs_private.build_configuration_errors(jsonb), cs_private.build_errors(cro.study_database_build),
  cs_private.is_calendar_date(text), cs_private.current_build(uuid),
  cs_private.require_current_build(uuid), cs_private.build_label(uuid),
  cs_private.study_build_before_write(), cs_private.study_build_after_write(),
  cs_private.guard_build_definition(), cs_private.check_diary_data(uuid, jsonb),
  cs_private.check_proposal_fields(uuid, text, jsonb), cs_private.study_of_site(text),
  cs_private.diary_event_build(), cs_private.annotation_build(), cs_private.staging_build(),
  cs_private.provenance_build(),
  cs_private.signing_content_hash_at(cro.staging_record, smallint),
  cs_private.signing_content_version(cro.staging_record),
  cs_private.standard_build_configuration(), cs_private.complete_initial_build(uuid, uuid, text),
  cs_private.my_build_study_ids(), public.run_study_build(uuid)
  from public, anon, authenticated;
-- The policy helper and the configuration check (the build panel shows a draft's problems) are the
-- person's to call; the run is the administrator's (RLS decides, the function refuses others) and
-- runs build_errors as the caller; signing_content (granted since 0044) runs the version lookup.
grant execute on function cs_private.my_build_study_ids(), cs_private.build_configuration_errors(jsonb),
  cs_private.build_errors(cro.study_database_build), cs_private.signing_content_version(cro.staging_record),
  public.run_study_build(uuid) to authenticated;

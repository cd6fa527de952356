-- The event-sourced patient diary of seed 003, in schema diary. Decisions where the seed is silent:
--   * patient_id / investigator_id / analyst_id are auth.users ids ("links to user authentication");
--     the patient's study identifier (all an analyst may see of them) is user_site_assignments.subject_code;
--   * a site belongs to a study, so QA and inspectors of that study can review its diary;
--   * an investigator or analyst may hold several sites: their assignment keys are (person, site);
--   * annotations carry patient_id and parent_audit_id (the patient entry they annotate), so that
--     RLS can scope them and an offline annotation can detect that the record moved on;
--   * record_audit is not partitioned by month yet (seed: performance); nothing depends on it.

create table diary.sites (
  site_id text primary key check (site_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
  site_name text not null,
  site_number text not null unique,
  study_id uuid not null references cro.study (id)
);

create table diary.user_site_assignments (
  patient_id uuid primary key references auth.users (id),
  site_id text not null references diary.sites (site_id),
  subject_code text not null unique,
  enrolled_at timestamptz not null default now()
);
create index user_site_assignments_site_idx on diary.user_site_assignments (site_id);

create table diary.investigator_site_assignments (
  investigator_id uuid not null references auth.users (id),
  site_id text not null references diary.sites (site_id),
  access_level text not null default 'full' check (access_level in ('full', 'read')),
  primary key (investigator_id, site_id)
);

create table diary.analyst_site_assignments (
  analyst_id uuid not null references auth.users (id),
  site_id text not null references diary.sites (site_id),
  access_level text not null default 'deidentified' check (access_level in ('deidentified')),
  primary key (analyst_id, site_id)
);

-- The event store: insert-only, the source of truth.
create table diary.record_audit (
  audit_id bigint generated always as identity primary key,
  event_uuid uuid not null,
  patient_id uuid not null references auth.users (id),
  site_id text not null references diary.sites (site_id),
  operation text not null check (operation in (
    'USER_CREATE', 'USER_UPDATE', 'USER_DELETE', 'ADMIN_CORRECTION')),
  data jsonb not null check (jsonb_typeof(data) = 'object'),
  created_by uuid not null references auth.users (id),
  role text not null,
  client_timestamp timestamptz not null,
  server_timestamp timestamptz not null default now(),
  parent_audit_id bigint references diary.record_audit (audit_id),
  change_reason text not null check (length(btrim(change_reason)) > 0)
);
create index record_audit_event_idx on diary.record_audit (event_uuid, audit_id);
create index record_audit_site_idx on diary.record_audit (site_id, patient_id);

-- The read model: one row per diary entry, written only by the record_audit trigger.
create table diary.record_state (
  event_uuid uuid primary key,
  patient_id uuid not null references auth.users (id),
  site_id text not null references diary.sites (site_id),
  current_data jsonb not null,
  version integer not null check (version > 0),
  last_audit_id bigint not null references diary.record_audit (audit_id),
  sync_metadata jsonb not null default '{}'::jsonb,
  is_deleted boolean not null default false
);
create index record_state_site_idx on diary.record_state (site_id, patient_id);

create table diary.investigator_annotations (
  annotation_id uuid primary key default gen_random_uuid(),
  event_uuid uuid not null references diary.record_state (event_uuid),
  patient_id uuid not null references auth.users (id),
  parent_audit_id bigint not null references diary.record_audit (audit_id),
  investigator_id uuid not null references auth.users (id),
  site_id text not null references diary.sites (site_id),
  annotation_kind text not null default 'note' check (annotation_kind in ('note', 'query', 'correction')),
  annotation_text text not null check (length(btrim(annotation_text)) between 1 and 20000),
  requires_response boolean not null default false,
  resolved boolean not null default false,
  resolved_at timestamptz,
  resolved_by uuid references auth.users (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index investigator_annotations_event_idx on diary.investigator_annotations (event_uuid);
create index investigator_annotations_site_idx on diary.investigator_annotations (site_id);

-- Multi-device sync conflicts, recorded by the server when a parent_audit_id does not match.
create table diary.audit_conflicts (
  conflict_id bigint generated always as identity primary key,
  event_uuid uuid not null,
  patient_id uuid not null references auth.users (id),
  site_id text not null references diary.sites (site_id),
  submitted_parent_audit_id bigint,
  current_audit_id bigint references diary.record_audit (audit_id),
  submitted_data jsonb not null,
  detected_at timestamptz not null default now(),
  resolved_at timestamptz,
  resolution text
);
create index audit_conflicts_site_idx on diary.audit_conflicts (site_id, patient_id);

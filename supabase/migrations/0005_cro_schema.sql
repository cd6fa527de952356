-- The cro.* schema of seed 000: 14 tables (plus auth.users), their columns, types and the 20
-- foreign keys of the ERD. Additions, each a decision the seed was silent on:
--   * created_by references auth.users (the seed: "referenced by created_by on every regulated row");
--   * staging_record.study_id: every proposal belongs to one study, so that signer scoping ("holds the
--     signer role for every record's study") is a column, not a guess from proposed_state;
--   * signature_event.study_id, content_hash, ceremony_id, nonce: what a Part 11 signature binds to;
--   * study_id foreign keys where the seed has a bare study_id (provenance, documents, requests).

create table cro.study (
  id uuid primary key default gen_random_uuid(),
  code text not null unique,
  sponsor text not null,
  phase text not null,
  therapeutic_area text not null,
  indication text not null,
  status text not null,
  health text not null check (health in ('green', 'yellow', 'red')),
  executive_summary text not null,
  goals jsonb not null,
  start_date date not null,
  planned_end_date date not null,
  current_forecast_end_date date not null,
  contracted_budget numeric not null,
  ebv_spent numeric not null,
  eac_budget numeric not null,
  currency text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  created_by uuid not null references auth.users (id),
  provenance_id uuid
);

create table cro.model_registry_version (
  id uuid primary key default gen_random_uuid(),
  provider text not null,
  model_id text not null,
  prompt_hash text not null,
  prompt_version text not null,
  registered_at timestamptz not null default now(),
  retired_at timestamptz,
  notes text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  created_by uuid not null references auth.users (id),
  provenance_id uuid,
  unique (provider, model_id, prompt_hash)
);

create table cro.provenance_event (
  id uuid primary key default gen_random_uuid(),
  study_id uuid references cro.study (id),
  actor_kind text not null check (actor_kind in ('human', 'agent', 'system')),
  actor_id text not null,
  model_provider text,
  model_id text,
  model_version_id uuid references cro.model_registry_version (id),
  action text not null,
  subject_kind text not null,
  subject_id text not null,
  retrieved_context jsonb not null,
  reviewer_user_id uuid,
  signature_id uuid,
  occurred_at timestamptz not null default now(),
  payload jsonb not null
);
create index provenance_event_subject_idx on cro.provenance_event (subject_kind, subject_id);
create index provenance_event_study_idx on cro.provenance_event (study_id, occurred_at);

alter table cro.study
  add constraint study_provenance_id_fkey foreign key (provenance_id) references cro.provenance_event (id);
alter table cro.model_registry_version
  add constraint model_registry_version_provenance_id_fkey
  foreign key (provenance_id) references cro.provenance_event (id);

create table cro.staging_record (
  id uuid primary key default gen_random_uuid(),
  entity_kind text not null check (entity_kind in (
    'study', 'study_kpi', 'study_milestone', 'study_risk', 'study_resource', 'live_essential_document')),
  entity_id uuid,
  study_id uuid not null references cro.study (id),
  agent_id text not null,
  model_version_id uuid references cro.model_registry_version (id),
  provenance_id uuid references cro.provenance_event (id),
  state cro.staging_state not null default 'proposed',
  proposed_state jsonb not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  created_by uuid not null references auth.users (id)
);
create index staging_record_queue_idx on cro.staging_record (study_id, state, created_at, id);
create index staging_record_created_idx on cro.staging_record (created_at, id);
create index staging_record_entity_idx on cro.staging_record (entity_kind, entity_id);

create table cro.signature_event (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id),
  user_display_name text not null,
  intent cro.signature_intent not null,
  subject_kind text not null,
  subject_id text not null,
  re_auth_at timestamptz not null,
  meaning_of_signature text not null check (length(btrim(meaning_of_signature)) > 0),
  signed_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  created_by uuid not null references auth.users (id),
  provenance_id uuid references cro.provenance_event (id),
  study_id uuid references cro.study (id),
  content_hash text not null check (content_hash ~ '^[0-9a-f]{64}$'),
  ceremony_id uuid,
  nonce text
);
create index signature_event_subject_idx on cro.signature_event (subject_kind, subject_id);

create table cro.validation_evidence_run (
  id uuid primary key default gen_random_uuid(),
  pr_number integer,
  commit_sha text not null,
  evidence_paths jsonb not null,
  signed_by_user_id text,
  signed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  created_by uuid not null references auth.users (id),
  provenance_id uuid references cro.provenance_event (id)
);

create table cro.live_essential_document (
  id uuid primary key default gen_random_uuid(),
  promoted_from_staging_id uuid references cro.staging_record (id),
  signature_id uuid references cro.signature_event (id),
  study_id uuid references cro.study (id),
  document_type text not null,
  document_title text not null,
  storage_uri text not null,
  metadata jsonb not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  created_by uuid not null references auth.users (id),
  provenance_id uuid references cro.provenance_event (id)
);

create table cro.app_log (
  id uuid primary key default gen_random_uuid(),
  level text not null,
  component text not null,
  message text not null,
  provenance_id uuid references cro.provenance_event (id),
  payload jsonb not null,
  logged_at timestamptz not null default now()
);

create table cro.study_kpi (
  id uuid primary key default gen_random_uuid(),
  study_id uuid references cro.study (id),
  label text,
  value text,
  delta text,
  delta_direction text,
  threshold text,
  position integer not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  created_by uuid not null references auth.users (id),
  provenance_id uuid references cro.provenance_event (id)
);

create table cro.study_milestone (
  id uuid primary key default gen_random_uuid(),
  study_id uuid references cro.study (id),
  name text,
  planned_date date,
  actual_or_forecast_date date,
  status text,
  position integer,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  created_by uuid not null references auth.users (id),
  provenance_id uuid references cro.provenance_event (id)
);

create table cro.study_risk (
  id uuid primary key default gen_random_uuid(),
  study_id uuid references cro.study (id),
  title text,
  owner text,
  severity text,
  mitigation text,
  status text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  created_by uuid not null references auth.users (id),
  provenance_id uuid references cro.provenance_event (id)
);

create table cro.study_resource (
  id uuid primary key default gen_random_uuid(),
  study_id uuid references cro.study (id),
  role text,
  headcount integer,
  fte numeric,
  rate_per_month numeric,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  created_by uuid not null references auth.users (id),
  provenance_id uuid references cro.provenance_event (id)
);

-- embedding is vector(1536) under pgvector in the seed; jsonb here keeps the schema portable to a
-- server without pgvector (the workstation never queries embeddings).
create table cro.vector_document (
  id uuid primary key default gen_random_uuid(),
  source_kind text not null,
  source_uri text not null,
  chunk_index integer not null,
  content text not null,
  embedding jsonb not null,
  metadata jsonb not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table cro.sponsor_request (
  id uuid primary key default gen_random_uuid(),
  sponsor_id text not null,
  study_id uuid references cro.study (id),
  subject text not null,
  body text not null,
  priority text not null,
  status text not null,
  provenance_id uuid references cro.provenance_event (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  created_by uuid not null references auth.users (id)
);
create index sponsor_request_sponsor_idx on cro.sponsor_request (sponsor_id);

alter table cro.role_assignment
  add constraint role_assignment_study_id_fkey foreign key (study_id) references cro.study (id);

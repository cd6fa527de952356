-- One Part 11 signing ceremony for a batch of staging records (ARCHITECTURE.md "Part 11 signing
-- ceremony"). The server is the authority: it recomputes what is signed, checks who signs, consumes
-- the re-authentication, and writes every signature, provenance event, audit entry and state change
-- in one transaction, or nothing.
--
-- What is signed, per record (its SHA-256 over RFC 8785 canonical JSON is the content hash):
--   { staging_record_id, study_id, entity_kind, entity_id, proposed_state,
--     live_row_sha256: hash of the live row it replaces (to_jsonb in UTC), or null for a new row }
-- so a signature binds the proposal and the exact live row it was reviewed against: a change to
-- either after the manifest was built is refused, and promotion checks the live row again.

-- Meanings of signature (11.50(a)(3)), per intent. The signer picks one; free text is a comment.
create table cro.signature_meaning (
  intent cro.signature_intent not null,
  meaning text not null check (length(btrim(meaning)) between 1 and 200),
  position integer not null,
  primary key (intent, meaning)
);
alter table cro.signature_meaning enable row level security;
grant select on cro.signature_meaning to authenticated;
create policy "everyone signed in can read the meanings of signature" on cro.signature_meaning
  for select to authenticated using (true);
insert into cro.signature_meaning (intent, meaning, position) values
  ('approve', 'I approve this change', 1),
  ('approve', 'I have reviewed this change and confirm it is accurate and complete', 2),
  ('reject', 'I reject this change', 1),
  ('reject', 'I have reviewed this change and it must not be applied', 2),
  ('approve_release', 'I approve this release', 1);

alter table cro.signature_event add column signature_comment text
  check (signature_comment is null or length(signature_comment) <= 2000);
-- A ceremony's nonce is on each of its signatures; the same nonce in another ceremony is a replay.
create index signature_event_nonce_idx on cro.signature_event (nonce);
create index signature_event_ceremony_idx on cro.signature_event (ceremony_id);

-- Idempotency: the first result of each ceremony id, returned again on a resend.
create table cs_private.signing_ceremony (
  id uuid primary key,
  user_id uuid not null references auth.users (id),
  nonce text not null unique,
  request_sha256 text not null,
  result jsonb not null,
  signed_at timestamptz not null
);
alter table cs_private.signing_ceremony enable row level security;

create function cs_private.live_row_json(entity_kind text, entity_id uuid) returns jsonb
language plpgsql stable security definer
set search_path = ''
set timezone = 'UTC'
as $$
declare
  live jsonb;
begin
  if entity_kind not in ('study', 'study_kpi', 'study_milestone', 'study_risk', 'study_resource',
                         'live_essential_document') then
    raise exception 'not a live table: %', entity_kind using errcode = 'CS422';
  end if;
  execute format('select to_jsonb(t) from cro.%I t where t.id = $1', entity_kind) into live using entity_id;
  return live;
end
$$;

create function cs_private.signing_content(rec cro.staging_record) returns jsonb
language sql stable security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'staging_record_id', rec.id, 'study_id', rec.study_id, 'entity_kind', rec.entity_kind,
    'entity_id', rec.entity_id, 'proposed_state', rec.proposed_state,
    'live_row_sha256', case when rec.entity_id is null then null
                            else cs_private.json_sha256(cs_private.live_row_json(rec.entity_kind, rec.entity_id)) end)
$$;

create function cs_private.signing_content_hash(rec cro.staging_record) returns text
language sql stable security definer
set search_path = ''
as $$ select cs_private.json_sha256(cs_private.signing_content(rec)) $$;

-- The content a reader may check their own hash against (RLS decides which records they reach).
create function cs_private.signing_content_of(staging_id uuid) returns jsonb
language sql stable security invoker
set search_path = ''
as $$ select cs_private.signing_content(s) from cro.staging_record s where s.id = staging_id $$;

create function cs_private.sign_batch(ceremony_id uuid, nonce text, intent cro.signature_intent,
                                      meaning text, signature_comment text, manifest jsonb)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  request_sha256 text;
  earlier cs_private.signing_ceremony;
  attempt cs_private.reauth_attempt;
  entry record;
  rec record;
  ids uuid[];
  signer_studies uuid[];
  printed_name text;
  signed_at constant timestamptz := now();
  target_state cro.staging_state;
  result jsonb;
begin
  if ceremony_id is null then
    raise exception 'a ceremony id is required' using errcode = 'CS422';
  end if;
  if intent is null or intent not in ('approve', 'reject') then
    raise exception 'a batch of staging records is signed with intent approve or reject, not %', intent
      using errcode = 'CS422';
  end if;
  if manifest is null or jsonb_typeof(manifest) <> 'array' or jsonb_array_length(manifest) = 0 then
    raise exception 'the manifest must list at least one record' using errcode = 'CS422';
  end if;
  if jsonb_array_length(manifest) > 5000 then
    raise exception 'a ceremony signs at most 5000 records; this manifest has %', jsonb_array_length(manifest)
      using errcode = 'CS422';
  end if;
  request_sha256 := cs_private.json_sha256(jsonb_build_object(
    'intent', intent, 'meaning', meaning, 'comment', signature_comment, 'nonce', nonce, 'manifest', manifest));

  -- Idempotency: one ceremony id, one result. Concurrent resends queue behind this lock.
  perform pg_catalog.pg_advisory_xact_lock(4242002, pg_catalog.hashtext(ceremony_id::text));
  select * into earlier from cs_private.signing_ceremony c where c.id = ceremony_id;
  if found then
    if earlier.user_id <> uid then
      raise exception 'ceremony % belongs to another signer', ceremony_id using errcode = 'CS403';
    end if;
    if earlier.request_sha256 <> request_sha256 then
      raise exception 'ceremony % was already used for a different request', ceremony_id
        using errcode = 'CS409', hint = 'Start a new ceremony.';
    end if;
    return earlier.result || jsonb_build_object('replayed', true);
  end if;

  if not exists (select 1 from cro.signature_meaning m where m.intent = sign_batch.intent and m.meaning = sign_batch.meaning) then
    raise exception '"%" is not a meaning of signature for intent %', meaning, intent
      using errcode = 'CS422', hint = 'Pick one of cro.signature_meaning.';
  end if;
  if signature_comment is not null and length(signature_comment) > 2000 then
    raise exception 'the comment is longer than 2000 characters' using errcode = 'CS422';
  end if;
  if nonce is null or nonce !~ '^[A-Za-z0-9_-]{16,128}$' then
    raise exception 'the nonce must be 16-128 characters of [A-Za-z0-9_-]' using errcode = 'CS422';
  end if;
  if exists (select 1 from cs_private.signing_ceremony c where c.nonce = sign_batch.nonce)
     or exists (select 1 from cro.signature_event s where s.nonce = sign_batch.nonce) then
    raise exception 'replayed nonce: this signature request was already submitted' using errcode = 'CS409';
  end if;
  if cs_private.signing_locked(uid) then
    raise exception 'your account is locked for signing after repeated failed re-authentications'
      using errcode = 'CS403', hint = 'An administrator can unlock it.';
  end if;

  select * into attempt from cs_private.reauth_attempt a
   where a.user_id = uid and a.ceremony_id = sign_batch.ceremony_id and a.outcome = 'verified'
   order by a.decided_at desc limit 1 for update;
  if not found then
    raise exception 'no re-authentication for ceremony %: enter your password and a current code', ceremony_id
      using errcode = 'CS403';
  end if;
  if attempt.password_verified_at < now() - interval '5 minutes'
     or attempt.totp_verified_at < now() - interval '5 minutes' then
    raise exception 'your re-authentication is older than 5 minutes; sign again' using errcode = 'CS403';
  end if;

  -- The manifest: one (staging_record_id, content_hash) per record, no duplicates.
  create temporary table if not exists pg_temp.signing_manifest (
    position integer, staging_id uuid, content_hash text) on commit drop;
  truncate pg_temp.signing_manifest;
  begin
    insert into pg_temp.signing_manifest
    select e.ordinality::integer, (e.value ->> 'staging_record_id')::uuid, e.value ->> 'content_hash'
      from jsonb_array_elements(manifest) with ordinality as e;
  exception when invalid_text_representation then
    raise exception 'every manifest entry needs a staging_record_id (uuid) and a content_hash'
      using errcode = 'CS422';
  end;
  for entry in select * from pg_temp.signing_manifest m
               where m.staging_id is null or m.content_hash is null or m.content_hash !~ '^[0-9a-f]{64}$' loop
    raise exception 'manifest entry % needs a staging_record_id and a 64-digit lower-case hex content_hash',
      entry.position using errcode = 'CS422';
  end loop;
  for entry in select m.staging_id from pg_temp.signing_manifest m group by m.staging_id having count(*) > 1 loop
    raise exception 'record % is listed twice in the manifest', entry.staging_id using errcode = 'CS422';
  end loop;
  select array_agg(m.staging_id order by m.staging_id) into ids from pg_temp.signing_manifest m;

  -- Lock the records in a fixed order: of two signers racing for one record, one waits and then
  -- finds it no longer in reviewing.
  perform 1 from cro.staging_record s where s.id = any (ids) order by s.id for update;
  signer_studies := cs_private.my_study_ids('{signer}');
  for rec in
    select m.position, m.staging_id, m.content_hash, s.id, s.state, s.study_id,
           (select st.code from cro.study st where st.id = s.study_id) as study_code,
           case when s.id is null then null else cs_private.signing_content_hash(s) end as server_hash
      from pg_temp.signing_manifest m left join cro.staging_record s on s.id = m.staging_id
     order by m.position
  loop
    if rec.id is null then
      raise exception 'record % does not exist', rec.staging_id using errcode = 'CS422';
    end if;
    if not rec.study_id = any (signer_studies) then
      raise exception 'you are not a signer of study % (record %)', rec.study_code, rec.staging_id
        using errcode = 'CS403';
    end if;
    if rec.state <> 'reviewing' then
      raise exception 'record % is %, not reviewing', rec.staging_id, rec.state
        using errcode = 'CS409', hint = 'Only records opened for review can be signed.';
    end if;
    if rec.server_hash <> rec.content_hash then
      raise exception 'record % changed after the manifest was built (its content hash is now %)',
        rec.staging_id, rec.server_hash
        using errcode = 'CS409', hint = 'Review the record again and start a new ceremony.';
    end if;
  end loop;

  select p.printed_name into printed_name from cro.user_profile p where p.user_id = uid;
  if printed_name is null then
    raise exception 'your account has no printed name; an administrator must set it' using errcode = 'CS422';
  end if;

  -- Provenance, then signatures (which reference it), then the state change, which the staging
  -- trigger allows only now that each record has its signature.
  create temporary table if not exists pg_temp.signing_rows (
    position integer, staging_id uuid, study_id uuid, content_hash text, signature_id uuid,
    provenance_id uuid) on commit drop;
  truncate pg_temp.signing_rows;
  insert into pg_temp.signing_rows
  select m.position, m.staging_id, s.study_id, m.content_hash, gen_random_uuid(), gen_random_uuid()
    from pg_temp.signing_manifest m join cro.staging_record s on s.id = m.staging_id;

  insert into cro.provenance_event (id, study_id, actor_kind, actor_id, action, subject_kind, subject_id,
                                    retrieved_context, reviewer_user_id, signature_id, occurred_at, payload)
  select r.provenance_id, r.study_id, 'human', uid::text, intent::text, 'staging_record', r.staging_id::text,
         '[]'::jsonb, uid, r.signature_id, signed_at,
         jsonb_build_object('ceremony_id', ceremony_id, 'content_hash', r.content_hash, 'meaning', meaning)
    from pg_temp.signing_rows r order by r.position;

  insert into cro.signature_event (id, user_id, user_display_name, intent, subject_kind, subject_id, re_auth_at,
                                   meaning_of_signature, signed_at, created_at, updated_at, created_by,
                                   provenance_id, study_id, content_hash, ceremony_id, nonce, signature_comment)
  select r.signature_id, uid, printed_name, intent, 'staging_record', r.staging_id::text, attempt.totp_verified_at,
         meaning, signed_at, signed_at, signed_at, uid, r.provenance_id, r.study_id, r.content_hash,
         ceremony_id, nonce, signature_comment
    from pg_temp.signing_rows r order by r.position;

  target_state := case when intent = 'approve' then 'signed' else 'rejected' end;
  update cro.staging_record s set state = target_state where s.id = any (ids);

  update cs_private.reauth_attempt set outcome = 'consumed', consumed_at = clock_timestamp() where id = attempt.id;

  select jsonb_build_object(
    'ceremony_id', ceremony_id,
    'intent', intent,
    'meaning', meaning,
    'comment', signature_comment,
    'signed_at', audit.occurred_at_text(signed_at),
    're_auth_at', audit.occurred_at_text(attempt.totp_verified_at),
    'signer', jsonb_build_object('user_id', uid, 'printed_name', printed_name),
    'records', jsonb_agg(jsonb_build_object(
      'staging_record_id', r.staging_id, 'signature_id', r.signature_id, 'content_hash', r.content_hash,
      'state', target_state) order by r.position))
    into result
    from pg_temp.signing_rows r;

  insert into cs_private.signing_ceremony (id, user_id, nonce, request_sha256, result, signed_at)
  values (ceremony_id, uid, nonce, request_sha256, result, signed_at);
  perform cs_private.audit_append('signing.ceremony', jsonb_build_object(
    'ceremony_id', ceremony_id, 'user_id', uid, 'intent', intent, 'meaning', meaning,
    'record_count', jsonb_array_length(manifest), 'manifest_sha256', cs_private.json_sha256(manifest),
    'signed_at', audit.occurred_at_text(signed_at)));
  return result || jsonb_build_object('replayed', false);
end
$$;

-- Rejection reasons, and one ceremony of up to 10,000 records signed quickly (issue 19).
--
-- 1. A rejection names its reason (decision 40 in docs/decisions.md). The reasons are configured in
--    cro.rejection_reason, as the meanings of signature are in cro.signature_meaning (0014); a
--    rejecting ceremony names one and explains it in free text, both kept on each of its
--    signatures. sign_batch refuses a rejection without them, and any reason on an approval. The
--    signature.recorded entry of a rejection carries the reason and the SHA-256 of the explanation
--    (the text is the study's business, and every reader of the audit log reads all of it), so the
--    chain binds both. The entries of approvals are unchanged.
-- 2. A ceremony signs at most 10,000 records (was 5,000). A manifest entry is exactly a
--    staging_record_id and a content_hash (other keys were ignored, and are now refused).
-- 3. sign_batch is the batch itself over helpers for the checks a ceremony makes (idempotency, the
--    gateway's token, the request, the reason, the re-authentication, the manifest). It checks every
--    record in one query, computing the server's content hash once per record and only for records
--    that pass the other checks, and writes set-based. The gateway check of 0030's
--    sign_batch_checked is one of the helpers, so public.sign_batch calls the rule directly again.
-- 4. Speed, with every hash rule and every audit entry as before (test/db/auditChain.test.ts, the
--    signing and export tests):
--    * canonical_json writes scalars in place instead of by a call each; audit.entry_hash, the
--      content hash of a record and the manifest's hash write their RFC 8785 text directly; the
--      CHECKs on hashes test their characters without an anchored regular expression;
--    * the audit entries of signatures and of staging changes are inserted per statement, one
--      INSERT for all the rows of a statement, in the same order (the chain trigger still numbers
--      and hashes each), and the chain trigger reads a person's actor in one lookup;
--    * the staging trigger does not recompute the content hash of a record being signed by a
--      signature its own transaction wrote (sign_batch compared it with the server's recomputation
--      under the record's lock moments before); every other signature, and every promotion, is
--      checked as before.

-- ── 1. Reasons for a rejection ─────────────────────────────────────────────────────────────────────
create table cro.rejection_reason (
  reason text primary key check (length(btrim(reason)) between 1 and 200),
  position integer not null
);
alter table cro.rejection_reason enable row level security;
grant select on cro.rejection_reason to authenticated;
create policy "everyone signed in can read the reasons for a rejection" on cro.rejection_reason
  for select to authenticated using (true);
insert into cro.rejection_reason (reason, position) values
  ('Not supported by the cited sources', 1),
  ('Incorrect or incomplete values', 2),
  ('Conflicts with the current record', 3),
  ('Duplicate of another proposal', 4),
  ('Outside the protocol or the study''s scope', 5),
  ('Other (explained below)', 6);

alter table cro.signature_event
  add column rejection_reason text check (rejection_reason is null or length(rejection_reason) <= 200),
  add column rejection_explanation text
    check (rejection_explanation is null or length(btrim(rejection_explanation)) between 1 and 2000),
  add constraint signature_event_rejection_reason_with_explanation
    check ((rejection_reason is null) = (rejection_explanation is null)),
  add constraint signature_event_rejection_reason_only_on_reject
    check (rejection_reason is null or intent = 'reject');

-- For a session that reaches only `public` (hosted mode).
create function public.rejection_reasons() returns jsonb
language sql stable security invoker
set search_path = ''
as $$
  select coalesce(jsonb_agg(r.reason order by r.position, r.reason), '[]'::jsonb) from cro.rejection_reason r
$$;

-- ── 4a. RFC 8785 without a call per scalar ─────────────────────────────────────────────────────────
-- A string or a boolean is written as jsonb prints it (PostgreSQL escapes strings exactly as to_json
-- does, 0002), an integer below 10^15 (exact in a double) as it is, any other number through
-- canonical_number. test/db/canonicalJson.test.ts holds it to the workstation's canonicalJson.
create or replace function cs_private.canonical_json(v jsonb) returns text
language plpgsql immutable strict parallel safe
set search_path = ''
as $$
declare
  kind constant text := jsonb_typeof(v);
  result text;
  beyond_bmp boolean;
begin
  if kind = 'object' then
    select string_agg(to_json(e.key)::text || ':' || case jsonb_typeof(e.value)
               when 'number' then case when scale(e.value::numeric) = 0 and abs(e.value::numeric) < 1e15
                                       then e.value::text
                                       else cs_private.canonical_number(e.value::numeric) end
               when 'object' then cs_private.canonical_json(e.value)
               when 'array' then cs_private.canonical_json(e.value)
               else e.value::text end,
             ',' order by e.key collate "C"),
           -- Only a non-ASCII key can hold one (a regular expression per key would cost more than the rest).
           bool_or(octet_length(e.key) > length(e.key) and e.key ~ '[\U00010000-\U0010FFFF]')
      into result, beyond_bmp
      from jsonb_each(v) as e;
    -- Keys sort by UTF-16 code units: UTF-8 byte order ("C") is the same unless a key holds a
    -- character beyond U+FFFF (rare: sorted again the slow way).
    if beyond_bmp then
      select string_agg(to_json(e.key)::text || ':' || cs_private.canonical_json(e.value), ','
                        order by cs_private.utf16_sort_key(e.key))
        into result from jsonb_each(v) as e;
    end if;
    return '{' || coalesce(result, '') || '}';
  elsif kind = 'array' then
    select string_agg(case jsonb_typeof(e.value)
               when 'number' then case when scale(e.value::numeric) = 0 and abs(e.value::numeric) < 1e15
                                       then e.value::text
                                       else cs_private.canonical_number(e.value::numeric) end
               when 'object' then cs_private.canonical_json(e.value)
               when 'array' then cs_private.canonical_json(e.value)
               else e.value::text end,
             ',' order by e.ordinality)
      into result
      from jsonb_array_elements(v) with ordinality as e;
    return '[' || coalesce(result, '') || ']';
  elsif kind = 'number' then
    return cs_private.canonical_number((v #>> '{}')::numeric);
  else
    -- A string prints as to_json prints it (escaped exactly as ECMAScript, 0002); true, false, null.
    return v::text;
  end if;
end
$$;

-- [seq, occurred_at, actor, event_type, payload_hash, prev_hash] in RFC 8785 form, written directly
-- (0004's rule): a seq within 2^53 prints as it is, the other five are strings, the two hashes
-- plain hex (the chain's CHECKs) written as they are.
create or replace function audit.entry_hash(
  seq bigint, occurred_at timestamptz, actor text, event_type text, payload_hash text, prev_hash text
) returns text
language sql immutable strict parallel safe
set search_path = ''
as $$
  select cs_private.sha256_hex(
    '[' || case when seq between -9007199254740991 and 9007199254740991 then seq::text
                else cs_private.canonical_number(seq) end
    || ',' || to_json(audit.occurred_at_text(occurred_at))::text || ',' || to_json(actor)::text
    || ',' || to_json(event_type)::text || ',"' || payload_hash || '","' || prev_hash || '"]')
$$;

-- The same CHECKs on hashes, written so that they cost a pass over 64 characters instead of a
-- regular expression that builds a state per character (about 7 µs, several times per signed record).
alter table audit.audit_log
  drop constraint audit_log_payload_hash_check,
  drop constraint audit_log_prev_hash_check,
  drop constraint audit_log_entry_hash_check,
  add constraint audit_log_payload_hash_check check (char_length(payload_hash) = 64 and payload_hash !~ '[^0-9a-f]'),
  add constraint audit_log_prev_hash_check check (char_length(prev_hash) = 64 and prev_hash !~ '[^0-9a-f]'),
  add constraint audit_log_entry_hash_check check (char_length(entry_hash) = 64 and entry_hash !~ '[^0-9a-f]');
alter table cro.signature_event
  drop constraint signature_event_content_hash_check,
  add constraint signature_event_content_hash_check
    check (char_length(content_hash) = 64 and content_hash !~ '[^0-9a-f]');

-- What a signature signs (0014's signing_content) hashed as its RFC 8785 text written directly: the
-- six keys in order, only the proposal and the live row going through canonical_json. The same bytes
-- as json_sha256(signing_content(rec)), for every caller (sign_batch, the staging trigger, promotion);
-- test/db/signingAtScale.test.ts holds the two to each other.
create or replace function cs_private.signing_content_hash(rec cro.staging_record) returns text
language sql stable security invoker
set search_path = ''
as $$
  select cs_private.sha256_hex(
    '{"entity_id":' || coalesce(to_json(rec.entity_id)::text, 'null')
    || ',"entity_kind":' || coalesce(to_json(rec.entity_kind)::text, 'null')
    || ',"live_row_sha256":' || coalesce(to_json(case when rec.entity_id is null then null
         else cs_private.json_sha256(cs_private.live_row_json(rec.entity_kind, rec.entity_id)) end)::text, 'null')
    || ',"proposed_state":' || coalesce(cs_private.canonical_json(rec.proposed_state), 'null')
    || ',"staging_record_id":' || coalesce(to_json(rec.id)::text, 'null')
    || ',"study_id":' || coalesce(to_json(rec.study_id)::text, 'null')
    || '}')
$$;

-- The chain trigger (0004) as before, with the actor of a person's own login read directly (what
-- auth.uid() answers first, in one lookup instead of two); other sessions still ask auth.uid().
create or replace function cs_private.audit_log_chain() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  last_seq bigint;
  last_hash text;
begin
  perform pg_advisory_xact_lock(4242001);
  select seq, entry_hash into last_seq, last_hash from audit.audit_log order by seq desc limit 1;
  new.seq := coalesce(last_seq, 0) + 1;
  new.prev_hash := coalesce(last_hash, repeat('0', 64));
  new.occurred_at := date_trunc('milliseconds', clock_timestamp());
  new.actor := coalesce((select l.user_id from cs_private.login_role l where l.role_name = session_user)::text,
                        auth.uid()::text, 'db:' || session_user);
  new.payload_hash := cs_private.json_sha256(new.payload);
  new.entry_hash := audit.entry_hash(
    new.seq, new.occurred_at, new.actor, new.event_type, new.payload_hash, new.prev_hash);
  return new;
end
$$;

-- ── 4b. Audit entries per statement ────────────────────────────────────────────────────────────────
-- The chain trigger (0004) still numbers and hashes each entry; these only insert them together.
drop trigger signature_event_audit on cro.signature_event;
create or replace function cs_private.audit_signature() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into audit.audit_log (seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash)
  select 0, now(), '', 'signature.recorded',
         jsonb_build_object(
           'signature_id', s.id, 'user_id', s.user_id, 'intent', s.intent,
           'subject_kind', s.subject_kind, 'subject_id', s.subject_id, 'study_id', s.study_id,
           'meaning_of_signature', s.meaning_of_signature, 'content_hash', s.content_hash,
           'signed_at', audit.occurred_at_text(s.signed_at), 're_auth_at', audit.occurred_at_text(s.re_auth_at),
           'ceremony_id', s.ceremony_id)
         || case when s.rejection_reason is null then '{}'::jsonb
                 else jsonb_build_object('rejection_reason', s.rejection_reason,
                                         'rejection_explanation_sha256', cs_private.sha256_hex(s.rejection_explanation))
            end,
         '', '', ''
    from (select r.*, row_number() over () as ord from recorded_signatures r) s
   order by s.ord;
  return null;
end
$$;
create trigger signature_event_audit after insert on cro.signature_event
  referencing new table as recorded_signatures
  for each statement execute function cs_private.audit_signature();

drop trigger staging_record_audit on cro.staging_record;
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
             'proposed_state_sha256', cs_private.json_sha256(n.proposed_state)),
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
                'proposed_state_sha256', cs_private.json_sha256(n.proposed_state)) as payload
        where n.proposed_state is distinct from o.proposed_state
       union all
       select 'staging.' || n.state::text, jsonb_build_object(
                'staging_id', n.id, 'study_id', n.study_id, 'from_state', o.state, 'to_state', n.state,
                'entity_kind', n.entity_kind, 'entity_id', n.entity_id,
                'signature_id', case when n.state in ('signed', 'promoted')
                                       then cs_private.approving_signature(n.id, 'approve')
                                     when n.state = 'rejected'
                                       then cs_private.approving_signature(n.id, 'reject') end,
                'proposed_state_sha256', cs_private.json_sha256(n.proposed_state))
        where n.proposed_state is not distinct from o.proposed_state and n.state is distinct from o.state
     ) as entry
     order by n.ord;
  end if;
  return null;
end
$$;
create trigger staging_record_audit_insert after insert on cro.staging_record
  referencing new table as staging_inserted
  for each statement execute function cs_private.staging_audit();
create trigger staging_record_audit_update after update on cro.staging_record
  referencing old table as staging_before_update new table as staging_updated
  for each statement execute function cs_private.staging_audit();

-- ── 3. The ceremony's shared checks ────────────────────────────────────────────────────────────────

-- One ceremony id, one result: the earlier result of this ceremony (flagged replayed), or null for a
-- new one. Concurrent resends queue behind the lock until the first commits.
create function cs_private.earlier_ceremony_result(ceremony_id uuid, request_sha256 text) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  earlier cs_private.signing_ceremony;
begin
  perform pg_catalog.pg_advisory_xact_lock(4242002, pg_catalog.hashtext(ceremony_id::text));
  select * into earlier from cs_private.signing_ceremony c where c.id = earlier_ceremony_result.ceremony_id;
  if not found then
    return null;
  end if;
  if earlier.user_id <> cs_private.require_user() then
    raise exception 'ceremony % belongs to another signer', ceremony_id using errcode = 'CS403';
  end if;
  if earlier.request_sha256 <> earlier_ceremony_result.request_sha256 then
    raise exception 'ceremony % was already used for a different request', ceremony_id
      using errcode = 'CS409', hint = 'Start a new ceremony.';
  end if;
  return earlier.result || jsonb_build_object('replayed', true);
end
$$;

-- Through the hosted gateway the caller's own token must have just passed MFA (0030): a verified
-- attempt is never spent with a token that did not.
create function cs_private.require_gateway_reauth() returns void
language plpgsql stable security definer
set search_path = ''
as $$
declare
  verdict record;
begin
  if cs_private.via_api_gateway() then
    select * into verdict from cs_private.reauth_claims_verdict(cs_private.gateway_claims());
    if verdict.reason is not null then
      raise exception 'signing needs a session that has just passed password and TOTP verification (%)',
        verdict.reason
        using errcode = 'CS403', hint = 'Re-authenticate (password and a current code) and sign again.';
    end if;
  end if;
end
$$;

-- What every signature request must carry: a comment within bounds, a well-formed nonce never seen,
-- and a signer whose signing is not locked.
create function cs_private.check_signature_request(signature_comment text, nonce text) returns void
language plpgsql stable security definer
set search_path = ''
as $$
begin
  if signature_comment is not null and length(signature_comment) > 2000 then
    raise exception 'the comment is longer than 2000 characters' using errcode = 'CS422';
  end if;
  if nonce is null or nonce !~ '^[A-Za-z0-9_-]{16,128}$' then
    raise exception 'the nonce must be 16-128 characters of [A-Za-z0-9_-]' using errcode = 'CS422';
  end if;
  if exists (select 1 from cs_private.signing_ceremony c where c.nonce = check_signature_request.nonce)
     or exists (select 1 from cro.signature_event s where s.nonce = check_signature_request.nonce) then
    raise exception 'replayed nonce: this signature request was already submitted' using errcode = 'CS409';
  end if;
  if cs_private.signing_locked(cs_private.require_user()) then
    raise exception 'your account is locked for signing after repeated failed re-authentications'
      using errcode = 'CS403', hint = 'An administrator can unlock it.';
  end if;
end
$$;

-- A rejection names one of the configured reasons and explains it; an approval carries no reason.
create function cs_private.check_rejection_reason(intent cro.signature_intent, rejection_reason text,
                                                  rejection_explanation text) returns void
language plpgsql stable security definer
set search_path = ''
as $$
begin
  if intent <> 'reject' then
    if rejection_reason is not null or rejection_explanation is not null then
      raise exception 'only a rejection has a reason' using errcode = 'CS422';
    end if;
    return;
  end if;
  if rejection_reason is null
     or not exists (select 1 from cro.rejection_reason r where r.reason = check_rejection_reason.rejection_reason) then
    raise exception 'a rejection needs one of the configured reasons, not %',
      coalesce('"' || rejection_reason || '"', 'none')
      using errcode = 'CS422', hint = 'Pick one of cro.rejection_reason.';
  end if;
  if rejection_explanation is null or rejection_explanation !~ '\S' then
    raise exception 'a rejection needs an explanation of its reason' using errcode = 'CS422';
  end if;
  if length(rejection_explanation) > 2000 then
    raise exception 'the explanation is longer than 2000 characters' using errcode = 'CS422';
  end if;
end
$$;

-- The caller's verified re-authentication for this ceremony, locked, if it is at most 5 minutes old.
create function cs_private.fresh_reauth(ceremony_id uuid) returns cs_private.reauth_attempt
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  attempt cs_private.reauth_attempt;
begin
  select * into attempt from cs_private.reauth_attempt a
   where a.user_id = cs_private.require_user() and a.ceremony_id = fresh_reauth.ceremony_id
     and a.outcome = 'verified'
   order by a.decided_at desc limit 1 for update;
  if not found then
    raise exception 'no re-authentication for ceremony %: enter your password and a current code', ceremony_id
      using errcode = 'CS403';
  end if;
  if attempt.password_verified_at < now() - interval '5 minutes'
     or attempt.totp_verified_at < now() - interval '5 minutes' then
    raise exception 'your re-authentication is older than 5 minutes; sign again' using errcode = 'CS403';
  end if;
  return attempt;
end
$$;

-- The manifest's entries in order, each exactly {"staging_record_id": uuid, "content_hash": 64 hex
-- digits}, no record twice; with each entry's RFC 8785 text, so the manifest is hashed without a
-- second pass over it.
create function cs_private.manifest_entries(manifest jsonb)
returns table (ordinal integer, staging_id uuid, content_hash text, canonical text)
language plpgsql immutable security definer
set search_path = ''
as $$
declare
  bad record;
begin
  select e.ordinality into bad
    from jsonb_array_elements(manifest) with ordinality as e
   where jsonb_typeof(e.value) <> 'object'
      or jsonb_typeof(e.value -> 'content_hash') is distinct from 'string'
      or char_length(e.value ->> 'content_hash') <> 64 or e.value ->> 'content_hash' ~ '[^0-9a-f]'
      or e.value <> jsonb_build_object('staging_record_id', e.value -> 'staging_record_id',
                                       'content_hash', e.value -> 'content_hash')
   order by e.ordinality limit 1;
  if found then
    raise exception 'manifest entry % must be exactly a staging_record_id (uuid) and a content_hash (64 lower-case hex digits)',
      bad.ordinality using errcode = 'CS422';
  end if;
  begin
    -- RFC 8785 of an entry: its two strings, keys in order; a uuid's text and a hex hash need no escapes.
    return query
    select e.ordinality::integer, (e.value ->> 'staging_record_id')::uuid, e.value ->> 'content_hash',
           '{"content_hash":"' || (e.value ->> 'content_hash') || '","staging_record_id":"'
             || (e.value ->> 'staging_record_id') || '"}'
      from jsonb_array_elements(manifest) with ordinality as e;
  exception when invalid_text_representation then
    raise exception 'every manifest entry needs a staging_record_id that is a uuid' using errcode = 'CS422';
  end;
  select (e.value ->> 'staging_record_id')::uuid as id into bad
    from jsonb_array_elements(manifest) as e
   group by 1 having count(*) > 1 limit 1;
  if found then
    raise exception 'record % is listed twice in the manifest', bad.id using errcode = 'CS422';
  end if;
end
$$;

-- The staging trigger's content-hash rule (0015): a record is signed or promoted only while its
-- signing content still hashes to what was signed. A signature written by this very transaction was
-- written by sign_batch, which compared the hash with the server's own recomputation under the
-- record's lock moments before: it is not recomputed again.
create function cs_private.signed_content_unchanged(rec cro.staging_record, signature_id uuid, for_promotion boolean)
returns boolean
language plpgsql stable security definer
set search_path = ''
as $$
declare
  signed_hash text;
  signed_here boolean;
begin
  select s.content_hash, s.xmin = pg_catalog.pg_current_xact_id()::xid into signed_hash, signed_here
    from cro.signature_event s where s.id = signature_id;
  if signed_here and not for_promotion then
    return true;
  end if;
  return signed_hash = cs_private.signing_content_hash(rec);
end
$$;

-- 0015's state machine, with its content-hash comparison now in the helper above and bootstrap mode
-- asked once (nothing else changes).
create or replace function cs_private.staging_before_update() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  signature_id uuid;
  bootstrap constant boolean := cs_private.in_bootstrap();
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
      if not bootstrap and not cs_private.signed_content_unchanged(old, signature_id, new.state = 'promoted') then
        raise exception 'conflict: record % or its live % changed after it was signed; nothing was overwritten',
          old.id, old.entity_kind
          using errcode = 'CS409',
                hint = 'The signed content no longer matches. A new proposal against the current row is needed.';
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
  if not bootstrap or new.updated_at = old.updated_at then
    new.updated_at := now();
  end if;
  return new;
end
$$;

-- ── 2, 3. The batch ────────────────────────────────────────────────────────────────────────────────
drop function public.sign_batch(uuid, text, cro.signature_intent, text, text, jsonb);
drop function cs_private.sign_batch_checked(uuid, text, cro.signature_intent, text, text, jsonb);
drop function cs_private.sign_batch(uuid, text, cro.signature_intent, text, text, jsonb);

create function cs_private.sign_batch(ceremony_id uuid, nonce text, intent cro.signature_intent,
                                      meaning text, signature_comment text, manifest jsonb,
                                      rejection_reason text, rejection_explanation text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  signed_at constant timestamptz := now();
  target_state constant cro.staging_state := case when intent = 'approve' then 'signed' else 'rejected' end;
  max_records constant integer := 10000;
  -- The explanation as stored: without the blank lines and spaces around it.
  explanation constant text := pg_catalog.btrim(rejection_explanation, E' \t\r\n');
  manifest_text text;
  request_sha256 text;
  result jsonb;
  attempt cs_private.reauth_attempt;
  signer_studies uuid[];
  printed_name text;
  problem record;
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
  if jsonb_array_length(manifest) > max_records then
    raise exception 'a ceremony signs at most % records; this manifest has %', max_records,
      jsonb_array_length(manifest) using errcode = 'CS422';
  end if;
  -- The request as 0014 hashed it, with the manifest's RFC 8785 text computed once for both hashes;
  -- a rejection's reason is part of it.
  -- The entries, checked, each with its RFC 8785 text: the manifest's text is computed once, for
  -- the request's hash (as 0014 hashed the request) and the audit entry's manifest_sha256.
  create temporary table if not exists pg_temp.ceremony_manifest (
    ordinal integer, staging_id uuid, content_hash text, canonical text) on commit drop;
  truncate pg_temp.ceremony_manifest;
  insert into pg_temp.ceremony_manifest select * from cs_private.manifest_entries(manifest);
  select '[' || string_agg(m.canonical, ',' order by m.ordinal) || ']' into manifest_text
    from pg_temp.ceremony_manifest m;
  request_sha256 := cs_private.sha256_hex(
    '{"comment":' || coalesce(to_json(signature_comment)::text, 'null')
    || ',"intent":' || to_json(intent::text)::text
    || ',"manifest":' || manifest_text
    || ',"meaning":' || coalesce(to_json(meaning)::text, 'null')
    || ',"nonce":' || coalesce(to_json(nonce)::text, 'null')
    || case when rejection_reason is null and rejection_explanation is null then ''
            else ',"rejection_explanation":' || coalesce(to_json(rejection_explanation)::text, 'null')
                 || ',"rejection_reason":' || coalesce(to_json(rejection_reason)::text, 'null') end
    || '}');

  result := cs_private.earlier_ceremony_result(ceremony_id, request_sha256);
  if result is not null then
    return result;
  end if;
  perform cs_private.require_gateway_reauth();
  if not exists (select 1 from cro.signature_meaning m where m.intent = sign_batch.intent and m.meaning = sign_batch.meaning) then
    raise exception '"%" is not a meaning of signature for intent %', meaning, intent
      using errcode = 'CS422', hint = 'Pick one of cro.signature_meaning.';
  end if;
  perform cs_private.check_rejection_reason(intent, rejection_reason, explanation);
  perform cs_private.check_signature_request(signature_comment, nonce);
  attempt := cs_private.fresh_reauth(ceremony_id);

  -- Every record in one pass, locked in a fixed order (of two signers racing for one record, one
  -- waits and then finds it no longer in reviewing); the server's content hash is computed only for
  -- records that pass the other checks.
  perform 1 from cro.staging_record s
    where s.id in (select m.staging_id from pg_temp.ceremony_manifest m) order by s.id for update;
  signer_studies := cs_private.my_study_ids('{signer}');
  create temporary table if not exists pg_temp.ceremony_rows (
    ordinal integer, staging_id uuid, content_hash text, present boolean, study_id uuid, study_code text,
    state cro.staging_state, server_hash text, signature_id uuid, provenance_id uuid) on commit drop;
  truncate pg_temp.ceremony_rows;
  insert into pg_temp.ceremony_rows
  select m.ordinal, m.staging_id, m.content_hash, s.id is not null, s.study_id, st.code, s.state,
         case when s.state = 'reviewing' and s.study_id = any (signer_studies)
              then cs_private.signing_content_hash(s) end,
         gen_random_uuid(), gen_random_uuid()
    from pg_temp.ceremony_manifest m
    left join cro.staging_record s on s.id = m.staging_id
    left join cro.study st on st.id = s.study_id;

  select * into problem from pg_temp.ceremony_rows r
   where not r.present or not r.study_id = any (signer_studies) or r.state <> 'reviewing'
      or r.server_hash <> r.content_hash
   order by r.ordinal limit 1;
  if found then
    if not problem.present then
      raise exception 'record % does not exist', problem.staging_id using errcode = 'CS422';
    elsif not problem.study_id = any (signer_studies) then
      raise exception 'you are not a signer of study % (record %)', problem.study_code, problem.staging_id
        using errcode = 'CS403';
    elsif problem.state <> 'reviewing' then
      raise exception 'record % is %, not reviewing', problem.staging_id, problem.state
        using errcode = 'CS409', hint = 'Only records opened for review can be signed.';
    else
      raise exception 'record % changed after the manifest was built (its content hash is now %)',
        problem.staging_id, problem.server_hash
        using errcode = 'CS409', hint = 'Review the record again and start a new ceremony.';
    end if;
  end if;

  select p.printed_name into printed_name from cro.user_profile p where p.user_id = uid;
  if printed_name is null then
    raise exception 'your account has no printed name; an administrator must set it' using errcode = 'CS422';
  end if;

  -- Provenance, then signatures (which reference it), then the state change, which the staging
  -- trigger allows only now that each record has its signature.
  insert into cro.provenance_event (id, study_id, actor_kind, actor_id, action, subject_kind, subject_id,
                                    retrieved_context, reviewer_user_id, signature_id, occurred_at, payload)
  select r.provenance_id, r.study_id, 'human', uid::text, intent::text, 'staging_record', r.staging_id::text,
         '[]'::jsonb, uid, r.signature_id, signed_at,
         jsonb_build_object('ceremony_id', ceremony_id, 'content_hash', r.content_hash, 'meaning', meaning)
    from pg_temp.ceremony_rows r order by r.ordinal;

  insert into cro.signature_event (id, user_id, user_display_name, intent, subject_kind, subject_id, re_auth_at,
                                   meaning_of_signature, signed_at, created_at, updated_at, created_by,
                                   provenance_id, study_id, content_hash, ceremony_id, nonce, signature_comment,
                                   rejection_reason, rejection_explanation)
  select r.signature_id, uid, printed_name, intent, 'staging_record', r.staging_id::text, attempt.totp_verified_at,
         meaning, signed_at, signed_at, signed_at, uid, r.provenance_id, r.study_id, r.content_hash,
         ceremony_id, nonce, signature_comment, rejection_reason, explanation
    from pg_temp.ceremony_rows r order by r.ordinal;

  update cro.staging_record s set state = target_state
    from pg_temp.ceremony_rows r where s.id = r.staging_id;

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
      'state', target_state) order by r.ordinal))
    || case when intent = 'reject'
            then jsonb_build_object('rejection_reason', rejection_reason,
                                    'rejection_explanation', explanation)
            else '{}'::jsonb end
    into result
    from pg_temp.ceremony_rows r;

  insert into cs_private.signing_ceremony (id, user_id, nonce, request_sha256, result, signed_at)
  values (ceremony_id, uid, nonce, request_sha256, result, signed_at);
  perform cs_private.audit_append('signing.ceremony', jsonb_build_object(
    'ceremony_id', ceremony_id, 'user_id', uid, 'intent', intent, 'meaning', meaning,
    'record_count', jsonb_array_length(manifest), 'manifest_sha256', cs_private.sha256_hex(manifest_text),
    'signed_at', audit.occurred_at_text(signed_at)));
  return result || jsonb_build_object('replayed', false);
end
$$;

create function public.sign_batch(ceremony_id uuid, nonce text, intent cro.signature_intent, meaning text,
                                  signature_comment text, manifest jsonb,
                                  rejection_reason text default null, rejection_explanation text default null)
returns jsonb
language sql volatile set search_path = ''
as $$
  select cs_private.sign_batch(ceremony_id, nonce, intent, meaning, signature_comment, manifest,
                               rejection_reason, rejection_explanation)
$$;

-- ── Privileges ─────────────────────────────────────────────────────────────────────────────────────
revoke all on function cs_private.earlier_ceremony_result(uuid, text), cs_private.require_gateway_reauth(),
  cs_private.check_signature_request(text, text),
  cs_private.check_rejection_reason(cro.signature_intent, text, text), cs_private.fresh_reauth(uuid),
  cs_private.manifest_entries(jsonb), cs_private.signed_content_unchanged(cro.staging_record, uuid, boolean),
  cs_private.sign_batch(uuid, text, cro.signature_intent, text, text, jsonb, text, text),
  public.sign_batch(uuid, text, cro.signature_intent, text, text, jsonb, text, text),
  public.rejection_reasons()
  from public;
grant execute on function cs_private.sign_batch(uuid, text, cro.signature_intent, text, text, jsonb, text, text),
  public.sign_batch(uuid, text, cro.signature_intent, text, text, jsonb, text, text),
  public.rejection_reasons()
  to authenticated;
do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on function public.sign_batch(uuid, text, cro.signature_intent, text, text, jsonb, text, text),
      public.rejection_reasons() from anon;
  end if;
end
$$;

-- Validation evidence (issue 8): each CI run's evidence folder is recorded in
-- cro.validation_evidence_run (seed 000) and signed as a release through the same Part 11 ceremony as
-- staging records: signer role, fresh single-use re-authentication, nonce never seen, idempotent
-- ceremony id, content hash recomputed here. `npx countersign evidence record|sign` are the clients.

-- The seed's row names a commit and its evidence paths; the manifest hash binds the folder's bytes.
alter table cro.validation_evidence_run add column manifest_sha256 text
  check (manifest_sha256 is null or manifest_sha256 ~ '^[0-9a-f]{64}$');

-- Who records a run: an administrator (the person who runs releases), as themselves, unsigned. The
-- seed makes inspectors read-only; signers sign the run, they do not also record it.
grant insert on cro.validation_evidence_run to authenticated;
create policy "admin can record a validation evidence run" on cro.validation_evidence_run
  for insert to authenticated
  with check ((select cs_private.is_admin()) and created_by = (select auth.uid())
              and signed_by_user_id is null and signed_at is null and provenance_id is null
              and manifest_sha256 is not null);

create function cs_private.audit_evidence_run() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  perform cs_private.audit_append('evidence.recorded', jsonb_build_object(
    'evidence_run_id', new.id, 'commit_sha', new.commit_sha, 'manifest_sha256', new.manifest_sha256,
    'created_by', new.created_by));
  return null;
end
$$;
create trigger validation_evidence_run_audit after insert on cro.validation_evidence_run
  for each row execute function cs_private.audit_evidence_run();

-- What a release signature signs: no timestamps, so any client recomputes it from the row it reads.
create function cs_private.evidence_run_content(run cro.validation_evidence_run) returns jsonb
language sql stable security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'evidence_run_id', run.id, 'commit_sha', run.commit_sha, 'pr_number', run.pr_number,
    'evidence_paths', run.evidence_paths, 'manifest_sha256', run.manifest_sha256, 'created_by', run.created_by)
$$;

create function cs_private.sign_release(ceremony_id uuid, nonce text, meaning text, signature_comment text,
                                        evidence_run_id uuid, content_hash text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  request_sha256 text;
  earlier cs_private.signing_ceremony;
  attempt cs_private.reauth_attempt;
  verdict record;
  run cro.validation_evidence_run;
  server_hash text;
  printed_name text;
  signing_time constant timestamptz := now();
  new_signature_id constant uuid := gen_random_uuid();
  new_provenance_id constant uuid := gen_random_uuid();
  result jsonb;
begin
  if ceremony_id is null then
    raise exception 'a ceremony id is required' using errcode = 'CS422';
  end if;
  request_sha256 := cs_private.json_sha256(jsonb_build_object(
    'intent', 'approve_release', 'meaning', meaning, 'comment', signature_comment, 'nonce', nonce,
    'evidence_run_id', evidence_run_id, 'content_hash', content_hash));

  -- Idempotency, shared with sign_batch: one ceremony id, one result.
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

  -- Through the hosted gateway the caller's own token must have just passed MFA (as sign_batch, 0030).
  if cs_private.via_api_gateway() then
    select * into verdict from cs_private.reauth_claims_verdict(cs_private.gateway_claims());
    if verdict.reason is not null then
      raise exception 'signing needs a session that has just passed password and TOTP verification (%)',
        verdict.reason using errcode = 'CS403';
    end if;
  end if;

  if not cs_private.has_any_role('{signer}') then
    raise exception 'only a signer can approve a release' using errcode = 'CS403';
  end if;
  if not exists (select 1 from cro.signature_meaning m
                 where m.intent = 'approve_release' and m.meaning = sign_release.meaning) then
    raise exception '"%" is not a meaning of signature for intent approve_release', meaning
      using errcode = 'CS422', hint = 'Pick one of cro.signature_meaning.';
  end if;
  if signature_comment is not null and length(signature_comment) > 2000 then
    raise exception 'the comment is longer than 2000 characters' using errcode = 'CS422';
  end if;
  if nonce is null or nonce !~ '^[A-Za-z0-9_-]{16,128}$' then
    raise exception 'the nonce must be 16-128 characters of [A-Za-z0-9_-]' using errcode = 'CS422';
  end if;
  if exists (select 1 from cs_private.signing_ceremony c where c.nonce = sign_release.nonce)
     or exists (select 1 from cro.signature_event s where s.nonce = sign_release.nonce) then
    raise exception 'replayed nonce: this signature request was already submitted' using errcode = 'CS409';
  end if;
  if cs_private.signing_locked(uid) then
    raise exception 'your account is locked for signing after repeated failed re-authentications'
      using errcode = 'CS403', hint = 'An administrator can unlock it.';
  end if;

  select * into attempt from cs_private.reauth_attempt a
   where a.user_id = uid and a.ceremony_id = sign_release.ceremony_id and a.outcome = 'verified'
   order by a.decided_at desc limit 1 for update;
  if not found then
    raise exception 'no re-authentication for ceremony %: enter your password and a current code', ceremony_id
      using errcode = 'CS403';
  end if;
  if attempt.password_verified_at < now() - interval '5 minutes'
     or attempt.totp_verified_at < now() - interval '5 minutes' then
    raise exception 'your re-authentication is older than 5 minutes; sign again' using errcode = 'CS403';
  end if;

  select * into run from cro.validation_evidence_run r where r.id = evidence_run_id for update;
  if not found then
    raise exception 'validation evidence run % does not exist', evidence_run_id using errcode = 'CS422';
  end if;
  if run.signed_at is not null then
    raise exception 'validation evidence run % is already signed', evidence_run_id using errcode = 'CS409';
  end if;
  if run.manifest_sha256 is null then
    raise exception 'validation evidence run % has no manifest hash to sign', evidence_run_id
      using errcode = 'CS422';
  end if;
  server_hash := cs_private.json_sha256(cs_private.evidence_run_content(run));
  if content_hash is null or server_hash <> content_hash then
    raise exception 'the content hash does not match validation evidence run % (the server computes %)',
      evidence_run_id, server_hash using errcode = 'CS409';
  end if;

  select p.printed_name into printed_name from cro.user_profile p where p.user_id = uid;
  if printed_name is null then
    raise exception 'your account has no printed name; an administrator must set it' using errcode = 'CS422';
  end if;

  insert into cro.provenance_event (id, study_id, actor_kind, actor_id, action, subject_kind, subject_id,
                                    retrieved_context, reviewer_user_id, signature_id, occurred_at, payload)
  values (new_provenance_id, null, 'human', uid::text, 'approve_release', 'validation_evidence_run', run.id::text,
          '[]'::jsonb, uid, new_signature_id, signing_time,
          jsonb_build_object('ceremony_id', ceremony_id, 'content_hash', server_hash, 'meaning', meaning));
  insert into cro.signature_event (id, user_id, user_display_name, intent, subject_kind, subject_id, re_auth_at,
                                   meaning_of_signature, signed_at, created_at, updated_at, created_by,
                                   provenance_id, study_id, content_hash, ceremony_id, nonce, signature_comment)
  values (new_signature_id, uid, printed_name, 'approve_release', 'validation_evidence_run', run.id::text,
          attempt.totp_verified_at, meaning, signing_time, signing_time, signing_time, uid, new_provenance_id, null,
          server_hash, ceremony_id, nonce, signature_comment);
  update cro.validation_evidence_run r
     set signed_by_user_id = uid::text, signed_at = signing_time, updated_at = signing_time,
         provenance_id = new_provenance_id
   where r.id = run.id;
  update cs_private.reauth_attempt set outcome = 'consumed', consumed_at = clock_timestamp() where id = attempt.id;

  result := jsonb_build_object(
    'ceremony_id', ceremony_id, 'intent', 'approve_release', 'meaning', meaning, 'comment', signature_comment,
    'signed_at', audit.occurred_at_text(signing_time), 're_auth_at', audit.occurred_at_text(attempt.totp_verified_at),
    'signer', jsonb_build_object('user_id', uid, 'printed_name', printed_name),
    'evidence_run_id', run.id, 'signature_id', new_signature_id, 'content_hash', server_hash);
  insert into cs_private.signing_ceremony (id, user_id, nonce, request_sha256, result, signed_at)
  values (ceremony_id, uid, nonce, request_sha256, result, signing_time);
  perform cs_private.audit_append('signing.ceremony', jsonb_build_object(
    'ceremony_id', ceremony_id, 'user_id', uid, 'intent', 'approve_release', 'meaning', meaning,
    'evidence_run_id', run.id, 'content_hash', server_hash, 'signed_at', audit.occurred_at_text(signing_time)));
  return result || jsonb_build_object('replayed', false);
end
$$;

create function public.sign_release(ceremony_id uuid, nonce text, meaning text, signature_comment text,
                                    evidence_run_id uuid, content_hash text) returns jsonb
language sql volatile set search_path = ''
as $$ select cs_private.sign_release(ceremony_id, nonce, meaning, signature_comment, evidence_run_id, content_hash) $$;

revoke execute on function public.sign_release(uuid, text, text, text, uuid, text),
  cs_private.sign_release(uuid, text, text, text, uuid, text),
  cs_private.evidence_run_content(cro.validation_evidence_run), cs_private.audit_evidence_run() from public;
grant execute on function public.sign_release(uuid, text, text, text, uuid, text),
  cs_private.sign_release(uuid, text, text, text, uuid, text) to authenticated;
-- Supabase's default privileges grant anon EXECUTE on new functions in public (see 0030).
do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke execute on function public.sign_release(uuid, text, text, text, uuid, text) from anon;
  end if;
end
$$;

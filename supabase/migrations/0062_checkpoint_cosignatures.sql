-- Issue 24: cosigned checkpoints of the audit log (docs/checkpoints.md). A workstation that has
-- verified the hash chain up to a tree size cosigns the checkpoint (tree size, RFC 9162 root hash,
-- subject-map root) with its own Ed25519 key and sends the cosignature here; every workstation of an
-- inspector or an administrator pulls them (sync stream checkpoint_cosignature), so a later rewrite
-- of history is caught by anyone who cosigned before it, and packets and archived checkpoint files
-- carry the cosignatures.
--
-- PostgreSQL cannot check an Ed25519 signature (pgcrypto has none): this table checks only the
-- shape of a row (hex and base64 lengths, the fingerprint being the SHA-256 of the key) and who
-- wrote it. Every client verifies every signature it reads (src/main/checkpoint/cosigner.ts,
-- checkpointFile.ts, the packet verifier) and ignores or reports one that does not verify.
--
-- Append-only like audit.audit_log (0004): UPDATE, DELETE and TRUNCATE refused by trigger for every
-- role, the owner included. The server writes recorded_at. A person inserts only as themselves
-- (user_id = auth.uid()) and only with a role that reads the whole audit trail (inspector, admin:
-- 0010's audit_log policies), and the same roles read every cosignature.

create table audit.checkpoint_cosignature (
  id uuid primary key default gen_random_uuid(),
  tree_size bigint not null check (tree_size > 0),
  root_hash text not null check (char_length(root_hash) = 64 and root_hash !~ '[^0-9a-f]'),
  subject_root text not null check (char_length(subject_root) = 64 and subject_root !~ '[^0-9a-f]'),
  -- Signed as ISO 8601 with milliseconds: store nothing finer, so the text read back is the text signed.
  cosigned_at timestamptz not null check (cosigned_at = date_trunc('milliseconds', cosigned_at)),
  user_id uuid not null references auth.users (id),
  -- Raw 32-byte Ed25519 public key and 64-byte signature, standard base64 with padding.
  public_key text not null check (public_key ~ '^[A-Za-z0-9+/]{43}=$'),
  key_fingerprint text not null check (char_length(key_fingerprint) = 64 and key_fingerprint !~ '[^0-9a-f]'),
  signature text not null check (signature ~ '^[A-Za-z0-9+/]{86}==$'),
  recorded_at timestamptz not null default now(),
  sync_xid xid8 not null default pg_catalog.pg_current_xact_id(),
  constraint checkpoint_cosignature_fingerprint_is_key_hash
    check (key_fingerprint = encode(sha256(decode(public_key, 'base64')), 'hex')),
  -- A key cosigns a checkpoint once: a resend after a lost answer finds this row.
  constraint checkpoint_cosignature_once unique (key_fingerprint, tree_size, root_hash)
);
comment on table audit.checkpoint_cosignature is
  'Ed25519 cosignatures of audit-log checkpoints by workstations that verified the chain (issue 24); append-only. Clients verify the signatures.';

create index checkpoint_cosignature_sync_idx on audit.checkpoint_cosignature (sync_xid, id);
create trigger checkpoint_cosignature_touch_sync_xid before insert or update on audit.checkpoint_cosignature
  for each row execute function cs_private.touch_sync_xid();

-- The server's time of recording, whatever the insert said.
create function cs_private.checkpoint_cosignature_recorded_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.recorded_at := pg_catalog.clock_timestamp();
  return new;
end
$$;
revoke all on function cs_private.checkpoint_cosignature_recorded_at() from public;
create trigger checkpoint_cosignature_recorded_at before insert on audit.checkpoint_cosignature
  for each row execute function cs_private.checkpoint_cosignature_recorded_at();

create trigger checkpoint_cosignature_append_only before update or delete on audit.checkpoint_cosignature
  for each row execute function cs_private.refuse_change_to_append_only();
create trigger checkpoint_cosignature_no_truncate before truncate on audit.checkpoint_cosignature
  for each statement execute function cs_private.refuse_change_to_append_only();

alter table audit.checkpoint_cosignature enable row level security;
revoke all on audit.checkpoint_cosignature from public;
grant select, insert on audit.checkpoint_cosignature to authenticated;
create policy "inspectors and admin can read checkpoint cosignatures" on audit.checkpoint_cosignature
  for select to authenticated
  using ((select cs_private.has_any_role('{inspector,admin}')));
create policy "inspectors and admin cosign as themselves" on audit.checkpoint_cosignature
  for insert to authenticated
  with check (user_id = (select auth.uid()) and (select cs_private.has_any_role('{inspector,admin}')));

-- A cosignature from the workstation, idempotent on (key, tree size, root): sent again after a lost
-- answer it writes nothing and says "replayed". The insert is the caller's own (RLS above decides).
create function public.submit_checkpoint_cosignature(tree_size bigint, root_hash text, subject_root text,
                                                     cosigned_at text, public_key text, key_fingerprint text,
                                                     signature text)
returns jsonb
language plpgsql volatile security invoker
set search_path = ''
as $$
declare
  made uuid;
begin
  if cosigned_at is null or cosigned_at !~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$' then
    raise exception 'cosigned_at must be ISO 8601 UTC with milliseconds' using errcode = 'CS422';
  end if;
  select c.id into made from audit.checkpoint_cosignature c
   where c.key_fingerprint = submit_checkpoint_cosignature.key_fingerprint
     and c.tree_size = submit_checkpoint_cosignature.tree_size
     and c.root_hash = submit_checkpoint_cosignature.root_hash;
  if found then
    return jsonb_build_object('id', made, 'replayed', true);
  end if;
  begin
    insert into audit.checkpoint_cosignature (tree_size, root_hash, subject_root, cosigned_at, user_id, public_key,
                                              key_fingerprint, signature)
    values (submit_checkpoint_cosignature.tree_size, submit_checkpoint_cosignature.root_hash,
            submit_checkpoint_cosignature.subject_root, cosigned_at::timestamptz, auth.uid(),
            submit_checkpoint_cosignature.public_key, submit_checkpoint_cosignature.key_fingerprint,
            submit_checkpoint_cosignature.signature)
    returning id into made;
  exception when unique_violation then
    -- The same cosignature sent twice at once: the other send made it.
    select c.id into made from audit.checkpoint_cosignature c
     where c.key_fingerprint = submit_checkpoint_cosignature.key_fingerprint
       and c.tree_size = submit_checkpoint_cosignature.tree_size
       and c.root_hash = submit_checkpoint_cosignature.root_hash;
    if not found then
      raise;
    end if;
    return jsonb_build_object('id', made, 'replayed', true);
  end;
  return jsonb_build_object('id', made, 'replayed', false);
end
$$;
revoke all on function public.submit_checkpoint_cosignature(bigint, text, text, text, text, text, text) from public;
grant execute on function public.submit_checkpoint_cosignature(bigint, text, text, text, text, text, text)
  to authenticated;

-- The stream that brings cosignatures into the cache (src/main/sync/streamDefinitions.ts).
insert into cs_private.sync_stream (name, server_table, cursor_kind, key_column, key_type, deletions, select_list) values
  ('checkpoint_cosignature', 'audit.checkpoint_cosignature'::regclass, 'xid', 'id', 'uuid', false,
   't.id, t.tree_size::text as tree_size, t.root_hash, t.subject_root, audit.occurred_at_text(t.cosigned_at) as cosigned_at, t.user_id, t.public_key, t.key_fingerprint, t.signature, to_char(t.recorded_at at time zone ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.US"Z"'') as recorded_at');

do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on function public.submit_checkpoint_cosignature(bigint, text, text, text, text, text, text) from anon;
    revoke all on audit.checkpoint_cosignature from anon;
  end if;
end
$$;

-- The hash-chained audit trail of seed 002. Every regulated write appends here in its own
-- transaction (by trigger), and the server alone computes seq, time, actor and hashes, under a lock
-- held to commit, so concurrent writers can neither fork the chain nor leave a gap.
--
--   payload_hash = sha256_hex(canonical_json(payload))
--   entry_hash   = sha256_hex(canonical_json([seq, occurred_at, actor, event_type, payload_hash, prev_hash]))
-- occurred_at is hashed as 'YYYY-MM-DDTHH:MM:SS.mmmZ' (UTC, milliseconds: what JavaScript's
-- Date#toISOString prints, so a client can verify without a lossy time conversion). The genesis
-- entry (seq 1) has prev_hash of 64 zeros.

create table audit.audit_log (
  seq bigint primary key,
  occurred_at timestamptz not null,
  actor text not null,
  event_type text not null check (event_type ~ '^[a-z][a-z0-9_.]*$'),
  payload jsonb not null,
  payload_hash text not null check (payload_hash ~ '^[0-9a-f]{64}$'),
  prev_hash text not null unique check (prev_hash ~ '^[0-9a-f]{64}$'),
  entry_hash text not null unique check (entry_hash ~ '^[0-9a-f]{64}$')
);

create function audit.occurred_at_text(t timestamptz) returns text
language sql immutable strict parallel safe
set search_path = ''
as $$ select to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

create function audit.entry_hash(
  seq bigint, occurred_at timestamptz, actor text, event_type text, payload_hash text, prev_hash text
) returns text
language sql immutable strict parallel safe
set search_path = ''
as $$
  select cs_private.json_sha256(jsonb_build_array(
    seq, audit.occurred_at_text(occurred_at), actor, event_type, payload_hash, prev_hash))
$$;

create function cs_private.audit_log_chain() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  last_seq bigint;
  last_hash text;
begin
  -- One writer at a time until commit: the next writer sees this row before computing its own.
  perform pg_advisory_xact_lock(4242001);
  select seq, entry_hash into last_seq, last_hash from audit.audit_log order by seq desc limit 1;
  new.seq := coalesce(last_seq, 0) + 1;
  new.prev_hash := coalesce(last_hash, repeat('0', 64));
  new.occurred_at := date_trunc('milliseconds', clock_timestamp());
  new.actor := coalesce(auth.uid()::text, 'db:' || session_user);
  new.payload_hash := cs_private.json_sha256(new.payload);
  new.entry_hash := audit.entry_hash(
    new.seq, new.occurred_at, new.actor, new.event_type, new.payload_hash, new.prev_hash);
  return new;
end
$$;

create trigger audit_log_chain before insert on audit.audit_log
  for each row execute function cs_private.audit_log_chain();

-- The one way to append: called by the triggers and functions of regulated writes.
create function cs_private.audit_append(event_type text, payload jsonb) returns bigint
language plpgsql security definer
set search_path = ''
as $$
declare
  new_seq bigint;
begin
  insert into audit.audit_log (seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash)
  values (0, now(), '', event_type, payload, '', '', '')
  returning seq into new_seq;
  return new_seq;
end
$$;
revoke all on function cs_private.audit_append(text, jsonb) from public;

-- Append-only, for every role including the owner: refuse UPDATE, DELETE and TRUNCATE by trigger.
create function cs_private.refuse_change_to_append_only() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception '% on %.% is not allowed: the table is append-only', tg_op, tg_table_schema, tg_table_name
    using errcode = 'CS403',
          hint = 'Regulated history is never changed; record a new event instead.';
end
$$;

create trigger audit_log_append_only before update or delete on audit.audit_log
  for each row execute function cs_private.refuse_change_to_append_only();
create trigger audit_log_no_truncate before truncate on audit.audit_log
  for each statement execute function cs_private.refuse_change_to_append_only();

select cs_private.audit_append('genesis', jsonb_build_object('chain', 'countersign audit_log'));

-- The diary's event store, diary.record_audit, partitioned by month (seed 003: "partitioned by
-- month"; issue 22). Decision 48 (docs/decisions.md) and docs/diary-roles.md, "The event store,
-- partitioned by month".
--
-- * Declarative partitioning by RANGE on server_timestamp, one partition per UTC calendar month,
--   named diary.record_audit_yYYYYmMM (e.g. diary.record_audit_y2026m12), plus an empty DEFAULT
--   partition diary.record_audit_default that refuses every row (see below).
-- * Every existing row is kept exactly: every column, the same audit_id (OVERRIDING SYSTEM VALUE),
--   the same server_timestamp and sync_xid (copied before any trigger exists on the new table, so
--   nothing is re-stamped and no workstation pulls the history again). The identity sequence
--   continues exactly where the old one stood.
-- * Everything that guarded the old table is copied from the catalog, not retyped, so whatever an
--   earlier migration defined is kept: triggers (pg_get_triggerdef), policies (pg_policy),
--   privileges (relacl), row-level security flags, indexes (pg_get_indexdef), foreign keys out of the
--   table, comments. Row triggers of the parent are cloned by PostgreSQL onto every partition, those
--   made later too; statement triggers (the TRUNCATE refusal) are not, so every partition gets its
--   own copy (cs_private.secure_record_audit_partition).
-- * The primary key becomes (audit_id, server_timestamp): a unique key of a partitioned table must
--   contain the partition key. audit_id stays unique: it comes from the identity (a person cannot
--   choose it: GENERATED ALWAYS), a row can never be changed, and the first BEFORE trigger refuses an
--   id that exists (the owner could override the identity).
-- * Foreign keys INTO record_audit (audit_id) cannot reference a partitioned table without its
--   partition key; they are dropped: record_state.last_audit_id, investigator_annotations.
--   parent_audit_id, audit_conflicts.current_audit_id and record_audit's own parent_audit_id.
--   Integrity is kept by what writes them, and by nothing ever leaving the event store:
--     - record_audit cannot be updated, deleted or truncated by anyone, the owner included
--       (append-only triggers on the parent and on every partition), so an id once referenced
--       exists for ever;
--     - record_audit.parent_audit_id: record_audit_before_insert requires it to be the record's
--       current head (0009, 0059), i.e. an existing entry of the same record;
--     - record_state.last_audit_id: written only by record_audit's after-insert trigger with the row
--       it just inserted (guard_record_state refuses every other write);
--     - investigator_annotations.parent_audit_id: annotation_before_write requires an entry of that
--       record with that id;
--     - audit_conflicts.current_audit_id: written only by the server's diary functions (0059's
--       guard_server_written) with the head they read under lock.
--   test/db/recordAuditPartitions.test.ts refuses a dangling reference through each of them.
-- * A month without a partition: the DEFAULT partition holds nothing; a row routed to it is refused,
--   before any rule of the event store runs, with SQLSTATE CS503 and a message naming the month and
--   what an administrator runs. Not PostgreSQL's own routing error (23514 "no partition of relation found
--   for row"), which names neither; and not created on the fly, which PostgreSQL cannot do inside an
--   insert into the same table. The DEFAULT partition must stay empty for a later partition to be
--   created, which its trigger guarantees.
-- * server_timestamp is the server's clock (0059 sets it to now() in the BEFORE trigger). A row is
--   routed to its partition by the value it arrives with, before BEFORE triggers run, so a supplied
--   value of another month could not be corrected any more: a supplied server_timestamp other than
--   now() is refused (CS422) by the first BEFORE trigger, with nothing written.
-- * Partitions are reached only through the parent: nobody but the owner holds a privilege on a
--   partition, and each has row-level security enabled with no policy (not forced, as the parent is
--   not: the owner's backups, pg_dump, read partitions directly).
-- * Partitions ahead of time: cs_private.ensure_record_audit_partitions(months_ahead) creates the
--   current month through months_ahead (idempotent). The embedded backend runs it as the operator at
--   every start (12 months ahead); an on-premises or hosted deployment schedules it monthly (pg_cron
--   on Supabase; docs/diary-roles.md). An administrator can run it through
--   public.ensure_diary_partitions(months_ahead), audited when it creates anything.

-- ── partitions: made, secured, ahead of time ────────────────────────────────────────────────────
-- A partition is reached only through diary.record_audit: no privilege for anyone but the owner, row
-- level security enabled (no policy: a direct read by anyone else sees nothing), and the parent's
-- statement triggers (the TRUNCATE refusal: PostgreSQL clones row triggers only). Idempotent.
create function cs_private.secure_record_audit_partition(partition regclass) returns void
language plpgsql
set search_path = ''
as $$
declare
  grantee record;
  t record;
  definition text;
begin
  if not exists (select 1 from pg_catalog.pg_inherits i
                  where i.inhrelid = partition and i.inhparent = 'diary.record_audit'::regclass) then
    raise exception '% is not a partition of diary.record_audit', partition using errcode = 'CS422';
  end if;
  execute pg_catalog.format('alter table %s enable row level security', partition);
  for grantee in
    select distinct a.grantee from pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
     where c.oid = partition and a.grantee <> c.relowner
  loop
    execute pg_catalog.format('revoke all on table %s from %s', partition,
      case when grantee.grantee = 0 then 'public' else pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(grantee.grantee)) end);
  end loop;
  for t in
    select g.oid, g.tgname from pg_catalog.pg_trigger g
     where g.tgrelid = 'diary.record_audit'::regclass and not g.tgisinternal
       and (g.tgtype & 1) = 0  -- statement level
       and not exists (select 1 from pg_catalog.pg_trigger p where p.tgrelid = partition and p.tgname = g.tgname)
  loop
    definition := pg_catalog.pg_get_triggerdef(t.oid);
    if pg_catalog.strpos(definition, ' ON diary.record_audit ') = 0 then
      raise exception 'cannot copy trigger % to %: unexpected definition %', t.tgname, partition, definition;
    end if;
    execute pg_catalog.replace(definition, ' ON diary.record_audit ', ' ON ' || partition::text || ' ');
  end loop;
end
$$;

-- The partition of one UTC calendar month, diary.record_audit_yYYYYmMM, made if missing. Returns its
-- name when it was made, null when it existed.
create function cs_private.create_record_audit_partition(month_start date) returns text
language plpgsql
set search_path = ''
as $$
declare
  first_day constant date := pg_catalog.date_trunc('month', month_start)::date;
  partition_name constant text :=
    'record_audit_y' || pg_catalog.to_char(first_day, 'YYYY') || 'm' || pg_catalog.to_char(first_day, 'MM');
  existing constant regclass := pg_catalog.to_regclass('diary.' || partition_name);
begin
  if existing is not null then
    if not exists (select 1 from pg_catalog.pg_inherits i
                    where i.inhrelid = existing and i.inhparent = 'diary.record_audit'::regclass) then
      raise exception 'diary.% exists but is not a partition of diary.record_audit', partition_name
        using errcode = 'CS409';
    end if;
    return null;
  end if;
  -- Bounds written in UTC, whatever the session's time zone.
  execute pg_catalog.format(
    'create table diary.%I partition of diary.record_audit for values from (%L) to (%L)', partition_name,
    first_day::text || ' 00:00:00+00', (first_day + interval '1 month')::date::text || ' 00:00:00+00');
  perform cs_private.secure_record_audit_partition(('diary.' || partition_name)::regclass);
  return 'diary.' || partition_name;
end
$$;

-- The partitions of the current UTC month through months_ahead months after it, made if missing.
-- Returns the names of those it made (none: everything was there). Creating a partition takes a
-- short exclusive lock on diary.record_audit, so a busy server is waited for at most 10 s, then the
-- call fails and is run again later (nothing is half made: it is one transaction).
create function cs_private.ensure_record_audit_partitions(months_ahead integer) returns text[]
language plpgsql volatile
set search_path = ''
set lock_timeout = '10s'
as $$
declare
  this_month constant date := pg_catalog.date_trunc('month', pg_catalog.now() at time zone 'UTC')::date;
  made text[] := '{}';
  partition_name text;
begin
  if months_ahead is null or months_ahead < 0 or months_ahead > 120 then
    raise exception 'months_ahead is a number of months from 0 to 120' using errcode = 'CS422';
  end if;
  for i in 0..months_ahead loop
    partition_name := cs_private.create_record_audit_partition((this_month + pg_catalog.make_interval(months => i))::date);
    if partition_name is not null then
      made := made || partition_name;
    end if;
  end loop;
  return made;
end
$$;

-- An administrator makes the partitions ahead of time (e.g. before the operator's scheduled run);
-- what it made is in the audit chain. Returns {"created": [names], "covered_through": "YYYY-MM"}.
create function cs_private.ensure_diary_partitions(months_ahead integer) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid constant uuid := cs_private.require_user();
  made text[];
begin
  if not cs_private.is_admin() then
    raise exception 'only an administrator may create partitions of the diary event store' using errcode = 'CS403';
  end if;
  made := cs_private.ensure_record_audit_partitions(months_ahead);
  if cardinality(made) > 0 then
    perform cs_private.audit_append('diary.partitions_created', jsonb_build_object(
      'partitions', to_jsonb(made), 'months_ahead', months_ahead, 'created_by', uid));
  end if;
  return jsonb_build_object('created', to_jsonb(made), 'covered_through',
    pg_catalog.to_char(pg_catalog.date_trunc('month', pg_catalog.now() at time zone 'UTC')
                       + pg_catalog.make_interval(months => months_ahead), 'YYYY-MM'));
end
$$;

create function public.ensure_diary_partitions(months_ahead integer) returns jsonb
language sql volatile set search_path = ''
as $$ select cs_private.ensure_diary_partitions(months_ahead) $$;

-- ── the two refusals that routing needs ─────────────────────────────────────────────────────────
-- What a row must be as it arrives, checked by the first BEFORE trigger of every partition:
-- * stamped with the server's time: the row was routed by server_timestamp before any BEFORE trigger
--   ran, so a supplied value other than the transaction's time is refused rather than replaced;
-- * a new audit_id: the primary key (audit_id, server_timestamp) alone would accept an id again in
--   another instant; the identity never repeats one, but the owner can override it.
create function cs_private.record_audit_arrival() returns trigger
language plpgsql security definer  -- the id check reads every row, not those the writer may read
set search_path = ''
as $$
begin
  if new.server_timestamp is distinct from pg_catalog.now() then
    raise exception 'server_timestamp is set by the server: leave it out of a diary event'
      using errcode = 'CS422', detail = jsonb_build_object('field', 'server_timestamp', 'rule', 'server')::text;
  end if;
  if exists (select 1 from diary.record_audit a where a.audit_id = new.audit_id) then
    raise exception 'diary event % exists already: an audit_id is never used twice', new.audit_id
      using errcode = 'CS409';
  end if;
  return new;
end
$$;

-- A row routed to the DEFAULT partition: its month has no partition yet.
create function cs_private.refuse_record_audit_without_partition() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  month constant text := pg_catalog.to_char(new.server_timestamp at time zone 'UTC', 'YYYY-MM');
begin
  raise exception 'the diary event store has no partition for % (UTC): an administrator runs public.ensure_diary_partitions', month
    using errcode = 'CS503',
          hint = 'The operator runs select cs_private.ensure_record_audit_partitions(12) monthly; see docs/diary-roles.md.';
end
$$;

revoke all on function cs_private.secure_record_audit_partition(regclass),
  cs_private.create_record_audit_partition(date), cs_private.ensure_record_audit_partitions(integer),
  cs_private.ensure_diary_partitions(integer), public.ensure_diary_partitions(integer),
  cs_private.record_audit_arrival(), cs_private.refuse_record_audit_without_partition()
  from public;
grant execute on function cs_private.ensure_diary_partitions(integer), public.ensure_diary_partitions(integer)
  to authenticated;
do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on function public.ensure_diary_partitions(integer) from anon;
  end if;
end
$$;

-- ── the conversion ──────────────────────────────────────────────────────────────────────────────
do $$
declare
  old_table constant regclass := 'diary.record_audit'::regclass;
  old_sequence text := pg_catalog.pg_get_serial_sequence('diary.record_audit', 'audit_id');
  index_ddl text[] := '{}';
  trigger_ddl text[] := '{}';
  policy_ddl text[] := '{}';
  grant_ddl text[] := '{}';
  foreign_key_ddl text[] := '{}';
  comment_ddl text[] := '{}';
  rls boolean;
  forced_rls boolean;
  dropped text[] := '{}';
  statement text;
  columns text;
  rows_before bigint;
  rows_after bigint;
  sequence_value bigint;
  sequence_called boolean;
  first_month date;
  last_month date;
  m date;
  r record;
begin
  perform pg_catalog.set_config('search_path', '', true);  -- every name below printed in full

  -- 1. What guards the table now, read from the catalog while it still has its name.
  select coalesce(array_agg(pg_catalog.pg_get_indexdef(i.indexrelid) order by i.indexrelid), '{}') into index_ddl
    from pg_catalog.pg_index i
   where i.indrelid = old_table
     and not exists (select 1 from pg_catalog.pg_constraint c where c.conindid = i.indexrelid and c.conrelid = old_table);
  if exists (select 1 from pg_catalog.pg_constraint c where c.conrelid = old_table and c.contype in ('u', 'x')) then
    raise exception 'diary.record_audit has a unique or exclusion constraint this migration does not carry over';
  end if;
  select coalesce(array_agg(pg_catalog.pg_get_triggerdef(t.oid) order by t.tgname), '{}') into trigger_ddl
    from pg_catalog.pg_trigger t where t.tgrelid = old_table and not t.tgisinternal;
  select coalesce(array_agg(pg_catalog.format('create policy %I on diary.record_audit as %s for %s to %s%s%s',
           p.polname,
           case when p.polpermissive then 'permissive' else 'restrictive' end,
           case p.polcmd when 'r' then 'select' when 'a' then 'insert' when 'w' then 'update'
                         when 'd' then 'delete' else 'all' end,
           (select string_agg(case when role_oid = 0 then 'public'
                                   else pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(role_oid)) end, ', ')
              from unnest(p.polroles) role_oid),
           coalesce(' using (' || pg_catalog.pg_get_expr(p.polqual, p.polrelid) || ')', ''),
           coalesce(' with check (' || pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) || ')', ''))
           order by p.polname), '{}') into policy_ddl
    from pg_catalog.pg_policy p where p.polrelid = old_table;
  select coalesce(array_agg(pg_catalog.format('grant %s on table diary.record_audit to %s%s', a.privilege_type,
           case when a.grantee = 0 then 'public' else pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) end,
           case when a.is_grantable then ' with grant option' else '' end)), '{}') into grant_ddl
    from pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
   where c.oid = old_table and a.grantee <> c.relowner;
  select grant_ddl || coalesce(array_agg(pg_catalog.format('grant %s (%I) on table diary.record_audit to %s%s',
           a.privilege_type, t.attname,
           case when a.grantee = 0 then 'public' else pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) end,
           case when a.is_grantable then ' with grant option' else '' end)), '{}') into grant_ddl
    from pg_catalog.pg_attribute t, pg_catalog.aclexplode(t.attacl) a
   where t.attrelid = old_table and t.attnum > 0 and not t.attisdropped and t.attacl is not null;
  select coalesce(array_agg(pg_catalog.format('alter table diary.record_audit add constraint %I %s',
           c.conname, pg_catalog.pg_get_constraintdef(c.oid)) order by c.conname), '{}') into foreign_key_ddl
    from pg_catalog.pg_constraint c
   where c.conrelid = old_table and c.contype = 'f' and c.confrelid <> old_table;
  select coalesce(array_agg(pg_catalog.format('comment on table diary.record_audit is %L', d.description)), '{}')
    into comment_ddl
    from pg_catalog.pg_description d
   where d.classoid = 'pg_catalog.pg_class'::regclass and d.objoid = old_table and d.objsubid = 0;
  select c.relrowsecurity, c.relforcerowsecurity into rls, forced_rls from pg_catalog.pg_class c where c.oid = old_table;

  -- 2. Foreign keys into record_audit (audit_id) cannot reference the partitioned table: dropped,
  --    whichever table holds them (integrity: see the head of this file).
  for r in select c.conname, c.conrelid::regclass as holder from pg_catalog.pg_constraint c
            where c.confrelid = old_table and c.contype = 'f' order by 2, 1 loop
    execute pg_catalog.format('alter table %s drop constraint %I', r.holder, r.conname);
    dropped := dropped || (r.holder::text || '.' || r.conname);
  end loop;
  raise notice 'foreign keys into diary.record_audit dropped: %', dropped;

  -- 3. The old table steps aside with its data; its indexes and sequence free their names.
  execute 'alter table diary.record_audit rename to record_audit_unpartitioned';
  execute pg_catalog.format('alter sequence %s rename to record_audit_unpartitioned_audit_id_seq', old_sequence);
  for r in select c.conname from pg_catalog.pg_constraint c
            where c.conrelid = 'diary.record_audit_unpartitioned'::regclass and c.contype = 'p' loop
    execute pg_catalog.format('alter table diary.record_audit_unpartitioned drop constraint %I', r.conname);
  end loop;
  for r in select i.indexrelid::regclass as index_name from pg_catalog.pg_index i
            where i.indrelid = 'diary.record_audit_unpartitioned'::regclass loop
    execute pg_catalog.format('drop index %s', r.index_name);
  end loop;

  -- 4. The partitioned table: the same columns, defaults, identity, checks, not-null constraints,
  --    storage and column comments.
  execute 'create table diary.record_audit (like diary.record_audit_unpartitioned including all excluding indexes)
           partition by range (server_timestamp)';
  execute 'alter table diary.record_audit add constraint record_audit_pkey primary key (audit_id, server_timestamp)';
  foreach statement in array index_ddl loop
    execute statement;
  end loop;
  execute 'create table diary.record_audit_default partition of diary.record_audit default';

  -- 5. A partition for every month that holds data, and for this month and the next twelve.
  select pg_catalog.date_trunc('month', min(a.server_timestamp) at time zone 'UTC')::date,
         pg_catalog.date_trunc('month', max(a.server_timestamp) at time zone 'UTC')::date
    into first_month, last_month from diary.record_audit_unpartitioned a;
  m := first_month;
  while m <= last_month loop
    if exists (select 1 from diary.record_audit_unpartitioned a
                where a.server_timestamp >= (m::timestamp at time zone 'UTC')
                  and a.server_timestamp < ((m + interval '1 month')::timestamp at time zone 'UTC')) then
      perform cs_private.create_record_audit_partition(m);
    end if;
    m := (m + interval '1 month')::date;
  end loop;
  perform cs_private.ensure_record_audit_partitions(12);

  -- 6. The rows, as they are: no trigger exists yet on the new table, so nothing is re-stamped.
  select string_agg(pg_catalog.quote_ident(a.attname), ', ' order by a.attnum) into columns
    from pg_catalog.pg_attribute a
   where a.attrelid = 'diary.record_audit_unpartitioned'::regclass and a.attnum > 0 and not a.attisdropped;
  execute pg_catalog.format(
    'insert into diary.record_audit (%s) overriding system value select %s from diary.record_audit_unpartitioned order by audit_id',
    columns, columns);
  select count(*) into rows_before from diary.record_audit_unpartitioned;
  select count(*) into rows_after from diary.record_audit;
  if rows_after <> rows_before or exists (select 1 from diary.record_audit_default) then
    raise exception 'record_audit copy incomplete: % rows before, % after', rows_before, rows_after;
  end if;
  -- The identity goes on exactly where the old sequence stood.
  execute pg_catalog.format('select last_value, is_called from diary.record_audit_unpartitioned_audit_id_seq')
    into sequence_value, sequence_called;
  perform pg_catalog.setval(pg_catalog.pg_get_serial_sequence('diary.record_audit', 'audit_id'),
                            sequence_value, sequence_called);

  -- 7. What guarded the old table now guards the new one and every partition.
  foreach statement in array foreign_key_ddl || comment_ddl || grant_ddl || policy_ddl loop
    execute statement;
  end loop;
  if rls then
    execute 'alter table diary.record_audit enable row level security';
  end if;
  if forced_rls then
    execute 'alter table diary.record_audit force row level security';
  end if;
  foreach statement in array trigger_ddl loop
    execute statement;
  end loop;
  for r in select i.inhrelid::regclass as partition from pg_catalog.pg_inherits i
            where i.inhparent = 'diary.record_audit'::regclass loop
    perform cs_private.secure_record_audit_partition(r.partition);
  end loop;

  execute 'drop table diary.record_audit_unpartitioned';
end
$$;

-- The first BEFORE INSERT trigger on every partition (triggers fire in name order): a supplied
-- server_timestamp or audit_id is refused before any other rule runs.
create trigger record_audit_arrival before insert on diary.record_audit
  for each row execute function cs_private.record_audit_arrival();
-- On the DEFAULT partition only, right after it and before record_audit_before_insert.
create trigger record_audit_at_unpartitioned_month before insert on diary.record_audit_default
  for each row execute function cs_private.refuse_record_audit_without_partition();

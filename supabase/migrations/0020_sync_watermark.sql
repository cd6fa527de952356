-- A commit-safe watermark for the workstation's pull sync (ARCHITECTURE.md "Sync and offline").
--
-- Every streamed table gets sync_xid: the id of the transaction that last wrote the row. A client
-- pages each table by (sync_xid, key) and reads only rows with sync_xid below
-- pg_snapshot_xmin(pg_current_snapshot()): every transaction below that horizon has committed or
-- aborted, so no row can later appear behind the client's cursor (a sequence or timestamp cursor
-- would skip a row whose transaction commits after a later-numbered one). A long-open transaction
-- holds the horizon back: sync then waits, it never skips.
--
-- A BEFORE INSERT OR UPDATE trigger sets sync_xid to the writing transaction (the column default
-- alone is not enough: promotion inserts live rows with `select * from jsonb_populate_record(..)`,
-- which supplies an explicit null), so a changed row is pulled again. The trigger only sets
-- NEW.sync_xid; the existing guard, append-only and state-machine triggers still decide whether
-- the write is allowed at all, and RLS still decides who reads what. audit.audit_log needs no column: its seq is assigned under an advisory lock held to
-- commit (0004), so seq order is commit order and seq itself is a safe cursor.

create function cs_private.touch_sync_xid() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.sync_xid := pg_catalog.pg_current_xact_id();
  return new;
end
$$;

do $$
declare
  t record;
begin
  for t in
    select * from (values
      ('cro', 'staging_record', 'id'),
      ('cro', 'study', 'id'),
      ('cro', 'study_kpi', 'id'),
      ('cro', 'study_milestone', 'id'),
      ('cro', 'study_risk', 'id'),
      ('cro', 'study_resource', 'id'),
      ('cro', 'live_essential_document', 'id'),
      ('cro', 'provenance_event', 'id'),
      ('cro', 'signature_event', 'id'),
      ('cro', 'model_registry_version', 'id'),
      ('cro', 'sponsor_request', 'id'),
      ('diary', 'sites', 'site_id'),
      ('diary', 'record_audit', 'audit_id'),
      ('diary', 'record_state', 'event_uuid'),
      ('diary', 'investigator_annotations', 'annotation_id')
    ) as streamed (schema_name, table_name, key_column)
  loop
    execute format(
      'alter table %I.%I add column sync_xid xid8 not null default pg_catalog.pg_current_xact_id()',
      t.schema_name, t.table_name);
    execute format('create index %I on %I.%I (sync_xid, %I)',
      t.table_name || '_sync_idx', t.schema_name, t.table_name, t.key_column);
    execute format(
      'create trigger %I before insert or update on %I.%I for each row execute function cs_private.touch_sync_xid()',
      t.table_name || '_touch_sync_xid', t.schema_name, t.table_name);
  end loop;
end
$$;

-- sync_xid is a system column: a proposal may neither set it nor be required to (0008's list plus
-- sync_xid; keep it excluded if this function is ever redefined).
create or replace function cs_private.proposable_columns(entity_kind text) returns text[]
language sql stable security definer
set search_path = ''
as $$
  select coalesce(array_agg(a.attname::text order by a.attnum), '{}')
  from pg_catalog.pg_attribute a
  where a.attrelid = to_regclass('cro.' || quote_ident(entity_kind))
    and a.attnum > 0 and not a.attisdropped
    and a.attname not in ('id', 'study_id', 'created_at', 'updated_at', 'created_by', 'provenance_id',
                          'promoted_from_staging_id', 'signature_id', 'code', 'sync_xid')
$$;

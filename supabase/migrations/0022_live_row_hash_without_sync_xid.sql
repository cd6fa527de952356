-- What a signature binds to is content, not replication bookkeeping: the live row's hash in the
-- signing content (0014) leaves out sync_xid (0020), which the server restamps on every write and
-- which a cached copy of the row need not carry. The workstation's contentHash drops it likewise.
create or replace function cs_private.live_row_json(entity_kind text, entity_id uuid) returns jsonb
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
  execute format('select to_jsonb(t) - ''sync_xid'' from cro.%I t where t.id = $1', entity_kind)
    into live using entity_id;
  return live;
end
$$;

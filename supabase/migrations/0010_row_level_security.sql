-- Who may read and write what: deny by default on every table, then explicit grants and policies.
-- docs/access-matrix.md states the same rules for a QA reader; test/db/accessMatrix.test.ts
-- checks the database against that document, per role, table and command.
--
-- Every person reaches the database as PostgreSQL role `authenticated` (directly as a member in
-- embedded/postgres mode, through PostgREST in supabase mode); their application roles come from
-- cro.role_assignment and the diary site assignments, read by the helpers below.

-- Helpers for policies: security definer so that reading role data never recurses into RLS.
create function cs_private.is_admin() returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (select 1 from cro.role_assignment where user_id = auth.uid() and role = 'admin')
$$;

create function cs_private.has_any_role(wanted cro.app_role[]) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (select 1 from cro.role_assignment where user_id = auth.uid() and role = any (wanted))
$$;

-- Studies in which the caller holds one of the wanted roles (an assignment without a study covers all).
create function cs_private.my_study_ids(wanted cro.app_role[]) returns uuid[]
language sql stable security definer
set search_path = ''
as $$
  select coalesce(array_agg(s.id), '{}')
  from cro.study s
  where exists (select 1 from cro.role_assignment ra
                where ra.user_id = auth.uid() and ra.role = any (wanted)
                  and (ra.study_id is null or ra.study_id = s.id))
$$;

create function cs_private.my_sponsor_id() returns text
language sql stable security definer
set search_path = ''
as $$
  select p.sponsor_id from cro.user_profile p
  where p.user_id = auth.uid()
    and exists (select 1 from cro.role_assignment where user_id = auth.uid() and role = 'sponsor')
$$;

-- Diary sites the caller reaches as: patient (enrolled), investigator (assigned), investigator_writer
-- (assigned with full access), analyst (assigned), inspector (sites of studies they inspect).
create function cs_private.my_site_ids(kinds text[]) returns text[]
language sql stable security definer
set search_path = ''
as $$
  select coalesce(array_agg(distinct site_id), '{}') from (
    select site_id from diary.user_site_assignments
      where 'patient' = any (kinds) and patient_id = auth.uid()
    union all
    select site_id from diary.investigator_site_assignments
      where 'investigator' = any (kinds) and investigator_id = auth.uid()
    union all
    select site_id from diary.investigator_site_assignments
      where 'investigator_writer' = any (kinds) and investigator_id = auth.uid() and access_level = 'full'
    union all
    select site_id from diary.analyst_site_assignments
      where 'analyst' = any (kinds) and analyst_id = auth.uid()
    union all
    select site_id from diary.sites
      where 'inspector' = any (kinds) and study_id = any (cs_private.my_study_ids('{inspector}'))
  ) as reachable
$$;

-- Nothing in cs_private is callable by a person except these read-only policy helpers.
revoke execute on all functions in schema cs_private from public;
alter default privileges in schema cs_private revoke execute on functions from public;
grant usage on schema cs_private to authenticated;
grant execute on function cs_private.is_admin(), cs_private.has_any_role(cro.app_role[]),
  cs_private.my_study_ids(cro.app_role[]), cs_private.my_sponsor_id(), cs_private.my_site_ids(text[])
  to authenticated;

-- Deny by default: RLS on every table of every schema we own.
do $$
declare
  t record;
begin
  for t in select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where c.relkind in ('r', 'p') and n.nspname in ('cro', 'diary', 'audit', 'cs_private') loop
    execute format('alter table %I.%I enable row level security', t.nspname, t.relname);
  end loop;
end
$$;

-- Table privileges: reads are filtered by the policies below; writes exist only where a policy allows.
grant select on all tables in schema cro, diary, audit to authenticated;
grant insert on cro.staging_record, cro.provenance_event, cro.sponsor_request to authenticated;
grant insert on diary.record_audit, diary.investigator_annotations to authenticated;
grant insert, delete on diary.user_site_assignments, diary.investigator_site_assignments,
  diary.analyst_site_assignments to authenticated;
grant update (resolved) on diary.investigator_annotations to authenticated;

-- ── cro: people and roles ────────────────────────────────────────────────────────────────────────
create policy "a person can read their own profile" on cro.user_profile
  for select to authenticated using (user_id = (select auth.uid()));
create policy "admin can read every profile" on cro.user_profile
  for select to authenticated using ((select cs_private.is_admin()));

create policy "a person can read their own role assignments" on cro.role_assignment
  for select to authenticated using (user_id = (select auth.uid()));
create policy "admin can read every role assignment" on cro.role_assignment
  for select to authenticated using ((select cs_private.is_admin()));

-- ── cro: live regulated tables (read-only for everyone; written only by promotion) ────────────────
create policy "study staff can read their studies" on cro.study
  for select to authenticated
  using (id = any ((select cs_private.my_study_ids('{sponsor,monitor,coordinator,signer,inspector,agent}'))::uuid[]));
create policy "admin can read every study" on cro.study
  for select to authenticated using ((select cs_private.is_admin()));

do $$
declare
  t text;
begin
  foreach t in array array['study_kpi', 'study_milestone', 'study_risk', 'study_resource',
                           'live_essential_document'] loop
    execute format($p$
      create policy "study staff can read %1$s of their studies" on cro.%1$I
        for select to authenticated
        using (study_id = any ((select cs_private.my_study_ids('{sponsor,monitor,coordinator,signer,inspector,agent}'))::uuid[]))
    $p$, t);
    execute format($p$
      create policy "admin can read every %1$s" on cro.%1$I
        for select to authenticated using ((select cs_private.is_admin()))
    $p$, t);
  end loop;
end
$$;

-- ── cro: staging, provenance, signatures ────────────────────────────────────────────────────────
create policy "study staff can read staging of their studies" on cro.staging_record
  for select to authenticated
  using (study_id = any ((select cs_private.my_study_ids('{monitor,coordinator,signer,inspector,agent}'))::uuid[]));
create policy "admin can read all staging" on cro.staging_record
  for select to authenticated using ((select cs_private.is_admin()));
create policy "agent can propose in its studies" on cro.staging_record
  for insert to authenticated
  with check (study_id = any ((select cs_private.my_study_ids('{agent}'))::uuid[])
              and state = 'proposed' and created_by = (select auth.uid()));

create policy "study staff can read provenance of their studies" on cro.provenance_event
  for select to authenticated
  using (study_id = any ((select cs_private.my_study_ids('{monitor,coordinator,signer,inspector,agent}'))::uuid[]));
create policy "admin can read all provenance" on cro.provenance_event
  for select to authenticated using ((select cs_private.is_admin()));
create policy "agent can record its own provenance in its studies" on cro.provenance_event
  for insert to authenticated
  with check (study_id = any ((select cs_private.my_study_ids('{agent}'))::uuid[]) and actor_kind = 'agent'
              and reviewer_user_id is null and signature_id is null);

create policy "study staff can read signatures of their studies" on cro.signature_event
  for select to authenticated
  using (study_id = any ((select cs_private.my_study_ids('{monitor,coordinator,signer,inspector}'))::uuid[]));
create policy "signers and inspectors can read release signatures" on cro.signature_event
  for select to authenticated
  using (study_id is null and (select cs_private.has_any_role('{signer,inspector}')));
create policy "admin can read all signatures" on cro.signature_event
  for select to authenticated using ((select cs_private.is_admin()));

-- ── cro: reference and operations ───────────────────────────────────────────────────────────────
create policy "study staff and agents can read the model registry" on cro.model_registry_version
  for select to authenticated
  using ((select cs_private.has_any_role('{monitor,coordinator,signer,inspector,agent}')));
create policy "admin can read the model registry" on cro.model_registry_version
  for select to authenticated using ((select cs_private.is_admin()));

create policy "signers and inspectors can read validation evidence" on cro.validation_evidence_run
  for select to authenticated using ((select cs_private.has_any_role('{signer,inspector}')));
create policy "admin can read validation evidence" on cro.validation_evidence_run
  for select to authenticated using ((select cs_private.is_admin()));

create policy "admin can read the operations log" on cro.app_log
  for select to authenticated using ((select cs_private.is_admin()));

create policy "agents can read the knowledge index" on cro.vector_document
  for select to authenticated using ((select cs_private.has_any_role('{agent}')));
create policy "admin can read the knowledge index" on cro.vector_document
  for select to authenticated using ((select cs_private.is_admin()));

create policy "sponsor can read their own organisation's requests" on cro.sponsor_request
  for select to authenticated using (sponsor_id = (select cs_private.my_sponsor_id()));
create policy "study staff can read requests of their studies" on cro.sponsor_request
  for select to authenticated
  using (study_id = any ((select cs_private.my_study_ids('{monitor,coordinator,signer,inspector,agent}'))::uuid[]));
create policy "admin can read all requests" on cro.sponsor_request
  for select to authenticated using ((select cs_private.is_admin()));
create policy "sponsor can file requests for their own organisation" on cro.sponsor_request
  for insert to authenticated
  with check (sponsor_id = (select cs_private.my_sponsor_id()) and created_by = (select auth.uid())
              and (study_id is null or study_id = any ((select cs_private.my_study_ids('{sponsor}'))::uuid[])));
create policy "agent can stage requests in its studies" on cro.sponsor_request
  for insert to authenticated
  with check (study_id = any ((select cs_private.my_study_ids('{agent}'))::uuid[]) and created_by = (select auth.uid()));

-- ── audit ───────────────────────────────────────────────────────────────────────────────────────
-- The chain is verified whole, so whoever may read it reads all of it; payloads carry ids and
-- hashes, not patient data.
create policy "inspectors can read the audit trail" on audit.audit_log
  for select to authenticated using ((select cs_private.has_any_role('{inspector}')));
create policy "admin can read the audit trail" on audit.audit_log
  for select to authenticated using ((select cs_private.is_admin()));

-- ── diary ───────────────────────────────────────────────────────────────────────────────────────
create policy "diary people can read their sites" on diary.sites
  for select to authenticated
  using (site_id = any ((select cs_private.my_site_ids('{patient,investigator,analyst,inspector}'))::text[]));
create policy "admin can read every site" on diary.sites
  for select to authenticated using ((select cs_private.is_admin()));

create policy "patient can read their own enrolment" on diary.user_site_assignments
  for select to authenticated using (patient_id = (select auth.uid()));
create policy "investigators and inspectors can read enrolments at their sites" on diary.user_site_assignments
  for select to authenticated
  using (site_id = any ((select cs_private.my_site_ids('{investigator,inspector}'))::text[]));
create policy "admin can read every enrolment" on diary.user_site_assignments
  for select to authenticated using ((select cs_private.is_admin()));
create policy "admin can enrol patients" on diary.user_site_assignments
  for insert to authenticated with check ((select cs_private.is_admin()));
create policy "admin can withdraw enrolments" on diary.user_site_assignments
  for delete to authenticated using ((select cs_private.is_admin()));

create policy "investigator can read their own site assignments" on diary.investigator_site_assignments
  for select to authenticated using (investigator_id = (select auth.uid()));
create policy "inspectors can read investigator assignments at their sites" on diary.investigator_site_assignments
  for select to authenticated using (site_id = any ((select cs_private.my_site_ids('{inspector}'))::text[]));
create policy "admin can read every investigator assignment" on diary.investigator_site_assignments
  for select to authenticated using ((select cs_private.is_admin()));
create policy "admin can assign investigators" on diary.investigator_site_assignments
  for insert to authenticated with check ((select cs_private.is_admin()));
create policy "admin can unassign investigators" on diary.investigator_site_assignments
  for delete to authenticated using ((select cs_private.is_admin()));

create policy "analyst can read their own site assignments" on diary.analyst_site_assignments
  for select to authenticated using (analyst_id = (select auth.uid()));
create policy "admin can read every analyst assignment" on diary.analyst_site_assignments
  for select to authenticated using ((select cs_private.is_admin()));
create policy "admin can assign analysts" on diary.analyst_site_assignments
  for insert to authenticated with check ((select cs_private.is_admin()));
create policy "admin can unassign analysts" on diary.analyst_site_assignments
  for delete to authenticated using ((select cs_private.is_admin()));

create policy "patient can read their own diary history" on diary.record_audit
  for select to authenticated using (patient_id = (select auth.uid()));
create policy "investigators and inspectors can read diary history at their sites" on diary.record_audit
  for select to authenticated
  using (site_id = any ((select cs_private.my_site_ids('{investigator,inspector}'))::text[]));
create policy "admin can read all diary history" on diary.record_audit
  for select to authenticated using ((select cs_private.is_admin()));
create policy "patient can record their own diary events" on diary.record_audit
  for insert to authenticated
  with check (patient_id = (select auth.uid())
              and site_id = any ((select cs_private.my_site_ids('{patient}'))::text[])
              and operation in ('USER_CREATE', 'USER_UPDATE', 'USER_DELETE'));
create policy "admin can record justified corrections" on diary.record_audit
  for insert to authenticated
  with check ((select cs_private.is_admin()) and operation = 'ADMIN_CORRECTION');

create policy "patient can read their own diary records" on diary.record_state
  for select to authenticated using (patient_id = (select auth.uid()));
create policy "site staff can read diary records at their sites" on diary.record_state
  for select to authenticated
  using (site_id = any ((select cs_private.my_site_ids('{investigator,analyst,inspector}'))::text[]));
create policy "admin can read all diary records" on diary.record_state
  for select to authenticated using ((select cs_private.is_admin()));

create policy "patient can read annotations on their own records" on diary.investigator_annotations
  for select to authenticated using (patient_id = (select auth.uid()));
create policy "investigators and inspectors can read annotations at their sites" on diary.investigator_annotations
  for select to authenticated
  using (site_id = any ((select cs_private.my_site_ids('{investigator,inspector}'))::text[]));
create policy "admin can read all annotations" on diary.investigator_annotations
  for select to authenticated using ((select cs_private.is_admin()));
create policy "investigator can annotate records at their sites" on diary.investigator_annotations
  for insert to authenticated
  with check (investigator_id = (select auth.uid())
              and site_id = any ((select cs_private.my_site_ids('{investigator_writer}'))::text[]));
create policy "investigator can resolve or reopen annotations at their sites" on diary.investigator_annotations
  for update to authenticated
  using (site_id = any ((select cs_private.my_site_ids('{investigator_writer}'))::text[]))
  with check (site_id = any ((select cs_private.my_site_ids('{investigator_writer}'))::text[]));

create policy "patient can read their own sync conflicts" on diary.audit_conflicts
  for select to authenticated using (patient_id = (select auth.uid()));
create policy "investigators can read sync conflicts at their sites" on diary.audit_conflicts
  for select to authenticated using (site_id = any ((select cs_private.my_site_ids('{investigator}'))::text[]));
create policy "admin can read all sync conflicts" on diary.audit_conflicts
  for select to authenticated using ((select cs_private.is_admin()));

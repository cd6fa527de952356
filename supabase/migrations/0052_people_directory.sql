-- People by name (issue 19): the workstation shows printed names and roles where it showed ids
-- (provenance, the audit log's actor, a record's trail, diary history and annotations, the
-- inspection packet). cro.user_profile stays readable only as one's own row (admins: all); this
-- function answers, for the caller only, whom they may name (docs/decisions.md, "Who may learn
-- whose name"):
--
--   * themselves, always;
--   * an administrator: everyone (they read every profile already);
--   * a reviewer (monitor, coordinator, signer, inspector or investigator of a study, or an
--     investigator at a site of it): the staff of the studies they review, that is everyone holding
--     a role other than patient in such a study or in every study (administrators, global roles),
--     and the investigators and analysts assigned to its sites;
--   * nobody else: a patient, a sponsor, an analyst and an agent learn their own name only.
--
-- A patient (anyone who holds the patient role or is enrolled) is named to themselves and to
-- administrators only, whatever other role they hold. To the investigators and inspectors who
-- already read their enrolment they are given by their subject code (study identifier), the
-- pseudonym the diary screen shows; their roles are then given as {patient} alone.
--
-- It takes no argument: the caller is auth.uid(), and the scope comes from the same helpers the
-- row-level security policies use, so a person with their own login learns nothing more by calling
-- it in any way they like.

create function cs_private.people_directory()
returns table (user_id uuid, printed_name text, roles text[], agent_id text, subject_code text)
language sql stable security definer
set search_path = ''
as $$
  with
  caller as (select auth.uid() as id),
  reviewed_study as (
    select unnest(cs_private.my_study_ids('{monitor,coordinator,signer,inspector,investigator}')) as study_id
    union
    select s.study_id from diary.sites s where s.site_id = any (cs_private.my_site_ids('{investigator}'))
  ),
  patient as (
    select r.user_id from cro.role_assignment r where r.role = 'patient'
    union
    select u.patient_id from diary.user_site_assignments u
  ),
  staff_in_reach as (
    select r.user_id from cro.role_assignment r
     where r.role <> 'patient'
       and (r.study_id in (select study_id from reviewed_study)
            or (r.study_id is null and exists (select 1 from reviewed_study)))
    union
    select i.investigator_id from diary.investigator_site_assignments i
      join diary.sites s on s.site_id = i.site_id
     where s.study_id in (select study_id from reviewed_study)
    union
    select a.analyst_id from diary.analyst_site_assignments a
      join diary.sites s on s.site_id = a.site_id
     where s.study_id in (select study_id from reviewed_study)
  ),
  named as (
    select c.id as user_id from caller c where c.id is not null
    union
    select p.user_id from cro.user_profile p where cs_private.is_admin()
    union
    select s.user_id from staff_in_reach s where s.user_id not in (select user_id from patient)
  ),
  coded as (
    select u.patient_id as user_id, u.subject_code from diary.user_site_assignments u
     where u.patient_id = (select id from caller)
        or cs_private.is_admin()
        or u.site_id = any (cs_private.my_site_ids('{investigator,inspector}'))
  ),
  known as (
    select user_id from named
    union
    select user_id from coded
  )
  select k.user_id,
         case when n.user_id is not null then p.printed_name end,
         case when n.user_id is not null
              then array(select distinct r.role::text from cro.role_assignment r
                          where r.user_id = k.user_id order by 1)
              else '{patient}'::text[] end,
         case when n.user_id is not null then p.agent_id end,
         c.subject_code
    from known k
    left join named n on n.user_id = k.user_id
    left join coded c on c.user_id = k.user_id
    left join cro.user_profile p on p.user_id = k.user_id
$$;

-- The API: the same answer through the exposed schema (PostgREST calls it as an RPC in hosted mode).
create function public.people_directory()
returns table (user_id uuid, printed_name text, roles text[], agent_id text, subject_code text)
language sql stable security invoker
set search_path = ''
as $$
  select d.user_id, d.printed_name, d.roles, d.agent_id, d.subject_code from cs_private.people_directory() d
$$;

revoke all on function cs_private.people_directory(), public.people_directory() from public;
do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    revoke all on function cs_private.people_directory(), public.people_directory() from anon;
  end if;
end
$$;
grant execute on function cs_private.people_directory(), public.people_directory() to authenticated;

-- Two things a Supabase project owns, handled as the platform expects (issue 17, item 7).
--
-- 1. 0001 revoked TEMPORARY on the database from PUBLIC, so that a person's own login cannot create
--    temporary objects. On Supabase nobody has such a login (people reach the database through
--    PostgREST, as `authenticated`, and can run no SQL of their own), and the revoke took TEMPORARY
--    away from the platform's own roles (service_role, supabase_storage_admin, ...). On Supabase it
--    is given back; the direct modes keep it revoked.
-- 2. Deleting a person who has a Countersign profile failed on a foreign key (`on delete
--    restrict`), with a message that says nothing about why or what to do. People are never deleted
--    from a Part 11 system: their signatures, audit entries and records name them. The refusal now
--    says so, and what to do instead (docs/security.md, "Removing a person").
--
-- A Supabase project is recognised by GoTrue's auth.mfa_factors, which the direct modes do not have.

do $$
begin
  if pg_catalog.to_regclass('auth.mfa_factors') is not null then
    execute pg_catalog.format('grant temporary on database %I to public', pg_catalog.current_database());
  end if;
end
$$;

create function cs_private.refuse_person_deletion() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if exists (select 1 from cro.user_profile p where p.user_id = old.id) then
    raise exception 'a Countersign person is never deleted: their signatures, audit entries and records refer to them'
      using errcode = 'CS409',
            hint = 'To end their access, ban them (Supabase: Authentication > Users > Ban user; on PostgreSQL: '
                   'ALTER ROLE ... NOLOGIN) and remove their role assignments. See docs/security.md.';
  end if;
  return old;
end
$$;
revoke all on function cs_private.refuse_person_deletion() from public;

do $$
begin
  create trigger users_refuse_person_deletion before delete on auth.users
    for each row execute function cs_private.refuse_person_deletion();
exception when insufficient_privilege then
  -- A Supabase project may not let its migrations add triggers to auth.users; the foreign keys
  -- still refuse, and docs/security.md says what to do instead.
  raise notice 'auth.users is not ours to add a trigger to; deleting a person is still refused by foreign keys';
end
$$;

-- The workstation's diary screen lists patients by site under their study identifier
-- (user_site_assignments.subject_code), offline too: enrolments become a pulled stream, with the
-- commit-safe watermark of 0020 (sync_xid set by trigger, paged by (sync_xid, patient_id)). RLS
-- still decides who reads which enrolment (0010: a patient their own, investigators and inspectors
-- those of their sites, the admin all); a withdrawn enrolment is not removed from a cache.

alter table diary.user_site_assignments
  add column sync_xid xid8 not null default pg_catalog.pg_current_xact_id();
create index user_site_assignments_sync_idx on diary.user_site_assignments (sync_xid, patient_id);
create trigger user_site_assignments_touch_sync_xid before insert or update on diary.user_site_assignments
  for each row execute function cs_private.touch_sync_xid();

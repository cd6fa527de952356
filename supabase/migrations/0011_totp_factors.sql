-- TOTP factors for everyone who signs (seed 001: "TOTP MFA required for every account that can
-- sign or promote"). Secrets are readable only by the owner and the functions that verify codes
-- (the signing issue adds them); no person, not even an admin, can select them.
create table cs_private.totp_factor (
  user_id uuid primary key references auth.users (id) on delete restrict,
  secret_base32 text not null check (secret_base32 ~ '^[A-Z2-7]{16,128}$'),
  confirmed_at timestamptz,
  created_at timestamptz not null default now()
);
alter table cs_private.totp_factor enable row level security;

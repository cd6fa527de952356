// A database shaped like a fresh Supabase project, for the hosted-mode tests: created from template0
// (not from the migrated template), it first gets what Supabase itself owns, as Supabase defines it,
// and only then Countersign's migrations, through the same migrator the workstation uses.
//
// What Supabase owns, reproduced from its own definitions (supabase/postgres init scripts and the
// GoTrue migrations): the API roles, schema `auth` with GoTrue's `auth.users` (its full column list)
// and `auth.mfa_factors`, the helpers `auth.uid()`, `auth.role()`, `auth.email()` and `auth.jwt()`
// (which read request.jwt.claim.* / request.jwt.claims and trust them from any session), pgcrypto in
// schema `extensions`, and the default privileges that grant every new object in `public` to anon,
// authenticated and service_role. Not reproduced: the migrations run as the superuser here, whereas
// Supabase runs them as its non-superuser `postgres` role.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, readMigrationFiles } from '../../../src/main/backend/migrator';
import { prepareGatewayRoles } from './postgrestGateway';
import { migrationsDir, type TestServer, testServer } from './testServer';

export const supabaseOwnedSql = `
create schema if not exists extensions;
create extension if not exists pgcrypto with schema extensions;
grant usage on schema extensions to anon, authenticated, service_role;

create schema auth;
grant usage on schema auth to anon, authenticated, service_role;

create table auth.users (
  instance_id uuid null,
  id uuid not null,
  aud character varying(255) null,
  role character varying(255) null,
  email character varying(255) null,
  encrypted_password character varying(255) null,
  email_confirmed_at timestamp with time zone null,
  invited_at timestamp with time zone null,
  confirmation_token character varying(255) null,
  confirmation_sent_at timestamp with time zone null,
  recovery_token character varying(255) null,
  recovery_sent_at timestamp with time zone null,
  email_change_token_new character varying(255) null,
  email_change character varying(255) null,
  email_change_sent_at timestamp with time zone null,
  last_sign_in_at timestamp with time zone null,
  raw_app_meta_data jsonb null,
  raw_user_meta_data jsonb null,
  is_super_admin boolean null,
  created_at timestamp with time zone null,
  updated_at timestamp with time zone null,
  phone text null default null::character varying,
  phone_confirmed_at timestamp with time zone null,
  phone_change text null default ''::character varying,
  phone_change_token character varying(255) null default ''::character varying,
  phone_change_sent_at timestamp with time zone null,
  confirmed_at timestamp with time zone generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  email_change_token_current character varying(255) null default ''::character varying,
  email_change_confirm_status smallint null default 0,
  banned_until timestamp with time zone null,
  reauthentication_token character varying(255) null default ''::character varying,
  reauthentication_sent_at timestamp with time zone null,
  is_sso_user boolean not null default false,
  deleted_at timestamp with time zone null,
  is_anonymous boolean not null default false,
  constraint users_pkey primary key (id),
  constraint users_phone_key unique (phone),
  constraint users_email_change_confirm_status_check
    check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2)
);
create index users_instance_id_idx on auth.users using btree (instance_id);
create index users_instance_id_email_idx on auth.users using btree (instance_id, lower(email::text));
create unique index users_email_partial_key on auth.users using btree (email) where (is_sso_user = false);
comment on table auth.users is 'Auth: Stores user login data within a secure schema.';

create type auth.factor_type as enum ('totp', 'webauthn', 'phone');
create type auth.factor_status as enum ('unverified', 'verified');
create table auth.mfa_factors (
  id uuid not null primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  friendly_name text null,
  factor_type auth.factor_type not null,
  status auth.factor_status not null,
  created_at timestamp with time zone not null,
  updated_at timestamp with time zone not null,
  secret text null,
  phone text null,
  last_challenged_at timestamp with time zone null unique
);

create or replace function auth.uid() returns uuid
language sql stable
as $$
  select
  coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;
comment on function auth.uid() is 'Deprecated. Use auth.jwt() -> ''sub'' instead.';

create or replace function auth.role() returns text
language sql stable
as $$
  select
  coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create or replace function auth.email() returns text
language sql stable
as $$
  select
  coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select
    coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

grant usage on schema public to anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
`;

/** What Supabase owns, read from the catalog: compared before and after the migrations. */
export async function supabaseOwnedObjects(client: pg.ClientBase): Promise<{
  functions: Record<string, string>;
  usersColumns: string[];
  authTables: string[];
}> {
  const functions = await client.query<{ name: string; body: string }>(
    `select p.proname as name, pg_get_functiondef(p.oid) as body
       from pg_proc p where p.pronamespace = 'auth'::regnamespace order by 1`,
  );
  const columns = await client.query<{ column: string }>(
    `select column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '') ||
            case when is_nullable = 'NO' then ' not null' else '' end ||
            coalesce(' default ' || column_default, '') || coalesce(' generated ' || generation_expression, '') as column
       from information_schema.columns where table_schema = 'auth' and table_name = 'users'
      order by ordinal_position`,
  );
  const tables = await client.query<{ name: string }>(
    `select c.relname as name from pg_class c
      where c.relnamespace = 'auth'::regnamespace and c.relkind in ('r', 'p', 'v') order by 1`,
  );
  return {
    functions: Object.fromEntries(functions.rows.map((row) => [row.name, row.body])),
    usersColumns: columns.rows.map((row) => row.column),
    authTables: tables.rows.map((row) => row.name),
  };
}

export interface SupabaseLikeDatabase {
  name: string;
  tag: string;
  server: TestServer;
  /** The superuser's connection (what `supabase db push` or the SQL editor runs as, near enough). */
  operator: pg.Client;
  /** Supabase's own objects as they were before the migrations ran. */
  ownedBefore: Awaited<ReturnType<typeof supabaseOwnedObjects>>;
  /** The migration names applied on top of Supabase's objects. */
  applied: string[];
  /** A person as Supabase Auth creates them (an auth.users row), with Countersign's profile and roles. */
  createUser(spec: {
    email: string;
    printedName: string;
    roles: { role: string; studyId: string | null }[];
  }): Promise<string>;
  drop(): Promise<void>;
}

export async function createSupabaseLikeDatabase(): Promise<SupabaseLikeDatabase> {
  const server = testServer();
  await prepareGatewayRoles(server);
  const tag = `s${randomBytes(4).toString('hex')}`;
  const name = `countersign_supabase_${tag}`;
  const connection = (database: string) =>
    new pg.Client({
      host: server.host,
      port: server.port,
      user: server.superuser,
      password: server.password,
      database,
    });
  const root = connection('postgres');
  await root.connect();
  await root.query(`create database ${name} template template0`);
  await root.end();

  const operator = connection(name);
  await operator.connect();
  await operator.query(supabaseOwnedSql);
  const ownedBefore = await supabaseOwnedObjects(operator);
  const result = await migrate(operator, readMigrationFiles(migrationsDir));

  return {
    name,
    tag,
    server,
    operator,
    ownedBefore,
    applied: result.applied,
    async createUser(spec) {
      const { rows } = await operator.query<{ id: string }>(
        `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                                 raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
         values ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
                 $1, extensions.crypt('not used here', extensions.gen_salt('bf')), now(),
                 '{"provider": "email", "providers": ["email"]}', '{}', now(), now())
         returning id`,
        [spec.email],
      );
      const id = rows[0]?.id as string;
      await operator.query('insert into cro.user_profile (user_id, printed_name) values ($1, $2)', [
        id,
        spec.printedName,
      ]);
      for (const grant of spec.roles) {
        await operator.query(
          'insert into cro.role_assignment (user_id, role, study_id) values ($1, $2, $3)',
          [id, grant.role, grant.studyId],
        );
      }
      return id;
    },
    async drop() {
      await operator.end().catch(() => undefined);
      const cleanup = connection('postgres');
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}

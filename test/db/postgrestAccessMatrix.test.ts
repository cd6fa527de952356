// The access matrix (docs/access-matrix.md) again, every cell, but reached the way a Supabase
// project is reached: through PostgREST's gateway login (`authenticator`), switching to role
// `authenticated` (or `anon`) with the caller's JWT claims set per request. auth.uid(), application
// roles and study/site scoping must decide exactly as they do on a person's own login.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands, readAccessMatrix } from './support/accessMatrixDocument';
import { probeAccess } from './support/accessProbes';
import { tableProbes } from './support/accessTables';
import { buildWorld, type MatrixRole, matrixRoles, type World } from './support/accessWorld';
import { anonClaims, PostgrestGateway, supabaseClaims } from './support/postgrestGateway';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const matrix = readAccessMatrix();

describe('access matrix through PostgREST claims (hosted mode)', () => {
  let db: TestDatabase;
  let world: World;
  let gateway: PostgrestGateway;
  let claimsWorld: World;

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildWorld(db);
    gateway = await PostgrestGateway.connect(db.server, db.name);
    const clients = {} as World['clients'];
    for (const role of matrixRoles) {
      clients[role] = gateway.as(role === 'anon' ? anonClaims : supabaseClaims(world.people[role].id));
    }
    claimsWorld = { ...world, clients };
  });
  afterAll(async () => {
    await gateway?.close();
    await world?.teardown();
    await db?.drop();
  });

  it('runs as the gateway: session_user authenticator, current_user authenticated, auth.uid() from the claims', async () => {
    const signer = world.people.signer;
    const [row] = await gateway.request(
      supabaseClaims(signer.id),
      'select session_user::text as s, current_user::text as c, auth.uid() as uid',
    );
    expect(row).toEqual({ s: 'authenticator', c: 'authenticated', uid: signer.id });
    const [anon] = await gateway.request(anonClaims, 'select current_user::text as c, auth.uid() as uid');
    expect(anon).toEqual({ c: 'anon', uid: null });
  });

  for (const table of matrix.tables) {
    describe(`${table} [RLS-${table}]`, () => {
      for (const command of commands) {
        for (const role of matrix.roles) {
          const expected = matrix.cell(table, role, command);
          it(`${role} · ${command} ${table} · ${expected} (claims)`, async () => {
            const probe = tableProbes[table];
            if (!probe) throw new Error(`no probe for ${table}`);
            const actorRole = role as MatrixRole;
            const actor = { role: actorRole, self: actorRole === 'anon' ? null : world.people[actorRole] };
            const result = await probeAccess(claimsWorld, table, probe, actor, command);
            expect(result.access, `${role} ${command} ${table} through claims: ${result.detail}`).toBe(
              expected,
            );
          });
        }
      }
    });
  }
});

// Who may learn whose printed name and roles (migration 0052, docs/decisions.md "Who may learn whose
// name"): public.people_directory() asked by each role of the access world with its own login, as
// a person with psql would. cro.user_profile itself stays readable as one's own row only.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRole } from '../../src/shared/domain';
import { buildWorld, type Person, type ScopedRole, type World } from './support/accessWorld';
import { anonClaims, PostgrestGateway, supabaseClaims } from './support/postgrestGateway';
import { createTestDatabase, type TestDatabase } from './support/testServer';

interface DirectoryRow {
  user_id: string;
  printed_name: string | null;
  roles: string[];
  agent_id: string | null;
  subject_code: string | null;
}

async function directory(client: pg.ClientBase): Promise<Map<string, DirectoryRow>> {
  const { rows } = await client.query<DirectoryRow>('select * from public.people_directory()');
  return new Map(rows.map((row) => [row.user_id, row]));
}

/** Staff of study A in the world: everyone but the patients (admin is global). */
const staffRoles: AppRole[] = [
  'admin',
  'sponsor',
  'monitor',
  'coordinator',
  'signer',
  'inspector',
  'agent',
  'investigator',
  'analyst',
];

describe('people_directory: whom a person may name [SEC-PEOPLE-DIRECTORY]', () => {
  let db: TestDatabase;
  let world: World;

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildWorld(db);
  });
  afterAll(async () => {
    await world?.teardown();
    await db?.drop();
  });

  const named = (rows: Map<string, DirectoryRow>) =>
    [...rows.values()].filter((row) => row.printed_name !== null).map((row) => row.user_id);
  const counterpartIds = () => Object.values(world.counterparts).map((person: Person) => person.id);

  it('tells a patient their own name and subject code, and nobody else’s', async () => {
    const rows = await directory(world.clients.patient);
    expect([...rows.values()]).toEqual([
      {
        user_id: world.people.patient.id,
        printed_name: 'patient person',
        roles: ['patient'],
        agent_id: null,
        subject_code: 'A1-001',
      },
    ]);
  });

  it.each<ScopedRole>(['agent', 'sponsor', 'analyst'])(
    'tells %s only their own name, though they share study A with others',
    async (role) => {
      const rows = await directory(world.clients[role]);
      expect([...rows.keys()]).toEqual([world.people[role].id]);
      expect(rows.get(world.people[role].id)).toMatchObject({
        printed_name: `${role} person`,
        roles: [role],
      });
    },
  );

  it.each<ScopedRole>(['signer', 'inspector', 'investigator', 'monitor', 'coordinator'])(
    'names to a %s the staff of study A and the administrator, never study B’s or a patient',
    async (role) => {
      const rows = await directory(world.clients[role]);
      const expected = staffRoles.map((staff) => world.people[staff].id);
      expect(named(rows).sort()).toEqual([...expected].sort());
      for (const id of counterpartIds()) expect(rows.has(id), `counterpart ${id}`).toBe(false);
      expect(rows.get(world.people.signer.id)).toMatchObject({
        printed_name: 'signer person',
        roles: ['signer'],
      });
      // The agent is named with the agent id its provenance carries.
      expect(rows.get(world.people.agent.id)).toMatchObject({
        printed_name: 'agent person',
        agent_id: 'agent-A',
      });
      expect(rows.get(world.people.admin.id)).toMatchObject({
        printed_name: 'admin person',
        roles: ['admin'],
      });
      for (const patient of [world.people.patient, world.patient2, world.counterparts.patient]) {
        expect(rows.get(patient.id)?.printed_name ?? null, `${role}: a patient's name`).toBeNull();
      }
    },
  );

  it.each<ScopedRole>(['investigator', 'inspector'])(
    'gives a %s the patients of site A1 by subject code only',
    async (role) => {
      const rows = await directory(world.clients[role]);
      for (const [patient, code] of [
        [world.people.patient, 'A1-001'],
        [world.patient2, 'A1-002'],
      ] as const) {
        expect(rows.get(patient.id)).toEqual({
          user_id: patient.id,
          printed_name: null,
          roles: ['patient'],
          agent_id: null,
          subject_code: code,
        });
      }
      expect(rows.has(world.counterparts.patient.id)).toBe(false);
    },
  );

  it('gives a signer, who reads no enrolment, no patient at all', async () => {
    const rows = await directory(world.clients.signer);
    for (const patient of [world.people.patient, world.patient2, world.counterparts.patient])
      expect(rows.has(patient.id)).toBe(false);
  });

  it('names study B’s staff to study B’s signer, and not study A’s', async () => {
    const signerB = await world.connect(world.counterparts.signer);
    const rows = await directory(signerB);
    expect(rows.get(world.counterparts.agent.id)).toMatchObject({ printed_name: 'agent-b person' });
    expect(rows.has(world.people.signer.id)).toBe(false);
    expect(rows.has(world.people.investigator.id)).toBe(false);
    expect(rows.get(world.people.admin.id)).toMatchObject({ printed_name: 'admin person' });
  });

  it('names everyone to an administrator, patients included, with their subject codes', async () => {
    const rows = await directory(world.clients.admin);
    for (const person of [
      ...Object.values(world.people),
      ...Object.values(world.counterparts),
      world.patient2,
    ])
      expect(rows.get(person.id)?.printed_name, person.email).toMatch(/ person$/);
    expect(rows.get(world.people.patient.id)?.subject_code).toBe('A1-001');
  });

  it('names a patient who also holds a staff role to nobody but themselves and administrators', async () => {
    await db.operator.query(
      `insert into cro.role_assignment (user_id, role, study_id) values ($1, 'monitor', $2)`,
      [world.patient2.id, world.studyA],
    );
    try {
      const rows = await directory(world.clients.signer);
      expect(rows.has(world.patient2.id)).toBe(false);
      const investigatorView = await directory(world.clients.investigator);
      expect(investigatorView.get(world.patient2.id)).toMatchObject({
        printed_name: null,
        roles: ['patient'],
        subject_code: 'A1-002',
      });
    } finally {
      await db.operator.query(`delete from cro.role_assignment where user_id = $1 and role = 'monitor'`, [
        world.patient2.id,
      ]);
    }
  });

  it('cannot be widened by claims, settings or a direct read of the profiles', async () => {
    const patient = world.clients.patient;
    await patient.query('begin');
    try {
      // auth.uid() ignores claims on a person's own login: still the patient.
      await patient.query("select set_config('request.jwt.claims', $1, true)", [
        JSON.stringify({ sub: world.people.admin.id, role: 'authenticated' }),
      ]);
      const rows = await directory(patient);
      expect([...rows.keys()]).toEqual([world.people.patient.id]);
      const { rows: profiles } = await patient.query('select user_id from cro.user_profile');
      expect(profiles).toEqual([{ user_id: world.people.patient.id }]);
    } finally {
      await patient.query('rollback');
    }
    // The definer function behind it takes nobody's id and answers the same.
    const { rows } = await world.clients.sponsor.query('select user_id from cs_private.people_directory()');
    expect(rows).toEqual([{ user_id: world.people.sponsor.id }]);
  });

  it('answers the same through PostgREST’s gateway (hosted mode), and nothing to anon', async () => {
    const gateway = await PostgrestGateway.connect(db.server, db.name);
    try {
      for (const role of ['investigator', 'patient'] as const) {
        const hosted = await gateway.request(
          supabaseClaims(world.people[role].id),
          'select * from public.people_directory() order by user_id',
        );
        const { rows: own } = await world.clients[role].query(
          'select * from public.people_directory() order by user_id',
        );
        expect(hosted, role).toEqual(own);
      }
      await expect(
        gateway.request(anonClaims, 'select * from public.people_directory()'),
      ).rejects.toMatchObject({
        code: '42501',
      });
    } finally {
      await gateway.close();
    }
  });

  it('is closed to a connection that is not signed in', async () => {
    await expect(world.clients.anon.query('select * from public.people_directory()')).rejects.toMatchObject({
      code: '42501',
    });
  });
});

// The people stream (sync/peopleStream.ts): each sync reads public.people_directory() through the
// person's own login and makes it the cached set in one SQLite transaction; a malformed row is
// quarantined and the rest land; a server without the directory leaves the cache as it was.
import { afterAll, describe, expect, it } from 'vitest';
import { cachedPeople } from '../../src/main/cache/cachedPeople';
import { postgresSyncServer, postgresSyncServerOver } from '../../src/main/sync/postgresSyncServer';
import { pullAll } from '../../src/main/sync/pullEngine';
import { type ServerReader, serverReaderFor } from '../../src/main/sync/serverReader';
import type { AppRole } from '../../src/shared/domain';
import { syncWorld } from './support/syncWorld';

/** The person table as the server's directory would list it, sorted by id. */
function cachedRows(cache: ReturnType<ReturnType<typeof syncWorld>['cacheOf']>) {
  return cache
    .prepare('select user_id, printed_name, roles, agent_id, subject_code from person order by user_id')
    .all() as { user_id: string; printed_name: string | null; roles: string }[];
}

describe('people stream [UI-PEOPLE-NAMES, SYNC-QUARANTINE]', () => {
  const setup = syncWorld();
  const restore: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const undo of restore) await undo();
  });

  const roles: AppRole[] = ['signer', 'investigator', 'patient', 'agent', 'admin'];
  it.each(roles)(
    'caches for a %s exactly the people the server lets them name [SEC-PEOPLE-DIRECTORY]',
    async (role) => {
      const client = setup.world.clients[role];
      const cache = setup.cacheOf(`${setup.world.people[role].id}-people`);
      const report = await pullAll(cache, postgresSyncServer(client));
      const { rows } = await client.query<{ user_id: string; printed_name: string | null; roles: string[] }>(
        'select user_id::text as user_id, printed_name, roles from public.people_directory() order by user_id',
      );
      expect(report.people).toBe(rows.length);
      expect(
        cachedRows(cache).map((row) => ({ ...row, roles: JSON.parse(row.roles) as string[] })),
      ).toMatchObject(rows);
      if (role === 'patient') expect(rows.map((row) => row.user_id)).toEqual([setup.world.people.patient.id]);
    },
  );

  it('replaces the cached set whole on each sync: a renamed person and one out of reach', async () => {
    const { db, world } = setup;
    const signer = world.clients.signer;
    const cache = setup.cacheOf(`${world.people.signer.id}-people-refresh`);
    await pullAll(cache, postgresSyncServer(signer));
    const names = () => new Map(cachedPeople(cache).map((person) => [person.userId, person.printedName]));
    expect(names().get(world.people.monitor.id)).toBe('monitor person');

    await db.operator.query(
      `update cro.user_profile set printed_name = 'Dr. Renamed Agent' where user_id = $1`,
      [world.people.agent.id],
    );
    restore.push(() =>
      db.operator.query(`update cro.user_profile set printed_name = 'agent person' where user_id = $1`, [
        world.people.agent.id,
      ]),
    );
    // The monitor leaves study A (an operator's change, not the signer's own access).
    const { rows: removed } = await db.operator.query(
      'delete from cro.role_assignment where user_id = $1 returning role, study_id',
      [world.people.monitor.id],
    );
    restore.push(() =>
      db.operator.query('insert into cro.role_assignment (user_id, role, study_id) values ($1, $2, $3)', [
        world.people.monitor.id,
        removed[0]?.role,
        removed[0]?.study_id,
      ]),
    );
    const second = await pullAll(cache, postgresSyncServer(signer));
    expect(second.reset).toBeNull();
    expect(names().get(world.people.agent.id)).toBe('Dr. Renamed Agent');
    expect(names().has(world.people.monitor.id)).toBe(false);
  });

  it('quarantines a malformed person and keeps the rest', async () => {
    const real = serverReaderFor(setup.world.clients.signer);
    const hostile: ServerReader = {
      query: async (query) => {
        const answer = await real.query(query);
        if (query.name !== 'cs_sync_people') return answer;
        return {
          ...answer,
          rows: [
            ...answer.rows,
            {
              user_id: 'not-a-person',
              printed_name: 'Mallory',
              roles: ['signer'],
              agent_id: null,
              subject_code: null,
            },
            { ...answer.rows[0], user_id: '3f0c9a2e-8b1d-4c6e-9f7a-2d5b8e1c0a93', roles: ['superuser'] },
          ],
        };
      },
    };
    const cache = setup.cacheOf(`${setup.world.people.signer.id}-people-hostile`);
    const report = await pullAll(cache, postgresSyncServerOver(hostile));
    expect(report.quarantined).toBe(2);
    const quarantined = cache
      .prepare(`select row_key, problem from quarantine where stream = 'people'`)
      .all() as {
      row_key: string;
      problem: string;
    }[];
    expect(quarantined.map((row) => row.row_key).sort()).toEqual([
      '3f0c9a2e-8b1d-4c6e-9f7a-2d5b8e1c0a93',
      'not-a-person',
    ]);
    expect(quarantined.map((row) => row.problem).join(' ')).toMatch(/user_id: .*roles\.0: /s);
    expect(quarantined.map((row) => row.problem).join(' ')).not.toContain('Mallory');
    expect(cachedRows(cache).length).toBe(report.people);
    expect(report.people).toBeGreaterThan(5);
    // The next clean refresh supersedes the refused rows.
    await pullAll(cache, postgresSyncServerOver(real));
    expect(cache.prepare(`select count(*) as n from quarantine where stream = 'people'`).get()).toEqual({
      n: 0,
    });
  });

  it('leaves the cached people as they were when the server has no directory (before 0052)', async () => {
    const real = serverReaderFor(setup.world.clients.investigator);
    const cache = setup.cacheOf(`${setup.world.people.investigator.id}-people-old-server`);
    await pullAll(cache, postgresSyncServerOver(real));
    const before = cachedRows(cache);
    expect(before.length).toBeGreaterThan(0);
    const oldServer: ServerReader = {
      query: async (query) => {
        if (query.name === 'cs_sync_people')
          throw Object.assign(new Error('function public.people_directory() does not exist'), {
            code: '42883',
          });
        return real.query(query);
      },
    };
    const report = await pullAll(cache, postgresSyncServerOver(oldServer));
    expect(report.people).toBeNull();
    expect(cachedRows(cache)).toEqual(before);
  });
});

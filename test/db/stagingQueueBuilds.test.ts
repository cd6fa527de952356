// The hosted queue (public.staging_queue, migration 0054) names each row's protocol build and narrows
// the page and its counts to one build when asked, as the signer's own login sees it through RLS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stagingRecordBuild } from './support/buildActions';
import { buildSigningWorld, password, type SigningWorld } from './support/signingWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

interface QueuePage {
  rows: { id: string; buildId: string }[];
  counts: Record<string, number>;
}

describe('the hosted queue by build [BUILD-FILTER]', () => {
  let db: TestDatabase;
  let world: SigningWorld;
  let initialBuild: string;
  let amendment: string;
  let underInitial: string[];
  let underAmendment: string[];
  let signerEmail: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildSigningWorld(db);
    signerEmail = (await world.newSigner({ totp: false })).email;
    underInitial = await world.reviewing(world.studyA, 2);
    amendment = (await world.completedAmendment(world.studyA, 'B2')).id;
    underAmendment = await world.reviewing(world.studyA, 3);
    initialBuild = await stagingRecordBuild(db.operator, underInitial[0] as string);
  });
  afterAll(async () => {
    await world?.close();
    await db?.drop();
  });

  async function queue(build: string | null): Promise<QueuePage> {
    const signer = await db.connectAs(signerEmail, password);
    try {
      const { rows } = await signer.query<{ page: QueuePage }>(
        'select public.staging_queue(5000, null, null, null, $1, $2) as page',
        [world.studyA, build],
      );
      return rows[0]?.page as QueuePage;
    } finally {
      await signer.end();
    }
  }

  it('names each row’s build', async () => {
    const page = await queue(null);
    const buildOf = new Map(page.rows.map((row) => [row.id, row.buildId]));
    for (const id of underInitial) expect(buildOf.get(id)).toBe(initialBuild);
    for (const id of underAmendment) expect(buildOf.get(id)).toBe(amendment);
  });

  it('narrows the page and the counts to one build', async () => {
    const page = await queue(amendment);
    expect(page.rows.map((row) => row.id).sort()).toEqual([...underAmendment].sort());
    expect(page.counts).toEqual({ reviewing: 3 });
    const initial = await queue(initialBuild);
    expect(initial.rows.every((row) => row.buildId === initialBuild)).toBe(true);
    expect(initial.rows.map((row) => row.id)).toEqual(expect.arrayContaining(underInitial));
  });
});

// The signing manifest as the workstation builds it from its cache (issue 20): each record names the
// protocol build it was written under and its content hash binds that build (version 2), equal to the
// server's for a record under a non-initial build; a cache that still holds a record's earlier build
// (it was revised under a newer build since the last sync) yields a manifest the server refuses,
// naming the record, and after a sync the same record signs under its new build.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedSigningSubjects } from '../../src/main/cache/cachedSigningSubjects';
import { SigningCeremonies } from '../../src/main/signing/signingCeremony';
import { postgresSyncServer } from '../../src/main/sync/postgresSyncServer';
import { pullAll } from '../../src/main/sync/pullEngine';
import { stagingRecordBuild } from './support/buildActions';
import { actingAs } from './support/operatorActions';
import { buildSigningWorld, password, type Signer, type SigningWorld } from './support/signingWorld';
import { type TempCaches, tempCaches } from './support/syncCache';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const approve = 'I approve this change';

describe('the signing manifest from the cache binds each record’s build [BUILD-SIGNING-MANIFEST]', () => {
  let db: TestDatabase;
  let world: SigningWorld;
  let caches: TempCaches;
  let signer: Signer;
  let signerClient: pg.Client;
  let cache: Database;
  let initialBuild: string;

  const sync = () => pullAll(cache, postgresSyncServer(signerClient));
  /** A ceremony of a signer of study A (a new one each time: a TOTP code works once), from the cache. */
  const ceremonies = async () => {
    const who = await world.newSigner();
    return {
      who,
      ceremony: new SigningCeremonies(who.backend, {
        cachedSubjects: (ids) => cachedSigningSubjects(cache, ids),
      }),
    };
  };
  const buildOf = (id: string) => stagingRecordBuild(db.operator, id);
  const completeBuild = (number: string) => world.completedAmendment(world.studyA, number);
  const sign = (
    manifest: Awaited<ReturnType<SigningCeremonies['buildManifest']>>,
    { who, ceremony }: Awaited<ReturnType<typeof ceremonies>>,
  ) =>
    ceremony.sign({
      ceremonyId: manifest.ceremonyId,
      intent: 'approve',
      meaning: approve,
      comment: null,
      entries: manifest.entries.map((e) => ({
        stagingRecordId: e.stagingRecordId,
        contentHash: e.contentHash,
      })),
      password,
      totpCode: who.code(),
    });

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildSigningWorld(db);
    caches = tempCaches();
    signer = await world.newSigner();
    signerClient = await db.connectAs(signer.email, password);
    cache = caches.open(signer.id);
  });
  afterAll(async () => {
    cache?.close();
    caches?.remove();
    await signerClient?.end();
    await world?.close();
    await db?.drop();
  });

  it('names each record’s build (the earlier one superseded) and hashes as the server does under a non-initial build', async () => {
    const [underInitial] = (await world.reviewing(world.studyA, 1)) as [string];
    initialBuild = await buildOf(underInitial);
    const amendment = await completeBuild('B2');
    const [underAmendment] = (await world.reviewing(world.studyA, 1)) as [string];
    expect(await buildOf(underAmendment)).toBe(amendment.id);
    await sync();

    const ceremony = await ceremonies();
    const manifest = await ceremony.ceremony.buildManifest([underInitial, underAmendment]);
    expect(manifest.problems).toEqual([]);
    const byId = new Map(manifest.entries.map((entry) => [entry.stagingRecordId, entry]));
    expect(byId.get(underInitial)?.build).toEqual({
      id: initialBuild,
      number: 'B1',
      version: '1.0',
      superseded: true,
    });
    expect(byId.get(underAmendment)?.build).toEqual({
      id: amendment.id,
      number: 'B2',
      version: amendment.build_version,
      superseded: false,
    });
    const { rows } = await db.operator.query<{ id: string; hash: string }>(
      `select id::text, cs_private.signing_content_hash(s) as hash from cro.staging_record s where id = any ($1::uuid[])`,
      [[underInitial, underAmendment]],
    );
    for (const row of rows) expect(byId.get(row.id)?.contentHash, row.id).toBe(row.hash);

    const outcome = await sign(manifest, ceremony);
    expect(outcome.ok).toBe(true);
    expect(await world.state(underAmendment)).toBe('signed');
  });

  it('is refused by the server for a record whose build moved on since the cache was synced, naming it; signs after a sync', async () => {
    const [record] = (await world.reviewing(world.studyA, 1)) as [string];
    const proposed = (
      await db.operator.query<{ p: Record<string, unknown> }>(
        'select proposed_state as p from cro.staging_record where id = $1',
        [record],
      )
    ).rows[0]?.p as Record<string, unknown>;
    await sync();
    const cachedBuild = cache.prepare('select build_id from staging_record where id = ?').pluck().get(record);

    // A newer build completes; the agent revises the proposal and then restores it word for word, so
    // that only its build differs from what the cache holds; the signer opens it for review again.
    const correction = await completeBuild('B3');
    const revise = (state: Record<string, unknown>) =>
      actingAs(db.operator, world.agentA, () =>
        db.operator.query('update cro.staging_record set proposed_state = $2 where id = $1', [
          record,
          JSON.stringify(state),
        ]),
      );
    await revise({ ...proposed, label: `${String(proposed.label)} (revised)` });
    await revise(proposed);
    expect(await signer.backend.openForReview([record])).toBe(1);
    expect(await buildOf(record)).toBe(correction.id);
    expect(cachedBuild).not.toBe(correction.id);

    // The cache is stale: the manifest binds the build it holds, and the server refuses it.
    const stale = await ceremonies();
    const manifest = await stale.ceremony.buildManifest([record]);
    expect(manifest.entries[0]?.build?.id).toBe(cachedBuild);
    await expect(sign(manifest, stale)).rejects.toThrow(
      new RegExp(`record ${record} changed after the manifest was built.*Review the record again`),
    );
    expect(await world.state(record)).toBe('reviewing');
    const signatures = await world.count(
      `select 1 from cro.signature_event where subject_kind = 'staging_record' and subject_id = $1`,
      [record],
    );
    expect(signatures).toBe(0);

    // Synced, the manifest names the new build, and the record signs.
    await sync();
    const fresh = await ceremonies();
    const again = await fresh.ceremony.buildManifest([record]);
    expect(again.entries[0]?.build).toMatchObject({ id: correction.id, number: 'B3', superseded: false });
    expect((await sign(again, fresh)).ok).toBe(true);
    expect(await world.state(record)).toBe('signed');
  });
});

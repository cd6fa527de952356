// A signature binds the protocol build (migration 0054): what is signed is content-hash version 2,
// the six keys of version 1 and the proposal's build_id, so a proposal reviewed under one build cannot
// be signed as if it were another; every signature records its version, and one made before builds
// (version 1) still verifies through promotion. The signer signs through their own login, as the
// workstation does; the hashes offered are the server's own, so that only the server is under test.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stagingRecordBuild } from './support/buildActions';
import { actingAs } from './support/operatorActions';
import { buildSigningWorld, password, type Signer, type SigningWorld } from './support/signingWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const approve = 'I approve this change';

describe('a signature binds the protocol build [BUILD-SIGNATURE-BINDS, CFR-11.70]', () => {
  let db: TestDatabase;
  let world: SigningWorld;
  /** A proposal of study A written under its INITIAL build, in review. */
  let underInitial: string;
  let initialBuild: string;
  /** Study A's AMENDMENT, completed after that proposal was written. */
  let amendment: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildSigningWorld(db);
    [underInitial] = (await world.reviewing(world.studyA, 1)) as [string];
    initialBuild = await stagingRecordBuild(db.operator, underInitial);
    amendment = (await world.completedAmendment(world.studyA, 'B2')).id;
  });
  afterAll(async () => {
    await world?.close();
    await db?.drop();
  });

  /** The server's hashes of a record: as it is (version 2), at version 1, and as if under `otherBuild`. */
  async function serverHashes(id: string, otherBuild: string) {
    const { rows } = await db.operator.query<{ current: string; v1: string; other: string; version: number }>(
      `select cs_private.signing_content_hash(s) as current,
              cs_private.signing_content_hash_at(s, 1::smallint) as v1,
              cs_private.signing_content_hash(jsonb_populate_record(s, jsonb_build_object('build_id', $2::uuid))) as other,
              cs_private.signing_content_version(s) as version
         from cro.staging_record s where s.id = $1`,
      [id, otherBuild],
    );
    return rows[0] as { current: string; v1: string; other: string; version: number };
  }

  async function signWith(signer: Signer, id: string, contentHash: string) {
    const ceremonyId = randomUUID();
    expect((await signer.backend.reauthenticate(ceremonyId, password, signer.code())).ok).toBe(true);
    return signer.backend.signBatch(
      {
        ceremonyId,
        nonce: randomBytes(16).toString('hex'),
        intent: 'approve',
        meaning: approve,
        comment: null,
        rejection: null,
        manifest: [{ stagingRecordId: id, contentHash }],
      },
      password,
    );
  }

  it('changes the content hash with the build: the same proposal under another build hashes differently', async () => {
    const hashes = await serverHashes(underInitial, amendment);
    expect(hashes.version).toBe(2);
    expect(new Set([hashes.current, hashes.v1, hashes.other]).size).toBe(3);
    // What a reader recomputes names the build, and hashes to what the server signs.
    const signer = await world.newSigner();
    const client = await db.connectAs(signer.email, password);
    try {
      const { rows } = await client.query<{ content: Record<string, unknown>; hash: string }>(
        `select public.signing_content($1) as content, cs_private.json_sha256(public.signing_content($1)) as hash`,
        [underInitial],
      );
      expect(rows[0]?.content).toMatchObject({ staging_record_id: underInitial, build_id: initialBuild });
      expect(rows[0]?.hash).toBe(hashes.current);
      // The records a manifest is built from carry the build too (hosted mode reads them so).
      const { rows: subjects } = await client.query<{ s: { build_id: string }[] }>(
        'select public.signing_subjects(array[$1]::uuid[]) as s',
        [underInitial],
      );
      expect(subjects[0]?.s[0]?.build_id).toBe(initialBuild);
    } finally {
      await client.end();
    }
  });

  it('refuses a manifest hashed without the build (version 1) or as if under another build, and signs the right one at version 2', async () => {
    const hashes = await serverHashes(underInitial, amendment);
    for (const wrong of [hashes.v1, hashes.other]) {
      await expect(signWith(await world.newSigner(), underInitial, wrong)).rejects.toThrow(
        new RegExp(`record ${underInitial} changed after the manifest was built`),
      );
      expect(await world.state(underInitial)).toBe('reviewing');
    }
    await signWith(await world.newSigner(), underInitial, hashes.current);
    expect(await world.state(underInitial)).toBe('signed');
    const { rows } = await db.operator.query(
      `select content_hash, content_hash_version from cro.signature_event
        where subject_kind = 'staging_record' and subject_id = $1`,
      [underInitial],
    );
    expect(rows).toEqual([{ content_hash: hashes.current, content_hash_version: 2 }]);
  });

  describe('a signature made before builds (version 1)', () => {
    /** A signature recorded as the deployment recorded them before 0054, with the version and hash given. */
    async function signatureOf(signer: Signer, id: string, version: 1 | 2, hashVersion: 1 | 2) {
      await actingAs(db.operator, signer.id, () =>
        db.operator.query(
          `insert into cro.signature_event (user_id, user_display_name, intent, subject_kind, subject_id, re_auth_at,
             meaning_of_signature, signed_at, created_by, study_id, content_hash, content_hash_version, ceremony_id, nonce)
           select $1, 'Sam Signer', 'approve', 'staging_record', s.id::text, now(), $2, now(), $1, s.study_id,
                  cs_private.signing_content_hash_at(s, $4::smallint), $3, gen_random_uuid(),
                  replace(gen_random_uuid()::text, '-', '')
             from cro.staging_record s where s.id = $5`,
          [signer.id, approve, version, hashVersion, id],
        ),
      );
      // Signed in its own, later transaction, as then: the state machine checks the signed content.
      return actingAs(db.operator, signer.id, () =>
        db.operator.query(`update cro.staging_record set state = 'signed' where id = $1`, [id]),
      );
    }

    it('still verifies: the record is signed and promoted, its content checked at version 1', async () => {
      const signer = await world.newSigner();
      const [id] = (await world.reviewing(world.studyA, 1)) as [string];
      await signatureOf(signer, id, 1, 1);
      expect(await world.state(id)).toBe('signed');
      const { rows } = await db.operator.query(
        `select cs_private.signing_content_version(s) as version,
                cs_private.signed_content_unchanged(s, (select g.id from cro.signature_event g where g.subject_id = s.id::text), true) as unchanged,
                public.signing_content(s.id) ? 'build_id' as names_build
           from cro.staging_record s where s.id = $1`,
        [id],
      );
      expect(rows[0]).toEqual({ version: 1, unchanged: true, names_build: false });
      const outcomes = await signer.backend.promote([id]);
      expect(outcomes.map((o) => o.outcome)).toEqual(['promoted']);
      expect(await world.state(id)).toBe('promoted');
    });

    it('is held to the version it recorded: a version-1 signature of a version-2 hash (or the reverse) does not verify', async () => {
      const signer = await world.newSigner();
      for (const [version, hashVersion] of [
        [1, 2],
        [2, 1],
      ] as const) {
        const [id] = (await world.reviewing(world.studyA, 1)) as [string];
        await expect(signatureOf(signer, id, version, hashVersion)).rejects.toMatchObject({
          code: 'CS409',
          message: expect.stringMatching(/changed after it was signed/),
        });
        expect(await world.state(id)).toBe('reviewing');
      }
    });
  });
});

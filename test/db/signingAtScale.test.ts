// One ceremony of 10,000 records, through the workstation's own path (manifest, re-authentication,
// sign_batch): every record signed, with its signature and audit entries, and the server refuses a
// manifest of 10,001 even from a person's own login.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigningCeremonies } from '../../src/main/signing/signingCeremony';
import { maxRecordsPerCeremony } from '../../src/shared/contract';
import { actingAs, propose } from './support/operatorActions';
import { buildSigningWorld, password, type SigningWorld } from './support/signingWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('one ceremony signs up to 10,000 records [SIGN-SCALE]', () => {
  let db: TestDatabase;
  let world: SigningWorld;
  let ids: string[];

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildSigningWorld(db);
    // Proposed in one statement by the study's agent, then opened for review.
    ids = await actingAs(db.operator, world.agentA, async () => {
      const { rows } = await db.operator.query<{ id: string }>(
        `insert into cro.staging_record (entity_kind, entity_id, study_id, agent_id, proposed_state, created_by)
         select 'study_kpi', null, $1, 'agent:test',
                jsonb_build_object('label', 'KPI ' || g, 'value', g || '%', 'position', g), $2
           from generate_series(1, $3::int) g
         returning id`,
        [world.studyA, world.agentA, maxRecordsPerCeremony + 1],
      );
      return rows.map((row) => row.id);
    });
    await actingAs(db.operator, world.adminId, () =>
      db.operator.query(`update cro.staging_record set state = 'reviewing' where id = any ($1::uuid[])`, [
        ids,
      ]),
    );
  }, 600_000);
  afterAll(async () => {
    await world?.close();
    await db?.drop();
  });

  it('hashes what a signature signs exactly as 0014 defined it, now written directly [SIGN-HASH]', async () => {
    // New rows, an update of a live row, and proposals with awkward keys and numbers.
    const odd: string[] = [];
    for (const [index, title] of ['😀 emoji', 'ünïcødé', 'quote " and \\ backslash'].entries()) {
      odd.push(
        await propose(db.operator, world.agentA, {
          entityKind: 'live_essential_document',
          entityId: null,
          studyId: world.studyA,
          proposedState: {
            document_type: 'protocol',
            document_title: title,
            storage_uri: `s3://tmf/${index}`,
            metadata: {
              '😀': index,
              é: [1.5, 1e21, -0.000001],
              nested: { b: [true, null, { z: 1, a: 'x' }] },
            },
          },
        }),
      );
    }
    const update = await propose(db.operator, world.agentA, {
      entityKind: 'study_kpi',
      entityId: world.kpiA,
      studyId: world.studyA,
      proposedState: { value: '55%' },
    });
    const { rows } = await db.operator.query<{ id: string; direct: string; generic: string }>(
      `select s.id, cs_private.signing_content_hash(s) as direct,
              cs_private.json_sha256(cs_private.signing_content(s)) as generic
         from cro.staging_record s where s.id = any ($1::uuid[])`,
      [[...odd, update, ids[0]]],
    );
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(row.direct, row.id).toBe(row.generic);
  });

  it('refuses 10,001 records, in the workstation and on the server', async () => {
    const signer = await world.newSigner();
    const ceremonies = new SigningCeremonies(signer.backend);
    await expect(ceremonies.buildManifest(ids)).rejects.toThrow(
      'One ceremony signs at most 10,000 records; select fewer.',
    );
    const ceremonyId = randomUUID();
    expect((await signer.backend.reauthenticate(ceremonyId, password, signer.code())).ok).toBe(true);
    const client = await db.connectAs(signer.email, password);
    const manifest = ids.map((id) => ({ staging_record_id: id, content_hash: 'a'.repeat(64) }));
    await expect(
      client.query(`select public.sign_batch($1, $2, 'approve', 'I approve this change', null, $3::jsonb)`, [
        ceremonyId,
        randomBytes(18).toString('base64url'),
        JSON.stringify(manifest),
      ]),
    ).rejects.toMatchObject({ code: 'CS422', message: expect.stringMatching(/at most 10000 records/) });
  });

  it('signs 10,000 records in one ceremony, each with its signature and audit entries', async () => {
    const signer = await world.newSigner();
    const batch = ids.slice(0, maxRecordsPerCeremony);
    const ceremonies = new SigningCeremonies(signer.backend);
    const manifest = await ceremonies.buildManifest(batch);
    expect(manifest.entries).toHaveLength(10_000);
    const auditBefore = await world.count('select 1 from audit.audit_log');
    const outcome = await ceremonies.sign({
      ceremonyId: manifest.ceremonyId,
      intent: 'approve',
      meaning: 'I approve this change',
      comment: null,
      entries: manifest.entries,
      password,
      totpCode: signer.code(),
    });
    if (!outcome.ok) throw new Error(outcome.error);
    expect(outcome.result.records).toHaveLength(10_000);
    expect(
      await world.count(`select 1 from cro.staging_record where state = 'signed' and id = any ($1::uuid[])`, [
        batch,
      ]),
    ).toBe(10_000);
    expect(
      await world.count('select 1 from cro.signature_event where ceremony_id = $1', [manifest.ceremonyId]),
    ).toBe(10_000);
    // A signature entry and a state change per record, the ceremony, and the re-authentication's two.
    expect((await world.count('select 1 from audit.audit_log')) - auditBefore).toBe(2 * 10_000 + 3);
  }, 300_000);
});

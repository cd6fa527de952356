// Opening a record for review and promoting a signed one are the signer's own audited steps; a
// promotion applies only what was signed, and a live row changed since is a conflict, not an overwrite.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../src/main/signing/contentHash';
import { SigningCeremonies } from '../../src/main/signing/signingCeremony';
import { actingAs, propose } from './support/operatorActions';
import { buildSigningWorld, password, type Signer, type SigningWorld } from './support/signingWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('open for review and promotion', () => {
  let db: TestDatabase;
  let world: SigningWorld;

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildSigningWorld(db);
  });
  afterAll(async () => {
    await world?.close();
    await db?.drop();
  });

  async function sign(signer: Signer, ids: string[]) {
    const ceremonyId = randomUUID();
    expect((await signer.backend.reauthenticate(ceremonyId, password, signer.code())).ok).toBe(true);
    const subjects = await signer.backend.subjects(ids);
    return signer.backend.signBatch(
      {
        ceremonyId,
        nonce: randomBytes(18).toString('base64url'),
        intent: 'approve',
        meaning: 'I approve this change',
        comment: null,
        manifest: subjects.map((s) => ({ stagingRecordId: s.stagingRecordId, contentHash: contentHash(s) })),
      },
      password,
    );
  }
  const kpiUpdate = (value: string) =>
    propose(db.operator, world.agentA, {
      entityKind: 'study_kpi',
      entityId: world.kpiA,
      studyId: world.studyA,
      proposedState: { value },
    });

  it('opens proposed records for review as an audited step of the signer, and leaves reviewing ones [CFR-11.10f, CFR-11.10e]', async () => {
    const signer = await world.newSigner();
    const id = await kpiUpdate('41%');
    expect(await signer.backend.openForReview([id])).toBe(1);
    expect(await signer.backend.openForReview([id])).toBe(0);
    expect(await world.state(id)).toBe('reviewing');
    const { rows } = await db.operator.query(
      `select actor, payload ->> 'from_state' as from_state from audit.audit_log
        where event_type = 'staging.reviewing' and payload ->> 'staging_id' = $1`,
      [id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.actor).toBe(signer.id);
    expect(rows[0]?.from_state).toBe('proposed');
    expect(
      await world.count(
        `select 1 from cro.provenance_event where action = 'open_for_review' and subject_id = $1 and reviewer_user_id = $2`,
        [id, signer.id],
      ),
    ).toBe(1);
  });

  it('does not let a non-signer or a signer of another study open a record for review [CFR-11.10g]', async () => {
    const monitor = await world.newSigner({ roles: ['monitor'] });
    const signerB = await world.newSigner({ study: world.studyB });
    const id = await kpiUpdate('42%');
    await expect(monitor.backend.openForReview([id])).rejects.toThrow(/not in a study you sign for/);
    await expect(signerB.backend.openForReview([id])).rejects.toThrow(/not in a study you sign for/);
    expect(await world.state(id)).toBe('proposed');
  });

  it('promotes a signed record: the live row gets exactly the proposal, with provenance and signature [SIGN-PROMOTION]', async () => {
    const signer = await world.newSigner();
    const id = await kpiUpdate('43%');
    await signer.backend.openForReview([id]);
    const signed = await sign(signer, [id]);
    const outcomes = await new SigningCeremonies(signer.backend).promote([id]);
    expect(outcomes).toEqual([
      {
        stagingRecordId: id,
        outcome: 'promoted',
        liveId: world.kpiA,
        message: expect.stringMatching(/promoted/),
      },
    ]);
    expect(await world.state(id)).toBe('promoted');
    const { rows } = await db.operator.query(
      `select k.value, p.action, p.signature_id, p.payload ->> 'signed_content_hash' as signed_hash
         from cro.study_kpi k join cro.provenance_event p on p.id = k.provenance_id where k.id = $1`,
      [world.kpiA],
    );
    expect(rows[0]).toEqual({
      value: '43%',
      action: 'promote',
      signature_id: signed.records[0]?.signatureId,
      signed_hash: signed.records[0]?.contentHash,
    });
  });

  it('promotes a new row, and reports each record of a mixed batch on its own [SIGN-PROMOTION]', async () => {
    const signer = await world.newSigner();
    const [created] = await world.reviewing(world.studyA, 1);
    await sign(signer, [created as string]);
    const unsigned = await kpiUpdate('44%');
    const outcomes = await signer.backend.promote([created as string, unsigned]);
    expect(outcomes.map((o) => o.outcome)).toEqual(['promoted', 'refused']);
    expect(outcomes[1]?.message).toMatch(/is proposed; only signed records can be promoted/);
    const liveId = outcomes[0]?.liveId;
    expect(await world.count('select 1 from cro.study_kpi where id = $1', [liveId])).toBe(1);
  });

  it('refuses to promote an unsigned record, and a signer cannot move state by hand [CFR-11.10f]', async () => {
    const signer = await world.newSigner();
    const id = await kpiUpdate('45%');
    await signer.backend.openForReview([id]);
    const outcomes = await signer.backend.promote([id]);
    expect(outcomes[0]).toMatchObject({ outcome: 'refused' });
    expect(await world.state(id)).toBe('reviewing');
    const client = await db.connectAs(signer.email, password);
    await expect(
      client.query(`update cro.staging_record set state = 'promoted' where id = $1`, [id]),
    ).rejects.toThrow(/permission denied/);
  });

  it('reports a conflict when the live row changed after signing, and leaves the live row as it is [SIGN-PROMOTION]', async () => {
    const signer = await world.newSigner();
    const first = await kpiUpdate('46%');
    const second = await kpiUpdate('47%');
    await signer.backend.openForReview([first, second]);
    await sign(signer, [first, second]);
    const outcomes = await signer.backend.promote([first, second]);
    expect(outcomes.map((o) => o.outcome)).toEqual(['promoted', 'conflict']);
    expect(outcomes[1]?.message).toMatch(/changed after it was signed; nothing was overwritten/);
    expect(await world.state(second)).toBe('signed');
    const { rows } = await db.operator.query('select value from cro.study_kpi where id = $1', [world.kpiA]);
    expect(rows[0]?.value).toBe('46%');
    expect(
      await world.count(
        `select 1 from audit.audit_log where event_type = 'staging.promotion_conflict' and payload ->> 'staging_id' = $1`,
        [second],
      ),
    ).toBe(1);
  });

  it('refuses promotion by a signer of another study, for the whole request [CFR-11.10g]', async () => {
    const signer = await world.newSigner();
    const signerB = await world.newSigner({ study: world.studyB });
    const id = await kpiUpdate('48%');
    await signer.backend.openForReview([id]);
    await sign(signer, [id]);
    await expect(signerB.backend.promote([id])).rejects.toThrow(/not in a study you sign for/);
    expect(await world.state(id)).toBe('signed');
  });

  it('checks the signed content in the trigger too: a signature for other content cannot sign a record [CFR-11.70]', async () => {
    const id = await kpiUpdate('49%');
    await actingAs(db.operator, world.adminId, () =>
      db.operator.query(`update cro.staging_record set state = 'reviewing' where id = $1`, [id]),
    );
    await actingAs(db.operator, world.adminId, async () => {
      await db.operator.query(
        `insert into cro.signature_event (user_id, user_display_name, intent, subject_kind, subject_id, re_auth_at,
           meaning_of_signature, signed_at, created_by, study_id, content_hash)
         values ($1, 'Ada Admin', 'approve', 'staging_record', $2, now(), 'I approve this change', now(), $1, $3, $4)`,
        [world.adminId, id, world.studyA, 'f'.repeat(64)],
      );
    });
    await expect(
      actingAs(db.operator, world.adminId, () =>
        db.operator.query(`update cro.staging_record set state = 'signed' where id = $1`, [id]),
      ),
    ).rejects.toThrow(/changed after it was signed/);
    expect(await world.state(id)).toBe('reviewing');
  });
});

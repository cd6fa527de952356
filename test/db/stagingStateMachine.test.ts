// The staging state machine is the database's, not the UI's: these run as the table owner, whom
// no grant or policy restrains, so only the triggers stand between them and a broken history.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  actingAs,
  createKpi,
  createStudy,
  propose,
  recordSignature,
  setState,
} from './support/operatorActions';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('staging state machine [CFR-11.10f]', () => {
  let db: TestDatabase;
  let ownerId: string;
  let agentId: string;
  let signerId: string;
  let studyId: string;
  let otherStudyId: string;
  let kpiId: string;

  const newKpiProposal = () =>
    propose(db.operator, agentId, {
      entityKind: 'study_kpi',
      entityId: null,
      studyId,
      proposedState: { label: 'Screen failures', value: '12%', position: 4 },
    });
  const state = async (id: string) =>
    (await db.operator.query('select state from cro.staging_record where id = $1', [id])).rows[0]?.state;

  beforeAll(async () => {
    db = await createTestDatabase();
    ownerId = await db.provision({
      email: db.email('owner'),
      printedName: 'Owner',
      password: 'owner-pass-1234',
      roles: [{ role: 'admin', studyId: null }],
    });
    studyId = await createStudy(db.operator, ownerId, `SM-${db.tag}`);
    otherStudyId = await createStudy(db.operator, ownerId, `SM2-${db.tag}`);
    agentId = await db.provision({
      email: db.email('agent'),
      printedName: 'Agent',
      password: 'agent-pass-1234',
      roles: [{ role: 'agent', studyId }],
    });
    signerId = await db.provision({
      email: db.email('signer'),
      printedName: 'Signer',
      password: 'signer-pass-1234',
      roles: [{ role: 'signer', studyId }],
    });
    kpiId = await createKpi(db.operator, ownerId, studyId);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('walks proposed → reviewing → signed → promoted and writes the live row with its provenance', async () => {
    const id = await newKpiProposal();
    expect(await state(id)).toBe('proposed');
    await setState(db.operator, signerId, id, 'reviewing');
    const signatureId = await recordSignature(db.operator, signerId, id, 'approve');
    await setState(db.operator, signerId, id, 'signed');
    await setState(db.operator, signerId, id, 'promoted');
    const { rows } = await db.operator.query(
      `select s.state, s.entity_id, k.label, k.value, k.position, k.study_id, p.action, p.signature_id, p.payload
       from cro.staging_record s join cro.study_kpi k on k.id = s.entity_id
       join cro.provenance_event p on p.id = k.provenance_id where s.id = $1`,
      [id],
    );
    expect(rows[0]).toMatchObject({
      state: 'promoted',
      label: 'Screen failures',
      value: '12%',
      position: 4,
      study_id: studyId,
      action: 'promote',
      signature_id: signatureId,
    });
    expect(rows[0].payload.staging_id).toBe(id);
  });

  it('promotes an update of an existing live row, changing only the proposed fields', async () => {
    const id = await propose(db.operator, agentId, {
      entityKind: 'study_kpi',
      entityId: kpiId,
      studyId,
      proposedState: { value: '55%' },
    });
    await setState(db.operator, signerId, id, 'reviewing');
    await recordSignature(db.operator, signerId, id, 'approve');
    await setState(db.operator, signerId, id, 'signed');
    await setState(db.operator, signerId, id, 'promoted');
    const { rows } = await db.operator.query('select label, value from cro.study_kpi where id = $1', [kpiId]);
    expect(rows[0]).toEqual({ label: 'Enrolment', value: '55%' });
  });

  it('moves reviewing → rejected only with a rejecting signature, and rejected is terminal', async () => {
    const id = await newKpiProposal();
    await setState(db.operator, signerId, id, 'reviewing');
    await expect(setState(db.operator, signerId, id, 'rejected')).rejects.toThrow(
      /without a rejecting signature/,
    );
    await recordSignature(db.operator, signerId, id, 'reject');
    await setState(db.operator, signerId, id, 'rejected');
    for (const next of ['proposed', 'reviewing', 'signed', 'promoted']) {
      await expect(setState(db.operator, signerId, id, next)).rejects.toThrow(
        /illegal staging transition rejected/,
      );
    }
  });

  it.each([
    ['proposed', 'signed'],
    ['proposed', 'promoted'],
    ['proposed', 'rejected'],
  ])('refuses %s → %s', async (_from, to) => {
    const id = await newKpiProposal();
    await recordSignature(db.operator, signerId, id, 'approve');
    await expect(setState(db.operator, signerId, id, to)).rejects.toMatchObject({ code: 'CS409' });
    expect(await state(id)).toBe('proposed');
  });

  it('refuses reviewing → promoted, signed → reviewing and anything after promoted', async () => {
    const id = await newKpiProposal();
    await setState(db.operator, signerId, id, 'reviewing');
    await recordSignature(db.operator, signerId, id, 'approve');
    await expect(setState(db.operator, signerId, id, 'promoted')).rejects.toThrow(
      /illegal staging transition reviewing -> promoted/,
    );
    await setState(db.operator, signerId, id, 'signed');
    await expect(setState(db.operator, signerId, id, 'reviewing')).rejects.toThrow(/illegal/);
    await setState(db.operator, signerId, id, 'promoted');
    for (const next of ['proposed', 'reviewing', 'signed', 'rejected']) {
      await expect(setState(db.operator, signerId, id, next)).rejects.toThrow(
        /illegal staging transition promoted/,
      );
    }
  });

  it('refuses signed without an approving signature row for that record', async () => {
    const id = await newKpiProposal();
    const other = await newKpiProposal();
    await recordSignature(db.operator, signerId, other, 'approve');
    await setState(db.operator, signerId, id, 'reviewing');
    await expect(setState(db.operator, signerId, id, 'signed')).rejects.toThrow(
      /without an approving signature_event/,
    );
    await recordSignature(db.operator, signerId, id, 'reject');
    await expect(setState(db.operator, signerId, id, 'signed')).rejects.toThrow(
      /without an approving signature_event/,
    );
  });

  it('freezes proposed_state once signed, and sends a revised proposal under review back to proposed', async () => {
    const id = await newKpiProposal();
    await setState(db.operator, signerId, id, 'reviewing');
    await actingAs(db.operator, agentId, () =>
      db.operator.query(
        `update cro.staging_record set proposed_state = proposed_state || '{"value":"13%"}' where id = $1`,
        [id],
      ),
    );
    expect(await state(id)).toBe('proposed');
    await setState(db.operator, signerId, id, 'reviewing');
    await recordSignature(db.operator, signerId, id, 'approve');
    await setState(db.operator, signerId, id, 'signed');
    await expect(
      actingAs(db.operator, agentId, () =>
        db.operator.query(`update cro.staging_record set proposed_state = '{"value":"99%"}' where id = $1`, [
          id,
        ]),
      ),
    ).rejects.toThrow(/can no longer change/);
  });

  it("refuses changes to a proposal's identity (study, entity kind, author)", async () => {
    const id = await newKpiProposal();
    for (const assignment of [
      `study_id = '${otherStudyId}'`,
      `entity_kind = 'study_risk'`,
      `agent_id = 'agent:forged'`,
    ]) {
      await expect(
        db.operator.query(`update cro.staging_record set ${assignment} where id = $1`, [id]),
      ).rejects.toThrow(/only state and proposed_state may change/);
    }
  });

  it('refuses to delete or truncate staging history [CFR-11.10c]', async () => {
    const id = await newKpiProposal();
    await expect(
      db.operator.query('delete from cro.staging_record where id = $1', [id]),
    ).rejects.toMatchObject({ code: 'CS403' });
    await expect(db.operator.query('truncate cro.staging_record cascade')).rejects.toMatchObject({
      code: 'CS403',
    });
  });

  it.each([
    [
      'a field that is not a column',
      { label: 'x', value: 'y', position: 1, colour: 'red' },
      null,
      /not proposable: colour/,
    ],
    [
      'a system column',
      { label: 'x', value: 'y', position: 1, created_by: '00000000-0000-0000-0000-000000000000' },
      null,
      /not proposable: created_by/,
    ],
    ['a create without a required field', { label: 'x' }, null, /a new study_kpi needs the fields: position/],
    ['a value of the wrong type', { label: 'x', position: 'first' }, null, /does not fit the live table/],
    ['a non-object', [1, 2, 3], null, /must be a JSON object/],
  ])('refuses a proposal with %s', async (_name, proposedState, entityId, message) => {
    await expect(
      propose(db.operator, agentId, {
        entityKind: 'study_kpi',
        entityId,
        studyId,
        proposedState: proposedState as Record<string, unknown>,
      }),
    ).rejects.toThrow(message);
  });

  it('refuses a proposal about a live row of another study, or one that does not exist', async () => {
    await expect(
      propose(db.operator, agentId, {
        entityKind: 'study_kpi',
        entityId: kpiId,
        studyId: otherStudyId,
        proposedState: { value: '1%' },
      }),
    ).rejects.toThrow(/belongs to another study/);
    await expect(
      propose(db.operator, agentId, {
        entityKind: 'study_kpi',
        entityId: '00000000-0000-4000-8000-000000000000',
        studyId,
        proposedState: { value: '1%' },
      }),
    ).rejects.toThrow(/does not exist/);
    await expect(
      propose(db.operator, agentId, {
        entityKind: 'study',
        entityId: otherStudyId,
        studyId,
        proposedState: { health: 'red' },
      }),
    ).rejects.toThrow(/must name its own study/);
  });

  it('refuses a proposal that starts in any state but proposed', async () => {
    await expect(
      actingAs(db.operator, agentId, () =>
        db.operator.query(
          `insert into cro.staging_record (entity_kind, study_id, agent_id, proposed_state, created_by, state)
           values ('study_kpi', $1, 'agent:test', '{"position":1}', $2, 'signed')`,
          [studyId, agentId],
        ),
      ),
    ).rejects.toThrow(/starts in proposed/);
  });

  it('appends an audit entry for the proposal and each transition, in the same transaction [CFR-11.10e]', async () => {
    const before = Number((await db.operator.query('select max(seq) as m from audit.audit_log')).rows[0].m);
    const id = await newKpiProposal();
    await setState(db.operator, signerId, id, 'reviewing');
    const { rows } = await db.operator.query(
      `select event_type, actor, payload from audit.audit_log where seq > $1 and payload->>'staging_id' = $2 order by seq`,
      [before, id],
    );
    expect(rows.map((row) => row.event_type)).toEqual(['staging.proposed', 'staging.reviewing']);
    expect(rows[0].actor).toBe(agentId);
    expect(rows[1].actor).toBe(signerId);
    expect(rows[1].payload).toMatchObject({ from_state: 'proposed', to_state: 'reviewing' });

    // A transition that fails leaves no audit entry behind.
    const seqBefore = (await db.operator.query('select max(seq) as m from audit.audit_log')).rows[0].m;
    await expect(setState(db.operator, signerId, id, 'signed')).rejects.toThrow();
    expect((await db.operator.query('select max(seq) as m from audit.audit_log')).rows[0].m).toBe(seqBefore);
  });

  it('refuses direct writes to live tables outside promotion, even by the owner [CFR-11.10g]', async () => {
    await expect(
      db.operator.query(`update cro.study_kpi set value = '0%' where id = $1`, [kpiId]),
    ).rejects.toThrow(/change only by promoting a signed proposal/);
    await expect(db.operator.query('delete from cro.study_kpi where id = $1', [kpiId])).rejects.toMatchObject(
      { code: 'CS403' },
    );
    await expect(db.operator.query('truncate cro.study_kpi')).rejects.toMatchObject({ code: 'CS403' });
  });
});

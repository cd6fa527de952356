import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demonstrateAgentRefusals, proposeAsAgent } from '../../src/main/backend/demo/demoAgent';
import { demoPeople, demoPerson, demoSignInList } from '../../src/main/backend/demo/demoPeople';
import { createRng } from '../../src/main/backend/demo/prng';
import { type DemoSummary, isDemoSeeded, seedDemo } from '../../src/main/backend/demo/seedDemo';
import { entityKinds, stagingStates } from '../../src/shared/domain';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('demo seed', () => {
  let db: TestDatabase;
  let summary: DemoSummary;
  const lines: string[] = [];
  const clients = new Map<string, pg.Client>();

  /** A demo person's own connection (their login role), cached for the file. */
  const as = async (key: string): Promise<pg.Client> => {
    const cached = clients.get(key);
    if (cached) return cached;
    const person = demoPerson(key);
    const client = await db.connectAs(person.email, person.password);
    clients.set(key, client);
    return client;
  };
  const count = async (client: pg.ClientBase, sql: string, params: unknown[] = []) =>
    Number((await client.query<{ n: string }>(`select count(*) as n from (${sql}) as q`, params)).rows[0]?.n);

  beforeAll(async () => {
    db = await createTestDatabase();
    expect(await isDemoSeeded(db.operator)).toBe(false);
    summary = await seedDemo(db.operator, {
      now: new Date('2025-06-30T12:00:00Z'),
      log: (line) => lines.push(line),
    });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('seeds within the time budget and reports what it created', () => {
    expect(summary.created).toBe(true);
    expect(summary.durationMs).toBeLessThan(15_000);
    expect(lines.some((line) => line.includes('proposals'))).toBe(true);
    const { counts } = summary;
    expect(counts.people).toBe(demoPeople.length);
    expect(counts.studies).toBe(2);
    expect(counts.sites).toBe(3);
    expect(counts.modelVersions).toBe(3);
    expect(counts.sponsorRequests).toBeGreaterThanOrEqual(8);
    expect(counts.staging.total).toBeGreaterThanOrEqual(190);
    expect(counts.staging.total).toBeLessThanOrEqual(210);
    for (const state of stagingStates) expect(counts.staging.byState[state]).toBeGreaterThan(0);
    expect(counts.staging.byState).toEqual({
      proposed: 110,
      reviewing: 35,
      signed: 25,
      promoted: 20,
      rejected: 10,
    });
    for (const kind of entityKinds) expect(counts.staging.byKind[kind]).toBeGreaterThan(0);
    expect(counts.signatureEvents).toBe(55);
    expect(counts.diary.records).toBeGreaterThanOrEqual(18);
    expect(counts.diary.records).toBeLessThanOrEqual(36);
    expect(counts.diary.annotations).toBeGreaterThan(0);
    console.log(`demo seed took ${summary.durationMs} ms`, JSON.stringify(counts));
  });

  it('is marked as seeded, and a second call is a no-op', async () => {
    expect(await isDemoSeeded(db.operator)).toBe(true);
    const before = await count(db.operator, 'select 1 from audit.audit_log');
    const again = await seedDemo(db.operator);
    expect(again.created).toBe(false);
    expect(again.counts.staging).toEqual(summary.counts.staging);
    expect(await count(db.operator, 'select 1 from audit.audit_log')).toBe(before);
    expect(await count(db.operator, 'select 1 from countersign_meta.demo_seed')).toBe(1);
  });

  it('is the same every time: a second database seeded at the same moment gets the same demo', async () => {
    const other = await createTestDatabase();
    try {
      await seedDemo(other.operator, { now: new Date('2025-06-30T12:00:00Z') });
      const snapshot = async (client: pg.ClientBase) =>
        (
          await client.query(
            // A promoted create's live id is made by the database at promotion: left out.
            `select id, entity_kind, state, proposed_state, created_at,
                    case when state = 'promoted' then null else entity_id end as entity_id
               from cro.staging_record order by id`,
          )
        ).rows;
      expect(await snapshot(other.operator)).toEqual(await snapshot(db.operator));
    } finally {
      await other.drop();
    }
  });

  it('leaves nothing behind when seeding fails midway, and seeds fully on the next start', async () => {
    const other = await createTestDatabase();
    try {
      const crash = (line: string) => {
        if (line.includes('people provisioned')) throw new Error('simulated crash mid-seed');
      };
      await expect(seedDemo(other.operator, { log: crash })).rejects.toThrow(/simulated crash/);
      expect(await isDemoSeeded(other.operator)).toBe(false);
      for (const table of ['cro.study', 'cro.user_profile', 'cs_private.login_role', 'cro.role_assignment']) {
        expect(await count(other.operator, `select 1 from ${table}`)).toBe(0);
      }
      expect(await count(other.operator, 'select 1 from audit.audit_log')).toBe(1);
      const retry = await seedDemo(other.operator);
      expect(retry.created).toBe(true);
      expect(retry.counts.staging.total).toBe(summary.counts.staging.total);
    } finally {
      await other.drop();
    }
  });

  it('has both creates and updates, study field updates, provenance with citations and sponsor requests', async () => {
    const { rows } = await db.operator.query<{
      entity_kind: string;
      creates: string;
      updates: string;
    }>(`select entity_kind, count(*) filter (where entity_id is null) as creates,
               count(*) filter (where entity_id is not null) as updates
          from cro.staging_record where state <> 'promoted' group by 1`);
    for (const row of rows) {
      if (row.entity_kind === 'study') expect(Number(row.creates)).toBe(0);
      else expect(Number(row.creates)).toBeGreaterThan(0);
      expect(Number(row.updates)).toBeGreaterThan(0);
    }
    expect(
      await count(
        db.operator,
        `select 1 from cro.staging_record s left join cro.provenance_event p on p.id = s.provenance_id
          where p.id is null or p.actor_kind <> 'agent' or p.action <> 'propose' or p.subject_id <> s.id::text
             or p.subject_kind <> 'staging_record' or p.model_version_id is distinct from s.model_version_id
             or jsonb_typeof(p.retrieved_context) <> 'array' or jsonb_array_length(p.retrieved_context) = 0
             or not (p.retrieved_context -> 0 ?& array['source_uri', 'chunk_index', 'quote', 'retrieved_at'])`,
      ),
    ).toBe(0);
    expect(
      await count(
        db.operator,
        `select 1 from cro.provenance_event p join cro.sponsor_request r on r.id::text = p.payload ->> 'sponsor_request_id'`,
      ),
    ).toBeGreaterThan(0);
    expect(
      await count(db.operator, 'select 1 from cro.model_registry_version where retired_at is not null'),
    ).toBe(1);
    // Deliberately awkward texts are present for the UI to render safely.
    expect(
      await count(
        db.operator,
        `select 1 from cro.staging_record where proposed_state::text like '%<script>%'`,
      ),
    ).toBeGreaterThan(0);
    expect(
      await count(db.operator, `select 1 from cro.staging_record where length(proposed_state::text) > 5000`),
    ).toBeGreaterThan(0);
    expect(
      await count(
        db.operator,
        `select 1 from cro.staging_record where proposed_state::text ~ '[\\u0590-\\u06FF]'`,
      ),
    ).toBeGreaterThan(0);
  });

  it('promoted every promoted record into its live row, with provenance and an approving signature', async () => {
    const { rows } = await db.operator.query<{ id: string; entity_kind: string; entity_id: string | null }>(
      "select id, entity_kind, entity_id from cro.staging_record where state = 'promoted'",
    );
    expect(rows.length).toBe(20);
    for (const row of rows) {
      expect(row.entity_id).not.toBeNull();
      const live = await db.operator.query<{ provenance_id: string | null }>(
        `select provenance_id from cro.${row.entity_kind} where id = $1`,
        [row.entity_id],
      );
      expect(live.rows.length).toBe(1);
      const promote = await db.operator.query<{ id: string; signature_id: string; actor_kind: string }>(
        `select id, signature_id, actor_kind from cro.provenance_event
          where action = 'promote' and payload ->> 'staging_id' = $1 and subject_id = $2`,
        [row.id, row.entity_id],
      );
      expect(promote.rows.length).toBe(1);
      expect(promote.rows[0]?.actor_kind).toBe('human');
      const livePromotions = await db.operator.query<{ id: string }>(
        "select id from cro.provenance_event where action = 'promote' and subject_id = $1",
        [row.entity_id],
      );
      expect(livePromotions.rows.map((p) => p.id)).toContain(live.rows[0]?.provenance_id);
      const signature = await db.operator.query<{
        intent: string;
        id: string;
        content_hash: string;
        ok: boolean;
      }>(
        `select g.id, g.intent, g.content_hash,
                g.content_hash = (select p.payload ->> 'signed_content_hash' from cro.provenance_event p
                                   where p.action = 'promote' and p.payload ->> 'staging_id' = s.id::text) as ok
           from cro.signature_event g join cro.staging_record s on s.id::text = g.subject_id
          where g.subject_kind = 'staging_record' and g.subject_id = $1`,
        [row.id],
      );
      expect(signature.rows.length).toBe(1);
      expect(signature.rows[0]?.intent).toBe('approve');
      expect(signature.rows[0]?.ok).toBe(true);
      expect(promote.rows[0]?.signature_id).toBe(signature.rows[0]?.id);
    }
    // Rejected records carry a rejecting signature, signed ones an approving one, nothing else does.
    expect(
      await count(
        db.operator,
        `select 1 from cro.staging_record s join cro.signature_event g on g.subject_id = s.id::text
          where (s.state = 'rejected' and g.intent = 'reject' and g.meaning_of_signature = 'I reject this change')
             or (s.state in ('signed', 'promoted') and g.intent = 'approve')`,
      ),
    ).toBe(55);
    // Signatures were made by the study's signer, under their printed name.
    expect(
      await count(
        db.operator,
        `select 1 from cro.signature_event g join cro.user_profile p on p.user_id = g.user_id
          join cro.role_assignment ra on ra.user_id = g.user_id and ra.role = 'signer' and ra.study_id = g.study_id
         where g.user_display_name = p.printed_name`,
      ),
    ).toBe(55);
  });

  it('records every transition in the hash-chained audit log', async () => {
    const expected: Record<string, string[]> = {
      proposed: ['staging.proposed'],
      reviewing: ['staging.proposed', 'staging.reviewing'],
      signed: ['staging.proposed', 'staging.reviewing', 'staging.signed'],
      promoted: ['staging.proposed', 'staging.reviewing', 'staging.signed', 'staging.promoted'],
      rejected: ['staging.proposed', 'staging.reviewing', 'staging.rejected'],
    };
    const { rows } = await db.operator.query<{ state: string; events: string[] }>(
      `select s.state, array_agg(a.event_type order by a.seq) as events
         from cro.staging_record s join audit.audit_log a on a.payload ->> 'staging_id' = s.id::text
        group by s.id, s.state`,
    );
    expect(rows.length).toBe(summary.counts.staging.total);
    for (const row of rows) expect(row.events).toEqual(expected[row.state]);
    expect(
      await count(db.operator, "select 1 from audit.audit_log where event_type = 'signature.recorded'"),
    ).toBe(55);
    // The chain links and every entry hash verifies.
    expect(
      await count(
        db.operator,
        `select 1 from (select *, lag(entry_hash) over (order by seq) as prior from audit.audit_log) a
          where prev_hash <> coalesce(prior, repeat('0', 64))
             or entry_hash <> audit.entry_hash(seq, occurred_at, actor, event_type, payload_hash, prev_hash)
             or payload_hash <> cs_private.json_sha256(payload)`,
      ),
    ).toBe(0);
  });

  it('gives each patient 3 to 6 diary records of 1 to 3 events, and annotations some of which are resolved', async () => {
    const { rows } = await db.operator.query<{ records: string; max_version: number; min_version: number }>(
      'select count(*) as records, max(version) as max_version, min(version) as min_version from diary.record_state group by patient_id',
    );
    expect(rows.length).toBe(6);
    for (const row of rows) {
      expect(Number(row.records)).toBeGreaterThanOrEqual(3);
      expect(Number(row.records)).toBeLessThanOrEqual(6);
      expect(row.min_version).toBeGreaterThanOrEqual(1);
      expect(row.max_version).toBeLessThanOrEqual(3);
    }
    expect(await count(db.operator, "select 1 from diary.record_audit where role <> 'USER'")).toBe(0);
    expect(
      await count(db.operator, "select 1 from diary.investigator_annotations where annotation_kind = 'note'"),
    ).toBeGreaterThan(0);
    expect(
      await count(
        db.operator,
        "select 1 from diary.investigator_annotations where annotation_kind = 'query'",
      ),
    ).toBeGreaterThan(0);
    expect(
      await count(db.operator, 'select 1 from diary.investigator_annotations where resolved'),
    ).toBeGreaterThan(0);
    // Annotations were written by the investigator of the record's site.
    expect(
      await count(
        db.operator,
        `select 1 from diary.investigator_annotations a
          where not exists (select 1 from diary.investigator_site_assignments i
                             where i.investigator_id = a.investigator_id and i.site_id = a.site_id)`,
      ),
    ).toBe(0);
  });

  it('lets every demo person sign in as themselves', async () => {
    expect(demoSignInList().length).toBe(demoPeople.length);
    for (const entry of demoSignInList()) {
      expect(entry.password.length).toBeGreaterThanOrEqual(12);
    }
    expect(new Set(demoPeople.map((person) => person.password)).size).toBe(demoPeople.length);
    for (const person of demoPeople) {
      const client = await as(person.key);
      const { rows } = await client.query<{ uid: string; email: string }>(
        'select auth.uid()::text as uid, (select printed_name from cro.user_profile where user_id = auth.uid()) as email',
      );
      expect(rows[0]?.uid).toBeTruthy();
      expect(rows[0]?.email).toBe(person.printedName);
    }
    expect(
      demoSignInList()
        .filter((entry) => entry.hasTotp)
        .map((entry) => entry.email),
    ).toEqual(['signer.a@countersign.demo', 'signer.b@countersign.demo']);
  });

  it('shows each role only what it may see (spot checks)', async () => {
    const studyCode = async (key: string) =>
      (await (await as(key)).query<{ code: string }>('select code from cro.study order by code')).rows.map(
        (row) => row.code,
      );
    expect(await studyCode('admin')).toEqual(['AUR-HHT-201', 'NWO-ONC-301']);
    expect(await studyCode('signerA')).toEqual(['AUR-HHT-201']);
    expect(await studyCode('signerB')).toEqual(['NWO-ONC-301']);
    expect(await studyCode('sponsorNorthwind')).toEqual(['NWO-ONC-301']);
    expect(await studyCode('patient1')).toEqual([]);

    // A signer sees only their study's queue; the sponsor sees no queue but only their own requests.
    const signerA = await as('signerA');
    const visible = await count(signerA, 'select 1 from cro.staging_record');
    const hhtTotal = await count(
      db.operator,
      "select 1 from cro.staging_record s join cro.study t on t.id = s.study_id where t.code = 'AUR-HHT-201'",
    );
    expect(visible).toBe(hhtTotal);
    const sponsor = await as('sponsorAurelia');
    expect(await count(sponsor, 'select 1 from cro.staging_record')).toBe(0);
    const sponsorRequests = await sponsor.query<{ sponsor_id: string }>(
      'select sponsor_id from cro.sponsor_request',
    );
    expect(sponsorRequests.rows.length).toBeGreaterThan(0);
    expect(new Set(sponsorRequests.rows.map((row) => row.sponsor_id))).toEqual(
      new Set(['aurelia-therapeutics']),
    );

    // The audit trail: inspector and admin read it, a monitor does not.
    expect(await count(await as('inspector'), 'select 1 from audit.audit_log')).toBeGreaterThan(500);
    expect(await count(await as('monitor'), 'select 1 from audit.audit_log')).toBe(0);
    // The agent reads its studies' staging but no signatures.
    const agent = await as('agent');
    expect(await count(agent, 'select 1 from cro.staging_record')).toBe(summary.counts.staging.total);
    expect(await count(agent, 'select 1 from cro.signature_event')).toBe(0);

    // Diary: a patient sees only their own records; an investigator only their site; an analyst
    // reads records at their sites but not the identified history.
    const patient = await as('patient1');
    const own = await patient.query<{ patient_id: string }>(
      'select distinct patient_id from diary.record_state',
    );
    expect(own.rows.length).toBe(1);
    const investigator = await as('investigator102');
    const sites = await investigator.query<{ site_id: string }>(
      'select distinct site_id from diary.record_state',
    );
    expect(sites.rows.map((row) => row.site_id)).toEqual(['HHT-102']);
    const analyst = await as('analyst');
    expect(await count(analyst, 'select 1 from diary.record_state')).toBe(summary.counts.diary.records);
    expect(await count(analyst, 'select 1 from diary.record_audit')).toBe(0);
  });

  it('the demo agent proposes new records as itself and is refused everything else', async () => {
    const agent = await as('agent');
    const rng = createRng(7);
    const before = summary.counts.staging.total;
    const made = [];
    for (const entityKind of entityKinds) made.push(await proposeAsAgent(agent, rng, { entityKind }));
    expect(await count(db.operator, 'select 1 from cro.staging_record')).toBe(before + entityKinds.length);
    const agentId = (
      await db.operator.query<{ id: string }>(
        'select user_id as id from cs_private.login_role where role_name = $1',
        [demoPerson('agent').email],
      )
    ).rows[0]?.id;
    for (const proposal of made) {
      const { rows } = await db.operator.query<{
        state: string;
        created_by: string;
        actor_kind: string;
        subject_id: string;
      }>(
        `select s.state, s.created_by, p.actor_kind, p.subject_id
           from cro.staging_record s join cro.provenance_event p on p.id = s.provenance_id where s.id = $1`,
        [proposal.stagingId],
      );
      expect(rows[0]).toEqual({
        state: 'proposed',
        created_by: agentId,
        actor_kind: 'agent',
        subject_id: proposal.stagingId,
      });
    }
    const audit = await count(
      db.operator,
      "select 1 from audit.audit_log where event_type = 'staging.proposed' and actor = $1",
      [agentId],
    );
    expect(audit).toBe(before + entityKinds.length);

    const attempts = await demonstrateAgentRefusals(agent);
    expect(attempts.length).toBeGreaterThanOrEqual(8);
    for (const attempt of attempts) {
      expect(attempt, attempt.attempt).toMatchObject({ refused: true });
      expect(attempt.sqlstate).toMatch(/^(42501|CS\d{3})$/);
    }
    // Nothing changed.
    expect(await count(db.operator, 'select 1 from cro.staging_record')).toBe(before + entityKinds.length);
  });
});

// Recovery codes (migration 0055), attacked as the signer's own PostgreSQL login: shown once, kept
// only as bcrypt hashes nobody can read, single use, voided by regeneration, wrong ones counted
// toward the signing lock, and a used one raises an alert and forces a new authenticator.
import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../src/main/signing/contentHash';
import { SigningCeremonies } from '../../src/main/signing/signingCeremony';
import { buildSigningWorld, password, type Signer, type SigningWorld } from './support/signingWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const approve = 'I approve this change';

describe('recovery codes [CFR-11.300b, CFR-11.300d]', () => {
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

  async function asSigner<T>(signer: Signer, work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = await db.connectAs(signer.email, password);
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  const generate = (signer: Signer) =>
    asSigner(signer, async (client) => {
      const { rows } = await client.query('select public.generate_recovery_codes() as r');
      return rows[0].r as { codes: string[]; generated_at: string };
    });

  /** One re-authentication with a recovery code, as the workstation makes it; the fresh login is returned open. */
  async function reauthWithRecoveryCode(signer: Signer, code: string, ceremonyId = randomUUID()) {
    const begun = await asSigner(
      signer,
      async (client) => (await client.query('select public.begin_reauth($1) as r', [ceremonyId])).rows[0].r,
    );
    if (!begun.ok) throw new Error(`begin_reauth refused: ${JSON.stringify(begun)}`);
    const fresh = await db.connectAs(signer.email, password);
    const { rows } = await fresh.query('call public.complete_reauth_with_recovery_code($1, $2, null)', [
      begun.attempt_id,
      code,
    ]);
    return { result: rows[0].result, fresh, ceremonyId };
  }

  async function tryRecoveryCode(signer: Signer, code: string) {
    const { result, fresh } = await reauthWithRecoveryCode(signer, code);
    await fresh.end();
    return result;
  }

  it('are generated only with a confirmed authenticator, shown once, and kept only as bcrypt hashes [RECOVERY-HASHED]', async () => {
    const withoutTotp = await world.newSigner({ totp: false });
    await expect(generate(withoutTotp)).rejects.toMatchObject({ code: 'CS409' });

    const signer = await world.newSigner();
    const { codes } = await generate(signer);
    expect(codes).toHaveLength(10);
    for (const code of codes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    expect(new Set(codes).size).toBe(10);

    const { rows } = await db.operator.query<{ code_hash: string }>(
      'select code_hash from cs_private.recovery_code where user_id = $1',
      [signer.id],
    );
    expect(rows).toHaveLength(10);
    for (const row of rows) expect(row.code_hash).toMatch(/^\$2[abxy]?\$08\$/);

    // The signer's own login cannot read them, nor can an administrator.
    await asSigner(signer, async (client) => {
      await expect(client.query('select * from cs_private.recovery_code')).rejects.toThrow(
        /permission denied/,
      );
      expect((await client.query('select public.my_recovery_status() as s')).rows[0].s).toMatchObject({
        remaining: 10,
        authenticator_replacement_due: false,
      });
    });
    const admin = await db.connectAs(db.email('admin'), password);
    await expect(admin.query('select code_hash from cs_private.recovery_code')).rejects.toThrow(
      /permission denied/,
    );
    await admin.end();

    // No code, nor its separator-free form, anywhere in the database's text: tables, audit, alerts.
    const haystack = await db.operator.query<{ dump: string }>(
      `select string_agg(t::text, ' ') as dump from (
         select to_jsonb(a)::text as t from audit.audit_log a
         union all select to_jsonb(s)::text from audit.security_alert s
         union all select to_jsonb(r)::text from cs_private.reauth_attempt r
         union all select to_jsonb(c)::text from cs_private.recovery_code c) everything`,
    );
    for (const code of codes) {
      expect(haystack.rows[0]?.dump).not.toContain(code);
      expect(haystack.rows[0]?.dump).not.toContain(code.replace('-', ''));
    }
    expect(
      await world.count(
        `select 1 from audit.audit_log where event_type = 'recovery_codes.generated' and payload ->> 'user_id' = $1`,
        [signer.id],
      ),
    ).toBe(1);
  });

  it('replace the TOTP code in one re-authentication, are used up by it, raise an alert and force a new authenticator [RECOVERY-SINGLE-USE]', async () => {
    const signer = await world.newSigner();
    const { codes } = await generate(signer);
    const [ids] = [await world.reviewing(world.studyA, 1)];
    const subjects = await signer.backend.subjects(ids);

    // Typed in lower case without the hyphen: still the code.
    const code = (codes[0] as string).toLowerCase().replace('-', '');
    const { result, fresh, ceremonyId } = await reauthWithRecoveryCode(signer, code);
    expect(result).toMatchObject({ ok: true, enrol_new_authenticator: true, recovery_codes_left: 9 });
    // The signature this re-authentication was for is made.
    const signed = await fresh.query('select public.sign_batch($1, $2, $3, $4, null, $5::jsonb) as r', [
      ceremonyId,
      randomBytes(18).toString('base64url'),
      'approve',
      approve,
      JSON.stringify(
        subjects.map((s) => ({ staging_record_id: s.stagingRecordId, content_hash: contentHash(s) })),
      ),
    ]);
    expect(signed.rows[0].r.records).toHaveLength(1);
    await fresh.end();

    expect(
      await world.count(
        `select 1 from audit.security_alert where kind = 'recovery_code_used' and user_id = $1`,
        [signer.id],
      ),
    ).toBe(1);
    expect(
      await world.count(
        `select 1 from audit.audit_log where event_type in ('recovery_code.used', 'totp.retired') and payload ->> 'user_id' = $1`,
        [signer.id],
      ),
    ).toBe(2);

    // The next signature cannot even begin until a new authenticator is confirmed.
    await asSigner(signer, async (client) => {
      await expect(client.query('select public.begin_reauth($1) as r', [randomUUID()])).rejects.toMatchObject(
        {
          code: 'CS403',
          message: expect.stringMatching(/enrol a new authenticator/),
        },
      );
      expect((await client.query('select public.my_signing_status() as s')).rows[0].s).toMatchObject({
        totp: 'none',
      });
      expect((await client.query('select public.my_recovery_status() as s')).rows[0].s).toMatchObject({
        remaining: 9,
        authenticator_replacement_due: true,
      });
    });
    await expect(signer.backend.reauthenticate(randomUUID(), password, signer.code())).rejects.toThrow(
      /enrol a new authenticator/,
    );

    // A new authenticator, confirmed: signing with TOTP works again, and the used code stays used.
    const { generateSecret, generateSync } = await import('otplib');
    const secret = generateSecret();
    await asSigner(signer, async (client) => {
      await client.query('select public.begin_totp_enrolment($1)', [secret]);
      const confirmed = await client.query('select public.confirm_totp_enrolment($1) as r', [
        generateSync({ secret }),
      ]);
      expect(confirmed.rows[0].r).toEqual({ ok: true });
    });
    expect(await tryRecoveryCode(signer, codes[0] as string)).toMatchObject({
      ok: false,
      reason: 'recovery_code_used',
    });
    expect(await tryRecoveryCode(signer, codes[1] as string)).toMatchObject({ ok: true });
  });

  it('regenerating voids every earlier code [RECOVERY-REGENERATE]', async () => {
    const signer = await world.newSigner();
    const first = await generate(signer);
    const second = await generate(signer);
    expect(second.codes).not.toEqual(first.codes);
    expect(await tryRecoveryCode(signer, first.codes[0] as string)).toMatchObject({
      ok: false,
      reason: 'recovery_code_wrong',
    });
    expect(
      await world.count(`select 1 from cs_private.recovery_code where user_id = $1 and voided_at is null`, [
        signer.id,
      ]),
    ).toBe(10);
    expect(await tryRecoveryCode(signer, second.codes[0] as string)).toMatchObject({ ok: true });
  });

  it('wrong recovery codes count toward the signing lock, and the lock then refuses re-authentication [RECOVERY-LOCKOUT]', async () => {
    const signer = await world.newSigner();
    const { codes } = await generate(signer);
    for (let attempt = 1; attempt <= 4; attempt++) {
      expect(await tryRecoveryCode(signer, 'WRONG-CODE0')).toMatchObject({
        ok: false,
        reason: 'recovery_code_wrong',
        attempts_left: 5 - attempt,
      });
    }
    expect(await tryRecoveryCode(signer, 'WRONG-CODE0')).toMatchObject({ ok: false, locked: true });
    expect(
      await world.count(`select 1 from audit.security_alert where kind = 'signing_locked' and user_id = $1`, [
        signer.id,
      ]),
    ).toBe(1);
    await asSigner(signer, async (client) => {
      expect(
        (await client.query('select public.begin_reauth($1) as r', [randomUUID()])).rows[0].r,
      ).toMatchObject({
        ok: false,
        reason: 'locked',
      });
    });
    expect(
      await world.count(`select 1 from cs_private.recovery_code where user_id = $1 and used_at is not null`, [
        signer.id,
      ]),
    ).toBe(0);
    expect(codes).toHaveLength(10);
  });

  it('gives no answer before the attempt is committed [RECOVERY-LOCKOUT]', async () => {
    const signer = await world.newSigner();
    const { codes } = await generate(signer);
    const begun = await asSigner(
      signer,
      async (client) => (await client.query('select public.begin_reauth($1) as r', [randomUUID()])).rows[0].r,
    );
    const fresh = await db.connectAs(signer.email, password);
    await fresh.query('begin');
    await fresh.query('select cs_private.submit_reauth_recovery_code($1, $2)', [begun.attempt_id, codes[0]]);
    await expect(
      fresh.query('select cs_private.judge_reauth_recovery_code($1)', [begun.attempt_id]),
    ).rejects.toThrow(/not committed yet/);
    await fresh.query('rollback');
    await expect(
      fresh.query('call public.complete_reauth_with_recovery_code($1, $2, null)', [
        begun.attempt_id,
        codes[0],
      ]),
    ).resolves.toBeDefined();
    await fresh.end();
  });

  it('counts each submitted code before it is judged: five never answered lock signing [RECOVERY-LOCKOUT]', async () => {
    const signer = await world.newSigner();
    const { codes } = await generate(signer);
    for (let attempt = 0; attempt < 5; attempt++) {
      const begun = await asSigner(
        signer,
        async (client) =>
          (await client.query('select public.begin_reauth($1) as r', [randomUUID()])).rows[0].r,
      );
      const fresh = await db.connectAs(signer.email, password);
      // Step 1 alone, committed; the answer (step 2) is never asked for.
      await fresh.query('select cs_private.submit_reauth_recovery_code($1, $2)', [
        begun.attempt_id,
        codes[attempt],
      ]);
      await fresh.end();
    }
    expect(
      (await db.operator.query('select cs_private.signing_locked($1) as locked', [signer.id])).rows[0].locked,
    ).toBe(true);
    expect(
      await world.count(`select 1 from audit.security_alert where kind = 'signing_locked' and user_id = $1`, [
        signer.id,
      ]),
    ).toBe(1);
  });

  it('the workstation signs with a recovery code, logs no code, and then asks for a new authenticator [RECOVERY-SINGLE-USE]', async () => {
    const signer = await world.newSigner();
    const { codes } = await generate(signer);
    const logged: string[] = [];
    const ceremonies = new SigningCeremonies(signer.backend, { log: (line) => logged.push(line) });
    const ids = await world.reviewing(world.studyA, 2);
    const request = async (recoveryCode: string) => {
      const manifest = await ceremonies.buildManifest(ids);
      return ceremonies.sign({
        ceremonyId: manifest.ceremonyId,
        intent: 'approve',
        meaning: approve,
        comment: null,
        entries: manifest.entries.map((e) => ({
          stagingRecordId: e.stagingRecordId,
          contentHash: e.contentHash,
        })),
        password,
        totpCode: '',
        recoveryCode,
      });
    };
    // A typo costs no attempt: refused before the server sees it.
    expect(await request('ABC')).toMatchObject({
      ok: false,
      field: 'code',
      error: expect.stringMatching(/10 letters/),
    });
    expect(await world.count(`select 1 from cs_private.reauth_attempt where user_id = $1`, [signer.id])).toBe(
      0,
    );

    const outcome = await request(codes[3] as string);
    if (!outcome.ok) throw new Error(outcome.error);
    expect(outcome.enrolNewAuthenticator).toBe(true);
    expect(outcome.result.records.map((r) => r.state)).toEqual(['signed', 'signed']);
    expect(logged.join('\n')).toMatch(/a new authenticator is due/);
    for (const code of codes) expect(logged.join('\n')).not.toContain(code.replace('-', ''));
    expect(await signer.backend.status()).toMatchObject({ totp: 'none' });
    expect(await signer.backend.recoveryStatus?.()).toMatchObject({ remaining: 9, replacementDue: true });
  });
});

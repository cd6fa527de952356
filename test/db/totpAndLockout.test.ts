// TOTP is verified by the database (RFC 6238), enrolment is confirmed by a first code, and repeated
// failed re-authentications lock an account for signing until an administrator unlocks it (21 CFR
// 11.300(d)); every such event is in the audit trail.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../src/main/signing/contentHash';
import { beginTotpEnrolment, totpEnrolmentOffer } from '../../src/main/signing/totpEnrolment';
import { newReauthenticatingAdmin } from './support/reauthenticatingAdmin';
import { buildSigningWorld, password, type SigningWorld, totpCode } from './support/signingWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('TOTP in the database [SEC-TOTP]', () => {
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

  it('computes the RFC 6238 SHA-1 test vectors (6 digits)', async () => {
    const secret = Buffer.from('12345678901234567890');
    const vectors: [number, string][] = [
      [59, '287082'],
      [1111111109, '081804'],
      [1111111111, '050471'],
      [1234567890, '005924'],
      [2000000000, '279037'],
      [20000000000, '353130'],
    ];
    for (const [time, code] of vectors) {
      const { rows } = await db.operator.query('select cs_private.totp_code($1, $2) as code', [
        secret,
        Math.floor(time / 30),
      ]);
      expect(rows[0]?.code, `T = ${time}`).toBe(code);
    }
    const { rows } = await db.operator.query(
      `select convert_from(cs_private.base32_decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'), 'UTF8') as s`,
    );
    expect(rows[0]?.s).toBe('12345678901234567890');
  });

  it('agrees with otplib, allows one step of drift and no more', async () => {
    for (const [steps, accepted] of [
      [-1, true],
      [1, true],
      [-2, false],
      [2, false],
    ] as const) {
      const signer = await world.newSigner();
      const outcome = await signer.backend.reauthenticate(randomUUID(), password, signer.code(steps));
      expect(outcome.ok, `drift ${steps}`).toBe(accepted);
    }
  });

  it('never lets a person read a TOTP secret, their own included', async () => {
    const signer = await world.newSigner();
    const client = await db.connectAs(signer.email, password);
    await expect(client.query('select secret_base32 from cs_private.totp_factor')).rejects.toThrow(
      /permission denied/,
    );
  });

  it('enrols an authenticator: generated secret, QR code, confirmed by the first correct code', async () => {
    const signer = await world.newSigner({ totp: false });
    expect(await signer.backend.status()).toMatchObject({ isSigner: true, totp: 'none', locked: false });
    const noFactor = await signer.backend.reauthenticate(randomUUID(), password, '123456');
    expect(noFactor).toMatchObject({ ok: false, reason: 'totp_no_factor' });

    const offer = await beginTotpEnrolment(signer.backend, signer.email);
    expect(offer.secretBase32).toMatch(/^[A-Z2-7]{32,}$/);
    expect(offer.otpauthUri).toMatch(/^otpauth:\/\/totp\/Countersign:.*secret=/);
    expect(offer.qr.modules).toHaveLength(offer.qr.size * offer.qr.size);
    expect(await signer.backend.status()).toMatchObject({ totp: 'unconfirmed' });
    // Unconfirmed: not good enough for signing yet.
    const unconfirmed = await signer.backend.reauthenticate(
      randomUUID(),
      password,
      totpCode(offer.secretBase32),
    );
    expect(unconfirmed).toMatchObject({ ok: false, reason: 'totp_not_confirmed' });

    const wrong = String((Number(totpCode(offer.secretBase32, 1)) + 7) % 1_000_000).padStart(6, '0');
    expect(await signer.backend.confirmTotpEnrolment(wrong)).toEqual({ ok: false, reason: 'wrong' });
    expect(await signer.backend.confirmTotpEnrolment(totpCode(offer.secretBase32, 1))).toEqual({ ok: true });
    expect(await signer.backend.status()).toMatchObject({ totp: 'confirmed' });
    await expect(signer.backend.beginTotpEnrolment(totpEnrolmentOffer('x').secretBase32)).rejects.toThrow(
      /already have a confirmed authenticator/,
    );
    expect(
      await world.count(
        `select 1 from audit.audit_log where event_type = 'totp.enrolled' and payload ->> 'user_id' = $1`,
        [signer.id],
      ),
    ).toBe(1);
  });

  it('refuses a secret shorter than 160 bits', async () => {
    const signer = await world.newSigner({ totp: false });
    await expect(signer.backend.beginTotpEnrolment('JBSWY3DPEHPK3PXP')).rejects.toThrow(/at least 160 bits/);
  });

  it('lets only an administrator reset an authenticator, and audits it', async () => {
    const signer = await world.newSigner();
    const other = await world.newSigner();
    const asOther = await db.connectAs(other.email, password);
    await expect(
      asOther.query('select public.reset_totp($1, $2)', [signer.id, 'lost phone']),
    ).rejects.toThrow(/only an administrator/);
    const admin = await db.connectAs(db.email('admin'), password);
    await admin.query('select public.reset_totp($1, $2)', [signer.id, 'lost phone']);
    expect(await signer.backend.status()).toMatchObject({ totp: 'none' });
    expect(
      await world.count(
        `select 1 from audit.audit_log where event_type = 'totp.reset' and payload ->> 'user_id' = $1`,
        [signer.id],
      ),
    ).toBe(1);
  });
});

describe('lockout after repeated failed re-authentications [CFR-11.300d]', () => {
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

  const wrongCode = (code: string) => String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');

  it('locks signing at the fifth failure in a row, raises an alert, and refuses even correct credentials', async () => {
    const signer = await world.newSigner();
    const outcomes = [];
    const codesTried: string[] = [];
    for (let i = 0; i < 3; i++) {
      codesTried.push(wrongCode(signer.code()));
      outcomes.push(await signer.backend.reauthenticate(randomUUID(), password, codesTried[i] as string));
    }
    for (let i = 0; i < 2; i++) {
      outcomes.push(await signer.backend.reauthenticate(randomUUID(), 'wrong password', signer.code()));
    }
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.attemptsLeft))).toEqual([4, 3, 2, 1, 0]);
    expect(outcomes.at(-1)).toMatchObject({ ok: false, locked: true });

    const correct = await signer.backend.reauthenticate(randomUUID(), password, signer.code());
    expect(correct).toMatchObject({ ok: false, reason: 'locked', locked: true });
    expect(await signer.backend.status()).toMatchObject({ locked: true });
    expect(
      await world.count(`select 1 from audit.security_alert where kind = 'signing_locked' and user_id = $1`, [
        signer.id,
      ]),
    ).toBe(1);
    expect(
      await world.count(
        `select 1 from audit.audit_log where event_type = 'signing.locked' and payload ->> 'user_id' = $1`,
        [signer.id],
      ),
    ).toBe(1);
    expect(
      await world.count(
        `select 1 from audit.audit_log where event_type = 'reauth.failed' and payload ->> 'user_id' = $1`,
        [signer.id],
      ),
    ).toBe(5);
    // Failure events never carry the code or the password.
    const { rows } = await db.operator.query(
      `select payload::text as p from audit.audit_log where event_type like 'reauth.%' and payload ->> 'user_id' = $1`,
      [signer.id],
    );
    expect(rows.length).toBeGreaterThanOrEqual(5);
    for (const row of rows) {
      expect(row.p).not.toContain('wrong password');
      for (const code of codesTried) expect(row.p).not.toContain(`"${code}"`);
    }
  });

  it('counts an attempt left unfinished as a failed password', async () => {
    const signer = await world.newSigner();
    const client = await db.connectAs(signer.email, password);
    for (let i = 0; i < 6; i++) await client.query('select public.begin_reauth($1)', [randomUUID()]);
    expect(await signer.backend.status()).toMatchObject({ locked: true, consecutiveFailures: 5 });
  });

  it('resets the count after a success: failures must be in a row', async () => {
    const signer = await world.newSigner();
    for (let i = 0; i < 4; i++) await signer.backend.reauthenticate(randomUUID(), 'wrong password', '000000');
    expect((await signer.backend.reauthenticate(randomUUID(), password, signer.code())).ok).toBe(true);
    for (let i = 0; i < 4; i++) await signer.backend.reauthenticate(randomUUID(), 'wrong password', '000000');
    expect(await signer.backend.status()).toMatchObject({ locked: false, consecutiveFailures: 4 });
  });

  it('refuses sign_batch while locked, and only an administrator unlocks, with an audited reason', async () => {
    const signer = await world.newSigner();
    const ids = await world.reviewing(world.studyA, 1);
    const ceremonyId = randomUUID();
    expect((await signer.backend.reauthenticate(ceremonyId, password, signer.code())).ok).toBe(true);
    for (let i = 0; i < 5; i++) await signer.backend.reauthenticate(randomUUID(), 'wrong password', '000000');
    const subjects = await signer.backend.subjects(ids);
    const request = {
      ceremonyId,
      nonce: randomBytes(18).toString('base64url'),
      intent: 'approve' as const,
      meaning: 'I approve this change',
      comment: null,
      manifest: subjects.map((s) => ({ stagingRecordId: s.stagingRecordId, contentHash: contentHash(s) })),
    };
    await expect(signer.backend.signBatch(request, password)).rejects.toThrow(/locked for signing/);

    const self = await db.connectAs(signer.email, password);
    await expect(
      self.query('select public.unlock_account($1, $2, $3, $4)', [signer.id, 'signing', 'me', randomUUID()]),
    ).rejects.toThrow(/only an administrator/);
    // Since 0056 an unlock needs the administrator's own re-authentication (test/db/lockoutAlertsAndUnlock.test.ts).
    const admin = await newReauthenticatingAdmin(
      (spec) => db.provision(spec),
      { host: db.server.host, port: db.server.port, database: db.name },
      (email, secret) => db.connectAs(email, secret),
      db.email('unlocking-admin'),
      password,
    );
    await expect(admin.unlock(signer.id, 'signing', ' ')).rejects.toThrow(/say why/);
    await admin.unlock(signer.id, 'signing', 'Identity confirmed by phone');
    await admin.close();
    expect(await signer.backend.status()).toMatchObject({ locked: false, consecutiveFailures: 0 });
    const { rows } = await db.operator.query(
      `select actor, payload ->> 'reason' as reason from audit.audit_log
        where event_type = 'signing.unlocked' and payload ->> 'user_id' = $1`,
      [signer.id],
    );
    expect(rows).toEqual([{ actor: admin.id, reason: 'Identity confirmed by phone' }]);
    // The re-authentication made before the lock is still single-use and fresh: the signature goes through.
    const result = await signer.backend.signBatch(request, password);
    expect(result.records).toHaveLength(1);
  });
});

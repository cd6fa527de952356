// The contract every signing backend keeps, whatever mode it runs in: one suite, run against the
// PostgreSQL adapter always (test/db/postgresBackendContract.test.ts) and against the Supabase adapter
// wherever a Supabase project is configured (test/db/supabaseBackendContract.test.ts). It drives the
// adapter through the workstation's own ceremony service, as the signing dialog does.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigningBackend } from '../../src/main/signing/signingBackend';
import { SigningCeremonies } from '../../src/main/signing/signingCeremony';

export interface ContractSigner {
  userId: string;
  backend: SigningBackend;
  password: string;
  /** A current TOTP code of the signer's confirmed authenticator (not one used at sign-in). */
  code(): Promise<string>;
}

export interface BackendContractFixture {
  /** A signer of the study with a confirmed authenticator, signed in, who has not failed yet. */
  signer: ContractSigner;
  /** New proposals in the signer's study, still `proposed`. */
  propose(count: number): Promise<string[]>;
  close(): Promise<void>;
}

const wrongCode = (code: string) => String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');

export function describeSigningBackendContract(
  name: string,
  makeFixture: (() => Promise<BackendContractFixture>) | { skip: string },
) {
  const skip = 'skip' in makeFixture ? makeFixture.skip : null;
  if (skip) console.info(`[contract] ${name}: skipped — ${skip}`);

  describe.skipIf(skip !== null)(`signing backend contract: ${name}`, () => {
    let fixture: BackendContractFixture;
    let ceremonies: SigningCeremonies;
    let signedIds: string[] = [];

    beforeAll(async () => {
      if ('skip' in makeFixture) return;
      fixture = await makeFixture();
      ceremonies = new SigningCeremonies(fixture.signer.backend, { retryDelayMs: 50 });
    });
    afterAll(async () => {
      await fixture?.close();
    });

    it('reports the signer, a confirmed authenticator and no lock', async () => {
      expect(await fixture.signer.backend.status()).toEqual({
        isSigner: true,
        totp: 'confirmed',
        locked: false,
        consecutiveFailures: 0,
      });
    });

    it('lists the meanings of signature per intent', async () => {
      const meanings = await fixture.signer.backend.meanings();
      expect(meanings).toContainEqual({ intent: 'approve', meaning: 'I approve this change' });
      expect(meanings).toContainEqual({ intent: 'reject', meaning: 'I reject this change' });
    });

    it('opens proposals for review and builds a manifest of them', async () => {
      signedIds = await fixture.propose(2);
      expect(await fixture.signer.backend.openForReview(signedIds)).toBe(2);
      const manifest = await ceremonies.buildManifest(signedIds);
      expect(manifest.problems).toEqual([]);
      expect(manifest.entries.map((entry) => entry.stagingRecordId).sort()).toEqual([...signedIds].sort());
      expect(manifest.entries.every((entry) => /^[0-9a-f]{64}$/.test(entry.contentHash))).toBe(true);
    });

    it('refuses a wrong password and a wrong code, counted by the server, signing nothing', async () => {
      const backend = fixture.signer.backend;
      expect(
        await backend.reauthenticate(randomUUID(), 'not the password', await fixture.signer.code()),
      ).toMatchObject({
        ok: false,
        reason: 'wrong_password',
        locked: false,
        attemptsLeft: 4,
      });
      expect(
        await backend.reauthenticate(
          randomUUID(),
          fixture.signer.password,
          wrongCode(await fixture.signer.code()),
        ),
      ).toMatchObject({ ok: false, reason: 'totp_wrong', locked: false, attemptsLeft: 3 });
      expect(await backend.status()).toMatchObject({ consecutiveFailures: 2, locked: false });
    });

    it('signs the batch in one ceremony: password and code, manifest, one signature per record', async () => {
      const manifest = await ceremonies.buildManifest(signedIds);
      const outcome = await ceremonies.sign({
        ceremonyId: manifest.ceremonyId,
        intent: 'approve',
        meaning: 'I approve this change',
        comment: null,
        entries: manifest.entries.map((e) => ({
          stagingRecordId: e.stagingRecordId,
          contentHash: e.contentHash,
        })),
        password: fixture.signer.password,
        totpCode: await fixture.signer.code(),
      });
      if (!outcome.ok) throw new Error(`the ceremony failed: ${outcome.error}`);
      expect(outcome.result.signer.userId).toBe(fixture.signer.userId);
      expect(outcome.result.records.map((r) => r.state)).toEqual(['signed', 'signed']);
      expect(outcome.result.replayed).toBe(false);
      expect(await fixture.signer.backend.status()).toMatchObject({ consecutiveFailures: 0 });
      const again = await ceremonies.buildManifest(signedIds);
      expect(again.entries).toEqual([]);
      expect(again.problems).toHaveLength(2);
    });

    it('refuses to sign without a re-authentication of the ceremony', async () => {
      const [id] = await fixture.propose(1);
      await fixture.signer.backend.openForReview([id as string]);
      const manifest = await ceremonies.buildManifest([id as string]);
      await expect(
        fixture.signer.backend.signBatch(
          {
            ceremonyId: randomUUID(),
            nonce: randomUUID().replaceAll('-', ''),
            intent: 'approve',
            meaning: 'I approve this change',
            comment: null,
            manifest: manifest.entries.map((e) => ({
              stagingRecordId: e.stagingRecordId,
              contentHash: e.contentHash,
            })),
          },
          fixture.signer.password,
        ),
      ).rejects.toThrow(/re-authentication|session that has just passed/);
    });

    it('promotes the signed records, each with its own outcome', async () => {
      const outcomes = await ceremonies.promote(signedIds);
      expect(outcomes.map((o) => o.outcome)).toEqual(['promoted', 'promoted']);
      expect(outcomes.every((o) => o.liveId !== null)).toBe(true);
    });
  });
}

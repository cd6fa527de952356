// The contract every backend adapter keeps, whatever mode it runs in (issue 23: one adapter contract
// for every mode): signing through the workstation's own ceremony service, as the signing dialog
// does, and sync through the mode's SyncServer with the workstation's own pull engine and outbox.
// One suite, run against the PostgreSQL adapter always (test/db/postgresBackendContract.test.ts),
// against the Supabase adapter and the stand-in backed by a test database always
// (test/db/standInBackendContract.test.ts), and against a real Supabase project wherever one is
// configured (test/db/supabaseBackendContract.test.ts).
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigningBackend } from '../../src/main/signing/signingBackend';
import { SigningCeremonies } from '../../src/main/signing/signingCeremony';
import { enqueueAnnotation, flushOutbox, listOutbox } from '../../src/main/sync/outbox';
import { pullAll } from '../../src/main/sync/pullEngine';
import { type StreamDefinition, streamDefinitions } from '../../src/main/sync/streamDefinitions';
import type { SyncServer } from '../../src/main/sync/syncServer';
import { cachedKeys } from './support/syncCache';

export interface ContractSigner {
  userId: string;
  backend: SigningBackend;
  password: string;
  /** A current TOTP code of the signer's confirmed authenticator (not one used at sign-in). */
  code(): Promise<string>;
}

/** The sync side of an adapter: an investigator signed in through the mode's own transport. */
export interface SyncContractFixture {
  /** The mode's SyncServer, speaking as the investigator. */
  server: SyncServer;
  /** A new, empty cache of the investigator (closed by the fixture). */
  newCache(): Database;
  /** The keys of a stream the investigator's own database login reads: what the cache must hold. */
  expectedKeys(stream: StreamDefinition): Promise<string[]>;
  /** A diary record the investigator may annotate. */
  eventUuid: string;
  /** The ids of the server's annotations with this client request id. */
  annotationsWith(clientRequestId: string): Promise<string[]>;
}

export interface BackendContractFixture {
  /** A signer of the study with a confirmed authenticator, signed in, who has not failed yet. */
  signer: ContractSigner;
  /** New proposals in the signer's study, still `proposed`. */
  propose(count: number): Promise<string[]>;
  /** The sync cases' fixture, or why this mode cannot run them (said in the output). */
  sync: SyncContractFixture | { skip: string };
  close(): Promise<void>;
}

const wrongCode = (code: string) => String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');

export function describeBackendContract(
  name: string,
  makeFixture: (() => Promise<BackendContractFixture>) | { skip: string },
) {
  const skip = 'skip' in makeFixture ? makeFixture.skip : null;
  if (skip) console.info(`[contract] ${name}: skipped — ${skip}`);

  describe.skipIf(skip !== null)(`backend adapter contract: ${name}`, () => {
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

    /** The sync fixture; a mode without one says why, once, and its sync cases pass as skipped. */
    const sync = (context: { skip: (note?: string) => void }): SyncContractFixture => {
      if ('skip' in fixture.sync) {
        context.skip(fixture.sync.skip);
        throw new Error('skipped');
      }
      return fixture.sync;
    };

    it('an initial sync into a cache gives the person exactly the rows their login reads [HOSTED-CONTRACT]', async (context) => {
      const { server, newCache, expectedKeys } = sync(context);
      const cache = newCache();
      const report = await pullAll(cache, server, { pageSize: 7 });
      expect(report.quarantined).toBe(0);
      let total = 0;
      for (const stream of streamDefinitions) {
        const expected = await expectedKeys(stream);
        expect(cachedKeys(cache, stream), stream.name).toEqual(expected);
        total += expected.length;
      }
      expect(report.rows).toBe(total);
      expect(total).toBeGreaterThan(0);
      // Nothing new: the next sync reads nothing.
      expect((await pullAll(cache, server)).rows).toBe(0);
    });

    it('an annotation through the outbox lands once and a resend is replayed [HOSTED-CONTRACT]', async (context) => {
      const { server, newCache, eventUuid, annotationsWith } = sync(context);
      const cache = newCache();
      await pullAll(cache, server);
      const item = enqueueAnnotation(cache, {
        eventUuid,
        kind: 'note',
        text: 'Contract note.',
        requiresResponse: false,
      });
      expect(await flushOutbox(cache, server)).toEqual({
        sent: 1,
        conflicts: 0,
        failed: 0,
        unreachable: false,
      });
      expect(listOutbox(cache, { includeSent: true }).map((entry) => entry.state)).toEqual(['sent']);
      expect(await annotationsWith(item.clientRequestId)).toEqual([item.annotationId]);
      const resend = await server.annotate({
        clientRequestId: item.clientRequestId,
        annotationId: item.annotationId,
        eventUuid,
        parentAuditId: item.parentAuditId,
        siteId: '',
        kind: 'note',
        text: 'Contract note.',
        requiresResponse: false,
        inReplyTo: null,
      });
      expect(resend).toEqual({ annotationId: item.annotationId, replayed: true });
      expect(await annotationsWith(item.clientRequestId)).toEqual([item.annotationId]);
      // The annotation comes back to the cache with the next sync, once.
      await pullAll(cache, server);
      expect(
        cache
          .prepare('select annotation_id from annotation where client_request_id = ?')
          .all(item.clientRequestId),
      ).toEqual([{ annotation_id: item.annotationId }]);
    });
  });
}

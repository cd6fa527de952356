import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectAs,
  type EvidenceRun,
  evidenceRunContentHash,
  readEvidenceRun,
  recordEvidenceRun,
  signEvidenceRun,
} from '../../src/main/evidence/evidenceRun';
import { buildSigningWorld, password, type SigningWorld } from './support/signingWorld';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const meaning = 'I approve this release';

describe('validation evidence runs: recorded by an administrator, signed as a release [SIGN-RELEASE]', () => {
  let db: TestDatabase;
  let world: SigningWorld;
  let address: { host: string; port: number; database: string };
  let adminEmail: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    world = await buildSigningWorld(db);
    address = { host: db.server.host, port: db.server.port, database: db.name };
    adminEmail = db.email('admin');
  });
  afterAll(async () => {
    await world?.close();
    await db?.drop();
  });

  async function recordRun(commit = 'c0ffee'): Promise<EvidenceRun> {
    const admin = await connectAs(address, adminEmail, password);
    try {
      return await recordEvidenceRun(admin, {
        commitSha: commit,
        evidencePaths: [`evidence/${commit}/traceability.html`, `evidence/${commit}/manifest.sha256`],
        manifestSha256: 'ab'.repeat(32),
        prNumber: 8,
      });
    } finally {
      await admin.end();
    }
  }
  const signaturesOf = (runId: string) =>
    world.count('select 1 from cro.signature_event where subject_id = $1', [runId]);

  it('records a run as the administrator, audited, and refuses a signer recording one', async () => {
    const run = await recordRun();
    expect(run).toMatchObject({ commitSha: 'c0ffee', prNumber: 8, manifestSha256: 'ab'.repeat(32) });
    expect(run.signedAt).toBeNull();
    expect(
      await world.count(
        `select 1 from audit.audit_log where event_type = 'evidence.recorded' and payload->>'evidence_run_id' = $1`,
        [run.id],
      ),
    ).toBe(1);
    const signer = await world.newSigner();
    const client = await connectAs(address, signer.email, password);
    try {
      await expect(
        recordEvidenceRun(client, { commitSha: 'x', evidencePaths: [], manifestSha256: 'cd'.repeat(32) }),
      ).rejects.toThrow(/Only an administrator/);
    } finally {
      await client.end();
    }
  });

  it('signs a run in one ceremony: approve_release signature with the server-recomputed hash, run marked signed', async () => {
    const run = await recordRun('feed01');
    const signer = await world.newSigner();
    const signed = await signEvidenceRun({
      address,
      email: signer.email,
      password,
      totpCode: signer.code(),
      evidenceRunId: run.id,
      meaning,
    });
    expect(signed.replayed).toBe(false);
    expect(signed.contentHash).toBe(evidenceRunContentHash(run));
    const { rows } = await db.operator.query(
      `select intent::text, subject_kind, study_id, content_hash, meaning_of_signature, user_display_name, nonce
         from cro.signature_event where id = $1`,
      [signed.signatureId],
    );
    expect(rows[0]).toEqual({
      intent: 'approve_release',
      subject_kind: 'validation_evidence_run',
      study_id: null,
      content_hash: evidenceRunContentHash(run),
      meaning_of_signature: meaning,
      user_display_name: expect.stringMatching(/^Sam Signer/),
      nonce: signed.nonce,
    });
    const client = await connectAs(address, signer.email, password);
    try {
      const after = await readEvidenceRun(client, run.id);
      expect(after?.signedByUserId).toBe(signer.id);
      expect(after?.signedAt).toBe(signed.signedAt);
    } finally {
      await client.end();
    }
    expect(
      await world.count(
        `select 1 from audit.audit_log where event_type = 'signature.recorded' and payload->>'signature_id' = $1`,
        [signed.signatureId],
      ),
    ).toBe(1);
    // A signed run is signed once.
    await expect(
      signEvidenceRun({
        address,
        email: signer.email,
        password,
        totpCode: signer.code(1),
        evidenceRunId: run.id,
        meaning,
      }),
    ).rejects.toThrow(/already signed/);
  });

  it('refuses a wrong TOTP code and signs nothing', async () => {
    const run = await recordRun('bad70b');
    const signer = await world.newSigner();
    const wrong = signer.code() === '000000' ? '111111' : '000000';
    await expect(
      signEvidenceRun({
        address,
        email: signer.email,
        password,
        totpCode: wrong,
        evidenceRunId: run.id,
        meaning,
      }),
    ).rejects.toThrow(/re-authentication failed: totp_wrong/);
    expect(await signaturesOf(run.id)).toBe(0);
  });

  it('refuses a person who is not a signer, even with a password and a valid code', async () => {
    const run = await recordRun('0051gn');
    const monitor = await world.newSigner({ roles: ['monitor'] });
    await expect(
      signEvidenceRun({
        address,
        email: monitor.email,
        password,
        totpCode: monitor.code(),
        evidenceRunId: run.id,
        meaning,
      }),
    ).rejects.toThrow(/does not exist or you may not read it/);
    // RLS hides the run from a monitor; the server refuses their re-authentication, and sign_release
    // refuses them even with the right hash.
    const ceremonyId = crypto.randomUUID();
    await expect(monitor.backend.reauthenticate(ceremonyId, password, monitor.code(1))).rejects.toThrow(
      /only a signer can sign/,
    );
    const client = await connectAs(address, monitor.email, password);
    try {
      await expect(
        client.query('select public.sign_release($1, $2, $3, null, $4, $5)', [
          ceremonyId,
          'nonce-not-a-signer-00001',
          meaning,
          run.id,
          evidenceRunContentHash(run),
        ]),
      ).rejects.toThrow(/only a signer can approve a release/);
    } finally {
      await client.end();
    }
    expect(await signaturesOf(run.id)).toBe(0);
  });

  it('refuses a replayed nonce under a new ceremony id', async () => {
    const signer = await world.newSigner();
    const first = await signEvidenceRun({
      address,
      email: signer.email,
      password,
      totpCode: signer.code(),
      evidenceRunId: (await recordRun('a11ce1')).id,
      meaning,
    });
    const second = await recordRun('a11ce2');
    await expect(
      signEvidenceRun({
        address,
        email: signer.email,
        password,
        totpCode: signer.code(1),
        evidenceRunId: second.id,
        meaning,
        nonce: first.nonce,
      }),
    ).rejects.toThrow(/replayed nonce/);
    expect(await signaturesOf(second.id)).toBe(0);
  });

  it('answers the same ceremony sent twice with the first result, and writes one signature', async () => {
    const run = await recordRun('twice1');
    const signer = await world.newSigner();
    const first = await signEvidenceRun({
      address,
      email: signer.email,
      password,
      totpCode: signer.code(),
      evidenceRunId: run.id,
      meaning,
    });
    const again = await signEvidenceRun({
      address,
      email: signer.email,
      password,
      totpCode: signer.code(1),
      evidenceRunId: run.id,
      meaning,
      ceremonyId: first.ceremonyId,
      nonce: first.nonce,
    });
    expect(again).toMatchObject({ replayed: true, signatureId: first.signatureId, signedAt: first.signedAt });
    expect(await signaturesOf(run.id)).toBe(1);
  });

  it('refuses a content hash that is not the server recomputation, and sign_batch refuses approve_release', async () => {
    const run = await recordRun('hash01');
    const signer = await world.newSigner();
    const ceremonyId = crypto.randomUUID();
    const reauth = await signer.backend.reauthenticate(ceremonyId, password, signer.code());
    expect(reauth.ok).toBe(true);
    const client = await connectAs(address, signer.email, password);
    try {
      await expect(
        client.query('select public.sign_release($1, $2, $3, null, $4, $5)', [
          ceremonyId,
          'nonce-hash-mismatch-0001',
          meaning,
          run.id,
          'ff'.repeat(32),
        ]),
      ).rejects.toThrow(/content hash does not match/);
      await expect(
        client.query(`select public.sign_batch($1, $2, 'approve_release', $3, null, '[]'::jsonb)`, [
          crypto.randomUUID(),
          'nonce-batch-release-0001',
          meaning,
        ]),
      ).rejects.toThrow(/intent approve or reject/);
    } finally {
      await client.end();
    }
    expect(await signaturesOf(run.id)).toBe(0);
  });
});

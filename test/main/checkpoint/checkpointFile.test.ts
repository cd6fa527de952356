// The archived checkpoint file (issue 24): written whole, signed by the writer, and read back with
// every signature checked; any change after writing, a forged or foreign cosignature, a malformed
// file are each named.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../../src/main/checkpoint/checkpoint';
import {
  checkpointFileOf,
  readCheckpointFile,
  verifyCheckpointFile,
  writeCheckpointFile,
} from '../../../src/main/checkpoint/checkpointFile';
import { cosignatureProblem } from '../../../src/main/checkpoint/cosignatureCheck';
import { cosign } from '../../../src/main/checkpoint/cosigner';
import { ed25519SignerOf } from '../../../src/main/checkpoint/ed25519Signer';

const signer = () => ed25519SignerOf(generateKeyPairSync('ed25519').privateKey);
const checkpoint: Checkpoint = {
  treeSize: 1234,
  rootHash: randomBytes(32).toString('hex'),
  subjectRoot: randomBytes(32).toString('hex'),
};
const dir = mkdtempSync(join(tmpdir(), 'countersign-ckpt-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('checkpoint file [CKPT-FILE]', () => {
  const writer = signer();
  const other = signer();
  const at = new Date('2026-12-07T10:00:00.000Z');
  const mine = cosign(checkpoint, writer, 'user-1', at);
  const theirs = { ...cosign(checkpoint, other, 'user-2', at), printedName: 'Dr. Other' };

  it('is written whole under checkpoint-<date>-<size>.json and verifies [CKPT-FILE]', () => {
    const file = checkpointFileOf(checkpoint, [mine, theirs], writer, at);
    const path = writeCheckpointFile(dir, file);
    expect(path).toBe(join(dir, 'checkpoint-2026-12-07-1234.json'));
    expect(statSync(path).mode & 0o777).toBe(0o644);
    const read = readCheckpointFile(path);
    expect(read).toMatchObject({ ok: true, problems: [] });
    expect(read.file?.cosignatures).toHaveLength(2);
    expect(read.file?.checkpoint).toEqual(checkpoint);
  });

  it('leaves out cosignatures of another checkpoint and forged ones [CKPT-FILE]', () => {
    const elsewhere = cosign({ ...checkpoint, treeSize: 99 }, other, 'user-2', at);
    const forged = { ...theirs, rootHash: randomBytes(32).toString('hex'), treeSize: checkpoint.treeSize };
    const file = checkpointFileOf(
      checkpoint,
      [mine, elsewhere, { ...forged, rootHash: checkpoint.rootHash, signature: mine.signature }],
      writer,
      at,
    );
    expect(file.cosignatures.map((c) => c.keyFingerprint)).toEqual([writer.keyFingerprint]);
  });

  it('names a change made after writing, a forged cosignature and a malformed file [CKPT-FILE]', () => {
    const file = checkpointFileOf(checkpoint, [mine, theirs], writer, at);
    const changed = { ...file, checkpoint: { ...file.checkpoint, treeSize: 1235 } };
    expect(verifyCheckpointFile(JSON.stringify(changed)).problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/writer's signature does not verify/)]),
    );
    const forgedCosignature = {
      ...file,
      cosignatures: [{ ...theirs, cosignedAt: '2026-12-07T11:00:00.000Z' }],
    };
    expect(verifyCheckpointFile(JSON.stringify(forgedCosignature)).problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/Ed25519 signature does not verify/)]),
    );
    expect(verifyCheckpointFile('{').problems).toEqual(['the checkpoint file is not JSON']);
    expect(verifyCheckpointFile(JSON.stringify({ ...file, version: 2 }))).toMatchObject({
      ok: false,
      file: null,
    });
    const path = join(dir, 'tampered.json');
    writeFileSync(
      path,
      readFileSync(writeCheckpointFile(dir, file), 'utf8').replace(checkpoint.rootHash, 'f'.repeat(64)),
    );
    expect(readCheckpointFile(path).ok).toBe(false);
  });

  it('checks a cosignature by its key, fingerprint and signature [CKPT-FILE]', () => {
    expect(cosignatureProblem(mine)).toBeNull();
    expect(cosignatureProblem({ ...mine, keyFingerprint: '0'.repeat(64) })).toMatch(/fingerprint/);
    expect(cosignatureProblem({ ...mine, userId: 'someone-else' })).toMatch(/does not verify/);
    expect(cosignatureProblem({ ...mine, publicKey: 'AAAA' })).toMatch(/32 bytes/);
  });
});

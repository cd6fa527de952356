// Packet format 3 (issue 24) on an encrypted cache written with the server's formulas
// (bench/support/exportCache.ts): the packet carries only the scope's entries with their proofs and
// verifies from its bytes; a tampered entry, an entry dropped with every hash fixed and the packet
// re-signed, a swapped proof node, a forged cosignature and a rendering changed with the manifest
// rehashed are each named; one record verifies alone (--record); a later packet proves it extends an
// earlier one, a rewritten history is refused at export and named at verify.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExportCache, uuidOf, writeExportCache } from '../../../bench/support/exportCache';
import { checkpointOf } from '../../../src/main/cache/auditTree';
import { subjectLeafHash, subjectLeafHashOfList } from '../../../src/main/checkpoint/auditSubjects';
import {
  type Cosignature,
  cosignatureSigningInput,
  type Ed25519Signer,
} from '../../../src/main/checkpoint/checkpoint';
import { ed25519SignerOf } from '../../../src/main/checkpoint/ed25519Signer';
import { chainLineProblem, sha256Text } from '../../../src/main/export/chainLineCheck';
import { buildPacket, type ExportOptions, renderPacketFiles } from '../../../src/main/export/exportPacket';
import { checkPacketBytesInWorker } from '../../../src/main/export/packetBytesCheck';
import {
  checkPacketAgainstCheckpoint,
  verifyPacketConsistency,
} from '../../../src/main/export/packetConsistency';
import type { PacketContent } from '../../../src/main/export/packetContent';
import {
  buildManifest,
  manifestBytes,
  type PacketManifest,
  sha256OfBytes,
  signManifest,
} from '../../../src/main/export/packetManifest';
import type { PacketProofs } from '../../../src/main/export/packetProofs';
import { readStoredZip, writeStoredZip } from '../../../src/main/export/storedZip';
import { verifyPacket, verifyPacketAsync } from '../../../src/main/export/verifyPacket';
import { verifyPacketRecord } from '../../../src/main/export/verifyPacketRecord';
import { entryHashInput, sha256Hex, verifyChainFrom } from '../../../src/main/sync/chainVerifier';
import { canonicalJson } from '../../../src/shared/canonicalJson';

const newSigner = () => ed25519SignerOf(generateKeyPairSync('ed25519').privateKey);

function appendEntries(db: Database, count: number, about: string): void {
  const last = db.prepare('select seq, entry_hash from audit_log order by seq desc limit 1').get() as {
    seq: number;
    entry_hash: string;
  };
  let prev = last.entry_hash;
  const insert = db.prepare(
    'insert into audit_log (seq, occurred_at, actor, event_type, payload, payload_hash, prev_hash, entry_hash) values (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  for (let i = 1; i <= count; i++) {
    const seq = last.seq + i;
    const payload = canonicalJson({ event_uuid: uuidOf(`${about} ${seq % 3}`), audit_id: seq });
    const occurredAt = new Date(Date.UTC(2026, 5, 1) + seq * 1000).toISOString();
    const payloadHash = sha256Hex(payload);
    const entryHash = sha256Hex(entryHashInput(seq, occurredAt, 'db:test', 'diary.note', payloadHash, prev));
    insert.run(seq, occurredAt, 'db:test', 'diary.note', payload, payloadHash, prev, entryHash);
    prev = entryHash;
  }
}

/** A forger's best: change the files, recompute every hash, sign the manifest and cosign with their own key. */
function forge(
  packet: Buffer,
  change: (files: Map<string, Buffer>) => void,
  signer: Ed25519Signer | null,
): Buffer {
  const entries = readStoredZip(packet);
  const files = new Map<string, Buffer>(entries.map((e) => [e.path, Buffer.from(e.data)]));
  change(files);
  let content = JSON.parse((files.get('packet.json') as Buffer).toString('utf8')) as PacketContent;
  const manifest = JSON.parse((files.get('manifest.json') as Buffer).toString('utf8')) as PacketManifest;
  if (signer) {
    const checkpoint = content.cover.checkpoint as NonNullable<PacketContent['cover']['checkpoint']>;
    const unsigned = {
      treeSize: checkpoint.treeSize,
      rootHash: checkpoint.rootHash,
      subjectRoot: checkpoint.subjectRoot,
      cosignedAt: '2026-12-01T00:00:00.000Z',
      userId: 'forger',
      keyFingerprint: signer.keyFingerprint,
      publicKey: signer.publicKey,
    };
    const cosignature: Cosignature = {
      ...unsigned,
      printedName: 'Forger',
      signature: signer.sign(cosignatureSigningInput(unsigned)),
    };
    checkpoint.cosignatures = [cosignature];
    files.set('packet.json', Buffer.from(canonicalJson(content), 'utf8'));
    content = JSON.parse((files.get('packet.json') as Buffer).toString('utf8')) as PacketContent;
    const documentHash = sha256OfBytes(files.get('packet.json') as Buffer);
    for (const [path, data] of renderPacketFiles(content, documentHash)) files.set(path, data);
  }
  const documentHash = sha256OfBytes(files.get('packet.json') as Buffer);
  const listed = manifest.files.map((f) => {
    const data = files.get(f.path) as Buffer;
    return { path: f.path, sha256: sha256OfBytes(data), bytes: data.length };
  });
  const newManifest = manifestBytes(buildManifest(content, documentHash, listed, manifest.pdfRenderer));
  files.set('manifest.json', newManifest);
  if (signer) files.set('manifest.sig', signManifest(newManifest, signer));
  return writeStoredZip(entries.map((e) => ({ path: e.path, data: files.get(e.path) as Buffer })));
}

function chainLinesOf(packet: Buffer): string[] {
  const data =
    readStoredZip(packet)
      .find((e) => e.path === 'chain/audit_log.jsonl')
      ?.data.toString('utf8') ?? '';
  return data.replace(/\n$/, '').split('\n');
}

describe('inspection packet format 3: proofs instead of the whole chain', () => {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-proof-packet-'));
  let cache: ExportCache;
  let signer: Ed25519Signer;
  let packet: Buffer;
  let content: PacketContent;
  const options = (over: Partial<ExportOptions> = {}): ExportOptions => ({
    scope: { selector: { kind: 'study', studyCode: 'BENCH-001' }, from: null, to: null },
    allowBrokenChain: false,
    generatedBy: { userId: cache.userId, printedName: 'Ingrid Inspector', roles: ['inspector'] },
    timeZone: 'Europe/Berlin',
    now: new Date('2026-12-01T10:00:00.000Z'),
    signer,
    ...over,
  });

  beforeAll(async () => {
    cache = writeExportCache(dir, 12, () => undefined);
    // Entries about other records, so the packet's entries are not the whole chain.
    appendEntries(cache.db, 40, 'elsewhere');
    signer = newSigner();
    const result = await buildPacket(cache.db, options());
    packet = result.zip;
    content = result.content;
  });
  afterAll(() => {
    cache.db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('carries only the scope entries with proofs, signed and cosigned, and verifies [PROOF-PACKET, PROOF-INCLUSION]', () => {
    expect(content.formatVersion).toBe(3);
    const checkpoint = checkpointOf(cache.db);
    expect(content.cover.checkpoint).toMatchObject({ ...checkpoint });
    expect(content.cover.checkpoint?.cosignatures[0]?.keyFingerprint).toBe(signer.keyFingerprint);
    const report = verifyPacket(packet);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.rendered).toBe(false);
    expect(report.proofs?.exporterKey).toBe(signer.keyFingerprint);
    expect(report.proofs?.cosignatures.every((c) => c.ok)).toBe(true);
    // 12 records x 4 entries, the build's 3, and the head (an entry about another record).
    expect(chainLinesOf(packet).length).toBe(12 * 4 + 3 + 1);
    // The 12 records, the build, and the study as a whole (a study packet without a date range).
    expect(report.proofs?.recordsComplete).toBe(12 + 1 + 1);
    expect(report.chain.headSeq).toBe(cache.entries + 40);
    const names = readStoredZip(packet).map((e) => e.path);
    expect(names.slice(0, 2)).toEqual(['manifest.json', 'manifest.sig']);
    expect(names).toContain('chain/proofs.json');
    const manifest = JSON.parse(readStoredZip(packet)[0]?.data.toString('utf8') as string) as PacketManifest;
    expect(manifest.pdfRenderer?.name).toEqual(expect.any(String));
    expect(manifest.checkpoint?.treeSize).toBe(checkpoint?.treeSize);
    expect(verifyPacket(packet, { render: true }).problems).toEqual([]);
  });

  it('names a tampered entry, even re-signed by the forger, on one thread and on two [PROOF-INCLUSION]', async () => {
    const lines = chainLinesOf(packet);
    const target = JSON.parse(lines[3] as string) as { seq: number };
    const forged = forge(
      packet,
      (files) => {
        const changed = [...lines];
        changed[3] = (changed[3] as string).replace('"db:', '"xb:').replace('agent:bench', 'agent:bunch');
        files.set('chain/audit_log.jsonl', Buffer.from(`${changed.join('\n')}\n`));
      },
      newSigner(),
    );
    const report = verifyPacket(forged);
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.where)).toContain(`chain/audit_log.jsonl seq ${target.seq}`);
    // Two threads (verifyPacketAsync, here for a packet of any size) give the very same reports.
    expect(await verifyPacketAsync(forged, {}, 0)).toEqual(report);
    expect(await verifyPacketAsync(packet, {}, 0)).toEqual(verifyPacket(packet));
    // A file changed after the manifest was signed: the second thread's hash disagrees.
    const flipped = Buffer.from(packet);
    const pdf = readStoredZip(packet).find((e) => e.path === 'packet.pdf') as { data: Buffer };
    const at = pdf.data.byteOffset - packet.byteOffset + 100;
    flipped[at] = (flipped[at] as number) ^ 1;
    expect(await verifyPacketAsync(flipped, {}, 0)).toEqual(verifyPacket(flipped));
  });

  it('names an entry dropped from the packet with every hash fixed and the packet re-signed [PROOF-COMPLETE]', () => {
    const record = content.stagingRecords[2] as PacketContent['stagingRecords'][number];
    const dropped = record.history[1]?.seq as number;
    const forged = forge(
      packet,
      (files) => {
        const kept = chainLinesOf(packet).filter((l) => (JSON.parse(l) as { seq: number }).seq !== dropped);
        files.set('chain/audit_log.jsonl', Buffer.from(`${kept.join('\n')}\n`));
        const forgedContent = JSON.parse(
          (files.get('packet.json') as Buffer).toString('utf8'),
        ) as PacketContent;
        const r = forgedContent.stagingRecords[2] as typeof record;
        r.history = r.history.filter((h) => h.seq !== dropped);
        forgedContent.cover.chain.entries--;
        files.set('packet.json', Buffer.from(canonicalJson(forgedContent), 'utf8'));
      },
      newSigner(),
    );
    const report = verifyPacket(forged);
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual({
      where: `packet.json staging record ${record.id}`,
      what: `audit entry seq ${dropped} about it (subject map) is missing from the packet`,
    });
  });

  it('names a swapped proof node and a forged cosignature [PROOF-INCLUSION, PROOF-COSIGN]', () => {
    const swapped = forge(
      packet,
      (files) => {
        const proofs = JSON.parse(
          (files.get('chain/proofs.json') as Buffer).toString('utf8'),
        ) as PacketProofs;
        const [a, b] = Object.keys(proofs.tree);
        [proofs.tree[a as string], proofs.tree[b as string]] = [
          proofs.tree[b as string] as string,
          proofs.tree[a as string] as string,
        ];
        files.set('chain/proofs.json', Buffer.from(canonicalJson(proofs), 'utf8'));
      },
      null,
    );
    const swappedReport = verifyPacket(swapped);
    expect(swappedReport.ok).toBe(false);
    expect(swappedReport.problems.some((p) => p.what.includes("is not in the checkpoint's audit log"))).toBe(
      true,
    );
    expect(swappedReport.problems.some((p) => p.where === 'manifest.sig')).toBe(true);

    const cosigned = forge(
      packet,
      (files) => {
        const forgedContent = JSON.parse(
          (files.get('packet.json') as Buffer).toString('utf8'),
        ) as PacketContent;
        const c = forgedContent.cover.checkpoint?.cosignatures[0] as Cosignature;
        c.cosignedAt = '2020-01-01T00:00:00.000Z';
        files.set('packet.json', Buffer.from(canonicalJson(forgedContent), 'utf8'));
      },
      null,
    );
    const cosignedReport = verifyPacket(cosigned);
    expect(cosignedReport.problems).toContainEqual({
      where: 'packet.json checkpoint cosignature 1',
      what: `is not a valid Ed25519 signature by key ${signer.keyFingerprint}`,
    });
  });

  it('names a rendering changed with the manifest rehashed: the signature by default, the file with --render [PROOF-SIGNED-MANIFEST]', () => {
    const forged = forge(
      packet,
      (files) => {
        const csv = (files.get('csv/signatures.csv') as Buffer).toString('utf8');
        files.set(
          'csv/signatures.csv',
          Buffer.from(csv.replace('I approve this change', 'I reject this change')),
        );
      },
      null,
    );
    const report = verifyPacket(forged);
    expect(report.ok).toBe(false);
    expect(report.problems[0]?.where).toBe('manifest.sig');
    const rendered = verifyPacket(forged, { render: true });
    expect(rendered.problems.some((p) => p.where.startsWith('csv/signatures.csv'))).toBe(true);
  });

  it('never throws on hostile proofs [PROOF-HOSTILE]', () => {
    for (const change of [
      (p: Record<string, unknown>) => {
        p.tree = { '0-99999999999999999999': 'zz' };
      },
      (p: Record<string, unknown>) => {
        p.subjectMap = { count: 2 ** 70, leaves: [{ subject: 1, index: -1, seqs: 'x' }], nodes: null };
      },
      (p: Record<string, unknown>) => {
        p.consistency = [{ treeSize: 1e300, rootHash: 'x', path: [null] }, null];
      },
      (p: Record<string, unknown>) => {
        p.checkpoint = {
          treeSize: Number.MAX_SAFE_INTEGER,
          rootHash: 'a'.repeat(64),
          subjectRoot: 'b'.repeat(64),
        };
      },
    ]) {
      const forged = forge(
        packet,
        (files) => {
          const proofs = JSON.parse((files.get('chain/proofs.json') as Buffer).toString('utf8')) as Record<
            string,
            unknown
          >;
          change(proofs);
          files.set('chain/proofs.json', Buffer.from(JSON.stringify(proofs), 'utf8'));
        },
        null,
      );
      const report = verifyPacket(forged);
      expect(report.ok).toBe(false);
      expect(
        report.problems.some((p) => p.where.startsWith('chain/proofs.json') || p.where.startsWith('chain/')),
      ).toBe(true);
    }
    const noProofs = writeStoredZip(readStoredZip(packet).filter((e) => e.path !== 'chain/proofs.json'));
    expect(verifyPacket(noProofs).problems.map((p) => p.where)).toContain('chain/proofs.json');
  });

  it('verifies one record with its own proofs alone, and names its dropped entry [PROOF-RECORD]', () => {
    const record = content.stagingRecords[4] as PacketContent['stagingRecords'][number];
    const alone = verifyPacketRecord(packet, record.id);
    expect(alone.problems).toEqual([]);
    expect(alone.ok).toBe(true);
    expect(alone.kind).toBe('staging');
    expect(alone.proofs?.recordsComplete).toBe(1);
    const dropped = record.history[0]?.seq as number;
    const forged = forge(
      packet,
      (files) => {
        const kept = chainLinesOf(packet).filter((l) => (JSON.parse(l) as { seq: number }).seq !== dropped);
        files.set('chain/audit_log.jsonl', Buffer.from(`${kept.join('\n')}\n`));
      },
      null,
    );
    const report = verifyPacketRecord(forged, record.id);
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.what)).toContain(
      `audit entry seq ${dropped} about it (subject map) is missing from the packet`,
    );
    expect(verifyPacketRecord(packet, 'no-such-record').problems[0]?.what).toMatch(/holds no staging record/);
  });

  it('proves a later packet extends an earlier one, and refuses a rewritten history [PROOF-CONSISTENCY]', async () => {
    const earlier = content.cover.checkpoint as NonNullable<PacketContent['cover']['checkpoint']>;
    appendEntries(cache.db, 300, 'later');
    expect(verifyChainFrom(cache.db).ok).toBe(true);
    const later = await buildPacket(
      cache.db,
      options({ knownCheckpoints: [earlier], now: new Date('2026-12-02T10:00:00.000Z') }),
    );
    expect(verifyPacket(later.zip).problems).toEqual([]);
    const consistent = verifyPacketConsistency(packet, later.zip);
    expect(consistent.problems).toEqual([]);
    expect(consistent.ok).toBe(true);
    expect(verifyPacketConsistency(packet, packet).ok).toBe(true);
    expect(checkPacketAgainstCheckpoint(later.zip, earlier)).toEqual([]);
    // A later packet from a cache that does not know the earlier checkpoint carries no proof from it.
    const unaware = await buildPacket(cache.db, options());
    expect(verifyPacketConsistency(packet, unaware.zip).problems[0]?.what).toMatch(
      /carries no consistency proof from/,
    );
    expect(verifyPacketConsistency(later.zip, packet).problems[0]?.what).toMatch(/give the older one first/);

    // Another history: the same records, a different entry at the earlier size.
    const otherDir = mkdtempSync(join(tmpdir(), 'countersign-proof-other-'));
    const other = writeExportCache(otherDir, 12, () => undefined);
    try {
      appendEntries(other.db, 40, 'rewritten');
      appendEntries(other.db, 300, 'later');
      verifyChainFrom(other.db);
      const rewrittenCosignature = { ...earlier.cosignatures[0] } as Cosignature;
      await expect(
        buildPacket(other.db, options({ knownCosignatures: [rewrittenCosignature] })),
      ).rejects.toThrow(/the audit log was rewritten/);
      const rewritten = await buildPacket(other.db, options({ knownCheckpoints: [] }));
      expect(verifyPacket(rewritten.zip).ok).toBe(true);
      const fake: PacketProofs['consistency'][number] = {
        treeSize: earlier.treeSize,
        rootHash: earlier.rootHash,
        path: [],
      };
      const claimed = forge(
        rewritten.zip,
        (files) => {
          const proofs = JSON.parse(
            (files.get('chain/proofs.json') as Buffer).toString('utf8'),
          ) as PacketProofs;
          proofs.consistency = [fake];
          files.set('chain/proofs.json', Buffer.from(canonicalJson(proofs), 'utf8'));
        },
        newSigner(),
      );
      const refused = verifyPacketConsistency(packet, claimed);
      expect(refused.ok).toBe(false);
      expect(refused.problems.map((p) => p.what).join('\n')).toMatch(/not consistent with OLD/);
      expect(checkPacketAgainstCheckpoint(rewritten.zip, earlier)[0]?.what).toMatch(
        /carries no consistency proof/,
      );
    } finally {
      other.db.close();
      rmSync(otherDir, { recursive: true, force: true });
    }
  });
});

describe('the chain-line check and the subject map leaves [PROOF-INCLUSION, PROOF-COMPLETE]', () => {
  it('checks a chain line the same on this thread and in the worker, and names a tampered one', async () => {
    const payload = { staging_id: 'a', note: 'quote " and \u2028 and é€😀', n: [1, 2] };
    const payloadText = canonicalJson(payload);
    const payloadHash = sha256Text(payloadText);
    const prev = '0'.repeat(64);
    const entryHash = sha256Text(
      entryHashInput(3, '2026-01-01T00:00:00.000Z', 'u', 'staging.proposed', payloadHash, prev),
    );
    const line = (fields: Record<string, unknown>) =>
      canonicalJson({
        actor: 'u',
        entry_hash: entryHash,
        event_type: 'staging.proposed',
        leaf_index: 2,
        occurred_at: '2026-01-01T00:00:00.000Z',
        payload,
        payload_hash: payloadHash,
        prev_hash: prev,
        seq: 3,
        ...fields,
      });
    const good = line({});
    const lines = [
      good,
      line({ payload: { ...payload, note: 'changed' } }),
      line({ actor: 'someone else' }),
      good.replace('{"actor"', '{ "actor"'),
      line({ seq: 9, leaf_index: 8 }),
      'not json',
    ];
    const here = lines.map((l) => {
      try {
        return chainLineProblem(l, JSON.parse(l), 5, sha256Text, entryHashInput);
      } catch {
        return 'is not JSON';
      }
    });
    expect(here).toEqual([
      null,
      "entry 3's payload does not match its payload hash",
      "entry 3's fields do not match its entry hash",
      'is not canonical',
      'is beyond the checkpoint (5 entries)',
      'is not JSON',
    ]);
    // The worker checks the lines' form and hashes; their place in the checkpoint is this thread's.
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    const checked = await checkPacketBytesInWorker(
      bytes,
      [['chain/audit_log.jsonl', 0, bytes.length]],
      'chain/audit_log.jsonl',
    );
    expect(checked.lines).toBe(lines.length);
    // The worker reads only the fields around each payload (the payload is bound by its hash).
    const inWorker = lines.map((l) =>
      chainLineProblem(l, null, Number.MAX_SAFE_INTEGER, sha256Text, entryHashInput),
    );
    expect(checked.badLines).toEqual(inWorker.flatMap((p, i) => (p === null ? [] : [[i, p]])));
    expect(checked.badLines.map(([i]) => i)).toEqual([1, 2, 3, 4, 5]);
    expect(checked.packetSha256).toBe(sha256Text(bytes.toString('utf8')));
    expect(checked.fileSha256['chain/audit_log.jsonl']).toBe(checked.packetSha256);
  });

  it('builds a subject leaf from a seq list as from the canonical JSON', () => {
    expect(
      subjectLeafHashOfList('diary:abc', '1,5,17').equals(subjectLeafHash('diary:abc', [1, 5, 17])),
    ).toBe(true);
  });
});

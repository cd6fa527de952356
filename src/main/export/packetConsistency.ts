// Whether one audit log history extends another (issue 24): `countersign verify OLD.zip NEW.zip` and
// the check of a packet against an archived checkpoint file (lane CKPT's `verify --checkpoint`).
// The later checkpoint must carry an RFC 9162 consistency proof from the earlier one's size that
// joins the two roots (equal sizes: equal roots); a different root at the earlier size is a rewritten
// history and is named as such. Each packet's own signature and cosignatures are checked first, so
// the checkpoints compared are the ones their exporters vouched for.
import { createHash } from 'node:crypto';
import type { Checkpoint } from '../checkpoint/checkpoint';
import type { PacketContent } from './packetContent';
import { manifestFormat, manifestSignaturePath, type PacketManifest, proofsFilePath } from './packetManifest';
import type { PacketProofs } from './packetProofs';
import { readStoredZip } from './storedZip';
import type { VerifyProblem } from './verifyPacket';
import {
  checkCosignatures,
  checkManifestSignature,
  checkpointOfValue,
  consistencyProblems,
  parseJson,
} from './verifyPacketProofs';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface PacketCheckpointRead {
  checkpoint: Checkpoint | null;
  proofs: Partial<PacketProofs> | undefined;
  problems: VerifyProblem[];
}

/** A packet's checkpoint and proofs, with its signature, cosignatures and file hashes checked. */
export function readPacketCheckpoint(bytes: Buffer, name: string): PacketCheckpointRead {
  const problems: VerifyProblem[] = [];
  const problem = (where: string, what: string) => problems.push({ where: `${name} ${where}`, what });
  const none = { checkpoint: null, proofs: undefined, problems };
  let byPath: Map<string, Buffer>;
  try {
    byPath = new Map(readStoredZip(bytes).map((e) => [e.path, e.data]));
  } catch (error) {
    problem('packet.zip', (error as Error).message);
    return none;
  }
  const manifestData = byPath.get('manifest.json');
  const manifest = parseJson(manifestData) as PacketManifest | undefined;
  if (!manifestData || !manifest || manifest.format !== manifestFormat || !Array.isArray(manifest.files)) {
    problem('manifest.json', 'missing or not a Countersign packet manifest');
    return none;
  }
  for (const path of ['packet.json', proofsFilePath]) {
    const listed = manifest.files.find((f) => f?.path === path);
    const data = byPath.get(path);
    if (!listed || !data) problem(path, 'missing from the packet or its manifest');
    else if (sha256(data) !== listed.sha256) problem(path, 'differs from its SHA-256 in the manifest');
  }
  const content = parseJson(byPath.get('packet.json')) as PacketContent | undefined;
  const checkpoint = checkpointOfValue(content?.cover?.checkpoint);
  if (!checkpoint) {
    problem(
      'packet.json',
      `has no checkpoint (format ${content?.formatVersion ?? '?'}): packets are compared from format 3 on`,
    );
    return none;
  }
  const exporter = checkManifestSignature(manifestData, byPath.get(manifestSignaturePath), problem);
  const cosignatures = checkCosignatures(checkpoint, content?.cover.checkpoint?.cosignatures, problem);
  if (exporter && !cosignatures.some((c) => c.ok && c.keyFingerprint === exporter))
    problem(manifestSignaturePath, 'the key that signed the manifest has not cosigned the checkpoint');
  const proofs = parseJson(byPath.get(proofsFilePath)) as Partial<PacketProofs> | undefined;
  const proofsCheckpoint = checkpointOfValue(proofs?.checkpoint);
  if (
    !proofsCheckpoint ||
    proofsCheckpoint.rootHash !== checkpoint.rootHash ||
    proofsCheckpoint.treeSize !== checkpoint.treeSize
  )
    problem(proofsFilePath, "its checkpoint is not packet.json's");
  return { checkpoint, proofs, problems };
}

export interface ConsistencyReport {
  ok: boolean;
  old: Checkpoint | null;
  new: Checkpoint | null;
  problems: VerifyProblem[];
}

/** countersign verify OLD.zip NEW.zip. */
export function verifyPacketConsistency(oldBytes: Buffer, newBytes: Buffer): ConsistencyReport {
  const older = readPacketCheckpoint(oldBytes, 'OLD');
  const newer = readPacketCheckpoint(newBytes, 'NEW');
  const problems = [...older.problems, ...newer.problems];
  if (older.checkpoint && newer.checkpoint) {
    problems.push(
      ...consistencyProblems(older.checkpoint, newer.checkpoint, newer.proofs, {
        older: 'OLD',
        newer: 'NEW',
      }),
    );
  }
  return { ok: problems.length === 0, old: older.checkpoint, new: newer.checkpoint, problems };
}

/**
 * A packet against an archived checkpoint (a checkpoint file's): an archive at or below the packet's
 * size needs a consistency proof from it carried by the packet (equal sizes: equal roots). A packet
 * older than the archive cannot prove it alone, and says so.
 */
export function checkPacketAgainstCheckpoint(zip: Buffer, archived: Checkpoint): VerifyProblem[] {
  const packet = readPacketCheckpoint(zip, 'packet');
  if (!packet.checkpoint) return packet.problems;
  if (archived.treeSize > packet.checkpoint.treeSize) {
    return [
      ...packet.problems,
      {
        where: 'packet',
        what: `its checkpoint (${packet.checkpoint.treeSize} entries) is older than the archived one (${archived.treeSize}): it cannot prove consistency with it; export a packet after the archive was written`,
      },
    ];
  }
  return [
    ...packet.problems,
    ...consistencyProblems(archived, packet.checkpoint, packet.proofs, {
      older: 'the archived checkpoint',
      newer: 'the packet',
    }),
  ];
}

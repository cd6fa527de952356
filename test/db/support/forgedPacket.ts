// What a forger of an inspection packet can do at best: change its files, then recompute every hash
// the manifest lists (and, having changed packet.json, render every file again from it first), so
// that only what verify recomputes from the content and the audit chain can find the change. A
// format 3 packet is signed: the forger signs the recomputed manifest with a key of their own and,
// when they render again anyway, cosigns the checkpoint with it in place of the exporter's.
import { generateKeyPairSync } from 'node:crypto';
import { type Cosignature, cosignatureSigningInput } from '../../../src/main/checkpoint/checkpoint';
import { ed25519SignerOf } from '../../../src/main/checkpoint/ed25519Signer';
import { renderPacketFiles } from '../../../src/main/export/exportPacket';
import type { PacketContent } from '../../../src/main/export/packetContent';
import {
  buildManifest,
  manifestBytes,
  manifestSignaturePath,
  type PacketManifest,
  sha256OfBytes,
  signManifest,
} from '../../../src/main/export/packetManifest';
import { readStoredZip, writeStoredZip, type ZipEntry } from '../../../src/main/export/storedZip';
import { canonicalJson } from '../../../src/shared/canonicalJson';

const forgerSigner = ed25519SignerOf(generateKeyPairSync('ed25519').privateKey);

/** The packet with its files changed by `change` and every hash recomputed (`rerender`: every file rendered again from packet.json first). */
export function forgePacket(
  entries: ZipEntry[],
  change: (files: Map<string, Buffer>) => void,
  rerender = false,
): Buffer {
  const files = new Map<string, Buffer>(entries.map((e) => [e.path, Buffer.from(e.data)]));
  change(files);
  const signer = files.has(manifestSignaturePath) ? forgerSigner : null;
  let content = JSON.parse((files.get('packet.json') as Buffer).toString('utf8')) as PacketContent;
  if (signer && rerender && content.cover.checkpoint) {
    const { cosignatures: _exporters, ...checkpoint } = content.cover.checkpoint;
    const unsigned = {
      ...checkpoint,
      cosignedAt: content.cover.generatedAt,
      userId: 'forger',
      keyFingerprint: signer.keyFingerprint,
      publicKey: signer.publicKey,
    };
    const cosignature: Cosignature = {
      ...unsigned,
      printedName: 'Forger',
      signature: signer.sign(cosignatureSigningInput(unsigned)),
    };
    content.cover.checkpoint.cosignatures = [cosignature];
    files.set('packet.json', Buffer.from(canonicalJson(content), 'utf8'));
    content = JSON.parse((files.get('packet.json') as Buffer).toString('utf8')) as PacketContent;
  }
  const packetJson = files.get('packet.json') as Buffer;
  const documentHash = sha256OfBytes(packetJson);
  if (rerender) for (const [path, data] of renderPacketFiles(content, documentHash)) files.set(path, data);
  const manifest = JSON.parse((files.get('manifest.json') as Buffer).toString('utf8')) as PacketManifest;
  const listed = manifest.files.map((f) => {
    const data = files.get(f.path) as Buffer;
    return { path: f.path, sha256: sha256OfBytes(data), bytes: data.length };
  });
  const newManifest = manifestBytes(buildManifest(content, documentHash, listed, manifest.pdfRenderer));
  files.set('manifest.json', newManifest);
  if (signer) files.set(manifestSignaturePath, signManifest(newManifest, signer));
  return writeStoredZip(entries.map((e) => ({ path: e.path, data: files.get(e.path) as Buffer })));
}

/** The packet with its packet.json changed by `change`, every file rendered again and every hash recomputed. */
export function forgePacketContent(packet: Buffer, change: (content: PacketContent) => void): Buffer {
  return forgePacket(
    readStoredZip(packet),
    (files) => {
      const content = JSON.parse((files.get('packet.json') as Buffer).toString('utf8')) as PacketContent;
      change(content);
      files.set('packet.json', Buffer.from(canonicalJson(content), 'utf8'));
    },
    true,
  );
}

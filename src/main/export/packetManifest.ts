// manifest.json: the SHA-256 of every other file of the packet, the document hash (packet.json),
// the chain head the content was verified against, and for each signature the audit_log entry
// (seq and entry hash) that recorded it; chain/audit_log.jsonl holds every entry from genesis to
// the head, so each of them is checked by recomputing the chain. RFC 8785 canonical, like packet.json.
// Format 3 (issue 24): the chain file holds only the scope's entries, chain/proofs.json their proofs
// against the checkpoint the manifest names; the manifest names the PDF renderer and is signed by the
// exporting workstation's Ed25519 key (manifest.sig, outside the manifest: it signs its bytes).
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../shared/canonicalJson';
import type { Checkpoint, Ed25519Signer } from '../checkpoint/checkpoint';
import type { PacketChainState, PacketContent } from './packetContent';

export const manifestFormat = 'countersign.inspection-packet.manifest';

export interface ManifestFile {
  path: string;
  sha256: string;
  bytes: number;
}

export interface PacketManifest {
  format: typeof manifestFormat;
  formatVersion: number;
  documentHash: string;
  generatedAt: string;
  scope: string;
  chain: PacketChainState & { file: string };
  signatures: { signatureId: string; stagingId: string; contentHash: string; chainSeq: number | null }[];
  files: ManifestFile[];
  /** Format 3: the checkpoint the entries are proven against, the proofs file and the PDF renderer. */
  checkpoint?: Checkpoint & { proofsFile: string };
  pdfRenderer?: { name: string; version: string };
}

/** manifest.sig: the exporter's Ed25519 signature of manifest.json's bytes (format 3). */
export interface ManifestSignature {
  format: typeof manifestSignatureFormat;
  /** Raw 32-byte Ed25519 public key, base64. */
  publicKey: string;
  /** SHA-256 of the raw public key, hex: the key the exporter's checkpoint cosignature is by. */
  keyFingerprint: string;
  /** Base64 Ed25519 signature of manifest.json's bytes. */
  signature: string;
}

export const manifestSignatureFormat = 'countersign.inspection-packet.manifest-signature';
export const manifestSignaturePath = 'manifest.sig';
export const proofsFilePath = 'chain/proofs.json';

export function signManifest(manifest: Buffer, signer: Ed25519Signer): Buffer {
  const sig: ManifestSignature = {
    format: manifestSignatureFormat,
    publicKey: signer.publicKey,
    keyFingerprint: signer.keyFingerprint,
    signature: signer.sign(manifest),
  };
  return Buffer.from(canonicalJson(sig), 'utf8');
}

export const chainFilePath = 'chain/audit_log.jsonl';

export function sha256OfBytes(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function buildManifest(
  content: PacketContent,
  documentHash: string,
  files: ManifestFile[],
  pdfRenderer?: { name: string; version: string },
): PacketManifest {
  const checkpoint = content.cover.checkpoint;
  return {
    ...(checkpoint
      ? {
          checkpoint: {
            treeSize: checkpoint.treeSize,
            rootHash: checkpoint.rootHash,
            subjectRoot: checkpoint.subjectRoot,
            proofsFile: proofsFilePath,
          },
        }
      : {}),
    ...(pdfRenderer ? { pdfRenderer } : {}),
    format: manifestFormat,
    formatVersion: content.formatVersion,
    documentHash,
    generatedAt: content.cover.generatedAt,
    scope: content.cover.scope.description,
    chain: { ...content.cover.chain, file: chainFilePath },
    signatures: content.stagingRecords.flatMap((r) =>
      r.signatures.map((s) => ({
        signatureId: s.id,
        stagingId: r.id,
        contentHash: s.contentHash,
        chainSeq: s.chainSeq,
      })),
    ),
    files,
  };
}

export function manifestBytes(manifest: PacketManifest): Buffer {
  return Buffer.from(canonicalJson(manifest), 'utf8');
}

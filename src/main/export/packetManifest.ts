// manifest.json: the SHA-256 of every other file of the packet, the document hash (packet.json),
// the chain head the content was verified against, and for each signature the audit_log entry
// (seq and entry hash) that recorded it; chain/audit_log.jsonl holds every entry from genesis to
// the head, so each of them is checked by recomputing the chain. RFC 8785 canonical, like packet.json.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../shared/canonicalJson';
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
}

export const chainFilePath = 'chain/audit_log.jsonl';

export function sha256OfBytes(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function buildManifest(
  content: PacketContent,
  documentHash: string,
  files: ManifestFile[],
): PacketManifest {
  return {
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

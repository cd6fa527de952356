// What a Part 11 signature binds to, computed in the workstation exactly as the server computes it
// (cs_private.signing_content_hash_at in supabase/migrations/0054_protocol_builds.sql): the proposal,
// the hash of the live row it was reviewed against and, from content-hash version 2 on, the protocol
// build it was written under, hashed as SHA-256 over RFC 8785 canonical JSON. The server recomputes
// it and refuses a signature whose hash differs.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../shared/canonicalJson';

/**
 * The versions of what is signed (cro.signature_event.content_hash_version): 1 before migration
 * 0054 (the six keys), 2 since (the six keys and "build_id"). A signature is checked at the version
 * it recorded; a new one is made at the latest.
 */
export const contentHashVersions = [1, 2] as const;
export type ContentHashVersion = (typeof contentHashVersions)[number];
export const latestContentHashVersion: ContentHashVersion = 2;

export interface SigningSubject {
  stagingRecordId: string;
  studyId: string;
  entityKind: string;
  /** null for a proposal that creates a new live row. */
  entityId: string | null;
  proposedState: unknown;
  /** The live row as the server's to_jsonb renders it in UTC; null for a new row. */
  liveRow: unknown;
  /** The protocol build the proposal was written under (cro.staging_record.build_id); signed from version 2. */
  buildId: string | null;
}

/** A signature's version as its server row records it: absent (a row from before 0054) is 1. */
export function contentHashVersionOf(recorded: unknown): ContentHashVersion {
  return recorded === 2 || recorded === '2' ? 2 : 1;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Bookkeeping columns of a live row that are not part of what is signed (migration 0022). */
const unsignedLiveColumns = new Set(['sync_xid']);

function signedLiveRow(liveRow: unknown): unknown {
  if (typeof liveRow !== 'object' || liveRow === null || Array.isArray(liveRow)) return liveRow;
  return Object.fromEntries(Object.entries(liveRow).filter(([key]) => !unsignedLiveColumns.has(key)));
}

/** The signed content at `version` (default: the latest, as a new signature is made). */
export function signingContent(
  subject: SigningSubject,
  version: ContentHashVersion = latestContentHashVersion,
): Record<string, unknown> {
  const content: Record<string, unknown> = {
    staging_record_id: subject.stagingRecordId,
    study_id: subject.studyId,
    entity_kind: subject.entityKind,
    entity_id: subject.entityId,
    proposed_state: subject.proposedState,
    live_row_sha256:
      subject.entityId === null || subject.liveRow === null
        ? null
        : sha256Hex(canonicalJson(signedLiveRow(subject.liveRow))),
  };
  if (version >= 2) content.build_id = subject.buildId;
  return content;
}

export function contentHash(
  subject: SigningSubject,
  version: ContentHashVersion = latestContentHashVersion,
): string {
  return sha256Hex(canonicalJson(signingContent(subject, version)));
}

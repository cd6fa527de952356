// What a Part 11 signature binds to, computed in the workstation exactly as the server computes it
// (cs_private.signing_content in supabase/migrations/0014_sign_batch.sql): the proposal and the
// hash of the live row it was reviewed against, hashed as SHA-256 over RFC 8785 canonical JSON.
// The server recomputes it and refuses a signature whose hash differs.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../shared/canonicalJson';

export interface SigningSubject {
  stagingRecordId: string;
  studyId: string;
  entityKind: string;
  /** null for a proposal that creates a new live row. */
  entityId: string | null;
  proposedState: unknown;
  /** The live row as the server's to_jsonb renders it in UTC; null for a new row. */
  liveRow: unknown;
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

export function signingContent(subject: SigningSubject): Record<string, unknown> {
  return {
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
}

export function contentHash(subject: SigningSubject): string {
  return sha256Hex(canonicalJson(signingContent(subject)));
}

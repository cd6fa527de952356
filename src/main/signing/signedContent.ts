// What each signature of a record covered, recomputed from the record: the proposal, the identity
// of the live row and the hash of that row as it was when signed (cs_private.signing_content). For
// a promoted record that row is the one the promotion replaced, which the server keeps in the
// promotion's provenance since migration 0053 (`live_row_before`, null for a new record); for any
// other record it is the live row as it is now, so a mismatch there means the row (or the proposal)
// changed after signing, which promotion would refuse as a conflict. Each signature is recomputed at
// the content-hash version it recorded (0054): version 1 without the build, version 2 with the build
// the record was written under.
import { canonicalJson } from '../../shared/canonicalJson';
import type { SignedContentCheck, StagingDetailRead } from '../../shared/contract';
import {
  type ContentHashVersion,
  contentHashVersionOf,
  type SigningSubject,
  sha256Hex,
  signingContent,
} from './contentHash';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The live row each signature was computed over, its entity id then, and how that is known. */
function signedAgainst(
  detail: StagingDetailRead,
): { entityId: string | null; liveRow: unknown; basis: string } | { unknown: string } {
  const { record } = detail;
  if (record.state === 'promoted') {
    const promotion = detail.provenance
      .filter(
        (event) =>
          event.action === 'promote' && isRecord(event.payload) && event.payload.staging_id === record.id,
      )
      .at(-1);
    const payload = promotion?.payload;
    if (!isRecord(payload) || !Object.hasOwn(payload, 'live_row_before')) {
      return {
        unknown:
          'the live row it replaced was not recorded (promoted before the server kept it): the hash cannot be recomputed',
      };
    }
    return payload.live_row_before === null
      ? { entityId: null, liveRow: null, basis: 'a new record: no live row was replaced' }
      : {
          entityId: record.entityId,
          liveRow: payload.live_row_before,
          basis: 'the live row as it was just before promotion',
        };
  }
  if (record.entityId === null) return { entityId: null, liveRow: null, basis: 'a new record: no live row' };
  if (record.liveRow === null) return { unknown: 'the live row is not visible here' };
  return { entityId: record.entityId, liveRow: record.liveRow, basis: 'the live row as it is now' };
}

/** The signing content at a version (its shape is cs_private.signing_content_hash_at's, fixed by contentHash.ts). */
function contentOf(subject: SigningSubject, version: ContentHashVersion): SignedContentCheck['content'] {
  return signingContent(subject, version) as SignedContentCheck['content'];
}

export function signedContentChecks(detail: StagingDetailRead): SignedContentCheck[] {
  const { record } = detail;
  const against = signedAgainst(detail);
  return detail.signatures.map((signature) => {
    const contentHashVersion = contentHashVersionOf(signature.contentHashVersion);
    const subject: SigningSubject = {
      stagingRecordId: record.id,
      studyId: record.studyId,
      entityKind: record.entityKind,
      entityId: 'unknown' in against ? record.entityId : against.entityId,
      proposedState: record.proposedState,
      liveRow: 'unknown' in against ? null : against.liveRow,
      buildId: record.build?.id ?? null,
    };
    const base = { signatureId: signature.id, contentHashVersion };
    const unknown = (basis: string) => ({
      ...base,
      content: { ...contentOf({ ...subject, liveRow: null }, contentHashVersion), live_row_sha256: null },
      recomputedHash: null,
      verdict: 'unknown' as const,
      basis,
    });
    if ('unknown' in against) return unknown(against.unknown);
    if (contentHashVersion >= 2 && subject.buildId === null) {
      return unknown(
        'the build the record was written under is not known here: the hash cannot be recomputed',
      );
    }
    try {
      const content = contentOf(subject, contentHashVersion);
      const recomputedHash = sha256Hex(canonicalJson(content));
      return {
        ...base,
        content,
        recomputedHash,
        verdict: recomputedHash === signature.contentHash ? ('matches' as const) : ('differs' as const),
        basis: against.basis,
      };
    } catch {
      // Text JSON cannot carry canonically (a lone surrogate): the server would have refused it too.
      return unknown('the content cannot be put in canonical form');
    }
  });
}

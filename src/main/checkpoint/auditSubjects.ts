// Which record(s) an audit entry is about, from its event type and payload alone: the subject map of
// a checkpoint (src/main/checkpoint/checkpoint.ts) lists, for every record, the seqs of the entries about it,
// so a packet can prove a record's history complete without carrying the rest of the chain. The
// payloads already name their record (staging_id, subject_id, event_uuid, build_id), so entries
// written before issue 24 need no change (docs/decisions.md). packetContent.ts's chain index reads the
// same classification, so there is one copy.
import { canonicalJson } from '../../shared/canonicalJson';
import { leafHash } from './merkleTree';

/**
 * A staging record (CRO data), a diary event (a patient's entry), a protocol build, or a study: the
 * study subject lists every entry about its staging records, their signatures and its builds, so a
 * study packet proves that no record of the study was left out (not only that each record it holds
 * is whole).
 */
export type AuditSubject = `staging:${string}` | `diary:${string}` | `build:${string}` | `study:${string}`;

export function stagingSubject(id: string): AuditSubject {
  return `staging:${id}`;
}
export function diarySubject(eventUuid: string): AuditSubject {
  return `diary:${eventUuid}`;
}
export function buildSubject(buildId: string): AuditSubject {
  return `build:${buildId}`;
}
export function studySubject(studyId: string): AuditSubject {
  return `study:${studyId}`;
}

/** The record subject, and its study's when the payload names the study. */
function withStudy(subject: AuditSubject, payload: Record<string, unknown>): AuditSubject[] {
  return typeof payload.study_id === 'string' ? [subject, studySubject(payload.study_id)] : [subject];
}

/** Whether entries of this type can be about a record at all (the rest need no payload parse). */
export function mayHaveSubject(eventType: string): boolean {
  return (
    eventType.startsWith('staging.') ||
    eventType === 'signature.recorded' ||
    eventType.startsWith('diary.') ||
    eventType.startsWith('study_build.')
  );
}

/**
 * The subjects of one entry (usually one, none for entries about no record: sign-ins, people,
 * studies). A signature is about the staging record it signs; a diary annotation about its event.
 */
export function auditSubjectsOf(eventType: string, payload: Record<string, unknown>): AuditSubject[] {
  if (eventType.startsWith('study_build.')) {
    return typeof payload.build_id === 'string' ? withStudy(buildSubject(payload.build_id), payload) : [];
  }
  if (eventType.startsWith('staging.')) {
    return typeof payload.staging_id === 'string'
      ? withStudy(stagingSubject(payload.staging_id), payload)
      : [];
  }
  if (eventType === 'signature.recorded') {
    return payload.subject_kind === 'staging_record' && typeof payload.subject_id === 'string'
      ? withStudy(stagingSubject(payload.subject_id), payload)
      : [];
  }
  if (eventType.startsWith('diary.')) {
    if (typeof payload.event_uuid === 'string') return [diarySubject(payload.event_uuid)];
    return [];
  }
  return [];
}

/**
 * The subject map's leaf for one record at a tree size: RFC 8785 JSON {subject, seqs} (seqs ascending,
 * every entry about the subject up to that size). The map is the RFC 9162 tree of these leaves over
 * the subjects in ascending key order (UTF-16 code units; the keys are ASCII).
 */
export function subjectLeafBytes(subject: string, seqs: readonly number[]): Buffer {
  return Buffer.from(canonicalJson({ subject, seqs }), 'utf8');
}

export function subjectLeafHash(subject: string, seqs: readonly number[]): Buffer {
  // Safe integers print alike in RFC 8785 and Array#join; anything else goes through canonicalJson.
  return seqs.every(Number.isSafeInteger)
    ? subjectLeafHashOfList(subject, seqs.join(','))
    : leafHash(subjectLeafBytes(subject, seqs));
}

/**
 * subjectLeafHash from the seqs as SQLite's group_concat gives them ("3,17,42"): the same RFC 8785
 * bytes built directly (keys "seqs" < "subject"; integers print alike; a subject key is ASCII, which
 * JSON.stringify escapes as RFC 8785 does). Tested equal to subjectLeafHash.
 */
export function subjectLeafHashOfList(subject: string, commaSeparatedSeqs: string): Buffer {
  return leafHash(
    Buffer.from(`{"seqs":[${commaSeparatedSeqs}],"subject":${JSON.stringify(subject)}}`, 'utf8'),
  );
}

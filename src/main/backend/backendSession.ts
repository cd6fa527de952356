// What the workstation needs from a signed-in person's session, whichever backend holds it: the
// PostgreSQL session (embedded and postgres modes) and the Supabase session (hosted mode) both
// provide it, so the services and the contract handlers do not depend on the mode.
import type { StagingDetailRead, StudyBuild } from '../../shared/contract';
import type { AdministrationFunction } from '../admin/peopleAdministration';
import type { SecurityAlertsBackend } from '../admin/securityAlerts';
import type { DiaryCorrectionsBackend } from '../diary/diaryCorrections';
import type { SigningBackend } from '../signing/signingBackend';
import type { TotpEnrolmentOffer } from '../signing/totpEnrolment';
import type { SessionIdentity, StagingQueueQuery, StagingQueueResult } from './postgres/postgresSession';

export interface BackendSession {
  readonly identity: SessionIdentity;
  signingBackend(): SigningBackend;
  stagingQueue(query: StagingQueueQuery): Promise<StagingQueueResult>;
  stagingDetail(id: string): Promise<StagingDetailRead>;
  /** A study's protocol builds (every study's when null), read from the server before a cache holds them. */
  studyBuilds(studyId: string | null): Promise<StudyBuild[]>;
  /**
   * Where the backend itself issues TOTP secrets (Supabase Auth's mfa.enroll), the offer comes from
   * the session; elsewhere the workstation generates the secret (signing/totpEnrolment.ts).
   */
  offerTotpEnrolment?(): Promise<TotpEnrolmentOffer>;
  /** Rows of public.people_directory() (issue 19), read from the server before a cache holds them. */
  peopleDirectory?(): Promise<unknown[]>;
  /** One Administration API function of 0057 (people, assignments, role changes, deactivation). */
  callAdministration?(fn: AdministrationFunction, args: Record<string, unknown>): Promise<unknown[]>;
  /** Security alerts and unlocking (migration 0056); the server lets administrators only. */
  securityAlerts(): SecurityAlertsBackend;
  /** Diary corrections (admins) and their review (investigators of the site), migration 0059. */
  diaryCorrections(): DiaryCorrectionsBackend;
  close(): Promise<void>;
}

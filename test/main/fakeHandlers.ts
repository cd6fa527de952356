// Contract handlers with canned answers, standing in for the workstation (no database needed).
import { UserFacingError } from '../../src/main/userFacingError';
import type { BackendStatus, ContractHandlers, SyncStatus } from '../../src/shared/contract';
import { queueColumnsOf } from '../../src/shared/stagingQueueColumns';

export const readyStatus: BackendStatus = {
  mode: 'embedded',
  state: 'ready',
  message: 'Embedded PostgreSQL is running.',
  serverVersion: '18.0',
  schemaVersion: '0001_init.sql',
  demoUsers: [],
  session: null,
};

export const stagingRow = {
  id: '2f1d7c4e-8a5b-4c3d-9e2f-1a2b3c4d5e6f',
  state: 'proposed',
  entityKind: 'study',
  studyId: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d',
  studyCode: 'CS-001',
  agentId: 'agent-7',
  modelVersion: 'm-1',
  createdAt: '2025-01-01T00:00:00Z',
  changeSummary: 'health: green → red',
  targetTitle: 'CS-001',
  build: null,
} as const;

export const offlineSyncStatus: SyncStatus = {
  cacheOpen: false,
  online: false,
  workOffline: false,
  offlineSince: null,
  lastSyncedAt: null,
  syncing: false,
  progress: null,
  lastError: null,
  quarantined: 0,
  outbox: { pending: 0, conflict: 0, failed: 0 },
  chain: null,
  keyProtection: 'a test key',
};

const unlocked = { locked: false, idleLockSeconds: 600, attemptsLeft: 5 };

const noCache = async (): Promise<never> => {
  throw new Error('no cache in the fake handlers');
};

export interface RecordedCall {
  channel: string;
  request: unknown;
}

export function fakeHandlers(calls: RecordedCall[] = []): ContractHandlers {
  return {
    'backend.status': async (request) => {
      calls.push({ channel: 'backend.status', request });
      return readyStatus;
    },
    'backend.configure': async (request) => {
      calls.push({ channel: 'backend.configure', request });
      return readyStatus;
    },
    'session.signIn': async (request) => {
      calls.push({ channel: 'session.signIn', request });
      return { ok: false, error: `No user ${request.email}.` };
    },
    'session.signOut': async (request) => {
      calls.push({ channel: 'session.signOut', request });
      return readyStatus;
    },
    'session.changePassword': async (request) => {
      calls.push({ channel: 'session.changePassword', request });
      return { ok: true, status: readyStatus };
    },
    // Idle lock (issue 21): never locked in the fakes.
    'session.lockState': async () => unlocked,
    'session.activity': async () => unlocked,
    'session.unlock': async () => ({ ok: true, lock: unlocked }),
    'session.changeRequiredPassword': async (request) => {
      calls.push({ channel: 'session.changeRequiredPassword', request });
      return { ok: true, status: readyStatus };
    },
    'staging.queue': async (request) => {
      calls.push({ channel: 'staging.queue', request });
      return {
        columns: queueColumnsOf([stagingRow]),
        nextCursor: null,
        countsByState: { proposed: 1, reviewing: 0, signed: 0, promoted: 0, rejected: 0 },
      };
    },
    'staging.detail': notFaked(calls, 'staging.detail'),
    'staging.openForReview': notFaked(calls, 'staging.openForReview'),
    'staging.promote': notFaked(calls, 'staging.promote'),
    'signing.status': notFaked(calls, 'signing.status'),
    'signing.meanings': notFaked(calls, 'signing.meanings'),
    'signing.manifest': notFaked(calls, 'signing.manifest'),
    'signing.sign': notFaked(calls, 'signing.sign'),
    'totp.beginEnrolment': notFaked(calls, 'totp.beginEnrolment'),
    'totp.confirmEnrolment': notFaked(calls, 'totp.confirmEnrolment'),
    'recovery.status': notFaked(calls, 'recovery.status'),
    'recovery.generate': notFaked(calls, 'recovery.generate'),
    'admin.alerts': notFaked(calls, 'admin.alerts'),
    'admin.reviewAlert': notFaked(calls, 'admin.reviewAlert'),
    'admin.unlock': notFaked(calls, 'admin.unlock'),
    'admin.people': notFaked(calls, 'admin.people'),
    'admin.roleRequests': notFaked(calls, 'admin.roleRequests'),
    'admin.requestRoleChange': notFaked(calls, 'admin.requestRoleChange'),
    'admin.decideRoleChange': notFaked(calls, 'admin.decideRoleChange'),
    'admin.deactivate': notFaked(calls, 'admin.deactivate'),
    'admin.assignSite': notFaked(calls, 'admin.assignSite'),
    'admin.unassignSite': notFaked(calls, 'admin.unassignSite'),
    'admin.requirePasswordChange': notFaked(calls, 'admin.requirePasswordChange'),
    'demo.totpCode': async (request) => {
      calls.push({ channel: 'demo.totpCode', request });
      return { code: null, secondsLeft: 30 };
    },
    'sync.status': async () => offlineSyncStatus,
    'sync.now': async () => offlineSyncStatus,
    'sync.setOffline': async () => offlineSyncStatus,
    'sync.quarantine': noCache,
    'chain.verify': noCache,
    'record.trail': noCache,
    'provenance.list': noCache,
    'signatures.list': noCache,
    'audit.list': noCache,
    'people.list': async () => ({ people: [] }),
    'builds.list': noCache,
    'builds.diff': noCache,
    'studies.list': noCache,
    'diary.records': noCache,
    'diary.annotate': noCache,
    'diary.patients': noCache,
    'diary.history': noCache,
    'diary.resolve': noCache,
    'diary.correct': notFaked(calls, 'diary.correct'),
    'diary.correctionReviews': noCache,
    'diary.reviewCorrection': notFaked(calls, 'diary.reviewCorrection'),
    'diary.transcriptionForm': noCache,
    'diary.transcribe': noCache,
    'diary.events': noCache,
    'diary.conflicts': noCache,
    'diary.resolveConflict': notFaked(calls, 'diary.resolveConflict'),
    'diary.discardEvent': noCache,
    'outbox.list': noCache,
    'outbox.resolve': noCache,
    'export.packet': noCache,
    'export.verify': noCache,
    'export.cancel': async () => ({ cancelled: false }),
    'export.saveAs': noCache,
    'analysis.entries': noCache,
    'analysis.export': noCache,
  };
}

/** A channel these tests do not exercise: records the call and fails as a signed-out workstation would. */
function notFaked(calls: RecordedCall[], channel: string) {
  return async (request: unknown): Promise<never> => {
    calls.push({ channel, request });
    throw new UserFacingError('Sign in first.');
  };
}

// The admin's correction as the main process runs it: the password and code are proved through the
// signers' re-authentication first, and only a verified ceremony is spent on the correction; a
// record that moved on comes back with its current values; offline nothing is sent.
import { describe, expect, it } from 'vitest';
import {
  correctDiaryRecord,
  type DiaryCorrectionsBackend,
  DiaryRecordMovedOn,
  reviewDiaryCorrection,
} from '../../../src/main/diary/diaryCorrections';
import { guardServerWrites } from '../../../src/main/serverWriteGuard';
import type { ReauthOutcome, SigningBackend } from '../../../src/main/signing/signingBackend';
import type { DiaryCorrectionRequest } from '../../../src/shared/contract';
import { fakeHandlers, type RecordedCall } from '../fakeHandlers';

const request: DiaryCorrectionRequest = {
  eventUuid: '0b6c3b9e-3f5a-4b8e-9a57-5d2f0f1d2c3a',
  parentAuditId: 41,
  data: { event_type: 'epistaxis', date: '2026-11-02', duration_minutes: 12 },
  justification: '  Patient phoned: the timer was read in seconds  ',
  password: 'Admin-Harbour-2025',
  totpCode: '123456',
};

function fakes(outcome: ReauthOutcome, correct?: DiaryCorrectionsBackend['correct']) {
  const reauthenticated: string[] = [];
  const corrected: Parameters<DiaryCorrectionsBackend['correct']>[0][] = [];
  const signing = {
    reauthenticate: async (ceremonyId: string) => {
      reauthenticated.push(ceremonyId);
      return outcome;
    },
  } as unknown as SigningBackend;
  const corrections: DiaryCorrectionsBackend = {
    correct:
      correct ??
      (async (correction) => {
        corrected.push(correction);
        return {
          auditId: 42,
          reviewId: '9d1c3b9e-3f5a-4b8e-9a57-5d2f0f1d2c3a',
          changedFields: ['duration_minutes'],
        };
      }),
    review: async () => undefined,
  };
  return { signing, corrections, reauthenticated, corrected };
}
const verified: ReauthOutcome = { ok: true, reAuthAt: '2026-12-07T10:00:00.000Z' };

describe('correcting a diary entry from the workstation [DIARY-ADMIN-CORRECTION, UI-DIARY-CORRECTION]', () => {
  it('spends the verified re-authentication of its own ceremony on the correction, with the trimmed justification, and logs no value', async () => {
    const world = fakes(verified);
    const lines: string[] = [];
    expect(
      await correctDiaryRecord(world.signing, world.corrections, request, (line) => lines.push(line)),
    ).toEqual({
      ok: true,
      auditId: 42,
      reviewId: '9d1c3b9e-3f5a-4b8e-9a57-5d2f0f1d2c3a',
      changedFields: ['duration_minutes'],
    });
    expect(world.corrected).toEqual([
      {
        eventUuid: request.eventUuid,
        parentAuditId: 41,
        data: request.data,
        justification: 'Patient phoned: the timer was read in seconds',
        ceremonyId: world.reauthenticated[0],
      },
    ]);
    const logged = lines.join('\n');
    for (const secret of [request.password, request.totpCode, 'duration', 'timer', '2026-11-02']) {
      expect(logged).not.toContain(secret);
    }
  });

  it('names the field to fix and sends nothing: no justification, a malformed code, a wrong password or code', async () => {
    const none = fakes(verified);
    expect(
      await correctDiaryRecord(
        none.signing,
        none.corrections,
        { ...request, justification: '   ' },
        () => undefined,
      ),
    ).toMatchObject({ ok: false, field: 'justification' });
    expect(
      await correctDiaryRecord(
        none.signing,
        none.corrections,
        { ...request, totpCode: '12a' },
        () => undefined,
      ),
    ).toMatchObject({ ok: false, field: 'code', error: 'The authenticator code is 6 digits.' });
    expect(none.reauthenticated).toEqual([]);
    for (const [reason, field] of [
      ['wrong_password', 'password'],
      ['totp_wrong', 'code'],
    ] as const) {
      const world = fakes({ ok: false, reason, locked: false, attemptsLeft: 3 });
      const outcome = await correctDiaryRecord(world.signing, world.corrections, request, () => undefined);
      expect(outcome).toMatchObject({ ok: false, field, locked: false });
      expect(outcome.ok === false && outcome.error).toMatch(/3 attempts left before your account is locked/);
      expect(world.corrected).toEqual([]);
    }
  });

  it('returns the current values when the record moved on since it was read', async () => {
    const current = { auditId: 57, version: 4, data: { event_type: 'epistaxis', duration_minutes: 30 } };
    const world = fakes(verified, async () => {
      throw new DiaryRecordMovedOn(current);
    });
    expect(await correctDiaryRecord(world.signing, world.corrections, request, () => undefined)).toEqual({
      ok: false,
      error: expect.stringMatching(/changed since you opened it/),
      field: null,
      locked: false,
      current,
    });
  });

  it('refuses a dispute without a comment before anything is sent [DIARY-CORRECTION-REVIEW]', async () => {
    const sent: unknown[] = [];
    const corrections: DiaryCorrectionsBackend = {
      correct: async () => {
        throw new Error('not called');
      },
      review: async (...args) => {
        sent.push(args);
      },
    };
    const reviewId = '9d1c3b9e-3f5a-4b8e-9a57-5d2f0f1d2c3a';
    await expect(
      reviewDiaryCorrection(corrections, { reviewId, decision: 'disputed', comment: '  ' }, () => undefined),
    ).rejects.toThrow(/a comment is required/);
    await reviewDiaryCorrection(
      corrections,
      { reviewId, decision: 'acknowledged', comment: ' ' },
      () => undefined,
    );
    expect(sent).toEqual([[reviewId, 'acknowledged', null]]);
  });

  it('refuses the correction and the review while working offline, and sends nothing', async () => {
    const calls: RecordedCall[] = [];
    const handlers = guardServerWrites(fakeHandlers(calls), {
      workOffline: () => true,
      connectionLost: () => false,
      reconnect: async () => false,
      noteConnectionLost: () => undefined,
    });
    await expect(handlers['diary.correct'](request)).rejects.toThrow(
      /working offline: correcting a diary entry needs the server, and nothing was sent/,
    );
    await expect(
      handlers['diary.reviewCorrection']({
        reviewId: '9d1c3b9e-3f5a-4b8e-9a57-5d2f0f1d2c3a',
        decision: 'acknowledged',
        comment: null,
      }),
    ).rejects.toThrow(/working offline: reviewing a correction needs the server/);
    expect(calls).toEqual([]);
  });
});

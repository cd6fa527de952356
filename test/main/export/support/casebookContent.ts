// A format 3 packet's content for the casebook PDF tests: one staging record with a signature and
// provenance, and diary records whose values and annotations are in every script the PDF must show
// (Hebrew, Arabic with lam-alef, Japanese, Chinese, Cyrillic, Greek, combining marks, emoji) and one
// 6,000-character value without a space.
import type { PacketContent } from '../../../../src/main/export/packetContent';

export const scripts = {
  hebrew: 'המטופל דיווח על דימום מהאף במשך עשר דקות',
  arabic: 'أبلغ المريض عن نزيف في الأنف، لا ألم اليوم',
  japanese: '患者は鼻血が十分間続いたと報告しました',
  chinese: '患者报告鼻出血持续了十分钟',
  cyrillic: 'Пациент сообщил о носовом кровотечении',
  greek: 'Ο ασθενής ανέφερε ρινορραγία',
  combining: 'Zoe\u0308 ate cre\u0300me bru\u0302le\u0301e',
  emoji: 'Feeling better 😀 👍 ❤',
};

export const longLine = Array.from({ length: 600 }, (_, i) => `${String(i).padStart(4, '0')}ABCDEF`).join('');

const person = (userId: string, name: string, roles: string[]) => ({ userId, agentId: null, name, roles });

export function casebookContent(diaryCount = 8): PacketContent {
  const values = Object.values(scripts);
  return {
    format: 'countersign.inspection-packet',
    formatVersion: 3,
    cover: {
      scope: {
        selector: { kind: 'study', studyId: 'study-1' },
        from: null,
        to: null,
        description: 'study AUR-HHT-201',
      },
      generatedBy: { userId: 'user-ines', printedName: 'Ines Inspector', roles: ['inspector'] },
      generatedAt: '2026-03-04T05:06:07.089Z',
      timeZone: 'Asia/Jerusalem',
      cacheSyncedAt: '2026-03-04T05:00:00.000Z',
      chain: {
        headSeq: 42,
        headHash: 'a'.repeat(64),
        verifiedAt: '2026-03-04T05:05:00.000Z',
        broken: null,
        entries: 42,
      },
      checkpoint: {
        treeSize: 42,
        rootHash: 'b'.repeat(64),
        subjectRoot: 'c'.repeat(64),
        cosignatures: [
          {
            treeSize: 42,
            rootHash: 'b'.repeat(64),
            subjectRoot: 'c'.repeat(64),
            cosignedAt: '2026-03-04T05:05:30.000Z',
            userId: 'user-ines',
            printedName: 'Ines Inspector',
            publicKey: `${'A'.repeat(43)}=`,
            keyFingerprint: 'd'.repeat(64),
            signature: 'e'.repeat(86),
          },
        ],
      },
      counts: {
        stagingRecords: 1,
        signatures: 1,
        diaryRecords: diaryCount,
        annotations: diaryCount,
        builds: 0,
      },
    },
    studies: [{ id: 'study-1', code: 'AUR-HHT-201', doc: {} }],
    sites: [{ siteId: 'HHT-101', studyId: 'study-1', doc: {} }],
    stagingRecords: [
      {
        id: 'staging-1',
        studyId: 'study-1',
        studyCode: 'AUR-HHT-201',
        entityKind: 'study_kpi',
        entityId: 'kpi-1',
        state: 'signed',
        agentId: 'agent-1',
        createdAt: '2026-03-01T10:00:00.000Z',
        updatedAt: '2026-03-01T11:00:00.000Z',
        proposedState: { label: 'Screen failures', value: 3 },
        proposedStateSha256: 'f'.repeat(64),
        liveRow: { label: 'Screen failures', value: 2 },
        changes: [{ field: 'value', old: 2, new: 3 }],
        history: [
          {
            seq: 3,
            eventType: 'staging.proposed',
            occurredAt: '2026-03-01T10:00:00.000Z',
            actor: 'agent-1',
            actorName: 'KPI agent',
            fromState: null,
            toState: 'proposed',
            signatureId: null,
          },
        ],
        signatures: [
          {
            id: 'sig-1',
            userId: 'user-pi',
            printedName: 'Dr. Dana Levi',
            intent: 'approve',
            meaning: 'I approve this value',
            comment: null,
            signedAtUtc: '2026-03-01T11:00:00.000Z',
            signedAtLocal: '2026-03-01 13:00:00 Asia/Jerusalem (GMT+02:00)',
            reAuthAtUtc: '2026-03-01T10:59:50.000Z',
            contentHash: '1'.repeat(64),
            ceremonyId: null,
            chainSeq: 4,
            signingContent: null,
            signingContentNote: 'matches',
          },
        ],
        provenance: [
          {
            id: 'prov-1',
            action: 'proposed',
            actorKind: 'agent',
            actorId: 'agent-1',
            actorName: 'KPI agent',
            occurredAt: '2026-03-01T10:00:00.000Z',
            model: { provider: 'anthropic', modelId: 'model-x', versionId: null, version: null },
            citations: [{ source: 'EDC export', row: 12 }],
            payload: {},
          },
        ],
      },
    ],
    diaryRecords: Array.from({ length: diaryCount }, (_, i) => ({
      eventUuid: `event-${i + 1}`,
      patientId: 'patient-1',
      siteId: 'HHT-101',
      studyId: 'study-1',
      version: 1,
      isDeleted: false,
      currentData: { notes: i === 0 ? longLine : values[i % values.length], duration_minutes: 10 },
      history: [
        {
          auditId: 100 + i,
          chainSeq: 10 + i,
          operation: 'INSERT',
          createdBy: 'patient-1',
          createdByName: 'subject HHT-101-001',
          role: 'patient',
          clientTimestamp: '2026-03-02T08:00:00.000Z',
          serverTimestamp: '2026-03-02T08:00:01.000Z',
          parentAuditId: null,
          changeReason: 'initial entry',
          data: {},
          changes: [{ field: 'notes', old: null, new: values[i % values.length] }],
        },
      ],
      annotations: [
        {
          annotationId: `ann-${i}`,
          kind: 'query',
          text: values[(i + 1) % values.length],
          investigatorId: 'user-pi',
          investigatorName: 'Dr. Dana Levi',
          parentAuditId: 100 + i,
          inReplyTo: null,
          requiresResponse: true,
          resolved: false,
          createdAt: '2026-03-02T09:00:00.000Z',
          events: [
            {
              seq: 20 + i,
              eventType: 'diary.annotation',
              occurredAt: '2026-03-02T09:00:00.000Z',
              actor: 'user-pi',
              actorName: 'Dr. Dana Levi',
            },
          ],
        },
      ],
    })),
    people: [
      person('patient-1', 'subject HHT-101-001', ['patient']),
      person('user-ines', 'Ines Inspector', ['inspector']),
      person('user-pi', 'Dr. Dana Levi', ['investigator']),
    ],
    builds: [],
  } as unknown as PacketContent;
}

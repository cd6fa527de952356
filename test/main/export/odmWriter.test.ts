// A packet made before builds (format 1) renders its ODM byte for byte as Countersign rendered it
// then (one MetaDataVersion MDV.1 derived from the data): verify renders the ODM again from
// packet.json and compares it with the packet's file, so an older packet still verifies only if so.
// The expected file was rendered by the ODM writer of the release before builds.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderOdm } from '../../../src/main/export/odmWriter';
import type { PacketContent } from '../../../src/main/export/packetContent';

/** A format 1 packet's content: only what the ODM writer reads (two studies, a site, proposals, a diary record). */
const format1Content = {
  formatVersion: 1,
  cover: { generatedAt: '2026-01-02T03:04:05.000Z', generatedBy: { printedName: 'Ines <Inspector>' } },
  studies: [
    { id: 'study-1', code: 'AUR-HHT-201', doc: { title: 'HHT & epistaxis' } },
    { id: 'study-2', code: 'ONC 2', doc: {} },
  ],
  sites: [{ siteId: 'HHT-101', studyId: 'study-1', doc: { site_name: 'Site 101' } }],
  people: [{ userId: 'user-9', name: 'Nine' }],
  stagingRecords: [
    {
      id: 'staging-1',
      studyId: 'study-1',
      entityKind: 'study_kpi',
      proposedState: { value: '3', label: 'Screen failures' },
      history: [
        {
          actor: 'agent-1',
          actorName: 'Agent',
          occurredAt: '2026-01-01T10:00:00.000Z',
          eventType: 'staging.proposed',
          seq: 3,
        },
      ],
      signatures: [
        {
          userId: 'user-2',
          printedName: 'Dr. Two',
          intent: 'approve',
          meaning: 'I approve this change',
          signedAtUtc: '2026-01-01T11:00:00.000Z',
        },
      ],
    },
    {
      id: 'staging-2',
      studyId: 'study-1',
      entityKind: 'study_risk',
      proposedState: { severity: 'high' },
      history: [],
      signatures: [],
    },
    {
      id: 'staging-3',
      studyId: 'study-2',
      entityKind: 'study_kpi',
      proposedState: { value: 4 },
      history: [],
      signatures: [],
    },
  ],
  diaryRecords: [
    {
      eventUuid: 'event-1',
      patientId: 'patient-1',
      siteId: 'HHT-101',
      studyId: 'study-1',
      currentData: { date: '2026-01-01', duration_minutes: 5 },
      annotations: [{ kind: 'query', resolved: true, text: 'Checked with the patient.' }],
      history: [
        {
          auditId: 1,
          createdBy: 'patient-1',
          createdByName: null,
          serverTimestamp: '2026-01-01T08:00:00.000Z',
          changeReason: 'initial entry',
          data: { date: '2026-01-01', notes: 'after exercise' },
          changes: [{ field: 'date' }, { field: 'notes' }],
        },
        {
          auditId: 2,
          createdBy: 'patient-1',
          serverTimestamp: '2026-01-01T09:00:00.000Z',
          changeReason: 'it was shorter',
          data: { date: '2026-01-01', duration_minutes: 5 },
          changes: [{ field: 'duration_minutes' }],
        },
      ],
    },
  ],
} as unknown as PacketContent;

describe('the ODM of a packet made before builds [BUILD-VERIFY]', () => {
  it('is rendered byte for byte as before builds, so that the packet still verifies', () => {
    const expected = readFileSync(new URL('./format1Packet.odm.xml', import.meta.url), 'utf8');
    expect(renderOdm(format1Content)).toBe(expected);
  });
});

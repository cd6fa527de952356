import { describe, expect, it } from 'vitest';
import {
  allowedValuesText,
  buildsOfStudy,
  defaultComparison,
  durationText,
  errorRows,
  rangeText,
  shortSha,
  studiesOf,
} from '../../../src/renderer/src/builds/buildValues';
import type { StudyBuild } from '../../../src/shared/contract';

const hht = '11111111-1111-4111-8111-111111111111';
const onc = '22222222-2222-4222-8222-222222222222';

function build(patch: Partial<StudyBuild>): StudyBuild {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    studyId: hht,
    studyCode: 'AUR-HHT-201',
    buildNumber: 'B1',
    buildVersion: '1.0',
    status: 'COMPLETED',
    type: 'INITIAL',
    amendmentReference: null,
    description: 'Initial build',
    completedSequence: 1,
    current: true,
    superseded: false,
    startedAt: '2026-12-01T10:00:00.000Z',
    endedAt: '2026-12-01T10:00:05.000Z',
    durationSeconds: 5,
    totalForms: 2,
    totalFields: 12,
    validationRules: 8,
    errorCount: 0,
    errorLog: [],
    builtBy: '00000000-0000-4000-8000-00000000aaaa',
    createdAt: '2026-12-01T09:59:00.000Z',
    configurationSha256: 'ab'.repeat(32),
    forms: [],
    ...patch,
  };
}

describe('the build panel reads a build [BUILD-UI-PANEL]', () => {
  it('writes durations, ranges and allowed values as a data manager reads them', () => {
    expect(durationText(null)).toBeNull();
    expect(durationText(45)).toBe('45 s');
    expect(durationText(192)).toBe('3 min 12 s');
    expect(durationText(120)).toBe('2 min');
    expect(durationText(3840)).toBe('1 h 4 min');
    expect(rangeText({ min: 1, max: 240 })).toBe('1 to 240');
    expect(rangeText({ min: 0, max: null })).toBe('at least 0');
    expect(rangeText({ min: null, max: 20 })).toBe('at most 20');
    expect(rangeText({ min: null, max: null })).toBe('—');
    expect(allowedValuesText({ values: ['none', 'tranexamic acid'] })).toBe('none, tranexamic acid');
    expect(allowedValuesText({ values: null })).toBe('—');
    expect(allowedValuesText({ values: ['\u200bhidden'] })).toBe('⟦U+200B⟧hidden');
    expect(shortSha('0123456789abcdef'.repeat(4))).toBe('0123456789ab');
  });

  it('lists each study once by code, and a study’s builds newest first', () => {
    const builds = [
      build({ id: '00000000-0000-4000-8000-000000000001', studyId: onc, studyCode: 'NWO-ONC-301' }),
      build({ id: '00000000-0000-4000-8000-000000000002' }),
      build({
        id: '00000000-0000-4000-8000-000000000003',
        buildNumber: 'B2',
        createdAt: '2026-12-05T09:00:00.000Z',
      }),
    ];
    expect(studiesOf(builds)).toEqual([
      { id: hht, code: 'AUR-HHT-201' },
      { id: onc, code: 'NWO-ONC-301' },
    ]);
    expect(buildsOfStudy(builds, hht).map((b) => b.buildNumber)).toEqual(['B2', 'B1']);
  });

  it('compares the build before the current one with the current one first', () => {
    const b1 = build({ id: '00000000-0000-4000-8000-000000000001', current: false, superseded: true });
    const b2 = build({
      id: '00000000-0000-4000-8000-000000000002',
      buildNumber: 'B2',
      completedSequence: 2,
    });
    const draft = build({
      id: '00000000-0000-4000-8000-000000000003',
      buildNumber: 'B3',
      status: 'DRAFT',
      completedSequence: null,
      current: false,
    });
    expect(defaultComparison([draft, b2, b1])).toEqual({ from: b1.id, to: b2.id });
    expect(defaultComparison([b1])).toBeNull();
    // One completed build and a draft: what the draft would change.
    expect(defaultComparison([draft, b1])).toEqual({ from: b1.id, to: draft.id });
  });

  it('lists every error of every failed attempt, the attempt named on its first row', () => {
    const rows = errorRows(
      build({
        errorLog: [
          {
            attempt: 1,
            at: '2026-12-02T10:00:00.000Z',
            by: null,
            errors: [
              {
                path: 'forms[diary_entry].fields[rescue_treatment].values',
                field: 'rescue_treatment',
                message: 'a choice field needs values',
              },
              { path: 'forms[diary_entry].fields[x].type', field: 'x', message: 'unknown type' },
            ],
          },
          { attempt: 2, at: null, by: null, errors: [] },
        ],
      }),
    );
    expect(rows.map((row) => [row.attempt.attempt, row.first, row.error?.field ?? null])).toEqual([
      [1, true, 'rescue_treatment'],
      [1, false, 'x'],
      [2, true, null],
    ]);
  });
});

// The queue page's columnar form: rows survive the trip unchanged and in order, each study, agent
// and model version goes once, and the contract refuses columns that disagree or indexes that point
// past their dictionary (a malformed page is an error, never a row with a wrong study).
import { describe, expect, it } from 'vitest';
import { type QueueRow, StagingQueuePage } from '../../src/shared/contract';
import { queueColumnsOf, queueRowsOf } from '../../src/shared/stagingQueueColumns';

const studyA = '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d';
const studyB = '1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b';
const initialBuild = {
  id: '0198a1b2-0000-7000-8000-000000000001',
  number: 'B1',
  version: '1.0',
  superseded: true,
};
const amendment = {
  id: '0198a1b2-0000-7000-8000-000000000002',
  number: 'B2',
  version: '2.0',
  superseded: false,
};

function row(n: number, patch: Partial<QueueRow> = {}): QueueRow {
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    state: 'proposed',
    entityKind: 'study_risk',
    studyId: studyA,
    studyCode: 'AUR-HHT-201',
    agentId: 'agent:risk-monitor',
    modelVersion: 'anthropic claude (prompt v1)',
    createdAt: `2026-11-20T10:00:${String(n % 60).padStart(2, '0')}.000000Z`,
    changeSummary: n % 2 ? `severity: low → high; +${n} fields` : null,
    targetTitle: n % 3 ? 'Courier strike delays IMP resupply' : null,
    build: initialBuild,
    ...patch,
  };
}

const rows = [
  row(0),
  row(1, { state: 'reviewing', studyId: studyB, studyCode: '<b>STUDY-B</b>', modelVersion: null }),
  row(2, { agentId: 'agent:tmf-intake\u202e', entityKind: 'live_essential_document', build: amendment }),
  row(3, { studyId: studyB, studyCode: '<b>STUDY-B</b>', agentId: 'agent:tmf-intake\u202e', build: null }),
];

describe('staging queue columns', () => {
  it('gives back the same rows in the same order, each study, agent and model version once', () => {
    const columns = queueColumnsOf(rows);
    expect(columns.studies).toEqual([
      { id: studyA, code: 'AUR-HHT-201' },
      { id: studyB, code: '<b>STUDY-B</b>' },
    ]);
    expect(columns.agents).toEqual(['agent:risk-monitor', 'agent:tmf-intake\u202e']);
    expect(columns.modelVersions).toEqual(['anthropic claude (prompt v1)']);
    expect(columns.modelVersion).toEqual([0, null, 0, 0]);
    expect(columns.changeSummaries).toEqual([
      'severity: low → high; +1 fields',
      'severity: low → high; +3 fields',
    ]);
    expect(columns.changeSummary).toEqual([null, 0, null, 1]);
    expect(columns.targetTitles).toEqual(['Courier strike delays IMP resupply']);
    expect(columns.targetTitle).toEqual([null, 0, 0, null]);
    const page = StagingQueuePage.parse({ columns, nextCursor: null, countsByState: null });
    expect(queueRowsOf(page.columns)).toEqual(rows);
    expect(queueRowsOf(queueColumnsOf([]))).toEqual([]);
  });

  it('sends each protocol build once, every row its build by index, and gives the rows back with it [BUILD-HISTORY]', () => {
    const columns = queueColumnsOf(rows);
    expect(columns.builds).toEqual([initialBuild, amendment]);
    // A row without a build (a source that does not say) has none.
    expect(columns.build).toEqual([0, 0, 1, null]);
    const back = queueRowsOf(
      StagingQueuePage.parse({ columns, nextCursor: null, countsByState: null }).columns,
    );
    expect(back.map((r) => r.build)).toEqual([initialBuild, initialBuild, amendment, null]);
  });

  it('refuses columns of different lengths and indexes past their dictionary', () => {
    const columns = queueColumnsOf(rows);
    const check = (broken: object) =>
      StagingQueuePage.safeParse({
        columns: { ...columns, ...broken },
        nextCursor: null,
        countsByState: null,
      });
    const short = check({ createdAt: columns.createdAt.slice(1) });
    expect(short.success).toBe(false);
    expect(short.error?.issues[0]?.message).toMatch(/3 entries for 4 rows/);
    const pastStudies = check({ study: [0, 1, 2, 0] });
    expect(pastStudies.success).toBe(false);
    expect(pastStudies.error?.issues[0]?.path).toEqual(['columns', 'study', 2]);
    expect(check({ modelVersion: [0, null, 1, 0] }).success).toBe(false);
    expect(check({ agent: [0, -1, 0, 0] }).success).toBe(false);
    expect(check({ state: ['proposed', 'reviewing', 'deleted', 'proposed'] }).success).toBe(false);
    expect(check({ changeSummary: [null, 0, null, 2] }).success).toBe(false);
    expect(check({ targetTitle: [0, 0, 0, 0] }).success).toBe(true);
    expect(check({ targetTitle: [null, 5, null, null] }).success).toBe(false);
    expect(check({ build: [0, 0, 2, null] }).success).toBe(false);
    expect(check({ build: [0, 0] }).success).toBe(false);
    expect(check({}).success).toBe(true);
  });
});

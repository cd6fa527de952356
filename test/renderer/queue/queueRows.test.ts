import { describe, expect, it } from 'vitest';
import {
  ageOf,
  buildCellOf,
  createRowFilter,
  filterRows,
  isGroup,
  queueItems,
  rowMatches,
  scopeRows,
  sortRows,
} from '../../../src/renderer/src/queue/queueRows';
import type { QueueRow } from '../../../src/shared/contract';

const row: QueueRow = {
  id: '2f1d7c4e-8a5b-4c3d-9e2f-1a2b3c4d5e6f',
  state: 'reviewing' as const,
  entityKind: 'study_kpi' as const,
  studyId: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d',
  studyCode: 'AUR-HHT-201',
  agentId: 'agent:protocol-digest',
  modelVersion: 'anthropic claude-sonnet-4-5 (prompt protocol-digest/1.3)',
  createdAt: '2026-11-20T10:00:00.000Z',
  changeSummary: 'value: 38 → 41; +2 fields',
  targetTitle: 'Randomised patients',
  build: null,
};

/** Rows in the loader's order (oldest first), each changed by `patch`. */
function rows(...patches: Partial<QueueRow>[]): QueueRow[] {
  return patches.map((patch, index) => ({
    ...row,
    id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    createdAt: new Date(Date.parse(row.createdAt) + index * 60_000).toISOString(),
    ...patch,
  }));
}

const ids = (list: readonly (QueueRow | { group: string })[]) =>
  list.map((item) => ('group' in item ? `[${item.group}]` : Number(item.id.slice(-4))));

describe('queue rows', () => {
  it('matches every search word against the visible fields, case-insensitively', () => {
    expect(rowMatches(row, 'kpi aur')).toBe(true);
    expect(rowMatches(row, 'SONNET reviewing')).toBe(true);
    expect(rowMatches(row, '2f1d7c4e')).toBe(true);
    expect(rowMatches(row, 'kpi milestone')).toBe(false);
    expect(rowMatches(row, '   ')).toBe(true);
  });

  it('finds a record by what it changes and by the title of its target [UI-QUEUE-CHANGE-SUMMARY]', () => {
    const [summarised, other] = rows(
      {
        changeSummary: 'status: mitigating → open; +1 field',
        targetTitle: 'Courier strike delays IMP resupply',
      },
      { changeSummary: 'new study risk, 5 fields', targetTitle: 'Contrast media shortage' },
    ) as [QueueRow, QueueRow];
    expect(rowMatches(summarised, 'mitigating open')).toBe(true);
    expect(rowMatches(other, 'mitigating')).toBe(false);
    expect(rowMatches(summarised, 'courier STRIKE')).toBe(true);
    expect(filterRows([summarised, other], '', 'contrast')).toEqual([other]);
    expect(rowMatches({ ...other, changeSummary: null, targetTitle: null }, 'contrast')).toBe(false);
  });

  it('filters as a person types: the same rows as filterRows, narrowing from the search typed before', () => {
    const queue = rows(
      { changeSummary: 'status: mitigating → open; +1 field', state: 'proposed' },
      { changeSummary: 'status: open → closed', state: 'reviewing' },
      { changeSummary: 'severity: low → high', targetTitle: 'Contrast media shortage' },
      { changeSummary: 'new study kpi, 3 fields', agentId: 'agent:tmf-intake' },
    );
    const filter = createRowFilter();
    const typed = [
      's',
      'st',
      'sta',
      'status',
      'status:',
      'status: ',
      'status: o',
      'status: op',
      'status: o',
      'status:',
      '',
    ];
    for (const search of typed) {
      expect(filter(queue, '', search), search).toEqual(filterRows(queue, '', search));
      expect(filter(queue, 'reviewing', search), search).toEqual(filterRows(queue, 'reviewing', search));
    }
    // Backspacing to a search typed before answers from memory.
    expect(filter(queue, '', 'status: o')).toBe(filter(queue, '', 'status: o'));
    // Other rows (a reload) start afresh.
    const reloaded = [
      ...queue,
      ...rows({ changeSummary: 'status: new → open', id: '00000000-0000-4000-8000-000000000099' }),
    ];
    expect(filter(reloaded, '', 'status: o')).toEqual(filterRows(reloaded, '', 'status: o'));
  });

  it('says how long a proposal has waited', () => {
    const created = Date.parse(row.createdAt);
    expect(ageOf(row.createdAt, created + 5 * 60_000)).toBe('5 min');
    expect(ageOf(row.createdAt, created + 30 * 3_600_000)).toBe('30 h');
    expect(ageOf(row.createdAt, created + 3 * 86_400_000)).toBe('3 d');
  });

  it('filters by state and search, keeping the order, and returns the same rows when nothing filters', () => {
    const list = rows(
      { state: 'proposed' },
      { state: 'reviewing', agentId: 'agent:tmf-intake' },
      { state: 'proposed', agentId: 'agent:tmf-intake' },
      { state: 'signed', modelVersion: null },
    );
    expect(filterRows(list, '', '  ')).toBe(list);
    expect(ids(filterRows(list, 'proposed', ''))).toEqual([0, 2]);
    expect(ids(filterRows(list, '', 'TMF'))).toEqual([1, 2]);
    expect(ids(filterRows(list, 'proposed', 'tmf intake'))).toEqual([2]);
    expect(ids(filterRows(list, '', 'sonnet'))).toEqual([0, 1, 2]);
    expect(filterRows(list, 'rejected', '')).toEqual([]);
  });

  it('sorts by columns in turn, texts as read (numbers by value), ties in their order', () => {
    const list = rows(
      { studyCode: 'HHT-10', state: 'proposed' },
      { studyCode: 'hht-9', state: 'reviewing' },
      { studyCode: 'HHT-10', state: 'reviewing' },
      { studyCode: 'HHT-9', state: 'proposed' },
    );
    expect(sortRows(list, [])).toBe(list);
    expect(ids(sortRows(list, [{ id: 'studyCode', desc: false }]))).toEqual([1, 3, 0, 2]);
    expect(ids(sortRows(list, [{ id: 'studyCode', desc: true }]))).toEqual([0, 2, 1, 3]);
    expect(
      ids(
        sortRows(list, [
          { id: 'state', desc: true },
          { id: 'studyCode', desc: false },
        ]),
      ),
    ).toEqual([1, 2, 3, 0]);
    // Proposed at ascending is the oldest first; age ascending the newest first.
    expect(ids(sortRows(list, [{ id: 'createdAt', desc: false }]))).toEqual([0, 1, 2, 3]);
    expect(ids(sortRows(list, [{ id: 'age', desc: false }]))).toEqual([3, 2, 1, 0]);
    expect(ids(sortRows(list, [{ id: 'age', desc: true }]))).toEqual([0, 1, 2, 3]);
    // A missing model version sorts as empty text, before any other.
    const models = rows({ modelVersion: 'b' }, { modelVersion: null }, { modelVersion: 'A' });
    expect(ids(sortRows(models, [{ id: 'modelVersion', desc: false }]))).toEqual([1, 2, 0]);
  });

  it('groups by study under a heading with its count, studies in the order of their first row', () => {
    const list = rows({ studyCode: 'ONC' }, { studyCode: 'HHT' }, { studyCode: 'ONC' }, { studyCode: 'HHT' });
    expect(queueItems(list, false)).toBe(list);
    const grouped = queueItems(list, true);
    expect(ids(grouped)).toEqual(['[ONC]', 0, 2, '[HHT]', 1, 3]);
    expect(grouped.filter(isGroup).map((group) => group.count)).toEqual([2, 2]);
  });
});

describe('queue rows by study and protocol build [BUILD-UI-FILTER]', () => {
  const b1 = { id: '00000000-0000-4000-8000-0000000000b1', number: 'B1', version: '1.0', superseded: true };
  const b2 = { id: '00000000-0000-4000-8000-0000000000b2', number: 'B2', version: '2.0', superseded: false };
  const otherStudy = '00000000-0000-4000-8000-00000000eeee';

  it('keeps the rows of one build, of one study, or of both, in their order', () => {
    const list = rows(
      { build: b1 },
      { build: b2 },
      { build: null },
      { build: b2, studyId: otherStudy },
      { build: b1 },
    );
    expect(ids(scopeRows(list, null, b1.id))).toEqual([0, 4]);
    expect(ids(scopeRows(list, null, b2.id))).toEqual([1, 3]);
    expect(ids(scopeRows(list, row.studyId, b2.id))).toEqual([1]);
    expect(ids(scopeRows(list, otherStudy, null))).toEqual([3]);
  });

  it('returns the same rows when neither is chosen (the search keeps its memory)', () => {
    const list = rows({ build: b1 }, { build: b2 });
    expect(scopeRows(list, null, null)).toBe(list);
  });

  it('writes a build in its cell with a superseded one said in words, the same text for every row of a build', () => {
    expect(buildCellOf(b1)).toEqual({
      text: 'B1 · 1.0 · superseded build',
      title: 'Protocol build B1 (1.0): a later build has replaced it',
    });
    expect(buildCellOf(b2).text).toBe('B2 · 2.0');
    expect(buildCellOf(b2)).toBe(buildCellOf(b2));
  });

  it('sorts by build: by study, then by build number as read', () => {
    const b10 = { ...b2, id: '00000000-0000-4000-8000-000000000b10', number: 'B10' };
    const list = rows({ build: b10 }, { build: b2 }, { build: b1 });
    expect(ids(sortRows(list, [{ id: 'build', desc: false }]))).toEqual([2, 1, 0]);
  });
});

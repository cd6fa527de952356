import { describe, expect, it } from 'vitest';
import { ageOf, rowMatches } from '../../src/renderer/src/queue/queueRows';

const row = {
  id: '2f1d7c4e-8a5b-4c3d-9e2f-1a2b3c4d5e6f',
  state: 'reviewing' as const,
  entityKind: 'study_kpi' as const,
  entityId: null,
  studyId: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d',
  studyCode: 'AUR-HHT-201',
  agentId: 'agent:protocol-digest',
  modelVersion: 'anthropic claude-sonnet-4-5 (prompt protocol-digest/1.3)',
  createdAt: '2026-11-20T10:00:00.000Z',
  updatedAt: '2026-11-20T10:00:00.000Z',
};

describe('queue rows', () => {
  it('matches every search word against the visible fields, case-insensitively', () => {
    expect(rowMatches(row, 'kpi aur')).toBe(true);
    expect(rowMatches(row, 'SONNET reviewing')).toBe(true);
    expect(rowMatches(row, '2f1d7c4e')).toBe(true);
    expect(rowMatches(row, 'kpi milestone')).toBe(false);
    expect(rowMatches(row, '   ')).toBe(true);
  });

  it('says how long a proposal has waited', () => {
    const created = Date.parse(row.createdAt);
    expect(ageOf(row.createdAt, created + 5 * 60_000)).toBe('5 min');
    expect(ageOf(row.createdAt, created + 30 * 3_600_000)).toBe('30 h');
    expect(ageOf(row.createdAt, created + 3 * 86_400_000)).toBe('3 d');
  });
});

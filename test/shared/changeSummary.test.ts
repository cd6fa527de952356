// The queue's one-line change summary and target title: the telling field first with its value
// before and after, the rest counted; a new record says so; computed from the same comparison as
// the review diff.
import { describe, expect, it } from 'vitest';
import { changeSummaryOf, targetTitleOf } from '../../src/shared/changeSummary';

const riskId = '0192f1d7-c4e8-7a5b-8c3d-9e2f1a2b3c4d';
const liveRisk = {
  id: riskId,
  title: 'Courier strike delays IMP resupply',
  owner: 'Priya Raman',
  severity: 'high',
  status: 'mitigating',
  mitigation: 'Agree a contingency vendor.',
};

describe('change summary [UI-QUEUE-CHANGE-SUMMARY]', () => {
  it('names the telling field with its value before and after, and counts the others', () => {
    expect(
      changeSummaryOf('study_risk', riskId, { status: 'open', mitigation: 'Weekly review.' }, liveRisk),
    ).toBe('status: mitigating → open; +1 field');
    expect(changeSummaryOf('study_risk', riskId, { severity: 'critical' }, liveRisk)).toBe(
      'severity: high → critical',
    );
    expect(
      changeSummaryOf(
        'study_risk',
        riskId,
        { status: 'open', severity: 'low', owner: 'Lucas Moreau' },
        liveRisk,
      ),
    ).toBe('status: mitigating → open; +2 fields');
  });

  it('counts a field the live row lacks as a change, and says when nothing changes', () => {
    expect(changeSummaryOf('study_risk', riskId, { status: 'mitigating' }, liveRisk)).toBe('no change');
    expect(changeSummaryOf('study_risk', riskId, { review_date: '2026-12-01' }, liveRisk)).toBe(
      'review_date: — → 2026-12-01',
    );
  });

  it('shortens long values and prefers a scalar field to a nested one', () => {
    const long = 'A much longer mitigation text that goes on and on about vendors';
    expect(changeSummaryOf('study_risk', riskId, { mitigation: long }, liveRisk)).toBe(
      'mitigation: Agree a contingency vendor. → A much longer mitigation text t…',
    );
    expect(
      changeSummaryOf(
        'study',
        riskId,
        { goals: [{ id: 'G1' }], health: 'red' },
        { code: 'AUR-HHT-201', goals: [], health: 'green' },
      ),
    ).toBe('health: green → red; +1 field');
    expect(changeSummaryOf('study', riskId, { goals: [{ id: 'G1' }] }, { goals: [] })).toBe('goals changed');
  });

  it('says what a new record sets, and when the live row is not known', () => {
    expect(
      changeSummaryOf('study_kpi', null, { label: 'Screen failures', value: '12', position: 4 }, null),
    ).toBe('new study kpi, 3 fields');
    expect(changeSummaryOf('study_risk', riskId, { status: 'open' }, null)).toBe(
      '1 field (live row not available)',
    );
  });

  it("titles the target by its table's name field, the live row's before the proposal's", () => {
    expect(targetTitleOf('study_risk', { title: 'Renamed' }, liveRisk)).toBe(
      'Courier strike delays IMP resupply',
    );
    expect(targetTitleOf('study_milestone', { name: 'Last patient in' }, null)).toBe('Last patient in');
    expect(targetTitleOf('live_essential_document', { document_title: 'Monitoring  plan\n v2' }, null)).toBe(
      'Monitoring plan v2',
    );
    expect(targetTitleOf('study_kpi', { value: '3' }, { value: '2' })).toBeNull();
  });
});

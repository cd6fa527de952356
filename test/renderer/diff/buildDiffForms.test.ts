import { describe, expect, it } from 'vitest';
import { changesByForm } from '../../../src/renderer/src/diff/buildDiffForms';

describe('the build diff groups its changes by form [BUILD-UI-PANEL]', () => {
  it('puts each field under its form, in order, and a form added or removed whole on its own line', () => {
    const forms = changesByForm([
      { form: 'diary_entry', field: 'rescue_treatment', change: 'added', details: [] },
      { form: 'study_kpi', field: null, change: 'removed', details: [] },
      {
        form: 'diary_entry',
        field: 'duration_minutes',
        change: 'changed',
        details: ['min: 0 → 1', 'max: 1440 → 240'],
      },
    ]);
    expect(
      forms.map((form) => [form.form, form.whole?.change ?? null, form.fields.map((f) => f.field)]),
    ).toEqual([
      ['diary_entry', null, ['rescue_treatment', 'duration_minutes']],
      ['study_kpi', 'removed', []],
    ]);
  });
});

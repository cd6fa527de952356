// A build's configuration read as forms, leniently (a draft's may be wrong): the server's defaults for
// what is left out, and whatever is not a form or field skipped instead of refused.
import { describe, expect, it } from 'vitest';
import { buildFormsOf } from '../../src/shared/buildForms';

describe('buildFormsOf [BUILD-PACKET]', () => {
  it("fills in the server's defaults: title and label are the code, required is false", () => {
    expect(
      buildFormsOf({
        forms: [
          {
            code: 'diary_entry',
            kind: 'diary',
            fields: [
              { code: 'duration_minutes', type: 'integer', min: 0, max: 240 },
              { code: 'side', label: 'Side', type: 'choice', required: true, values: ['left', 'right'] },
              { code: 'notes', type: 'text', max_length: 20000 },
            ],
          },
        ],
      }),
    ).toEqual([
      {
        code: 'diary_entry',
        kind: 'diary',
        title: 'diary_entry',
        fields: [
          {
            code: 'duration_minutes',
            label: 'duration_minutes',
            type: 'integer',
            required: false,
            values: null,
            min: 0,
            max: 240,
            maxLength: null,
          },
          {
            code: 'side',
            label: 'Side',
            type: 'choice',
            required: true,
            values: ['left', 'right'],
            min: null,
            max: null,
            maxLength: null,
          },
          {
            code: 'notes',
            label: 'notes',
            type: 'text',
            required: false,
            values: null,
            min: null,
            max: null,
            maxLength: 20000,
          },
        ],
      },
    ]);
  });

  it('skips what is not a form or a field, and reads a configuration without forms as none', () => {
    expect(buildFormsOf(null)).toEqual([]);
    expect(buildFormsOf({ forms: 'none' })).toEqual([]);
    const forms = buildFormsOf({
      forms: [42, { kind: 'entity' }, { code: 'study_kpi', fields: [null, { code: 'label' }] }],
    });
    expect(forms).toEqual([
      {
        code: 'study_kpi',
        kind: '',
        title: 'study_kpi',
        fields: [
          {
            code: 'label',
            label: 'label',
            type: '',
            required: false,
            values: null,
            min: null,
            max: null,
            maxLength: null,
          },
        ],
      },
    ]);
  });
});

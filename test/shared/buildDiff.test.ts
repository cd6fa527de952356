// What changed between two builds' configurations, as the build panel shows it: forms and fields
// added and removed, and a changed field with one line per rule that differs. The configurations are
// read leniently first (a draft's may be incomplete).
import { describe, expect, it } from 'vitest';
import { buildDiff, fieldRuleChanges } from '../../src/shared/buildDiff';
import { buildFormsOf } from '../../src/shared/buildForms';
import type { BuildFieldDefinition } from '../../src/shared/contract';

const diaryForm = (fields: object[]) => ({
  code: 'diary_entry',
  kind: 'diary',
  title: 'Patient diary entry',
  fields,
});
const eventType = (values: string[]) => ({
  code: 'event_type',
  label: 'Event type',
  type: 'choice',
  required: true,
  values,
});
const date = { code: 'date', label: 'Date', type: 'date', required: true };
const intensity = {
  code: 'intensity',
  label: 'Intensity',
  type: 'choice',
  values: ['mild', 'moderate', 'severe'],
};
const notes = { code: 'notes', label: 'Notes', type: 'text', max_length: 20000 };

/** Seed 003's diary form, as the standard INITIAL build configures it (0054). */
const initial = {
  forms: [
    diaryForm([
      eventType(['epistaxis', 'nausea', 'fatigue', 'headache', 'other']),
      date,
      { code: 'duration_minutes', label: 'Duration (minutes)', type: 'integer', min: 0, max: 1440 },
      intensity,
      notes,
    ]),
    { code: 'study_kpi', kind: 'entity', title: 'study_kpi', fields: [{ code: 'label', type: 'text' }] },
  ],
};

/** An amendment: a field added, a range tightened, a list changed, a rule made required, a form gone. */
const amendment = {
  forms: [
    diaryForm([
      eventType(['epistaxis', 'nausea', 'fatigue', 'headache', 'dizziness']),
      date,
      { code: 'duration_minutes', label: 'Duration in minutes', type: 'integer', min: 0, max: 240 },
      { ...intensity, required: true },
      notes,
      { code: 'rescue_medication', label: 'Rescue medication taken', type: 'boolean' },
    ]),
    { code: 'study_risk', kind: 'entity', title: 'study_risk', fields: [{ code: 'title', type: 'text' }] },
  ],
};

describe('the diff of two builds [BUILD-DIFF]', () => {
  it('names each form and field added or removed, and each changed rule of a changed field', () => {
    const changes = buildDiff(buildFormsOf(initial), buildFormsOf(amendment));
    expect(changes).toEqual([
      {
        form: 'diary_entry',
        field: 'event_type',
        change: 'changed',
        details: ['values: + dizziness, − other'],
      },
      {
        form: 'diary_entry',
        field: 'duration_minutes',
        change: 'changed',
        details: ['max: 1440 → 240', 'label: "Duration (minutes)" → "Duration in minutes"'],
      },
      { form: 'diary_entry', field: 'intensity', change: 'changed', details: ['required: no → yes'] },
      {
        form: 'diary_entry',
        field: 'rescue_medication',
        change: 'added',
        details: ['type: boolean'],
      },
      { form: 'study_kpi', field: null, change: 'removed', details: [] },
      { form: 'study_risk', field: null, change: 'added', details: [] },
    ]);
  });

  it('is empty between a build and itself, and the reverse diff swaps what was added and removed', () => {
    const forms = buildFormsOf(initial);
    expect(buildDiff(forms, forms)).toEqual([]);
    const back = buildDiff(buildFormsOf(amendment), forms);
    expect(back).toContainEqual({
      form: 'diary_entry',
      field: 'rescue_medication',
      change: 'removed',
      details: [],
    });
    expect(back).toContainEqual({
      form: 'diary_entry',
      field: 'duration_minutes',
      change: 'changed',
      details: ['max: 240 → 1440', 'label: "Duration in minutes" → "Duration (minutes)"'],
    });
  });

  it('gives one line per rule that differs: type, required, values, min, max, max_length, label', () => {
    const field: BuildFieldDefinition = {
      code: 'x',
      label: 'X',
      type: 'integer',
      required: false,
      values: null,
      min: 0,
      max: 10,
      maxLength: null,
    };
    expect(fieldRuleChanges(field, field)).toEqual([]);
    expect(
      fieldRuleChanges(field, {
        ...field,
        type: 'decimal',
        required: true,
        min: null,
        max: 12.5,
        label: 'X (mg)',
      }),
    ).toEqual([
      'type: integer → decimal',
      'required: no → yes',
      'min: 0 → none',
      'max: 10 → 12.5',
      'label: "X" → "X (mg)"',
    ]);
    expect(
      fieldRuleChanges(
        { ...field, type: 'text', min: null, max: null, maxLength: 200 },
        { ...field, type: 'text', min: null, max: null, maxLength: 100 },
      ),
    ).toEqual(['max_length: 200 → 100']);
    expect(
      fieldRuleChanges(
        { ...field, type: 'choice', values: ['a', 'b'] },
        { ...field, type: 'choice', values: ['b', 'c'] },
      ),
    ).toEqual(['values: + c, − a']);
  });

  it('describes an added field by its rules', () => {
    const [added] = buildDiff(buildFormsOf({ forms: [{ code: 'f', kind: 'diary', fields: [] }] }), [
      {
        code: 'f',
        kind: 'diary',
        title: 'f',
        fields: [
          {
            code: 'pain',
            label: 'Pain',
            type: 'integer',
            required: true,
            values: null,
            min: 0,
            max: 10,
            maxLength: null,
          },
        ],
      },
    ]);
    expect(added).toEqual({
      form: 'f',
      field: 'pain',
      change: 'added',
      details: ['type: integer', 'required: yes', 'min: 0', 'max: 10'],
    });
  });
});

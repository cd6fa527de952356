// The forms of a protocol build's configuration snapshot ({"forms": [...]}, migration 0054), read
// leniently: a draft's configuration may be incomplete or wrong (the server names its errors), so
// whatever is not a well-formed form or field is left out instead of refused. Defaults are the
// server's when it writes a completed build's definitions (cro.build_form_field): a missing title or
// label is the code, a missing "required" is false; a missing type reads as none ('').
import type { BuildFieldDefinition, BuildFormDefinition } from './contract';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const textOr = (value: unknown, fallback: string) =>
  typeof value === 'string' && value.trim() !== '' ? value : fallback;
const numberOrNull = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : null);

function fieldOf(value: unknown): BuildFieldDefinition | null {
  if (!isObject(value) || typeof value.code !== 'string') return null;
  const maxLength = numberOrNull(value.max_length);
  return {
    code: value.code,
    label: textOr(value.label, value.code),
    type: typeof value.type === 'string' ? value.type : '',
    required: value.required === true,
    values: Array.isArray(value.values)
      ? value.values.filter((item): item is string => typeof item === 'string')
      : null,
    min: numberOrNull(value.min),
    max: numberOrNull(value.max),
    maxLength: maxLength !== null && Number.isInteger(maxLength) ? maxLength : null,
  };
}

export function buildFormsOf(configuration: unknown): BuildFormDefinition[] {
  if (!isObject(configuration) || !Array.isArray(configuration.forms)) return [];
  return configuration.forms.flatMap((form): BuildFormDefinition[] => {
    if (!isObject(form) || typeof form.code !== 'string') return [];
    const fields = Array.isArray(form.fields) ? form.fields : [];
    return [
      {
        code: form.code,
        kind: typeof form.kind === 'string' ? form.kind : '',
        title: textOr(form.title, form.code),
        fields: fields.flatMap((field) => {
          const parsed = fieldOf(field);
          return parsed ? [parsed] : [];
        }),
      },
    ];
  });
}

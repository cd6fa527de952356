// What changed from one protocol build's configuration to another's (the build panel's diff, issue
// 20): forms added and removed, and within a form kept by both, fields added, removed and changed,
// a changed field with one line per rule that differs (type, required, values, min, max, max_length,
// label). Pure, so the main process computes it from whatever source holds the builds (cache or
// server) and the tests need nothing else.
import type { BuildDiffChange, BuildFieldDefinition, BuildFormDefinition } from './contract';

/** The codes of both lists, those of `from` in its order, then the ones only `to` has, in its order. */
function unionOfCodes<T extends { code: string }>(from: readonly T[], to: readonly T[]): string[] {
  const codes = from.map((item) => item.code);
  const seen = new Set(codes);
  for (const item of to) {
    if (!seen.has(item.code)) {
      seen.add(item.code);
      codes.push(item.code);
    }
  }
  return codes;
}

const yesNo = (value: boolean) => (value ? 'yes' : 'no');
const numberOrNone = (value: number | null) => (value === null ? 'none' : String(value));

/** A field's rules in words, for a field that was added (what it asks for). */
function rulesOf(field: BuildFieldDefinition): string[] {
  const rules = [`type: ${field.type}`];
  if (field.required) rules.push('required: yes');
  if (field.values !== null) rules.push(`values: ${field.values.join(', ')}`);
  if (field.min !== null) rules.push(`min: ${field.min}`);
  if (field.max !== null) rules.push(`max: ${field.max}`);
  if (field.maxLength !== null) rules.push(`max_length: ${field.maxLength}`);
  return rules;
}

/** One line per rule that differs between two versions of a field, in a fixed order. */
export function fieldRuleChanges(from: BuildFieldDefinition, to: BuildFieldDefinition): string[] {
  const details: string[] = [];
  if (from.type !== to.type) details.push(`type: ${from.type} → ${to.type}`);
  if (from.required !== to.required)
    details.push(`required: ${yesNo(from.required)} → ${yesNo(to.required)}`);
  const fromValues = from.values ?? [];
  const toValues = to.values ?? [];
  const added = toValues.filter((value) => !fromValues.includes(value));
  const removed = fromValues.filter((value) => !toValues.includes(value));
  if (added.length > 0 || removed.length > 0) {
    details.push(`values: ${[...added.map((v) => `+ ${v}`), ...removed.map((v) => `− ${v}`)].join(', ')}`);
  } else if ((from.values === null) !== (to.values === null)) {
    details.push(`values: ${from.values === null ? 'none → a list' : 'a list → none'}`);
  }
  if (from.min !== to.min) details.push(`min: ${numberOrNone(from.min)} → ${numberOrNone(to.min)}`);
  if (from.max !== to.max) details.push(`max: ${numberOrNone(from.max)} → ${numberOrNone(to.max)}`);
  if (from.maxLength !== to.maxLength) {
    details.push(`max_length: ${numberOrNone(from.maxLength)} → ${numberOrNone(to.maxLength)}`);
  }
  if (from.label !== to.label)
    details.push(`label: ${JSON.stringify(from.label)} → ${JSON.stringify(to.label)}`);
  return details;
}

/** The changes from the forms of one build to those of another; empty when they define the same. */
export function buildDiff(
  fromForms: readonly BuildFormDefinition[],
  toForms: readonly BuildFormDefinition[],
): BuildDiffChange[] {
  const changes: BuildDiffChange[] = [];
  const fromByCode = new Map(fromForms.map((form) => [form.code, form]));
  const toByCode = new Map(toForms.map((form) => [form.code, form]));
  for (const formCode of unionOfCodes(fromForms, toForms)) {
    const before = fromByCode.get(formCode);
    const after = toByCode.get(formCode);
    if (!before && after) {
      changes.push({ form: formCode, field: null, change: 'added', details: [] });
      continue;
    }
    if (before && !after) {
      changes.push({ form: formCode, field: null, change: 'removed', details: [] });
      continue;
    }
    if (!before || !after) continue;
    const fieldsBefore = new Map(before.fields.map((field) => [field.code, field]));
    const fieldsAfter = new Map(after.fields.map((field) => [field.code, field]));
    for (const fieldCode of unionOfCodes(before.fields, after.fields)) {
      const was = fieldsBefore.get(fieldCode);
      const is = fieldsAfter.get(fieldCode);
      if (!was && is) {
        changes.push({ form: formCode, field: fieldCode, change: 'added', details: rulesOf(is) });
      } else if (was && !is) {
        changes.push({ form: formCode, field: fieldCode, change: 'removed', details: [] });
      } else if (was && is) {
        const details = fieldRuleChanges(was, is);
        if (details.length > 0)
          changes.push({ form: formCode, field: fieldCode, change: 'changed', details });
      }
    }
  }
  return changes;
}

// A field-by-field diff of two JSON values, for reviewing a proposal against the live row: nested
// objects and arrays are walked (arrays of objects with an `id` are matched by id, others by
// position), long text gets an inline word diff, and every node says what happened to it so the
// view can mark it by symbol and word, not by colour alone. Pure: no DOM, cost follows document size.
import { diffWords } from 'diff';
import { sameJson } from '../../../shared/sameJson';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface WordPart {
  text: string;
  change: 'same' | 'added' | 'removed';
}

export type DiffNode =
  | { kind: 'unchanged'; key: string; value: unknown }
  | { kind: 'added'; key: string; value: unknown }
  | { kind: 'removed'; key: string; value: unknown }
  | { kind: 'changed'; key: string; before: unknown; after: unknown; words: WordPart[] | null }
  | { kind: 'object' | 'array'; key: string; children: DiffNode[]; changes: number };

/** Strings at least this long, or containing whitespace, are diffed word by word. */
const wordDiffMinLength = 24;
/** Beyond this, a word diff costs more than it helps: the two values are shown whole. */
const wordDiffMaxLength = 20_000;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function wordParts(before: string, after: string): WordPart[] | null {
  const long = before.length >= wordDiffMinLength || after.length >= wordDiffMinLength;
  const prose = /\s/.test(before) || /\s/.test(after);
  if (!(long || prose) || before.length + after.length > wordDiffMaxLength) return null;
  return diffWords(before, after).map((part) => ({
    text: part.value,
    change: part.added ? 'added' : part.removed ? 'removed' : 'same',
  }));
}

function countChanges(nodes: DiffNode[]): number {
  let changes = 0;
  for (const node of nodes) {
    if (node.kind === 'object' || node.kind === 'array') changes += node.changes;
    else if (node.kind !== 'unchanged') changes += 1;
  }
  return changes;
}

function idOf(value: unknown): string | null {
  if (!isPlainObject(value)) return null;
  const id = value.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
}

function diffArrays(key: string, before: unknown[], after: unknown[]): DiffNode {
  const children: DiffNode[] = [];
  const beforeIds = before.map(idOf);
  const afterIds = after.map(idOf);
  const byId =
    before.length + after.length > 0 &&
    beforeIds.every((id) => id !== null) &&
    afterIds.every((id) => id !== null) &&
    new Set(beforeIds).size === before.length &&
    new Set(afterIds).size === after.length;
  if (byId) {
    const beforeById = new Map(before.map((item) => [idOf(item) as string, item]));
    const afterIdSet = new Set(afterIds as string[]);
    for (const item of after) {
      const id = idOf(item) as string;
      const label = `id ${id}`;
      children.push(
        beforeById.has(id)
          ? diffValues(label, beforeById.get(id), item)
          : { kind: 'added', key: label, value: item },
      );
    }
    for (const item of before) {
      const id = idOf(item) as string;
      if (!afterIdSet.has(id)) children.push({ kind: 'removed', key: `id ${id}`, value: item });
    }
  } else {
    const length = Math.max(before.length, after.length);
    for (let index = 0; index < length; index++) {
      const label = `[${index}]`;
      if (index >= before.length) children.push({ kind: 'added', key: label, value: after[index] });
      else if (index >= after.length) children.push({ kind: 'removed', key: label, value: before[index] });
      else children.push(diffValues(label, before[index], after[index]));
    }
  }
  return { kind: 'array', key, children, changes: countChanges(children) };
}

function diffObjects(key: string, before: Record<string, unknown>, after: Record<string, unknown>): DiffNode {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const children = keys.map((child): DiffNode => {
    if (!(child in before)) return { kind: 'added', key: child, value: after[child] };
    if (!(child in after)) return { kind: 'removed', key: child, value: before[child] };
    return diffValues(child, before[child], after[child]);
  });
  return { kind: 'object', key, children, changes: countChanges(children) };
}

export function diffValues(key: string, before: unknown, after: unknown): DiffNode {
  if (sameJson(before, after)) return { kind: 'unchanged', key, value: after };
  if (isPlainObject(before) && isPlainObject(after)) return diffObjects(key, before, after);
  if (Array.isArray(before) && Array.isArray(after)) return diffArrays(key, before, after);
  const words = typeof before === 'string' && typeof after === 'string' ? wordParts(before, after) : null;
  return { kind: 'changed', key, before, after, words };
}

/**
 * The review diff of a proposal: each proposed field against the live row's value. A new row (no
 * live row) shows every proposed field as added. Live fields the proposal does not touch are not
 * part of the change and are counted, not listed.
 */
export function diffProposal(
  liveRow: Record<string, unknown> | null,
  proposedState: Record<string, unknown>,
): { fields: DiffNode[]; changes: number; untouchedLiveFields: number } {
  const fields = Object.keys(proposedState)
    .sort()
    .map(
      (field): DiffNode =>
        liveRow === null || !(field in liveRow)
          ? { kind: 'added', key: field, value: proposedState[field] }
          : diffValues(field, liveRow[field], proposedState[field]),
    );
  const untouchedLiveFields =
    liveRow === null ? 0 : Object.keys(liveRow).filter((field) => !(field in proposedState)).length;
  return { fields, changes: countChanges(fields), untouchedLiveFields };
}

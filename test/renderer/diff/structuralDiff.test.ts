import { describe, expect, it } from 'vitest';
import { diffProposal, diffValues } from '../../../src/renderer/src/diff/structuralDiff';

describe('structural diff of a proposal against the live row', () => {
  it('marks unchanged, changed, added and removed fields, nested', () => {
    const node = diffValues(
      'root',
      { a: 1, b: { c: 'x', d: [1, 2] }, gone: true },
      { a: 1, b: { c: 'y', d: [1, 2, 3] }, fresh: null },
    );
    expect(node.kind).toBe('object');
    if (node.kind !== 'object') return;
    expect(node.children.map((child) => [child.key, child.kind])).toEqual([
      ['a', 'unchanged'],
      ['b', 'object'],
      ['fresh', 'added'],
      ['gone', 'removed'],
    ]);
    expect(node.changes).toBe(4);
    const b = node.children[1];
    if (b?.kind !== 'object') throw new Error('b is not an object node');
    expect(b.children.map((child) => child.kind)).toEqual(['changed', 'array']);
  });

  it('matches arrays of objects by id, not by position', () => {
    const node = diffValues(
      'sites',
      [
        { id: 'A1', n: 1 },
        { id: 'B1', n: 2 },
      ],
      [
        { id: 'B1', n: 2 },
        { id: 'C1', n: 3 },
      ],
    );
    if (node.kind !== 'array') throw new Error('not an array node');
    expect(node.children.map((child) => [child.key, child.kind])).toEqual([
      ['id B1', 'unchanged'],
      ['id C1', 'added'],
      ['id A1', 'removed'],
    ]);
  });

  it('diffs long text word by word', () => {
    const node = diffValues(
      'summary',
      'Enrolment is behind plan at two sites.',
      'Enrolment is ahead of plan at two sites.',
    );
    if (node.kind !== 'changed') throw new Error('not a change');
    expect(
      node.words?.filter((part) => part.change !== 'same').map((part) => [part.change, part.text]),
    ).toEqual([
      ['removed', 'behind'],
      ['added', 'ahead of'],
    ]);
  });

  it('treats a proposal without a live row as all added, and counts untouched live fields', () => {
    expect(diffProposal(null, { title: 'x', severity: 'high' }).fields.map((f) => f.kind)).toEqual([
      'added',
      'added',
    ]);
    const update = diffProposal({ id: '1', value: '40%', label: 'Enrolment' }, { value: '41%' });
    expect(update.changes).toBe(1);
    expect(update.untouchedLiveFields).toBe(2);
  });

  it('sees no change where the JSON is equal, whatever the key order', () => {
    expect(diffValues('x', { a: 1, b: [{ c: 2 }] }, { b: [{ c: 2 }], a: 1 }).kind).toBe('unchanged');
  });
});

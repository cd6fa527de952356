// The RFC 9162 tree against an independent, naive transcription of the RFC's recursive definitions
// (MTH, PATH, PROOF/SUBPROOF over lists of entries) and the RFC 6962 reference roots.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  consistencyPath,
  consistencyProblem,
  inclusionPath,
  inclusionProblem,
  leafHash,
  memoryTree,
  rootOf,
  subtreesFromPerfect,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/main/checkpoint/merkleTree';

const sha = (...parts: Buffer[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

// Naive RFC 9162 §2.1.1 / §2.1.3.1 / §2.1.4.1, over the entries themselves.
function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}
function mth(d: Buffer[]): Buffer {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(Buffer.from([0]), d[0] as Buffer);
  const s = k(d.length);
  return sha(Buffer.from([1]), mth(d.slice(0, s)), mth(d.slice(s)));
}
function path(m: number, d: Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  const s = k(d.length);
  return m < s
    ? [...path(m, d.slice(0, s)), mth(d.slice(s))]
    : [...path(m - s, d.slice(s)), mth(d.slice(0, s))];
}
function subproof(m: number, d: Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const s = k(d.length);
  return m <= s
    ? [...subproof(m, d.slice(0, s), b), mth(d.slice(s))]
    : [...subproof(m - s, d.slice(s), false), mth(d.slice(0, s))];
}

const entries = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`entry ${i}`));

describe('RFC 9162 Merkle tree [PROOF-MERKLE]', () => {
  it('matches the RFC 6962 reference roots', () => {
    const leaves = [
      '',
      '00',
      '10',
      '2021',
      '3031',
      '40414243',
      '5051525354555657',
      '606162636465666768696a6b6c6d6e6f',
    ].map((h) => Buffer.from(h, 'hex'));
    const roots = [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
      '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
      'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    ];
    for (let n = 1; n <= 8; n++) {
      expect(memoryTree(leaves.slice(0, n).map(leafHash)).root.toString('hex')).toBe(roots[n - 1]);
    }
    expect(memoryTree([]).root.toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('generates every inclusion path and consistency proof as the RFC defines them, and they verify', () => {
    const all = entries(48);
    for (let n = 1; n <= all.length; n++) {
      const d = all.slice(0, n);
      const tree = memoryTree(d.map(leafHash));
      const root = mth(d);
      expect(tree.root.equals(root)).toBe(true);
      for (let m = 0; m < n; m++) {
        const p = inclusionPath(m, n, tree.subtree);
        expect(p).toEqual(path(m, d));
        expect(inclusionProblem(m, n, leafHash(d[m] as Buffer), p, root)).toBeNull();
      }
      for (let m = 1; m <= n; m++) {
        const p = consistencyPath(m, n, tree.subtree);
        expect(p).toEqual(subproof(m, d, true));
        expect(consistencyProblem(m, n, mth(d.slice(0, m)), root, p)).toBeNull();
      }
    }
  });

  it('serves subtrees from a perfect-node source with the same answers', () => {
    const d = entries(1000).map(leafHash);
    const tree = memoryTree(d);
    let asked = 0;
    const viaPerfect = subtreesFromPerfect((start, size) => {
      asked++;
      expect(start % size).toBe(0);
      return tree.subtree(start, start + size);
    });
    expect(rootOf(1000, viaPerfect).equals(tree.root)).toBe(true);
    expect(asked).toBeLessThan(12);
    expect(inclusionPath(777, 1000, viaPerfect)).toEqual(inclusionPath(777, 1000, tree.subtree));
    expect(consistencyPath(300, 1000, viaPerfect)).toEqual(consistencyPath(300, 1000, tree.subtree));
  });

  it('rejects tampered and hostile proofs with a reason, never a throw', () => {
    const d = entries(13);
    const tree = memoryTree(d.map(leafHash));
    const leaf = leafHash(d[5] as Buffer);
    const p = inclusionPath(5, 13, tree.subtree);
    const swapped = [...p];
    swapped[1] = Buffer.alloc(32, 7);
    expect(verifyInclusion(5, 13, leaf, p, tree.root)).toBe(true);
    expect(inclusionProblem(5, 13, leaf, swapped, tree.root)).toMatch(/root/);
    expect(inclusionProblem(6, 13, leaf, p, tree.root)).not.toBeNull();
    expect(inclusionProblem(5, 8, leaf, p, tree.root)).not.toBeNull();
    expect(inclusionProblem(5, 13, leaf, p.slice(1), tree.root)).toMatch(/shorter/);
    expect(inclusionProblem(5, 13, leaf, [...p, Buffer.alloc(32)], tree.root)).toMatch(/longer/);
    for (const hostile of [
      () => inclusionProblem(2 ** 60, 2 ** 61, leaf, p, tree.root),
      () => inclusionProblem(-1, 13, leaf, p, tree.root),
      () => inclusionProblem(Number.NaN, 13, leaf, p, tree.root),
      () => inclusionProblem(5, 13, leaf, 'nope' as unknown as Buffer[], tree.root),
      () => inclusionProblem(5, 13, leaf, [Buffer.alloc(3)], tree.root),
      () =>
        inclusionProblem(
          5,
          13,
          leaf,
          Array.from({ length: 100 }, () => Buffer.alloc(32)),
          tree.root,
        ),
      () => inclusionProblem(5, 13, null as unknown as Buffer, p, tree.root),
      () => consistencyProblem(2 ** 60, 2 ** 61, tree.root, tree.root, p),
      () => consistencyProblem(9, 5, tree.root, tree.root, []),
      () => consistencyProblem(5, 13, tree.root, tree.root, [null as unknown as Buffer]),
      () => consistencyProblem(5, 13, tree.root, tree.root, []),
      () => consistencyProblem(Number.POSITIVE_INFINITY, 13, tree.root, tree.root, []),
    ]) {
      expect(hostile()).toEqual(expect.any(String));
    }
    const old = memoryTree(d.slice(0, 8).map(leafHash)).root;
    const c = consistencyPath(8, 13, tree.subtree);
    expect(verifyConsistency(8, 13, old, tree.root, c)).toBe(true);
    expect(consistencyProblem(8, 13, Buffer.alloc(32, 1), tree.root, c)).toMatch(/root/);
    const rewritten = memoryTree([...d.slice(0, 3), Buffer.from('forged'), ...d.slice(4)].map(leafHash));
    expect(verifyConsistency(8, 13, old, rewritten.root, consistencyPath(8, 13, rewritten.subtree))).toBe(
      false,
    );
    expect(consistencyProblem(13, 13, tree.root, tree.root, [])).toBeNull();
    expect(consistencyProblem(13, 13, tree.root, old, [])).toMatch(/differ/);
  });
});

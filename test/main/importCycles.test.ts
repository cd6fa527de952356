// Layers only look down (docs: STYLE, "layers that only look down"): no module of src/ may reach
// itself through its own imports. A cycle means two files each need the other; the type or helper
// they share belongs in a third file both import (as ServerAddress moved to personConnection.ts).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The module a relative specifier names, or null when it is not a source file of the tree. */
function resolveModule(from: string, specifier: string): string | null {
  const base = resolve(dirname(from), specifier).replace(/\.js$/, '');
  for (const candidate of [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')]) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)]
      .map((match) => resolveModule(file, match[1] as string))
      .filter((target): target is string => target !== null);
    graph.set(file, targets);
  }
  return graph;
}

/** Every cycle of the graph, each once, as the files around it (Tarjan's strongly connected parts). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node) as number, low.get(target) as number));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node) as number, index.get(target) as number));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const part: string[] = [];
    let member: string;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      part.push(member);
    } while (member !== node);
    if (part.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(part.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('no import cycles in src/ [CODE-LAYERS]', () => {
  it('finds none among the main process, preload, renderer and shared modules', () => {
    const files = sourceFiles(join(repo, 'src'));
    expect(files.length).toBeGreaterThan(100);
    const graph = importGraph(files);
    // The graph is real: the IPC handlers import the contract.
    expect(
      [...graph.values()].some((targets) => targets.includes(join(repo, 'src/shared/contract.ts'))),
    ).toBe(true);
    const named = cycles(graph).map((part) => part.map((file) => relative(repo, file).split(sep).join('/')));
    expect(named).toEqual([]);
  });

  it('names the files of a cycle (the check can fail)', () => {
    const graph = new Map([
      ['postgresSession.ts', ['postgresSigning.ts', 'personConnection.ts']],
      ['postgresSigning.ts', ['postgresSession.ts', 'personConnection.ts']],
      ['personConnection.ts', []],
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
    ]);
    expect(cycles(graph)).toEqual([
      ['postgresSession.ts', 'postgresSigning.ts'],
      ['a.ts', 'b.ts', 'c.ts'],
    ]);
  });
});

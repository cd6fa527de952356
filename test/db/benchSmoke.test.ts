// Every benchmark, run at a tiny size through `npm run bench`'s own script (COUNTERSIGN_BENCH_SCALE):
// a change of keys, shapes or queries that breaks a benchmark fails the suite here, instead of
// waiting for the next full run (time-ordered keys once broke ui.filter, and nothing noticed). The
// figures at this size say nothing about speed; only their presence and form are checked.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Benchmark } from '../../bench/support/benchmark';

const root = fileURLToPath(new URL('../..', import.meta.url));
const benchDir = join(root, 'bench');

async function expectedFigures(): Promise<string[]> {
  const figures: string[] = [];
  for (const file of readdirSync(benchDir).filter((name) => name.endsWith('.bench.ts'))) {
    const module = (await import(pathToFileURL(join(benchDir, file)).href)) as { benchmark: Benchmark };
    figures.push(...module.benchmark.figures);
  }
  return figures.sort();
}

describe('every benchmark runs, at a tiny size', () => {
  it('prints one well-formed JSON line per figure and exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/bench.ts')], {
      cwd: root,
      env: {
        ...process.env,
        COUNTERSIGN_BENCH_SCALE: '0.001',
        // `npm test` builds the renderer before the suite runs; the ui benchmark uses that build.
        ...(existsSync(join(root, 'out/renderer/index.html')) ? { COUNTERSIGN_BENCH_UI_BUILD: '0' } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(0);

    const lines = stdout.split('\n').filter((line) => line.trim() !== '');
    const figures = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(figures.map((figure) => figure.bench).sort()).toEqual(await expectedFigures());
    for (const figure of figures) {
      expect(Number.isFinite(figure.value), String(figure.bench)).toBe(true);
      expect(typeof figure.unit, String(figure.bench)).toBe('string');
      expect(typeof figure.target, String(figure.bench)).toBe('number');
      expect(typeof figure.met, String(figure.bench)).toBe('boolean');
      if ('baseline' in figure) {
        expect(
          Number.isFinite(figure.baseline_value) && Number.isFinite(figure.ratio),
          String(figure.bench),
        ).toBe(true);
      } else {
        expect(['lower', 'higher'], String(figure.bench)).toContain(figure.better);
      }
    }
  }, 600_000);
});

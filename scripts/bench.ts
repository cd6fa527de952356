// `npm run bench [-- NAME...]`: runs every bench/*.bench.ts (or those whose name or figure names
// start with one of the NAMEs), each in its own process with its own embedded PostgreSQL, and prints
// one JSON line per figure.
// Exit status 0 even when a target is missed: the `met` field says so; 1 only when a benchmark fails.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Benchmark } from '../bench/support/benchmark';
import { startBenchServer } from '../bench/support/benchServer';
import { figureLine } from '../bench/support/figure';

const benchDir = fileURLToPath(new URL('../bench', import.meta.url));
const scriptPath = fileURLToPath(import.meta.url);

async function loadBenchmarks(): Promise<Benchmark[]> {
  const files = readdirSync(benchDir)
    .filter((name) => name.endsWith('.bench.ts'))
    .sort();
  const loaded: Benchmark[] = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(join(benchDir, file)).href)) as { benchmark: Benchmark };
    loaded.push(module.benchmark);
  }
  return loaded;
}

function selected(benchmark: Benchmark, names: string[]): boolean {
  if (names.length === 0) return true;
  return names.some(
    (name) =>
      benchmark.name === name ||
      benchmark.figures.some((figure) => figure === name || figure.startsWith(`${name}.`)),
  );
}

async function main() {
  const args = process.argv.slice(2).filter((arg) => arg !== '--');
  const all = await loadBenchmarks();
  // A child of the run below gets exactly one benchmark by its name: a name may also be the prefix
  // of another benchmark's figures ('sync' of 'sync.hosted.initial'), and a child that chose two
  // would spawn children of its own without end.
  const only = args.find((arg) => arg.startsWith('--benchmark='))?.slice('--benchmark='.length);
  const names = args.filter((arg) => !arg.startsWith('--benchmark='));
  const chosen =
    only === undefined
      ? all.filter((benchmark) => selected(benchmark, names))
      : all.filter((benchmark) => benchmark.name === only);
  if (chosen.length === 0) {
    process.stderr.write(
      `no benchmark matches ${names.join(', ')}; known: ${all.flatMap((b) => b.figures).join(', ')}\n`,
    );
    process.exit(1);
  }
  const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  if (chosen.length > 1) {
    // Each benchmark in a process of its own: memory figures (peak RSS) and garbage collection must
    // not carry what an earlier benchmark left in the heap.
    let failed = false;
    for (const benchmark of chosen) {
      const child = spawn(
        process.execPath,
        [...process.execArgv, scriptPath, `--benchmark=${benchmark.name}`],
        {
          stdio: 'inherit',
        },
      );
      const [code] = (await once(child, 'exit')) as [number | null];
      if (code !== 0) failed = true;
    }
    process.exit(failed ? 1 : 0);
  }
  log('starting embedded PostgreSQL');
  const server = await startBenchServer();
  let failed = false;
  try {
    for (const benchmark of chosen) {
      log(`running ${benchmark.name}`);
      try {
        const figures = await benchmark.run({ server, log });
        for (const figure of figures) process.stdout.write(`${figureLine(figure)}\n`);
      } catch (error) {
        failed = true;
        log(
          `${benchmark.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
      }
    }
  } finally {
    await server.stop();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

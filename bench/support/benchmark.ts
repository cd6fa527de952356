// What a benchmark file exports: a name (the prefix `npm run bench -- NAME` selects on) and a run
// that returns its figures. Progress goes to stderr; stdout carries only the JSON lines.
import type { BenchServer } from './benchServer';
import type { Figure } from './figure';

export interface BenchContext {
  server: BenchServer;
  log(line: string): void;
}

export interface Benchmark {
  /** e.g. 'sign' for sign.batch; `npm run bench -- sign` or `-- sign.batch` selects it. */
  name: string;
  /** The figure names it prints, for the selector and the listing. */
  figures: string[];
  run(context: BenchContext): Promise<Figure[]>;
}

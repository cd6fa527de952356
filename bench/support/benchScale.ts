// The size a benchmark runs at: its full size, or a fraction of it when COUNTERSIGN_BENCH_SCALE is
// set (test/db/benchSmoke.test.ts runs every benchmark at a tiny size, so that a benchmark broken by
// a change of keys, shapes or queries fails the suite instead of waiting for the next full run).
const scale = Number(process.env.COUNTERSIGN_BENCH_SCALE ?? '1');
if (!(scale > 0 && scale <= 1)) throw new Error('COUNTERSIGN_BENCH_SCALE must be in (0, 1]');

/** `full` at full scale; at a smaller scale that fraction of it, and never less than `smallest`. */
export function benchSize(full: number, smallest = 1): number {
  return Math.max(smallest, Math.round(full * scale));
}

export const benchScale = scale;

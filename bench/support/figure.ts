// One benchmark figure, printed as one JSON line on stdout (docs/benchmarks.md). A figure with a
// baseline measured in the same run carries the ratio, oriented so that higher is better; a figure
// without one (a latency, a heap size) carries its target in its own unit and which way is better.
export interface ComparedFigure {
  bench: string;
  value: number;
  unit: string;
  baseline: string;
  baseline_value: number;
  /** higher is better: 'higher' when value is a rate, 'lower' when it is a time or a size. */
  valueBetter: 'higher' | 'lower';
  target: number;
  /** Extra context (sizes, counts): printed as given. */
  detail?: Record<string, unknown>;
}

export interface AbsoluteFigure {
  bench: string;
  value: number;
  unit: string;
  target: number;
  better: 'lower' | 'higher';
  detail?: Record<string, unknown>;
}

function rounded(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 1000) / 1000;
}

export function comparedLine(figure: ComparedFigure): string {
  const ratio =
    figure.valueBetter === 'higher'
      ? figure.value / figure.baseline_value
      : figure.baseline_value / figure.value;
  return JSON.stringify({
    bench: figure.bench,
    value: rounded(figure.value),
    unit: figure.unit,
    baseline: figure.baseline,
    baseline_value: rounded(figure.baseline_value),
    ratio: rounded(ratio),
    target: figure.target,
    met: ratio >= figure.target,
    ...(figure.detail ? { detail: figure.detail } : {}),
  });
}

export function absoluteLine(figure: AbsoluteFigure): string {
  const met = figure.better === 'lower' ? figure.value <= figure.target : figure.value >= figure.target;
  return JSON.stringify({
    bench: figure.bench,
    value: rounded(figure.value),
    unit: figure.unit,
    target: figure.target,
    better: figure.better,
    met,
    ...(figure.detail ? { detail: figure.detail } : {}),
  });
}

export type Figure = ComparedFigure | AbsoluteFigure;

export function figureLine(figure: Figure): string {
  return 'baseline' in figure ? comparedLine(figure) : absoluteLine(figure);
}

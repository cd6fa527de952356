// How a protocol build reads on screen: "B2 · 2.0" on a chip, "B2 (2.0)" in a sentence, and what a
// record whose history spans builds says. Build numbers and versions come from a configuration an
// administrator typed: shown as text only (visibleText).
import type { BuildRef } from '../../../shared/contract';
import { visibleText } from './visibleText';

type BuildWords = Pick<BuildRef, 'number' | 'version'>;

/** "B2 · 2.0": the build beside a value. */
export function buildChipText(build: BuildWords): string {
  return `${visibleText(build.number)} · ${visibleText(build.version)}`;
}

/** "B2 (2.0)": the build in a sentence or a list. */
export function buildName(build: BuildWords): string {
  return `${visibleText(build.number)} (${visibleText(build.version)})`;
}

/** "History spans 2 builds: B1 (1.0), B2 (2.0)"; null when the entries are under one build (or none). */
export function buildSpanText(builds: readonly BuildWords[]): string | null {
  if (builds.length < 2) return null;
  return `History spans ${builds.length} builds: ${builds.map(buildName).join(', ')}`;
}

/** "2 records were written under a superseded build"; null when none was. */
export function supersededCountText(count: number, noun: string): string | null {
  if (count === 0) return null;
  return count === 1
    ? `1 ${noun} was written under a superseded build`
    : `${count.toLocaleString('en')} ${noun}s were written under a superseded build`;
}

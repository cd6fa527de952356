// The protocol build a value was captured, reviewed or signed under, as a small chip ("B2 · 2.0"),
// wherever a value is shown. A build a later one has replaced is said in words ("superseded build"),
// not by colour alone.
import type { BuildRef } from '../../../shared/contract';
import { buildChipText, buildName } from './buildText';

interface BuildChipProps {
  build: BuildRef | null;
  /** What to say when the build is not known (nothing by default). */
  missing?: string;
}

export function BuildChip({ build, missing }: BuildChipProps) {
  if (build === null) return missing === undefined ? null : <span className="muted">{missing}</span>;
  return (
    <span
      className={build.superseded ? 'build-chip is-superseded' : 'build-chip'}
      title={`Protocol build ${buildName(build)}${build.superseded ? ': a later build has replaced it' : ''}`}
      data-build-id={build.id}
    >
      <span className="visually-hidden">protocol build </span>
      {buildChipText(build)}
      {build.superseded && <span className="build-chip-superseded"> · superseded build</span>}
    </span>
  );
}

// Where a build stands among its study's builds, in a word: the current build (new values are
// captured under it), superseded (a later build completed since), or nothing while it is not completed.
import type { StudyBuild } from '../../../shared/contract';

export function BuildStanding({ build }: { build: Pick<StudyBuild, 'current' | 'superseded'> }) {
  if (build.current) return <span className="badge build-current">current</span>;
  if (build.superseded) return <span className="badge build-superseded">superseded</span>;
  return null;
}

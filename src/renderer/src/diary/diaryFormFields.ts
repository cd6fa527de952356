// The diary form's fields a correction is entered with: those of the current build of the record's
// study (new values are captured, and checked by the server, under it), else of the record's own build.
import type { BuildFieldDefinition, StudyBuild } from '../../../shared/contract';

export function diaryFormFields(
  builds: readonly StudyBuild[],
  recordBuildId: string | null,
): BuildFieldDefinition[] {
  const recordBuild = builds.find((build) => build.id === recordBuildId) ?? null;
  const current =
    recordBuild === null
      ? null
      : (builds.find((build) => build.studyId === recordBuild.studyId && build.current) ?? null);
  for (const build of [current, recordBuild]) {
    const form = build?.forms.find((candidate) => candidate.kind === 'diary');
    if (form && form.fields.length > 0) return form.fields;
  }
  return [];
}

/** Each diary field code's label, the current builds' first (a later build may relabel a field). */
export function diaryFieldLabels(builds: readonly StudyBuild[]): Map<string, string> {
  const labels = new Map<string, string>();
  const ordered = [...builds].sort((a, b) => Number(b.current) - Number(a.current));
  for (const build of ordered) {
    for (const form of build.forms) {
      if (form.kind !== 'diary') continue;
      for (const field of form.fields) if (!labels.has(field.code)) labels.set(field.code, field.label);
    }
  }
  return labels;
}

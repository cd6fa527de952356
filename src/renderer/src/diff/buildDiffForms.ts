// A build diff's changes grouped by form, as the build diff draws them: a form added or removed
// whole is one line; otherwise its changed fields are listed under it.
import type { BuildDiffChange } from '../../../shared/contract';

export interface FormChanges {
  form: string;
  /** The change of the form itself (added or removed whole); null: some of its fields changed. */
  whole: BuildDiffChange | null;
  fields: BuildDiffChange[];
}

/** The changes grouped by form, in the order the diff lists them. */
export function changesByForm(changes: readonly BuildDiffChange[]): FormChanges[] {
  const forms = new Map<string, FormChanges>();
  for (const change of changes) {
    let entry = forms.get(change.form);
    if (!entry) {
      entry = { form: change.form, whole: null, fields: [] };
      forms.set(change.form, entry);
    }
    if (change.field === null) entry.whole = change;
    else entry.fields.push(change);
  }
  return [...forms.values()];
}

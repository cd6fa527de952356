// What changed from one protocol build to another, drawn like a proposal's diff: per form, the
// fields added or removed (symbol and word, the diff's added and removed colours as a second cue)
// and, for a changed field, one line per rule that differs ("max: 1440 → 240"). A form added or
// removed whole is one line. Configuration text is untrusted: shown as text only.
import type { BuildDiff } from '../../../shared/contract';
import { visibleText } from '../common/visibleText';
import { changesByForm } from './buildDiffForms';
import { Marker } from './DiffView';

function RuleLines({ details }: { details: readonly string[] }) {
  if (details.length === 0) return null;
  return (
    <ul className="build-diff-rules">
      {details.map((line) => (
        <li key={line}>{visibleText(line)}</li>
      ))}
    </ul>
  );
}

export function BuildDiffView({
  diff,
  fromName,
  toName,
}: {
  diff: BuildDiff;
  /** "B1 (1.0)" */
  fromName: string;
  toName: string;
}) {
  const forms = changesByForm(diff.changes);
  return (
    <section className="diff build-diff" aria-label={`Changes from build ${fromName} to ${toName}`}>
      <p className="diff-summary" role="status">
        {diff.changes.length === 0
          ? `No form, field or rule differs from ${fromName} to ${toName}.`
          : `${diff.changes.length} ${diff.changes.length === 1 ? 'change' : 'changes'} from ${fromName} to ${toName}, in ${forms.length} ${forms.length === 1 ? 'form' : 'forms'}.`}
      </p>
      <ul className="diff-tree">
        {forms.map((form) => (
          <li
            key={form.form}
            className={`diff-node diff-nested build-diff-form diff-${form.whole?.change ?? 'changed'}`}
          >
            <div className="diff-line">
              <Marker kind={form.whole?.change ?? 'object'} />
              <span className="diff-key">
                form <code>{visibleText(form.form)}</code>
              </span>
              {form.whole === null && (
                <span className="muted">
                  {form.fields.length} {form.fields.length === 1 ? 'field' : 'fields'} changed
                </span>
              )}
            </div>
            {form.whole !== null && <RuleLines details={form.whole.details} />}
            {form.fields.length > 0 && (
              <ul className="diff-children">
                {form.fields.map((change) => (
                  <li
                    key={change.field}
                    className={`diff-node diff-leaf build-diff-field diff-${change.change}`}
                    data-field={change.field ?? undefined}
                  >
                    <div className="diff-line">
                      <Marker kind={change.change} />
                      <span className="diff-key">
                        field <code>{visibleText(change.field ?? '')}</code>
                      </span>
                    </div>
                    <RuleLines details={change.details} />
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

// What a build defines: each form (the patient diary's, and one per kind of record an agent may
// propose a change to) with its fields: code, label, type, whether required, allowed values, range
// and maximum length. A draft's configuration may be incomplete: what is there is shown.
import type { StudyBuild } from '../../../shared/contract';
import { visibleText } from '../common/visibleText';
import { allowedValuesText, rangeText } from './buildValues';

const formKinds: Record<string, string> = {
  diary: 'patient diary form',
  entity: 'record an agent may propose',
};

export function BuildDefinitions({ build }: { build: StudyBuild }) {
  return (
    <section className="build-definitions" aria-labelledby="build-definitions-heading">
      <h3 id="build-definitions-heading">
        Forms and fields <span className="muted">({build.forms.length} forms)</span>
      </h3>
      {build.forms.length === 0 && <p className="muted">This build defines no form yet.</p>}
      {build.forms.map((form) => (
        <details key={form.code} className="build-form" open={form.kind === 'diary'}>
          <summary>
            <strong>{visibleText(form.title)}</strong>{' '}
            <span className="muted">
              <code>{visibleText(form.code)}</code> · {formKinds[form.kind] ?? visibleText(form.kind)} ·{' '}
              {form.fields.length} {form.fields.length === 1 ? 'field' : 'fields'}
            </span>
          </summary>
          <div className="table-scroll">
            <table className="table build-fields-table">
              <caption className="visually-hidden">
                Fields of {visibleText(form.title)} in build {visibleText(build.buildNumber)}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Field</th>
                  <th scope="col">Label</th>
                  <th scope="col">Type</th>
                  <th scope="col">Required</th>
                  <th scope="col">Allowed values</th>
                  <th scope="col">Range</th>
                  <th scope="col">Max length</th>
                </tr>
              </thead>
              <tbody>
                {form.fields.map((field) => (
                  <tr key={field.code} data-field={field.code}>
                    <th scope="row">
                      <code>{visibleText(field.code)}</code>
                    </th>
                    <td>{visibleText(field.label)}</td>
                    <td>{visibleText(field.type)}</td>
                    <td>{field.required ? 'required' : 'optional'}</td>
                    <td className="build-allowed-values">{allowedValuesText(field)}</td>
                    <td>{rangeText(field)}</td>
                    <td className="cell-number">{field.maxLength ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      ))}
    </section>
  );
}

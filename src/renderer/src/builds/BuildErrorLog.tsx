// A build's error log: each failed attempt (the server ran the configuration's checks and refused
// it) with its time, who ran it, and every error it recorded, the field path first, so a data
// manager sees what was wrong before the build was corrected and retried.
import type { StudyBuild } from '../../../shared/contract';
import { PersonName } from '../common/PersonName';
import { Timestamp } from '../common/Timestamp';
import { visibleText } from '../common/visibleText';
import { errorRows } from './buildValues';

export function BuildErrorLog({ build }: { build: StudyBuild }) {
  const rows = errorRows(build);
  const attempts = build.errorLog.length;
  return (
    <section className="build-error-log" aria-labelledby="build-errors-heading">
      <h3 id="build-errors-heading">
        Failed attempts <span className="muted">({attempts})</span>
      </h3>
      {attempts === 0 ? (
        <p className="muted">No attempt of this build failed.</p>
      ) : (
        <div className="table-scroll">
          <table className="table build-errors-table">
            <caption className="visually-hidden">
              Errors of the failed attempts of build {visibleText(build.buildNumber)}, oldest first
            </caption>
            <thead>
              <tr>
                <th scope="col">Attempt</th>
                <th scope="col">Failed at (UTC)</th>
                <th scope="col">Run by</th>
                <th scope="col">Field path</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.key} className="build-error-row">
                  <td className="cell-number">{row.first ? `Attempt ${row.attempt.attempt}` : ''}</td>
                  <td>{row.first && <Timestamp iso={row.attempt.at} />}</td>
                  <td>{row.first && <PersonName id={row.attempt.by} fallback="not recorded" />}</td>
                  <td>
                    {row.error === null ? (
                      <span className="muted">—</span>
                    ) : (
                      <code className="build-error-path">
                        {visibleText(row.error.path ?? row.error.field ?? '(the configuration)')}
                      </code>
                    )}
                  </td>
                  <td className="build-error-message">
                    {row.error === null ? (
                      <span className="muted">No error was recorded for this attempt.</span>
                    ) : (
                      visibleText(row.error.message)
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

// A study's builds, newest first: number and version with whether it is the current build or a
// superseded one, type and status, the amendment it implements, what it is, when it ran and for how
// long, who built it, how many forms, fields and rules it defines, failed attempts, and its
// configuration's SHA-256 (short, copyable). Each build's number is a button that shows its detail.
import type { StudyBuild } from '../../../shared/contract';
import { PersonName } from '../common/PersonName';
import { Timestamp } from '../common/Timestamp';
import { visibleText } from '../common/visibleText';
import { BuildStanding } from './BuildStanding';
import { durationText } from './buildValues';
import { CopyableHash } from './CopyableHash';

export function BuildTable({
  builds,
  studyCode,
  selectedId,
  onShow,
}: {
  builds: readonly StudyBuild[];
  studyCode: string;
  selectedId: string | null;
  onShow: (build: StudyBuild) => void;
}) {
  return (
    <div className="table-scroll builds-table-scroll">
      <table className="table builds-table">
        <caption className="builds-caption">
          Builds of {visibleText(studyCode)} <span className="muted">({builds.length}, newest first)</span>
        </caption>
        <thead>
          <tr>
            <th scope="col">Build</th>
            <th scope="col">Type · status</th>
            <th scope="col">Amendment · description</th>
            <th scope="col">Started · ended (UTC)</th>
            <th scope="col">Built by</th>
            <th scope="col">Forms · fields · rules</th>
            <th scope="col">Configuration SHA-256</th>
          </tr>
        </thead>
        <tbody>
          {builds.map((build) => {
            const selected = build.id === selectedId;
            const duration = durationText(build.durationSeconds);
            const failedAttempts = build.errorLog.length;
            return (
              <tr
                key={build.id}
                className={selected ? 'build-row is-selected' : 'build-row'}
                aria-current={selected ? 'true' : undefined}
                data-build-number={build.buildNumber}
              >
                <th scope="row">
                  <button type="button" className="link-button build-show" onClick={() => onShow(build)}>
                    <span className="visually-hidden">Show build </span>
                    {visibleText(build.buildNumber)} · {visibleText(build.buildVersion)}
                  </button>
                  <BuildStanding build={build} />
                </th>
                <td>
                  {build.type.toLowerCase()}
                  <br />
                  <span className={`badge build-status build-status-${build.status.toLowerCase()}`}>
                    {build.status.toLowerCase().replace('_', ' ')}
                  </span>
                  {failedAttempts > 0 && (
                    <span className="build-failed-attempts">
                      {' '}
                      {failedAttempts} failed {failedAttempts === 1 ? 'attempt' : 'attempts'}
                    </span>
                  )}
                </td>
                <td className="build-description-cell">
                  {build.amendmentReference !== null && (
                    <strong className="build-amendment">{visibleText(build.amendmentReference)}</strong>
                  )}
                  <span className="build-description">{visibleText(build.description)}</span>
                </td>
                <td>
                  <Timestamp label="Started" iso={build.startedAt} />
                  <br />
                  <Timestamp label="Ended" iso={build.endedAt} />
                  {duration !== null && <span className="muted"> · {duration}</span>}
                </td>
                <td>
                  <PersonName id={build.builtBy} stacked />
                </td>
                <td className="cell-number">
                  {build.totalForms} · {build.totalFields} · {build.validationRules}
                </td>
                <td>
                  <CopyableHash
                    sha256={build.configurationSha256}
                    label={`build ${visibleText(build.buildNumber)}`}
                  />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

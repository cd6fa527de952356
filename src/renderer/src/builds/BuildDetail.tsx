// One build in full: its facts (type, status, amendment, description, timeline, author, the whole
// configuration hash), the error log of every failed attempt (attempt, time, who ran it, the field
// path and the message the server recorded), and the forms and fields it defines.
import type { RefObject } from 'react';
import type { StudyBuild } from '../../../shared/contract';
import { PersonName } from '../common/PersonName';
import { Timestamp } from '../common/Timestamp';
import { visibleText } from '../common/visibleText';
import { BuildDefinitions } from './BuildDefinitions';
import { BuildErrorLog } from './BuildErrorLog';
import { BuildStanding } from './BuildStanding';
import { durationText } from './buildValues';

export function BuildDetail({
  build,
  headingRef,
}: {
  build: StudyBuild;
  headingRef: RefObject<HTMLHeadingElement | null>;
}) {
  const name = `${visibleText(build.buildNumber)} (${visibleText(build.buildVersion)})`;
  return (
    <section className="panel build-detail" aria-labelledby="build-detail-heading">
      <h2 id="build-detail-heading" ref={headingRef} tabIndex={-1}>
        Build {name} <BuildStanding build={build} />
      </h2>
      <dl className="build-facts">
        <dt>Type · status</dt>
        <dd>
          {build.type.toLowerCase()} ·{' '}
          <span className={`badge build-status build-status-${build.status.toLowerCase()}`}>
            {build.status.toLowerCase().replace('_', ' ')}
          </span>
          {build.completedSequence !== null && (
            <span className="muted"> · completed build {build.completedSequence} of the study</span>
          )}
        </dd>
        <dt>Amendment</dt>
        <dd>{build.amendmentReference !== null ? visibleText(build.amendmentReference) : '—'}</dd>
        <dt>Description</dt>
        <dd className="build-description">{visibleText(build.description)}</dd>
        <dt>Timeline</dt>
        <dd>
          <Timestamp label="Started" iso={build.startedAt} /> ·{' '}
          <Timestamp label="Ended" iso={build.endedAt} />
          {build.durationSeconds !== null && <> · took {durationText(build.durationSeconds)}</>}
        </dd>
        <dt>Built by</dt>
        <dd>
          <PersonName id={build.builtBy} /> · created <Timestamp iso={build.createdAt} />
        </dd>
        <dt>Defines</dt>
        <dd>
          {build.totalForms} {build.totalForms === 1 ? 'form' : 'forms'}, {build.totalFields}{' '}
          {build.totalFields === 1 ? 'field' : 'fields'}, {build.validationRules} validation{' '}
          {build.validationRules === 1 ? 'rule' : 'rules'}
        </dd>
        <dt>Configuration SHA-256</dt>
        <dd>
          <code className="build-sha">{build.configurationSha256}</code>
        </dd>
      </dl>
      <BuildErrorLog build={build} />
      <BuildDefinitions build={build} />
    </section>
  );
}

// Compare two builds of the study: choose the build compared from and the one compared to (at first
// the build before the current one and the current one: what the last amendment changed), then see
// what changed as a diff: forms and fields added or removed, and each rule of a changed field.
import { type FormEvent, type ReactNode, useState } from 'react';
import type { BuildDiff, StudyBuild } from '../../../shared/contract';
import { api } from '../common/api';
import { buildName } from '../common/buildText';
import type { Runner } from '../common/useAction';
import { BuildDiffView } from '../diff/BuildDiffView';
import { defaultComparison } from './buildValues';

export function BuildCompare({ builds, run }: { builds: readonly StudyBuild[]; run: Runner }) {
  const initial = defaultComparison(builds);
  const [fromId, setFromId] = useState(initial?.from ?? '');
  const [toId, setToId] = useState(initial?.to ?? '');
  const [diff, setDiff] = useState<BuildDiff | null>(null);
  const [busy, setBusy] = useState(false);
  const byId = new Map(builds.map((build) => [build.id, build]));
  const nameOf = (id: string) => {
    const build = byId.get(id);
    return build ? buildName({ number: build.buildNumber, version: build.buildVersion }) : 'a build';
  };
  const problem =
    builds.length < 2
      ? 'This study has one build: there is nothing to compare yet.'
      : fromId === '' || toId === ''
        ? 'Choose two builds.'
        : fromId === toId
          ? 'Choose two different builds.'
          : null;

  const compare = async (event: FormEvent) => {
    event.preventDefault();
    if (problem !== null) return;
    setBusy(true);
    const next = await run(() => api['builds.diff']({ fromBuildId: fromId, toBuildId: toId }));
    setBusy(false);
    if (next) setDiff(next);
  };

  const options = builds.map((build) => (
    <option key={build.id} value={build.id}>
      {`${buildName({ number: build.buildNumber, version: build.buildVersion })} · ${build.status.toLowerCase().replace('_', ' ')}${build.current ? ' · current' : ''}`}
    </option>
  ));

  return (
    <section className="panel build-compare" aria-labelledby="build-compare-heading">
      <h2 id="build-compare-heading">Compare builds</h2>
      <form className="build-compare-form" onSubmit={(event) => void compare(event)}>
        <BuildChoice label="From" value={fromId} onChange={setFromId} options={options} />
        <BuildChoice label="to" value={toId} onChange={setToId} options={options} />
        <button
          type="submit"
          className="button"
          disabled={busy || problem !== null}
          aria-describedby={problem !== null ? 'build-compare-problem' : undefined}
        >
          {busy ? 'Comparing…' : 'Compare'}
        </button>
        {problem !== null && (
          <span className="muted" id="build-compare-problem">
            {problem}
          </span>
        )}
      </form>
      {diff !== null && byId.has(diff.fromBuildId) && byId.has(diff.toBuildId) && (
        <BuildDiffView diff={diff} fromName={nameOf(diff.fromBuildId)} toName={nameOf(diff.toBuildId)} />
      )}
    </section>
  );
}

function BuildChoice({
  label,
  value,
  onChange,
  options,
}: {
  label: string;
  value: string;
  onChange: (buildId: string) => void;
  options: ReactNode;
}) {
  return (
    <label className="inline-field">
      {label}{' '}
      <select value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="" disabled>
          choose a build…
        </option>
        {options}
      </select>
    </label>
  );
}

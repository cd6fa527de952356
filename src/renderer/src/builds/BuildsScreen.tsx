// Protocol builds (data managers, signers, monitors, inspectors, investigators, analysts): for one
// study at a time, every build of its protocol (seed 004's "Study Database Builds") with its status,
// timeline, author, counts and configuration hash; the chosen build's failed attempts and its forms
// and fields; and what changed between two builds, as a diff. Read from the cache, so it works
// offline; nothing here writes (an administrator builds on the server).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { StudyBuild } from '../../../shared/contract';
import { api } from '../common/api';
import { useAction } from '../common/useAction';
import { useSyncStatus } from '../common/useSyncStatus';
import { visibleText } from '../common/visibleText';
import { BuildCompare } from './BuildCompare';
import { BuildDetail } from './BuildDetail';
import { BuildTable } from './BuildTable';
import { buildsOfStudy, studiesOf } from './buildValues';

export function BuildsScreen() {
  const { error, run } = useAction();
  const sync = useSyncStatus(true);
  const [builds, setBuilds] = useState<StudyBuild[] | null>(null);
  const [studyId, setStudyId] = useState<string | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const detailHeading = useRef<HTMLHeadingElement>(null);

  // Read again whenever a sync lands (a build completed or failed on the server since).
  const landed = sync.status !== null && !sync.status.syncing ? sync.status.lastSyncedAt : null;
  // biome-ignore lint/correctness/useExhaustiveDependencies: landed is the signal to read again
  useEffect(() => {
    let live = true;
    void run(() => api['builds.list']({ studyId: null })).then((next) => {
      if (!live || !next) return;
      setBuilds(next.builds);
      setStudyId((current) =>
        current !== null && next.builds.some((build) => build.studyId === current)
          ? current
          : (studiesOf(next.builds)[0]?.id ?? null),
      );
    });
    return () => {
      live = false;
    };
  }, [run, landed]);

  const studies = useMemo(() => studiesOf(builds ?? []), [builds]);
  const studyBuilds = useMemo(() => buildsOfStudy(builds ?? [], studyId), [builds, studyId]);
  const selected =
    studyBuilds.find((build) => build.id === selectedId) ??
    studyBuilds.find((build) => build.current) ??
    studyBuilds[0] ??
    null;
  const studyCode = studies.find((study) => study.id === studyId)?.code ?? null;

  const showBuild = useCallback((build: StudyBuild) => {
    setSelectedId(build.id);
    // The chosen build's detail is below the table: move there, as a link within the page would.
    window.requestAnimationFrame(() => detailHeading.current?.focus());
  }, []);

  return (
    <section className="builds-screen" aria-labelledby="builds-heading">
      <header className="builds-header">
        <h1 id="builds-heading">Protocol builds</h1>
        <label className="inline-field">
          Study{' '}
          <select
            value={studyId ?? ''}
            onChange={(event) => {
              setStudyId(event.target.value || null);
              setSelectedId(null);
            }}
            disabled={studies.length === 0}
            aria-label="Study"
          >
            {studies.length === 0 && <option value="">no study</option>}
            {studies.map((study) => (
              <option key={study.id} value={study.id}>
                {visibleText(study.code)}
              </option>
            ))}
          </select>
        </label>
        <span className="muted">
          Each completed build is a frozen version of the study&apos;s forms and rules; every value carries
          the build it was captured under. Read from your offline cache.
        </span>
      </header>
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {builds === null ? (
        error === null && <p className="muted">Reading the builds from your cache…</p>
      ) : studies.length === 0 ? (
        <p className="muted" role="status">
          {sync.status?.lastSyncedAt == null
            ? 'Your cache is being filled by a first sync…'
            : 'No protocol builds of your studies are in your cache. Sync now, or ask to be given a study.'}
        </p>
      ) : (
        <>
          <BuildTable
            builds={studyBuilds}
            studyCode={studyCode ?? ''}
            selectedId={selected?.id ?? null}
            onShow={showBuild}
          />
          <BuildCompare key={studyId} builds={studyBuilds} run={run} />
          {selected !== null && <BuildDetail build={selected} headingRef={detailHeading} />}
        </>
      )}
    </section>
  );
}

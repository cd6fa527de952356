// Diary (investigator): patients by site, then a patient's diary records, then one record with the
// patient's own history on the left and the investigators' annotations and queries on the right,
// side by side; the outbox below. Everything is read from the cache, so the screen works offline;
// annotations, replies and the closing or reopening of a query go to the outbox and are sent in
// order, once, when the workstation is online. Patient data is only ever read here. Every entry
// and annotation shows the protocol build it was captured under; patients and records can be
// narrowed to one build.
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { CorrectionReview, DiaryHistory, DiaryPatients, StudyBuild } from '../../../shared/contract';
import { api } from '../common/api';
import { BuildChip } from '../common/BuildChip';
import { buildName, buildSpanText } from '../common/buildText';
import { Timestamp } from '../common/Timestamp';
import { useAction } from '../common/useAction';
import { visibleText } from '../common/visibleText';
import { AnnotationThread } from './AnnotationThread';
import { CorrectionDialog, type CorrectionTarget } from './CorrectionDialog';
import { CorrectionReviews } from './CorrectionReviews';
import { DiaryEventOutbox } from './DiaryEventOutbox';
import { diaryFieldLabels, diaryFormFields } from './diaryFormFields';
import { recordSortKey, recordTitle, shortId } from './diaryValues';
import { OutboxPanel } from './OutboxPanel';
import type { OutboxItem } from './OutboxStatus';
import { PatientList, patientName } from './PatientList';
import { RecordHistory } from './RecordHistory';
import { type DiaryRecord, RecordList } from './RecordList';
import { TranscribeButton } from './TranscribeButton';
import { useDiaryRefresh } from './useDiaryRefresh';

export function DiaryScreen() {
  const { error, run } = useAction();
  const { revision, status, bump } = useDiaryRefresh();
  const online = status?.online ?? false;
  const [patients, setPatients] = useState<DiaryPatients | null>(null);
  const [patientId, setPatientId] = useState<string | null>(null);
  const [records, setRecords] = useState<DiaryRecord[]>([]);
  const [eventUuid, setEventUuid] = useState<string | null>(null);
  const [history, setHistory] = useState<DiaryHistory | null>(null);
  const [outbox, setOutbox] = useState<OutboxItem[]>([]);
  const [showAllOutbox, setShowAllOutbox] = useState(false);
  const [builds, setBuilds] = useState<StudyBuild[]>([]);
  /** Only patients and records with an entry captured under this build; null: every build. */
  const [buildId, setBuildId] = useState<string | null>(null);
  // Admin corrections (issue 22): the signed-in person's roles decide who corrects and who reviews.
  const [roles, setRoles] = useState<readonly string[]>([]);
  const [correcting, setCorrecting] = useState<CorrectionTarget | null>(null);
  const [reviews, setReviews] = useState<{ reviews: CorrectionReview[]; pending: number } | null>(null);
  const isAdmin = roles.includes('admin');
  const isInvestigator = roles.includes('investigator');

  useEffect(() => {
    let live = true;
    void api['backend.status']({})
      .then((next) => live && setRoles(next.session?.roles ?? []))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is the signal to read again
  useEffect(() => {
    if (!isInvestigator) return;
    let live = true;
    void run(() => api['diary.correctionReviews']({})).then((next) => live && next && setReviews(next));
    return () => {
      live = false;
    };
  }, [run, revision, isInvestigator]);

  // Each read below runs again on every revision (a sync ended, the outbox changed); a reply that
  // arrives after a newer request was made is dropped.
  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is the signal to read again
  useEffect(() => {
    let live = true;
    void run(() => api['diary.patients']({ buildId })).then((next) => {
      if (!live || !next) return;
      setPatients(next);
      const shown = next.sites.flatMap((site) => site.patients);
      setPatientId((current) =>
        current !== null && (buildId === null || shown.some((patient) => patient.patientId === current))
          ? current
          : (shown[0]?.patientId ?? null),
      );
    });
    return () => {
      live = false;
    };
  }, [run, revision, buildId]);

  // The builds a value can have been captured under: completed ones (the filter's choices).
  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is the signal to read again
  useEffect(() => {
    let live = true;
    void run(() => api['builds.list']({ studyId: null })).then(
      (next) => live && next && setBuilds(next.builds.filter((build) => build.status === 'COMPLETED')),
    );
    return () => {
      live = false;
    };
  }, [run, revision]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is the signal to read again
  useEffect(() => {
    if (patientId === null) return;
    let live = true;
    void run(() => api['diary.records']({ patientId, buildId, limit: 5000 })).then((next) => {
      if (!live || !next) return;
      setRecords(next.rows);
      setEventUuid((current) =>
        current !== null && next.rows.some((row) => row.eventUuid === current)
          ? current
          : newestOf(next.rows),
      );
    });
    return () => {
      live = false;
    };
  }, [run, patientId, buildId, revision]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is the signal to read again
  useEffect(() => {
    if (eventUuid === null) {
      setHistory(null);
      return;
    }
    let live = true;
    void run(() => api['diary.history']({ eventUuid })).then((next) => live && next && setHistory(next));
    return () => {
      live = false;
    };
  }, [run, eventUuid, revision]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is the signal to read again
  useEffect(() => {
    let live = true;
    void run(() => api['outbox.list']({ includeSent: showAllOutbox })).then(
      (next) => live && next && setOutbox(next.items),
    );
    return () => {
      live = false;
    };
  }, [run, showAllOutbox, revision]);

  const resolveOutbox = useCallback(
    async (id: number, action: 'rebase' | 'discard') => {
      if (await run(() => api['outbox.resolve']({ id, action }))) bump();
    },
    [run, bump],
  );
  const showRecord = useCallback(
    async (target: string) => {
      const found = await run(() => api['diary.history']({ eventUuid: target }));
      if (!found) return;
      setPatientId(found.record.patientId);
      setEventUuid(found.record.eventUuid);
      setHistory(found);
    },
    [run],
  );

  const selectedPatient = useMemo(
    () =>
      patients?.sites.flatMap((site) => site.patients).find((patient) => patient.patientId === patientId) ??
      null,
    [patients, patientId],
  );
  const waitingByRecord = useMemo(() => {
    const counts = new Map<string, number>();
    for (const item of outbox) {
      if (item.state === 'pending' || item.state === 'conflict' || item.state === 'failed') {
        counts.set(item.eventUuid, (counts.get(item.eventUuid) ?? 0) + 1);
      }
    }
    return counts;
  }, [outbox]);
  const record = records.find((row) => row.eventUuid === eventUuid) ?? null;
  const entryNumbers = useMemo(
    () => new Map((history?.entries ?? []).map((entry, index) => [entry.auditId, index + 1])),
    [history],
  );
  const patientLabel = selectedPatient ? patientName(selectedPatient) : 'the patient';
  const studiesWithBuilds = new Set(builds.map((build) => build.studyId)).size;
  const spans = history ? buildSpanText(history.builds) : null;

  return (
    <section className="diary-screen" aria-label="Patient diaries">
      <header className="diary-header">
        <h1>Patient diaries</h1>
        <span className="muted">
          Read from your offline cache; annotations never change the patient&apos;s data.
        </span>
        <label className="inline-field diary-build-filter">
          Build{' '}
          <select
            value={buildId ?? ''}
            onChange={(event) => {
              setBuildId(event.target.value || null);
              setEventUuid(null);
            }}
            aria-label="Show patients and records with entries under the build"
          >
            <option value="">all builds</option>
            {builds.map((build) => (
              <option key={build.id} value={build.id}>
                {`${studiesWithBuilds > 1 ? `${visibleText(build.studyCode)} ` : ''}${buildName({ number: build.buildNumber, version: build.buildVersion })}${build.superseded ? ' · superseded' : build.current ? ' · current' : ''}`}
              </option>
            ))}
          </select>
        </label>
        <TranscribeButton
          patientId={patientId}
          patientLabel={patientLabel}
          transcribedRecord={
            record !== null && record.paperSource !== null
              ? { eventUuid: record.eventUuid, data: record.currentData }
              : null
          }
          online={online}
          run={run}
          onSaved={bump}
        />
      </header>
      {status !== null && !status.online && (
        <p className="notice notice-warning diary-offline" role="status">
          <strong>Offline</strong>
          {status.offlineSince !== null && (
            <>
              {' '}
              since <Timestamp iso={status.offlineSince} />
            </>
          )}
          : you are reading the cache as last synced
          {status.lastSyncedAt !== null && (
            <>
              {' '}
              (<Timestamp iso={status.lastSyncedAt} />)
            </>
          )}
          . Annotations, replies and closing or reopening a query wait in the outbox and are sent in order
          once you are back online.
        </p>
      )}
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {isInvestigator && reviews !== null && (
        <CorrectionReviews
          reviews={reviews.reviews}
          pending={reviews.pending}
          fieldLabels={diaryFieldLabels(builds)}
          online={online}
          onDecided={bump}
          onShowRecord={(target) => void showRecord(target)}
        />
      )}
      {correcting !== null && (
        <CorrectionDialog
          target={correcting}
          fields={diaryFormFields(builds, record?.build?.id ?? null)}
          onClose={(corrected) => {
            setCorrecting(null);
            if (corrected) bump();
          }}
        />
      )}
      {patients === null ? (
        <p className="muted">Reading the diaries from your cache…</p>
      ) : (
        <div className="diary-layout">
          <PatientList
            patients={patients}
            selectedPatientId={patientId}
            neverSynced={status?.lastSyncedAt == null}
            onSelect={(patient) => {
              if (patient.patientId === patientId) return;
              setPatientId(patient.patientId);
              setRecords([]);
              setEventUuid(null);
            }}
          />
          {patientId !== null ? (
            <RecordList
              records={records}
              waitingByRecord={waitingByRecord}
              selectedEventUuid={eventUuid}
              onSelect={(row) => setEventUuid(row.eventUuid)}
              patientLabel={patientLabel}
            />
          ) : (
            <p className="muted">Choose a patient.</p>
          )}
          {history !== null && history.record.eventUuid === eventUuid ? (
            <article
              className="diary-detail"
              aria-label={`Diary record ${record ? recordTitle(record.currentData) : shortId(history.record.eventUuid)}`}
            >
              <header className="diary-detail-head">
                <h2>
                  {record ? recordTitle(record.currentData) : 'Diary record'}{' '}
                  <span className="muted">
                    ·{' '}
                    {history.record.subjectCode !== null
                      ? visibleText(history.record.subjectCode)
                      : patientLabel}{' '}
                    · site {visibleText(history.record.siteId)} · version {history.record.version}
                  </span>
                </h2>
                <span className="muted diary-id" title={history.record.eventUuid}>
                  record {shortId(history.record.eventUuid)}
                </span>
                {history.record.isDeleted && <span className="diary-tag">deleted by the patient</span>}
                {isAdmin && record !== null && !history.record.isDeleted && (
                  <span className="diary-correct-action">
                    <button
                      type="button"
                      className="button"
                      disabled={!online}
                      aria-describedby={online ? undefined : 'diary-correct-offline'}
                      onClick={() =>
                        setCorrecting({
                          eventUuid: record.eventUuid,
                          lastAuditId: history.record.lastAuditId,
                          version: history.record.version,
                          data: record.currentData,
                          patientLabel:
                            history.record.subjectCode !== null ? history.record.subjectCode : patientLabel,
                          title: recordTitle(record.currentData),
                        })
                      }
                    >
                      Correct entry…
                    </button>
                    {!online && (
                      <span className="muted" id="diary-correct-offline">
                        Correcting needs the server: go online.
                      </span>
                    )}
                  </span>
                )}
                {spans !== null ? (
                  <p className="build-span" role="note">
                    <span aria-hidden="true">⇄ </span>
                    {spans}
                  </p>
                ) : (
                  history.builds.length === 1 && (
                    <p className="build-span-one muted">
                      All entries under one build: <BuildChip build={history.builds[0] ?? null} />
                    </p>
                  )
                )}
              </header>
              <div className="diary-side-by-side">
                <RecordHistory entries={history.entries} lastAuditId={history.record.lastAuditId} />
                <AnnotationThread
                  key={history.record.eventUuid}
                  eventUuid={history.record.eventUuid}
                  annotations={history.annotations}
                  entryNumbers={entryNumbers}
                  lastAuditId={history.record.lastAuditId}
                  online={online}
                  run={run}
                  onChanged={bump}
                  onResolveOutbox={(id, action) => void resolveOutbox(id, action)}
                />
              </div>
            </article>
          ) : (
            <p className="muted diary-detail">
              {eventUuid === null ? 'Choose a diary record.' : 'Reading the record…'}
            </p>
          )}
        </div>
      )}
      <OutboxPanel
        items={outbox}
        online={online}
        showAll={showAllOutbox}
        onShowAll={setShowAllOutbox}
        onResolve={(id, action) => void resolveOutbox(id, action)}
        onShowRecord={(target) => void showRecord(target)}
      />
      <DiaryEventOutbox
        online={online}
        showAll={showAllOutbox}
        revision={revision}
        run={run}
        onChanged={bump}
        onShowRecord={(target) => void showRecord(target)}
      />
    </section>
  );
}

function newestOf(rows: readonly DiaryRecord[]): string | null {
  let best: DiaryRecord | null = null;
  const key = (row: DiaryRecord) => recordSortKey(row.currentData);
  for (const row of rows) if (best === null || key(row) > key(best)) best = row;
  return best?.eventUuid ?? null;
}

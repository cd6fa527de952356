// The patients of the investigator's sites, grouped by site, each under their study identifier with
// how many records they have, how many queries are open and how many outbox items wait.
import { useMemo, useState } from 'react';
import type { DiaryPatients } from '../../../shared/contract';
import { VirtualList } from '../common/VirtualList';
import { visibleText } from '../common/visibleText';
import { shortId } from './diaryValues';

type Site = DiaryPatients['sites'][number];
type Patient = Site['patients'][number];
type Row = { kind: 'site'; site: Site; shown: number } | { kind: 'patient'; site: Site; patient: Patient };

const siteRowHeight = 30;
const patientRowHeight = 46;

export function patientName(patient: Patient): string {
  return patient.subjectCode !== null
    ? visibleText(patient.subjectCode)
    : `Patient ${shortId(patient.patientId)}`;
}

export function PatientList({
  patients,
  selectedPatientId,
  onSelect,
  neverSynced,
}: {
  patients: DiaryPatients;
  selectedPatientId: string | null;
  onSelect: (patient: Patient) => void;
  /** The cache has not finished a first sync yet. */
  neverSynced: boolean;
}) {
  const [filter, setFilter] = useState('');
  const rows = useMemo(() => {
    const wanted = filter.trim().toLowerCase();
    return patients.sites.flatMap((site): Row[] => {
      const shown = site.patients.filter(
        (patient) =>
          wanted === '' ||
          (patient.subjectCode ?? '').toLowerCase().includes(wanted) ||
          patient.patientId.startsWith(wanted),
      );
      return [
        { kind: 'site', site, shown: shown.length },
        ...shown.map((patient): Row => ({ kind: 'patient', site, patient })),
      ];
    });
  }, [patients, filter]);
  const total = patients.sites.reduce((sum, site) => sum + site.patients.length, 0);

  return (
    <nav className="diary-patients" aria-label="Patients by site">
      <h2 className="diary-column-title">
        Patients <span className="muted">({total})</span>
      </h2>
      <label className="diary-filter">
        <span className="visually-hidden">Find a patient</span>
        <input
          type="search"
          placeholder="Find a patient"
          value={filter}
          onChange={(event) => setFilter(event.target.value)}
        />
      </label>
      {total === 0 ? (
        <p className="muted" role="status">
          {neverSynced
            ? 'Your cache is being filled by a first sync…'
            : 'No patients in your cache. Sync now, or ask to be assigned to a site.'}
        </p>
      ) : (
        <VirtualList
          items={rows}
          label="Patients"
          itemKey={(row) => (row.kind === 'site' ? `site:${row.site.siteId}` : row.patient.patientId)}
          rowHeight={(row) => (row.kind === 'site' ? siteRowHeight : patientRowHeight)}
          selectable={(row) => row.kind === 'patient'}
          selectedKey={selectedPatientId}
          onSelect={(row) => row.kind === 'patient' && onSelect(row.patient)}
          renderRow={(row) =>
            row.kind === 'site' ? (
              <div
                className="diary-site-heading"
                title={`${visibleText(row.site.siteId)} ${row.site.siteName !== null ? visibleText(row.site.siteName) : ''} · ${row.shown}`}
              >
                <span>{visibleText(row.site.siteId)}</span>{' '}
                <span className="muted">
                  {row.site.siteName !== null ? visibleText(row.site.siteName) : ''} · {row.shown}
                </span>
              </div>
            ) : (
              <PatientRow patient={row.patient} />
            )
          }
        />
      )}
    </nav>
  );
}

function PatientRow({ patient }: { patient: Patient }) {
  const summary = [
    `${patient.records} ${patient.records === 1 ? 'record' : 'records'}`,
    patient.lastEntryDate !== null ? `last entry ${visibleText(patient.lastEntryDate)}` : null,
    patient.openQueries > 0
      ? `${patient.openQueries} open ${patient.openQueries === 1 ? 'query' : 'queries'}`
      : null,
    patient.outboxWaiting > 0 ? `${patient.outboxWaiting} in the outbox` : null,
  ]
    .filter(Boolean)
    .join(', ');
  return (
    <span className="diary-row" title={summary}>
      <span className="diary-row-title">{patientName(patient)}</span>
      <span className="diary-row-meta">
        {patient.outboxWaiting > 0 && (
          <span className="diary-flag diary-flag-waiting">◷ {patient.outboxWaiting} in outbox · </span>
        )}
        {patient.openQueries > 0 && (
          <span className="diary-flag">
            ? {patient.openQueries} open {patient.openQueries === 1 ? 'query' : 'queries'} ·{' '}
          </span>
        )}
        {patient.records} {patient.records === 1 ? 'record' : 'records'}
        {patient.lastEntryDate !== null && <> · last {visibleText(patient.lastEntryDate)}</>}
      </span>
    </span>
  );
}

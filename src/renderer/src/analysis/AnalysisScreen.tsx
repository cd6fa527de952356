// The analyst's screen (issue 22): the de-identified diary entries of their sites, as the cache holds
// them (the server's diary.deidentified_entry: subject codes only, free text left out, dates as study
// days), filtered by site, subject, origin and a field's value, with the count shown; and the export
// of them. Read from the cache, so it works offline; read again after every sync.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AnalysisFilter, ResponseOf } from '../../../shared/contract';
import { api } from '../common/api';
import { useKeysetPages } from '../common/useKeysetPages';
import { useSyncStatus } from '../common/useSyncStatus';
import { type Column, VirtualTable } from '../common/VirtualTable';
import { visibleText } from '../common/visibleText';
import { DeidentifiedExport } from './DeidentifiedExport';

type Entries = ResponseOf<'analysis.entries'>;
type Entry = Entries['entries'][number];

const noFilter: AnalysisFilter = { siteId: null, subjectCode: null, field: null, value: null, origin: null };

function shown(value: Entry['values'][string] | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return visibleText(String(value));
}

/** A new revision after each finished sync run: the cache may hold new entries. */
function useSyncRevision(): number {
  const { status } = useSyncStatus(true);
  const [revision, setRevision] = useState(0);
  const last = useRef<string | null>(null);
  useEffect(() => {
    const synced = status?.lastSyncedAt ?? null;
    if (synced !== last.current) {
      last.current = synced;
      setRevision((n) => n + 1);
    }
  }, [status?.lastSyncedAt]);
  return revision;
}

export function AnalysisScreen() {
  const [filter, setFilter] = useState<AnalysisFilter>(noFilter);
  const [valueDraft, setValueDraft] = useState('');
  const [answer, setAnswer] = useState<Entries | null>(null);
  const revision = useSyncRevision();

  // The whole filtered set in one page: the cache answers it at once, and the count is exact.
  const readPage = useCallback(
    async (_cursor: null) => {
      void revision;
      const result = await api['analysis.entries'](filter);
      setAnswer(result);
      return { rows: result.entries, next: null };
    },
    [filter, revision],
  );
  const pages = useKeysetPages<Entry, null>(readPage);

  const columns: Column[] = useMemo(
    () => [
      { id: 'subject', header: 'Subject', width: '8rem' },
      { id: 'site', header: 'Site', width: '6rem' },
      ...(answer?.columns ?? []).map((column) => ({ id: column.code, header: column.label })),
      { id: 'origin', header: 'Origin', width: '5.5rem' },
      { id: 'corrected', header: 'Corrected', width: '6rem' },
    ],
    [answer?.columns],
  );
  const fieldColumns = answer?.columns ?? [];
  const filtered =
    filter.siteId !== null || filter.subjectCode !== null || filter.origin !== null || filter.field !== null;

  return (
    <section className="panel analysis-screen" aria-labelledby="analysis-heading">
      <h2 id="analysis-heading">De-identified data</h2>
      <p className="muted">
        Diary entries of your sites with patients named by subject code only: free-text and identifier fields
        are left out and dates are study days counted from enrolment (day 1 is the enrolment date; the day
        before is -1). Read from this workstation&apos;s cache, offline too.
      </p>
      <form
        className="audit-filters analysis-filters"
        aria-label="Filter the entries"
        onSubmit={(event) => {
          event.preventDefault();
          setFilter((current) => ({ ...current, value: current.field === null ? null : valueDraft.trim() }));
        }}
      >
        <label className="inline-field">
          Site
          <select
            value={filter.siteId ?? ''}
            onChange={(event) => setFilter({ ...filter, siteId: event.target.value || null })}
          >
            <option value="">All sites</option>
            {(answer?.sites ?? []).map((site) => (
              <option key={site} value={site}>
                {visibleText(site)}
              </option>
            ))}
          </select>
        </label>
        <label className="inline-field">
          Subject
          <select
            value={filter.subjectCode ?? ''}
            onChange={(event) => setFilter({ ...filter, subjectCode: event.target.value || null })}
          >
            <option value="">All subjects</option>
            {(answer?.subjects ?? []).map((subject) => (
              <option key={subject} value={subject}>
                {visibleText(subject)}
              </option>
            ))}
          </select>
        </label>
        <label className="inline-field">
          Origin
          <select
            value={filter.origin ?? ''}
            onChange={(event) =>
              setFilter({ ...filter, origin: (event.target.value || null) as AnalysisFilter['origin'] })
            }
          >
            <option value="">Patient and paper</option>
            <option value="patient">Patient (own device)</option>
            <option value="paper">Paper (transcribed)</option>
          </select>
        </label>
        <label className="inline-field">
          Field
          <select
            value={filter.field ?? ''}
            onChange={(event) =>
              setFilter({
                ...filter,
                field: event.target.value || null,
                value: event.target.value ? valueDraft.trim() : null,
              })
            }
          >
            <option value="">Any field</option>
            {fieldColumns.map((column) => (
              <option key={column.code} value={column.code}>
                {visibleText(column.label)}
              </option>
            ))}
          </select>
        </label>
        <label className="inline-field">
          equals
          <input
            value={valueDraft}
            maxLength={200}
            disabled={filter.field === null}
            placeholder="e.g. epistaxis"
            onChange={(event) => setValueDraft(event.target.value)}
          />
        </label>
        <button type="submit" className="button" disabled={filter.field === null}>
          Apply
        </button>
        <button
          type="button"
          className="button button-quiet"
          disabled={!filtered}
          onClick={() => {
            setValueDraft('');
            setFilter(noFilter);
          }}
        >
          Clear
        </button>
        <span className="muted" role="status" aria-live="polite">
          {answer === null
            ? ''
            : `${answer.entries.length.toLocaleString()} of ${answer.total.toLocaleString()} entries shown`}
        </span>
      </form>
      <VirtualTable<Entry>
        label="De-identified diary entries"
        caption="One row per diary entry: subject code, site, the form's fields, origin and whether corrected"
        columns={columns}
        pages={pages}
        rowHeight={34}
        rowKey={(row) => row.entryId}
        rowClassName={(row) => (row.deleted ? 'analysis-deleted' : undefined)}
        renderCells={(row) => (
          <>
            <td>{visibleText(row.subjectCode)}</td>
            <td>{visibleText(row.siteId)}</td>
            {fieldColumns.map((column) => (
              <td key={column.code}>{shown(row.values[column.code])}</td>
            ))}
            <td>{row.origin}</td>
            <td>{row.corrected ? 'yes' : 'no'}</td>
          </>
        )}
        noun="entries"
        empty={
          answer !== null && answer.total === 0
            ? 'No de-identified entries in the cache yet: sync, or ask an administrator which sites you are assigned.'
            : 'No entry matches the filter.'
        }
      />
      <DeidentifiedExport filter={filter} filtered={filtered} shownCount={answer?.entries.length ?? 0} />
    </section>
  );
}

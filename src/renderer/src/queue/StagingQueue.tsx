// The signer's queue: every cached proposal in one virtualised table (smooth at 100,000 rows),
// filtered by state and search, sorted by any column, optionally grouped by study; records are
// selected, opened for review, signed or rejected in one ceremony, and promoted. Fully keyboard
// driven: j/k or arrows move, space selects, Enter opens, r opens the record for review, s signs the
// selection, / searches, Esc closes. A record opens beside the queue with its diff, the agent's
// reasons and its signatures; opening it changes nothing on the server (decision 34). Each row says
// what it changes (its change summary, computed when the row was cached), names its target and the
// protocol build it was written under; the queue can be narrowed to one study and one build.
// A banner reports the last action only: it clears when the next action starts.
//
// The table (@tanstack/react-table) holds the columns and the sort state, with manual sorting: the
// rows are filtered, sorted and grouped by queueRows.ts over the plain cached rows and only the
// rows in view are rendered (@tanstack/react-virtual). The table's own row model makes an object
// of about 5 KB per row: at 100,000 rows that is half a gigabyte and seconds per keystroke.
import { type ColumnDef, getCoreRowModel, type SortingState, useReactTable } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { QueueRow, StudyBuild } from '../../../shared/contract';
import { type StagingState, stagingStates } from '../../../shared/domain';
import { api, subscribe } from '../common/api';
import { buildName } from '../common/buildText';
import { messageOf } from '../common/messageOf';
import { OfflineWriteNotice } from '../common/OfflineWriteNotice';
import { Timestamp } from '../common/Timestamp';
import { visibleText } from '../common/visibleText';
import { SignDialog } from '../signing/SignDialog';
import { loadQueue, type QueueLoad } from './queueLoader';
import {
  ageOf,
  buildCellOf,
  createRowFilter,
  isGroup,
  type QueueItem,
  queueItems,
  scopeRows,
  sortRows,
} from './queueRows';
import { RecordDetail } from './RecordDetail';

const rowHeight = 33;

// Text columns sort ascending first; age descending first (the longest waiting on top). The ids are
// queueRows.ts's sort columns.
const columns: ColumnDef<QueueRow>[] = [
  { id: 'state', accessorKey: 'state', header: 'State', sortDescFirst: false },
  { id: 'targetTitle', accessorFn: (row) => row.targetTitle ?? '', header: 'Record', sortDescFirst: false },
  {
    id: 'changeSummary',
    accessorFn: (row) => row.changeSummary ?? '',
    header: 'Change',
    sortDescFirst: false,
  },
  { id: 'entityKind', accessorKey: 'entityKind', header: 'Entity kind', sortDescFirst: false },
  { id: 'studyCode', accessorKey: 'studyCode', header: 'Study', sortDescFirst: false },
  { id: 'build', accessorFn: (row) => row.build?.number ?? '', header: 'Build', sortDescFirst: false },
  { id: 'agentId', accessorKey: 'agentId', header: 'Agent', sortDescFirst: false },
  {
    id: 'modelVersion',
    accessorFn: (row) => row.modelVersion ?? '',
    header: 'Model version',
    sortDescFirst: false,
  },
  { id: 'createdAt', accessorKey: 'createdAt', header: 'Proposed at', sortDescFirst: false },
  { id: 'age', accessorFn: (row) => -Date.parse(row.createdAt), header: 'Age', sortDescFirst: true },
];

/** The table's data: none (it holds columns and sort state; the rows are queueRows.ts's). */
const noRows: QueueRow[] = [];

function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
  );
}

export function StagingQueue() {
  const [load, setLoad] = useState<QueueLoad>({ rows: [], counts: {}, done: false });
  const [loading, setLoading] = useState(false);
  /** The queue could not be read (cleared by the next load). */
  const [loadError, setLoadError] = useState<string | null>(null);
  /** What the last action reported: its outcome, or its error. Cleared when the next action starts. */
  const [report, setReport] = useState<{ kind: 'notice' | 'error'; lines: string[] } | null>(null);
  const [openingForReview, setOpeningForReview] = useState(false);
  const [stateFilter, setStateFilter] = useState<StagingState | ''>('');
  const [search, setSearch] = useState('');
  const [groupByStudy, setGroupByStudy] = useState(false);
  const [studyFilter, setStudyFilter] = useState<string | null>(null);
  const [buildFilter, setBuildFilter] = useState<string | null>(null);
  /** The studies' completed builds (builds.list), for the build filter. */
  const [builds, setBuilds] = useState<StudyBuild[]>([]);
  const [sorting, setSorting] = useState<SortingState>([]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [cursor, setCursor] = useState(0);
  const [openRecord, setOpenRecord] = useState<string | null>(null);
  const [signing, setSigning] = useState<{ intent: 'approve' | 'reject'; ids: string[] } | null>(null);
  /** Bumped on every reload, so an open record is read again after it was signed or promoted. */
  const [generation, setGeneration] = useState(0);
  const scrollRef = useRef<HTMLDivElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const loadToken = useRef(0);

  const reload = useCallback(async () => {
    const token = ++loadToken.current;
    setLoading(true);
    setLoadError(null);
    try {
      await loadQueue(
        (next) => {
          setLoad(next);
          if (next.done) {
            // The selection survives a reload, for the records still there.
            const present = new Set(next.rows.map((row) => row.id));
            setSelected((current) => new Set([...current].filter((id) => present.has(id))));
            setGeneration((current) => current + 1);
          }
        },
        () => token !== loadToken.current,
      );
    } catch (caught) {
      setLoadError(messageOf(caught));
    } finally {
      if (token === loadToken.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  // When a sync lands (at sign-in, every few minutes, after a change), show what it brought.
  const lastSynced = useRef<string | null>(null);
  useEffect(
    () =>
      subscribe('sync.progress', (status) => {
        if (status.syncing || status.lastSyncedAt === null || status.lastSyncedAt === lastSynced.current)
          return;
        lastSynced.current = status.lastSyncedAt;
        void reload();
      }),
    [reload],
  );

  // The builds, read again with every reload of the queue (a new build may have completed).
  // biome-ignore lint/correctness/useExhaustiveDependencies: generation is the signal to read again
  useEffect(() => {
    let live = true;
    api['builds.list']({ studyId: null }).then(
      (next) => live && setBuilds(next.builds.filter((build) => build.status === 'COMPLETED')),
      // Without builds the queue still works; the build filter just has no choices.
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [generation]);

  // Sorted once per load or sort change; a keystroke in the search only filters the sorted rows.
  const sorted = useMemo(() => sortRows(load.rows, sorting), [load.rows, sorting]);
  const scoped = useMemo(
    () => scopeRows(sorted, studyFilter, buildFilter),
    [sorted, studyFilter, buildFilter],
  );
  const filterAsTyped = useMemo(() => createRowFilter(), []);
  const data = useMemo(
    () => filterAsTyped(scoped, stateFilter, search),
    [filterAsTyped, scoped, stateFilter, search],
  );
  // The studies to filter by: those with builds, and those of the loaded rows (once all are in).
  const studies = useMemo(() => {
    const codes = new Map<string, string>();
    for (const build of builds) codes.set(build.studyId, build.studyCode);
    if (load.done)
      for (const row of load.rows) if (!codes.has(row.studyId)) codes.set(row.studyId, row.studyCode);
    return [...codes].sort((a, b) => a[1].localeCompare(b[1], 'en', { numeric: true }));
  }, [builds, load.done, load.rows]);
  const buildChoices = useMemo(
    () => builds.filter((build) => studyFilter === null || build.studyId === studyFilter),
    [builds, studyFilter],
  );
  const rows: QueueItem[] = useMemo(() => queueItems(data, groupByStudy), [data, groupByStudy]);

  /** A new action starts: the banner of the last one no longer speaks for the screen. */
  const beginAction = useCallback(() => setReport(null), []);

  /** Shows a record beside the queue. Reading changes nothing on the server (decision 34). */
  const openRecordFor = useCallback(
    (id: string) => {
      if (id !== openRecord) beginAction();
      setOpenRecord(id);
    },
    [openRecord, beginAction],
  );

  /** Starts the review of proposed records: an audited step of the signer's own, on the server. */
  const openForReview = useCallback(
    async (ids: string[]) => {
      if (ids.length === 0) return;
      beginAction();
      setOpeningForReview(true);
      try {
        const { opened } = await api['staging.openForReview']({ stagingIds: ids });
        setReport({
          kind: 'notice',
          lines: [
            ids.length === 1
              ? opened === 1
                ? `Record ${(ids[0] as string).slice(0, 8)} is now in review.`
                : `Record ${(ids[0] as string).slice(0, 8)} was already in review.`
              : `${opened} record${opened === 1 ? '' : 's'} opened for review.`,
          ],
        });
        await reload();
      } catch (caught) {
        setReport({ kind: 'error', lines: [messageOf(caught)] });
      } finally {
        setOpeningForReview(false);
      }
    },
    [beginAction, reload],
  );
  const table = useReactTable({
    data: noRows,
    columns,
    state: { sorting },
    onSortingChange: setSorting,
    manualSorting: true,
    autoResetAll: false,
    getCoreRowModel: getCoreRowModel(),
  });
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 15,
  });
  const items = virtualizer.getVirtualItems();
  const paddingTop = items[0]?.start ?? 0;
  const paddingBottom = virtualizer.getTotalSize() - (items.at(-1)?.end ?? 0);

  // The state of each selected record (one pass over the rows, only when something is selected);
  // the records of a state are listed in the order they were selected.
  const selectedStates = useMemo(() => {
    const states = new Map<string, StagingState>();
    if (selected.size === 0) return states;
    for (const row of load.rows) if (selected.has(row.id)) states.set(row.id, row.state);
    return states;
  }, [load.rows, selected]);
  const selectedIn = useCallback(
    (state: StagingState) => [...selected].filter((id) => selectedStates.get(id) === state),
    [selected, selectedStates],
  );
  const hiddenSelected = useMemo(() => {
    if (selected.size === 0) return 0;
    let shown = 0;
    for (const row of data) if (selected.has(row.id)) shown++;
    return selected.size - shown;
  }, [data, selected]);
  const toggle = useCallback(
    (id: string) =>
      setSelected((current) => {
        const next = new Set(current);
        if (next.has(id)) next.delete(id);
        else next.add(id);
        return next;
      }),
    [],
  );
  const allShownSelected = data.length > 0 && data.every((row) => selected.has(row.id));

  const startSigning = useCallback(
    (intent: 'approve' | 'reject') => {
      const ids = selectedIn('reviewing');
      if (ids.length === 0) return;
      beginAction();
      setSigning({ intent, ids });
    },
    [selectedIn, beginAction],
  );

  // Keyboard control of the queue (not while typing in a field or while the signing dialog is open).
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (signing !== null || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === '/' && !isTyping(event.target)) {
        event.preventDefault();
        searchRef.current?.focus();
        return;
      }
      if (event.key === 'Escape') {
        if (isTyping(event.target)) (event.target as HTMLElement).blur();
        else setOpenRecord(null);
        return;
      }
      if (isTyping(event.target)) return;
      const move = (delta: number) => {
        event.preventDefault();
        const next = Math.max(0, Math.min(rows.length - 1, cursor + delta));
        setCursor(next);
        // Keep the cursor row in view (plain scrollTop: no scroll animation to wait for).
        const scroller = scrollRef.current;
        if (scroller) {
          const top = next * rowHeight;
          const header = rowHeight;
          if (top < scroller.scrollTop) scroller.scrollTop = top;
          else if (top + rowHeight + header > scroller.scrollTop + scroller.clientHeight)
            scroller.scrollTop = top + rowHeight + header - scroller.clientHeight;
        }
      };
      const current = rows[cursor];
      switch (event.key) {
        case 'j':
        case 'ArrowDown':
          move(1);
          break;
        case 'k':
        case 'ArrowUp':
          move(-1);
          break;
        case ' ':
          if (current && !isGroup(current)) {
            event.preventDefault();
            toggle(current.id);
          }
          break;
        case 'Enter':
          if (current && !isGroup(current) && !(event.target instanceof HTMLButtonElement)) {
            event.preventDefault();
            openRecordFor(current.id);
          }
          break;
        case 's':
          event.preventDefault();
          startSigning('approve');
          break;
        case 'r': {
          // The open record, else the one under the cursor; only a proposed record can be opened.
          const id = openRecord ?? (current && !isGroup(current) ? current.id : null);
          const state = id === null ? undefined : load.rows.find((row) => row.id === id)?.state;
          if (id !== null && state === 'proposed' && !openingForReview) {
            event.preventDefault();
            void openForReview([id]);
          }
          break;
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [
    rows,
    cursor,
    signing,
    toggle,
    startSigning,
    openRecordFor,
    openRecord,
    load.rows,
    openForReview,
    openingForReview,
  ]);

  const promote = async () => {
    beginAction();
    try {
      const { outcomes } = await api['staging.promote']({ stagingIds: selectedIn('signed') });
      const promoted = outcomes.filter((outcome) => outcome.outcome === 'promoted').length;
      setReport({
        kind: 'notice',
        lines: [
          `${promoted} of ${outcomes.length} record${outcomes.length === 1 ? '' : 's'} promoted.`,
          ...outcomes.filter((outcome) => outcome.outcome !== 'promoted').map((outcome) => outcome.message),
        ],
      });
      await reload();
    } catch (caught) {
      setReport({ kind: 'error', lines: [messageOf(caught)] });
    }
  };

  const total = stagingStates.reduce((sum, state) => sum + (load.counts[state] ?? 0), 0);
  const now = Date.now();

  const renderRow = (item: QueueItem, index: number) => {
    if (isGroup(item)) {
      return (
        <tr key={`group:${item.group}`} className={index === cursor ? 'group-row row-cursor' : 'group-row'}>
          <td colSpan={12}>
            <strong>{visibleText(item.group)}</strong> <span className="muted">{item.count} records</span>
          </td>
        </tr>
      );
    }
    const record = item;
    const classes = [openRecord === record.id ? 'row-open' : '', index === cursor ? 'row-cursor' : '']
      .filter(Boolean)
      .join(' ');
    return (
      <tr
        key={record.id}
        className={classes || undefined}
        aria-current={index === cursor ? 'true' : undefined}
        onClick={() => setCursor(index)}
      >
        <td>
          <input
            type="checkbox"
            aria-label={`Select record ${record.id.slice(0, 8)}`}
            checked={selected.has(record.id)}
            onChange={() => toggle(record.id)}
          />
        </td>
        <td>
          <span className={`badge state-${record.state}`}>{record.state}</span>
        </td>
        <td
          className="cell-ellipsis target-title"
          title={record.targetTitle === null ? undefined : visibleText(record.targetTitle)}
        >
          {record.targetTitle === null ? '—' : visibleText(record.targetTitle)}
        </td>
        <td
          className="cell-ellipsis change-summary"
          title={record.changeSummary === null ? undefined : visibleText(record.changeSummary)}
        >
          {record.changeSummary === null ? '—' : visibleText(record.changeSummary)}
        </td>
        <td className="cell-ellipsis" data-column="entityKind" title={record.entityKind}>
          {record.entityKind}
        </td>
        <td>{visibleText(record.studyCode)}</td>
        {record.build === null ? (
          <td data-column="build">—</td>
        ) : (
          <td
            className={
              record.build.superseded
                ? 'cell-ellipsis queue-build is-superseded'
                : 'cell-ellipsis queue-build'
            }
            data-column="build"
            title={buildCellOf(record.build).title}
          >
            {buildCellOf(record.build).text}
          </td>
        )}
        <td data-column="agentId" title={visibleText(record.agentId)}>
          {visibleText(record.agentId)}
        </td>
        <td
          className="cell-ellipsis"
          data-column="modelVersion"
          title={record.modelVersion === null ? undefined : visibleText(record.modelVersion)}
        >
          {record.modelVersion === null ? '—' : visibleText(record.modelVersion)}
        </td>
        <td>
          <Timestamp iso={record.createdAt} />
        </td>
        <td>{ageOf(record.createdAt, now)}</td>
        <td>
          <button
            type="button"
            className="link-button"
            aria-label={`View record ${record.id.slice(0, 8)}`}
            onClick={() => openRecordFor(record.id)}
          >
            View
          </button>
        </td>
      </tr>
    );
  };

  return (
    <div className={openRecord ? 'queue-layout with-detail' : 'queue-layout'}>
      <section className="queue" aria-labelledby="queue-heading">
        <div className="queue-header">
          <h1 id="queue-heading">Staging queue</h1>
          <ul className="state-counts" aria-label="Records per state">
            {stagingStates.map((state) => (
              <li key={state} className={`state-count state-${state}`}>
                <span className="state-name">{state}</span>{' '}
                <span className="state-number">{load.counts[state] ?? 0}</span>
              </li>
            ))}
          </ul>
        </div>
        <OfflineWriteNotice actions="opening for review, signing and promotion" />

        <div className="queue-filters">
          <label className="inline-field">
            Show{' '}
            <select
              value={stateFilter}
              onChange={(event) => setStateFilter(event.target.value as StagingState | '')}
              aria-label="Filter by state"
            >
              <option value="">all states</option>
              {stagingStates.map((state) => (
                <option key={state} value={state}>
                  {state}
                </option>
              ))}
            </select>
          </label>
          <label className="inline-field">
            Study{' '}
            <select
              value={studyFilter ?? ''}
              onChange={(event) => {
                const next = event.target.value || null;
                setStudyFilter(next);
                // A build belongs to one study: a build of another study would show nothing.
                if (
                  next !== null &&
                  !builds.some((build) => build.id === buildFilter && build.studyId === next)
                )
                  setBuildFilter(null);
              }}
              aria-label="Filter by study"
            >
              <option value="">all studies</option>
              {studies.map(([id, code]) => (
                <option key={id} value={id}>
                  {visibleText(code)}
                </option>
              ))}
            </select>
          </label>
          <label className="inline-field">
            Build{' '}
            <select
              value={buildFilter ?? ''}
              onChange={(event) => setBuildFilter(event.target.value || null)}
              aria-label="Filter by protocol build"
            >
              <option value="">all builds</option>
              {buildChoices.map((build) => (
                <option key={build.id} value={build.id}>
                  {`${studyFilter === null ? `${visibleText(build.studyCode)} ` : ''}${buildName({ number: build.buildNumber, version: build.buildVersion })}${build.superseded ? ' · superseded' : build.current ? ' · current' : ''}`}
                </option>
              ))}
            </select>
          </label>
          <label className="inline-field">
            Search{' '}
            <input
              ref={searchRef}
              type="search"
              value={search}
              onChange={(event) => setSearch(event.target.value)}
              placeholder="record, change, kind, study, agent, model, id  ( / )"
              aria-label="Search the queue"
            />
          </label>
          <label className="inline-field">
            <input
              type="checkbox"
              checked={groupByStudy}
              onChange={(event) => setGroupByStudy(event.target.checked)}
            />{' '}
            Group by study
          </label>
          <button
            type="button"
            className="button"
            onClick={() => {
              beginAction();
              void reload();
            }}
            disabled={loading}
          >
            Refresh
          </button>
        </div>

        <div className="queue-actions" role="toolbar" aria-label="Actions on the selected records">
          <span className="muted">
            {selected.size} selected{hiddenSelected > 0 ? ` (${hiddenSelected} not shown by the filter)` : ''}
          </span>
          {selected.size > 0 && (
            <button type="button" className="link-button" onClick={() => setSelected(new Set())}>
              Clear
            </button>
          )}
          <button
            type="button"
            className="button"
            disabled={selectedIn('proposed').length === 0 || openingForReview}
            onClick={() => void openForReview(selectedIn('proposed'))}
          >
            Open for review ({selectedIn('proposed').length})
          </button>
          <button
            type="button"
            className="button button-primary"
            disabled={selectedIn('reviewing').length === 0}
            onClick={() => startSigning('approve')}
          >
            Sign… ({selectedIn('reviewing').length})
          </button>
          <button
            type="button"
            className="button"
            disabled={selectedIn('reviewing').length === 0}
            onClick={() => startSigning('reject')}
          >
            Reject… ({selectedIn('reviewing').length})
          </button>
          <button
            type="button"
            className="button"
            disabled={selectedIn('signed').length === 0}
            onClick={() => void promote()}
          >
            Promote ({selectedIn('signed').length})
          </button>
        </div>

        {loadError !== null && (
          <p className="notice notice-error" role="alert">
            {loadError}
          </p>
        )}
        {report?.kind === 'error' && (
          <p className="notice notice-error action-report" role="alert">
            {report.lines.join(' ')}
          </p>
        )}
        {report?.kind === 'notice' && (
          <div className="notice action-report" role="status">
            {report.lines.map((line) => (
              <p key={line}>{line}</p>
            ))}
          </div>
        )}

        <div className="table-scroll queue-scroll" ref={scrollRef}>
          <table className="table queue-table">
            <caption className="visually-hidden">
              Staged proposals. Keys: j and k move, space selects, Enter opens, r opens for review, s signs
              the selection.
            </caption>
            <thead>
              <tr>
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select every record shown"
                    checked={allShownSelected}
                    onChange={() =>
                      setSelected((current) => {
                        const next = new Set(current);
                        for (const row of data) {
                          if (allShownSelected) next.delete(row.id);
                          else next.add(row.id);
                        }
                        return next;
                      })
                    }
                  />
                </th>
                {table.getHeaderGroups()[0]?.headers.map((header) => {
                  const sorted = header.column.getIsSorted();
                  return (
                    <th
                      key={header.id}
                      data-column={header.id}
                      scope="col"
                      aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none'}
                    >
                      <button
                        type="button"
                        className="sort-button"
                        onClick={header.column.getToggleSortingHandler()}
                      >
                        {String(header.column.columnDef.header)}
                        <span aria-hidden="true">
                          {sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ''}
                        </span>
                      </button>
                    </th>
                  );
                })}
                <th scope="col">
                  <span className="visually-hidden">Open</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {paddingTop > 0 && (
                <tr className="spacer-row" style={{ height: paddingTop }}>
                  <td colSpan={12} />
                </tr>
              )}
              {items.map((item) => {
                const row = rows[item.index];
                return row ? renderRow(row, item.index) : null;
              })}
              {paddingBottom > 0 && (
                <tr className="spacer-row" style={{ height: paddingBottom }}>
                  <td colSpan={12} />
                </tr>
              )}
              {load.done && rows.length === 0 && (
                <tr>
                  <td colSpan={12} className="muted">
                    {load.rows.length === 0
                      ? 'No staged proposals are visible to you.'
                      : 'Nothing matches the filter.'}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>

        <div className="queue-footer">
          <span className="muted" aria-live="polite">
            {load.done
              ? `${data.length.toLocaleString()} shown of ${load.rows.length.toLocaleString()}`
              : `Loading… ${load.rows.length.toLocaleString()} of ${total.toLocaleString()}`}
          </span>
        </div>
      </section>

      {openRecord !== null && (
        <RecordDetail
          id={openRecord}
          generation={generation}
          onClose={() => setOpenRecord(null)}
          onOpenForReview={(id) => void openForReview([id])}
          openingForReview={openingForReview}
        />
      )}

      {signing !== null && (
        <SignDialog
          stagingIds={signing.ids}
          intent={signing.intent}
          onClose={(changed) => {
            setSigning(null);
            if (changed) void reload();
          }}
        />
      )}
    </div>
  );
}

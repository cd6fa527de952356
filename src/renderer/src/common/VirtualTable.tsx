// A dense table of keyset-paged rows (the audit screen's), drawn over useVirtualRows: only the rows
// in view are in the page, and they are measured as they render, so a row that must wrap (a long
// meaning of signature) keeps its full text. Reaching the end loads the next, older page; the same
// is a button below the table. One row at a time is in the tab order; the keys of useVirtualRows
// move between rows, and Enter opens one. It shows the pages of one useKeysetPages list, and that
// list's error above it.
import { type KeyboardEvent, type ReactNode, useEffect } from 'react';
import type { KeysetPages } from './useKeysetPages';
import { useVirtualRows } from './useVirtualRows';

export interface Column {
  id: string;
  header: string;
  /** Shown to screen readers only (a column of buttons). */
  hiddenHeader?: boolean;
  /** Fixed width (CSS length); columns without one share what is left. Fixed widths keep the
   * columns still while rows scroll in and out. */
  width?: string;
}

interface VirtualTableProps<Row> {
  label: string;
  caption: string;
  columns: readonly Column[];
  /** The keyset-paged list shown (rows, loading, more to load, error). */
  pages: KeysetPages<Row>;
  rowHeight: number;
  rowKey: (row: Row) => string;
  /** The row's cells; `focusable` says whether its controls are in the tab order. */
  renderCells: (row: Row, focusable: boolean) => ReactNode;
  /** Enter on a row. */
  onActivate?: (row: Row) => void;
  rowClassName?: (row: Row) => string | undefined;
  noun: string;
  empty: string;
}

export function VirtualTable<Row>(props: VirtualTableProps<Row>) {
  const { rowHeight } = props;
  const { rows, hasMore, loading, loadMore, error } = props.pages;
  const { scrollRef, virtualizer, tabStop, setCursor, moveWithKeys } = useVirtualRows({
    items: rows,
    estimateSize: () => rowHeight,
    overscan: 12,
    focusSelector: (index) => `tr[data-index="${index}"]`,
  });
  const items = virtualizer.getVirtualItems();
  const paddingTop = items[0]?.start ?? 0;
  const paddingBottom = virtualizer.getTotalSize() - (items.at(-1)?.end ?? 0);
  const lastIndex = items.at(-1)?.index ?? -1;

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Enter' && event.target instanceof HTMLTableRowElement) {
      const row = rows[Number(event.target.dataset.index)];
      if (row !== undefined && props.onActivate) {
        event.preventDefault();
        props.onActivate(row);
      }
      return;
    }
    moveWithKeys(event);
  };

  // Scrolled near the end of what is loaded: fetch the next page.
  useEffect(() => {
    if (hasMore && !loading && rows.length > 0 && lastIndex >= rows.length - 5) void loadMore();
  }, [hasMore, loading, rows.length, lastIndex, loadMore]);

  const span = props.columns.length;
  return (
    <>
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      <div className="table-scroll audit-scroll" ref={scrollRef}>
        <table className="table audit-table" aria-label={props.label} aria-rowcount={rows.length + 1}>
          <caption className="visually-hidden">{props.caption}</caption>
          <colgroup>
            {props.columns.map((column) => (
              <col key={column.id} style={column.width ? { width: column.width } : undefined} />
            ))}
          </colgroup>
          <thead>
            <tr aria-rowindex={1}>
              {props.columns.map((column) => (
                <th key={column.id} scope="col">
                  {column.hiddenHeader ? (
                    <span className="visually-hidden">{column.header}</span>
                  ) : (
                    column.header
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody onKeyDown={onKeyDown}>
            {paddingTop > 0 && (
              <tr className="spacer-row" style={{ height: paddingTop }}>
                <td colSpan={span} />
              </tr>
            )}
            {items.map((item) => {
              const row = rows[item.index] as Row;
              return (
                <tr
                  key={props.rowKey(row)}
                  className={props.rowClassName?.(row)}
                  style={{ height: rowHeight }}
                  aria-rowindex={item.index + 2}
                  data-index={item.index}
                  ref={virtualizer.measureElement}
                  tabIndex={item.index === tabStop ? 0 : -1}
                  onFocus={() => setCursor(item.index)}
                >
                  {props.renderCells(row, item.index === tabStop)}
                </tr>
              );
            })}
            {paddingBottom > 0 && (
              <tr className="spacer-row" style={{ height: paddingBottom }}>
                <td colSpan={span} />
              </tr>
            )}
            {!loading && rows.length === 0 && (
              <tr>
                <td colSpan={span} className="muted">
                  {props.empty}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <div className="audit-table-footer">
        <span className="muted" aria-live="polite">
          {loading
            ? 'Loading…'
            : `${rows.length.toLocaleString()} ${props.noun} shown${hasMore ? '; older ones follow' : ''}`}
        </span>
        {hasMore && (
          <button
            type="button"
            className="button button-quiet"
            disabled={loading}
            onClick={() => void loadMore()}
          >
            Load older {props.noun}
          </button>
        )}
      </div>
    </>
  );
}

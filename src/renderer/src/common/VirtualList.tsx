// A list of buttons drawn over useVirtualRows: only the rows in view are in the page (a site may
// enrol thousands of patients, an outbox may keep thousands of sent items). One row at a time is in
// the tab order; the keys of useVirtualRows move, Enter or Space choose. Rows that cannot be chosen
// (headings) are skipped by the keys.
import type { ReactNode } from 'react';
import { useVirtualRows } from './useVirtualRows';

export interface VirtualListProps<T> {
  items: readonly T[];
  itemKey: (item: T) => string;
  /** Fixed height of a row in pixels (the CSS of the row must match it). */
  rowHeight: (item: T) => number;
  /** Heading rows return false: shown, but not chosen or focused. */
  selectable?: (item: T) => boolean;
  selectedKey: string | null;
  onSelect: (item: T) => void;
  /** The row's content; selectable rows are wrapped in a button by the list. */
  renderRow: (item: T, selected: boolean) => ReactNode;
  /** The accessible name of the list. */
  label: string;
  className?: string;
}

export function VirtualList<T>({
  items,
  itemKey,
  rowHeight,
  selectable = () => true,
  selectedKey,
  onSelect,
  renderRow,
  label,
  className,
}: VirtualListProps<T>) {
  const selectedIndex = items.findIndex((item) => itemKey(item) === selectedKey);
  const { scrollRef, virtualizer, tabStop, setCursor, moveWithKeys } = useVirtualRows({
    items,
    estimateSize: rowHeight,
    overscan: 8,
    selectable,
    initialIndex: selectedIndex,
    focusSelector: (index) => `[data-row-index="${index}"] button`,
  });
  const virtualItems = virtualizer.getVirtualItems();
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: the keys move between the buttons inside
    <div className={`diary-list-scroll ${className ?? ''}`} ref={scrollRef} onKeyDown={moveWithKeys}>
      <ul className="diary-list" aria-label={label} style={{ height: virtualizer.getTotalSize() }}>
        {virtualItems.map((row) => {
          const item = items[row.index] as T;
          const key = itemKey(item);
          const selected = key === selectedKey;
          return (
            <li
              key={key}
              data-row-index={row.index}
              className="diary-list-row"
              style={{ transform: `translateY(${row.start}px)`, height: row.size }}
            >
              {selectable(item) ? (
                <button
                  type="button"
                  className={selected ? 'diary-list-button is-selected' : 'diary-list-button'}
                  aria-current={selected ? 'true' : undefined}
                  tabIndex={row.index === tabStop ? 0 : -1}
                  onFocus={() => setCursor(row.index)}
                  onClick={() => {
                    setCursor(row.index);
                    onSelect(item);
                  }}
                >
                  {renderRow(item, selected)}
                </button>
              ) : (
                renderRow(item, selected)
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

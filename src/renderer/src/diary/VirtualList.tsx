// A keyboard-driven list that renders only the rows in view (a site may enrol thousands of
// patients, an outbox may keep thousands of sent items). One row at a time is in the tab order
// (roving tabindex); ArrowUp/ArrowDown or k/j move, Home/End jump, Enter or Space choose. Rows that
// cannot be chosen (headings) are skipped by the keys.
import { useVirtualizer } from '@tanstack/react-virtual';
import { type KeyboardEvent, type ReactNode, useLayoutEffect, useRef, useState } from 'react';

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
  const scrollRef = useRef<HTMLDivElement>(null);
  const selectedIndex = items.findIndex((item) => itemKey(item) === selectedKey);
  const firstSelectable = items.findIndex(selectable);
  const [cursor, setCursor] = useState(selectedIndex >= 0 ? selectedIndex : firstSelectable);
  const focusAfterRender = useRef(false);
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => rowHeight(items[index] as T),
    overscan: 8,
  });

  // Keep the cursor on a real row when the items change (a reload, a filter).
  const current = cursor >= 0 && cursor < items.length && selectable(items[cursor] as T) ? cursor : -1;
  const tabStop = current >= 0 ? current : selectedIndex >= 0 ? selectedIndex : firstSelectable;

  // In the same commit as the move, so that a key pressed right after lands on the new row.
  useLayoutEffect(() => {
    if (!focusAfterRender.current) return;
    focusAfterRender.current = false;
    scrollRef.current?.querySelector<HTMLButtonElement>(`[data-row-index="${tabStop}"] button`)?.focus();
  });

  const moveTo = (index: number) => {
    if (index < 0 || index >= items.length) return;
    setCursor(index);
    virtualizer.scrollToIndex(index, { align: 'auto' });
    focusAfterRender.current = true;
  };
  const step = (from: number, direction: 1 | -1) => {
    for (let index = from + direction; index >= 0 && index < items.length; index += direction) {
      if (selectable(items[index] as T)) return index;
    }
    return from;
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const from = tabStop;
    let next: number | null = null;
    if (event.key === 'ArrowDown' || event.key === 'j') next = step(from, 1);
    else if (event.key === 'ArrowUp' || event.key === 'k') next = step(from, -1);
    else if (event.key === 'Home') next = step(-1, 1);
    else if (event.key === 'End') next = step(items.length, -1);
    if (next !== null) {
      event.preventDefault();
      moveTo(next);
    }
  };

  const virtualItems = virtualizer.getVirtualItems();
  // The row in the tab order must be rendered: if it scrolled away, the first row in view takes its place.
  const inView = virtualItems.some((row) => row.index === tabStop)
    ? tabStop
    : (virtualItems.find((row) => selectable(items[row.index] as T))?.index ?? tabStop);
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: the keys move between the buttons inside
    <div className={`diary-list-scroll ${className ?? ''}`} ref={scrollRef} onKeyDown={onKeyDown}>
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
                  tabIndex={row.index === inView ? 0 : -1}
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

// The one wrapper of the virtualiser that the long tables and lists of every screen share: only
// the rows in view (and a few around them) are in the page, and one row at a time is in the tab
// order (a roving tab stop, so Tab passes the whole list in one step). From it, ArrowDown/ArrowUp
// or j/k move, Home/End jump, Page Down/Page Up page; rows that cannot be chosen (headings) are
// skipped. VirtualTable and VirtualList draw the rows; this hook decides which exist and which
// holds the focus.
import { useVirtualizer, type Virtualizer } from '@tanstack/react-virtual';
import { type KeyboardEvent, type RefObject, useLayoutEffect, useRef, useState } from 'react';

export interface VirtualRowsOptions<T> {
  items: readonly T[];
  /** Height of a row in pixels before it is measured (or for good, where rows are not measured). */
  estimateSize: (item: T) => number;
  overscan: number;
  /** Heading rows return false: shown, but never the tab stop. Every row may be chosen by default. */
  selectable?: (item: T) => boolean;
  /** The row that holds the tab stop until the keys or the focus move it (the chosen row). */
  initialIndex?: number;
  /** The element to focus in a row once it is rendered (a CSS selector below the scroll element). */
  focusSelector: (index: number) => string;
}

export interface VirtualRows {
  scrollRef: RefObject<HTMLDivElement | null>;
  virtualizer: Virtualizer<HTMLDivElement, Element>;
  /** The rendered row in the tab order: the cursor's row, or the first choosable row in view. */
  tabStop: number;
  /** The cursor's row (it may have scrolled out of the page). */
  cursor: number;
  /** A row took the focus (a click or Tab): it becomes the cursor. */
  setCursor: (index: number) => void;
  /** The keys that move the cursor; returns whether the key was one of them. */
  moveWithKeys: (event: KeyboardEvent) => boolean;
}

const everyRow = () => true;

export function useVirtualRows<T>({
  items,
  estimateSize,
  overscan,
  selectable = everyRow,
  initialIndex = -1,
  focusSelector,
}: VirtualRowsOptions<T>): VirtualRows {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [cursorState, setCursor] = useState(-1);
  const focusAfterRender = useRef(false);
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => estimateSize(items[index] as T),
    overscan,
  });

  const choosable = (index: number) => index >= 0 && index < items.length && selectable(items[index] as T);
  const firstFrom = (from: number, direction: 1 | -1) => {
    for (let index = from; index >= 0 && index < items.length; index += direction) {
      if (choosable(index)) return index;
    }
    return -1;
  };
  // The items may have changed under the cursor (a reload, a filter): keep it on a real row.
  const clamped = cursorState >= items.length ? items.length - 1 : cursorState;
  const cursor = choosable(clamped) ? clamped : choosable(initialIndex) ? initialIndex : firstFrom(0, 1);

  const rendered = virtualizer.getVirtualItems();
  // The row in the tab order must be rendered: if it scrolled away, the first row in view takes its place.
  const tabStop = rendered.some((row) => row.index === cursor)
    ? cursor
    : (rendered.find((row) => choosable(row.index))?.index ?? cursor);

  // In the same commit as the move, so that a key pressed right after lands on the new row; a row
  // scrolled to from far away may render a commit later, so the request waits for it.
  useLayoutEffect(() => {
    if (!focusAfterRender.current) return;
    const target = scrollRef.current?.querySelector<HTMLElement>(focusSelector(cursor));
    if (target) {
      focusAfterRender.current = false;
      target.focus();
    }
  });

  const moveWithKeys = (event: KeyboardEvent): boolean => {
    if (event.altKey || event.ctrlKey || event.metaKey || cursor < 0) return false;
    const rowHeight = estimateSize(items[cursor] as T);
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? rowHeight * 10) / rowHeight) - 1);
    const last = items.length - 1;
    const next: Record<string, () => number> = {
      ArrowDown: () => firstFrom(cursor + 1, 1),
      j: () => firstFrom(cursor + 1, 1),
      ArrowUp: () => firstFrom(cursor - 1, -1),
      k: () => firstFrom(cursor - 1, -1),
      PageDown: () => firstFrom(Math.min(last, cursor + page), -1),
      PageUp: () => firstFrom(Math.max(0, cursor - page), 1),
      Home: () => firstFrom(0, 1),
      End: () => firstFrom(last, -1),
    };
    const move = next[event.key];
    if (move === undefined) return false;
    event.preventDefault();
    const target = move();
    if (target < 0) return true;
    setCursor(target);
    focusAfterRender.current = true;
    virtualizer.scrollToIndex(target, { align: 'auto' });
    return true;
  };

  return { scrollRef, virtualizer, tabStop, cursor, setCursor, moveWithKeys };
}

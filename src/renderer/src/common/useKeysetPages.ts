// A newest-first list read from the cache in keyset pages: the first page whenever the reader
// changes (a new filter), the next one on demand. An answer that arrives after the filter changed
// again is dropped, so a slow page never overwrites a newer one.
import { useCallback, useEffect, useRef, useState } from 'react';
import { messageOf } from './messageOf';

export interface KeysetPage<Row, Cursor> {
  rows: Row[];
  next: Cursor | null;
}

export interface KeysetPages<Row> {
  rows: Row[];
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  reload: () => Promise<void>;
  loadMore: () => Promise<void>;
}

export function useKeysetPages<Row, Cursor>(
  readPage: (cursor: Cursor | null) => Promise<KeysetPage<Row, Cursor>>,
): KeysetPages<Row> {
  const [rows, setRows] = useState<Row[]>([]);
  const [next, setNext] = useState<Cursor | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const token = useRef(0);
  const loadingRef = useRef(false);

  const read = useCallback(
    async (cursor: Cursor | null, append: boolean) => {
      const mine = ++token.current;
      loadingRef.current = true;
      setLoading(true);
      try {
        const page = await readPage(cursor);
        if (mine !== token.current) return;
        setRows((current) => (append ? current.concat(page.rows) : page.rows));
        setNext(page.next);
        setError(null);
      } catch (caught) {
        if (mine === token.current) setError(messageOf(caught));
      } finally {
        if (mine === token.current) {
          loadingRef.current = false;
          setLoading(false);
        }
      }
    },
    [readPage],
  );

  const reload = useCallback(() => read(null, false), [read]);
  const loadMore = useCallback(async () => {
    if (next !== null && !loadingRef.current) await read(next, true);
  }, [read, next]);

  useEffect(() => {
    void reload();
  }, [reload]);

  return { rows, hasMore: next !== null, loading, error, reload, loadMore };
}

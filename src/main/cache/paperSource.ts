// A transcription's paper source as a cached diary event holds it (record_audit.source_reference,
// 0059: {page_id, entry_date}), for the record list's "from paper" mark and the record history.
export function paperSourceOf(value: unknown): { pageId: string; entryDate: string } | null {
  if (typeof value !== 'object' || value === null) return null;
  const source = value as Record<string, unknown>;
  return typeof source.page_id === 'string' && typeof source.entry_date === 'string'
    ? { pageId: source.page_id, entryDate: source.entry_date }
    : null;
}

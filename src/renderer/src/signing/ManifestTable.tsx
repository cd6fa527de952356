// The manifest of a ceremony as a table: each record, what it changes, the protocol build it was
// written under (its content hash binds it) and its full content hash (in monospace, wrapped, so it
// stays readable in a narrow window). Drawn over useVirtualRows, so a
// ceremony of 10,000 records keeps the dialog responsive: only the rows in view are in the page.
// After signing, a last column says what each record became.
import type { ManifestEntry } from '../../../shared/contract';
import { BuildChip } from '../common/BuildChip';
import { useVirtualRows } from '../common/useVirtualRows';
import { visibleText } from '../common/visibleText';

export interface ManifestTableProps {
  entries: readonly ManifestEntry[];
  caption: string;
  /** The state each record ended in, once signed. */
  outcome?: ReadonlyMap<string, string>;
}

/** Two lines of hash (32 hex digits each) and the row's padding. */
const rowHeight = 46;

export function ManifestTable({ entries, caption, outcome }: ManifestTableProps) {
  const { scrollRef, virtualizer, tabStop, setCursor, moveWithKeys } = useVirtualRows({
    items: entries,
    estimateSize: () => rowHeight,
    overscan: 10,
    focusSelector: (index) => `tr[data-index="${index}"]`,
  });
  const rows = virtualizer.getVirtualItems();
  const paddingTop = rows[0]?.start ?? 0;
  const paddingBottom = virtualizer.getTotalSize() - (rows.at(-1)?.end ?? 0);
  const span = outcome ? 6 : 5;
  return (
    <div className="table-scroll manifest-scroll" ref={scrollRef}>
      <table className="table manifest-table" aria-rowcount={entries.length + 1}>
        <caption>{caption}</caption>
        <colgroup>
          <col className="manifest-col-study" />
          <col className="manifest-col-change" />
          <col className="manifest-col-record" />
          <col className="manifest-col-build" />
          <col className="manifest-col-hash" />
          {outcome && <col className="manifest-col-state" />}
        </colgroup>
        <thead>
          <tr aria-rowindex={1}>
            <th scope="col">Study</th>
            <th scope="col">Change to</th>
            <th scope="col">Record</th>
            <th scope="col">Build</th>
            <th scope="col">Content hash (SHA-256)</th>
            {outcome && <th scope="col">Now</th>}
          </tr>
        </thead>
        <tbody onKeyDown={(event) => moveWithKeys(event)}>
          {paddingTop > 0 && (
            <tr className="spacer-row" style={{ height: paddingTop }}>
              <td colSpan={span} />
            </tr>
          )}
          {rows.map((row) => {
            const entry = entries[row.index] as ManifestEntry;
            return (
              <tr
                key={entry.stagingRecordId}
                data-index={row.index}
                aria-rowindex={row.index + 2}
                ref={virtualizer.measureElement}
                tabIndex={row.index === tabStop ? 0 : -1}
                onFocus={() => setCursor(row.index)}
              >
                <td title={visibleText(entry.studyCode)}>{visibleText(entry.studyCode)}</td>
                <td title={`${visibleText(entry.entityKind)}${entry.entityId === null ? ' (new)' : ''}`}>
                  {visibleText(entry.entityKind)}
                  {entry.entityId === null ? ' (new)' : ''}
                </td>
                <td>
                  <code title={entry.stagingRecordId}>{entry.stagingRecordId.slice(0, 8)}</code>
                </td>
                <td className="manifest-build-cell">
                  <BuildChip build={entry.build} missing="not known" />
                </td>
                <td className="manifest-hash-cell">
                  <code className="manifest-hash" title={entry.contentHash}>
                    {entry.contentHash}
                  </code>
                </td>
                {outcome && <td>{outcome.get(entry.stagingRecordId) ?? '—'}</td>}
              </tr>
            );
          })}
          {paddingBottom > 0 && (
            <tr className="spacer-row" style={{ height: paddingBottom }}>
              <td colSpan={span} />
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

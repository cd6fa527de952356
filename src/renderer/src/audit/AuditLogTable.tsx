// The cached audit_log, newest first, page by page: sequence number, time (UTC and local), event,
// actor, payload, and where the entry stands in the chain, in words and symbols (never by colour
// alone). An entry opens in full beside the table; an entry of a staging record opens its trail.
import { useCallback } from 'react';
import type { AuditEntryRow } from '../../../shared/contract';
import { api } from '../common/api';
import { PersonName } from '../common/PersonName';
import { Timestamp } from '../common/Timestamp';
import { useKeysetPages } from '../common/useKeysetPages';
import { type Column, VirtualTable } from '../common/VirtualTable';
import { visibleText } from '../common/visibleText';
import type { AuditScope } from './AuditFilters';
import type { AuditLogFilter } from './AuditLogFilters';
import { payloadLine } from './payloadText';

const pageSize = 200;

const columns: readonly Column[] = [
  { id: 'seq', header: 'Entry', width: '4.5rem' },
  { id: 'occurredAt', header: 'Occurred (UTC · local)', width: '15.5rem' },
  { id: 'eventType', header: 'Event', width: '13.5rem' },
  { id: 'actor', header: 'Actor', width: '11rem' },
  { id: 'payload', header: 'Payload' },
  { id: 'chain', header: 'Chain', width: '10.5rem' },
  { id: 'trail', header: 'Record trail', hiddenHeader: true, width: '5rem' },
];

/** Where an entry stands, worded. */
export function chainStanding(
  entry: AuditEntryRow,
  firstBadSeq: number | null,
): { text: string; bad: boolean } {
  if (!entry.hashesOk) return { text: '✗ hash mismatch', bad: true };
  if (firstBadSeq !== null && entry.seq === firstBadSeq) return { text: '✗ first bad entry', bad: true };
  if (firstBadSeq !== null && entry.seq > firstBadSeq) return { text: '! after the break', bad: true };
  if (entry.withinVerifiedChain) return { text: '✓ verified', bad: false };
  return { text: '… not yet verified', bad: false };
}

interface AuditLogTableProps {
  scope: AuditScope;
  filter: AuditLogFilter;
  /** Bumped to read again (a sync landed, the chain was verified). */
  generation: number;
  firstBadSeq: number | null;
  openSeq: number | null;
  onNewestSeq: (seq: number | null) => void;
  onOpenEntry: (entry: AuditEntryRow) => void;
  onOpenTrail: (stagingId: string) => void;
}

export function AuditLogTable(props: AuditLogTableProps) {
  const { scope, filter, generation, onNewestSeq } = props;
  // biome-ignore lint/correctness/useExhaustiveDependencies: generation is the reload trigger
  const readPage = useCallback(
    async (beforeSeq: number | null) => {
      const page = await api['audit.list']({
        studyId: scope.studyId,
        recordId: scope.recordId,
        eventKind: filter.eventKind,
        fromSeq: filter.fromSeq,
        toSeq: filter.toSeq,
        beforeSeq,
        limit: pageSize,
      });
      onNewestSeq(page.newestSeq);
      return { rows: page.rows, next: page.nextBeforeSeq };
    },
    [scope.studyId, scope.recordId, filter.eventKind, filter.fromSeq, filter.toSeq, generation, onNewestSeq],
  );
  const pages = useKeysetPages(readPage);

  return (
    <VirtualTable
      label="Audit log entries"
      caption="Audit log entries from the cache, newest first. Arrows or j and k move between entries; Enter opens one in full."
      columns={columns}
      pages={pages}
      rowHeight={48}
      rowKey={(entry) => String(entry.seq)}
      rowClassName={(entry) => {
        const classes = [];
        if (chainStanding(entry, props.firstBadSeq).bad) classes.push('audit-row-bad');
        if (entry.seq === props.openSeq) classes.push('row-open');
        return classes.join(' ') || undefined;
      }}
      noun="entries"
      empty="No audit entries match."
      onActivate={props.onOpenEntry}
      renderCells={(entry, focusable) => {
        const standing = chainStanding(entry, props.firstBadSeq);
        return (
          <>
            <td className="cell-number">
              <button
                type="button"
                tabIndex={focusable ? 0 : -1}
                className="link-button"
                aria-label={`Audit entry ${entry.seq.toLocaleString()}`}
                onClick={() => props.onOpenEntry(entry)}
              >
                {entry.seq.toLocaleString()}
              </button>
            </td>
            <td>
              <Timestamp iso={entry.occurredAt} stacked />
            </td>
            <td title={visibleText(entry.eventType)}>
              <code>{visibleText(entry.eventType)}</code>
            </td>
            <td>
              <PersonName id={entry.actor} stacked />
            </td>
            <td className="cell-payload" title={payloadLine(entry.payload)}>
              {payloadLine(entry.payload)}
            </td>
            <td className={standing.bad ? 'chain-cell chain-cell-bad' : 'chain-cell'}>{standing.text}</td>
            <td>
              {entry.stagingId !== null && (
                <button
                  type="button"
                  tabIndex={focusable ? 0 : -1}
                  className="button button-quiet"
                  aria-label={`Trail of record ${entry.stagingId.slice(0, 8)} (entry ${entry.seq})`}
                  onClick={() => props.onOpenTrail(entry.stagingId as string)}
                >
                  Trail
                </button>
              )}
            </td>
          </>
        );
      }}
    />
  );
}

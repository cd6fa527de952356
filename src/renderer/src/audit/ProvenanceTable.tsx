// Provenance events from the cache, newest first, page by page: who or what acted (an agent with
// its model, or a person), on which subject, under which protocol build, when (UTC and local).
// Agent-written values are untrusted and shown as text only.
import { useCallback } from 'react';
import type { ResponseOf } from '../../../shared/contract';
import { api } from '../common/api';
import { BuildChip } from '../common/BuildChip';
import { PersonName } from '../common/PersonName';
import { Timestamp } from '../common/Timestamp';
import { useKeysetPages } from '../common/useKeysetPages';
import { type Column, VirtualTable } from '../common/VirtualTable';
import { visibleText } from '../common/visibleText';
import type { AuditScope } from './AuditFilters';
import { payloadLine } from './payloadText';

type ProvenanceRow = ResponseOf<'provenance.list'>['rows'][number];

const pageSize = 200;

const columns: readonly Column[] = [
  { id: 'occurredAt', header: 'Occurred (UTC · local)', width: '15.5rem' },
  { id: 'action', header: 'Action', width: '7rem' },
  { id: 'actor', header: 'Actor', width: '12rem' },
  { id: 'model', header: 'Model', width: '11rem' },
  { id: 'subject', header: 'Subject · build', width: '13rem' },
  { id: 'payload', header: 'Payload' },
  { id: 'trail', header: 'Record trail', hiddenHeader: true, width: '5rem' },
];

/** The staging record a provenance event belongs to, if any. */
export function stagingIdOfProvenance(row: ProvenanceRow): string | null {
  if (row.subjectKind === 'staging_record') return row.subjectId;
  const payload = row.payload as { staging_id?: unknown } | null;
  return typeof payload?.staging_id === 'string' ? payload.staging_id : null;
}

interface ProvenanceTableProps {
  scope: AuditScope;
  generation: number;
  onOpenTrail: (stagingId: string) => void;
}

/** The model that made an agent's event, as "provider model"; null for a person's. */
function modelOf(row: { modelProvider: string | null; modelId: string | null }): string | null {
  return row.modelProvider !== null || row.modelId !== null
    ? visibleText(`${row.modelProvider ?? ''} ${row.modelId ?? ''}`.trim())
    : null;
}

export function ProvenanceTable({ scope, generation, onOpenTrail }: ProvenanceTableProps) {
  // biome-ignore lint/correctness/useExhaustiveDependencies: generation is the reload trigger
  const readPage = useCallback(
    async (before: { at: string; id: string } | null) => {
      const page = await api['provenance.list']({
        subjectId: scope.recordId,
        studyId: scope.studyId,
        before,
        limit: pageSize,
      });
      return { rows: page.rows, next: page.nextCursor };
    },
    [scope.studyId, scope.recordId, generation],
  );
  const pages = useKeysetPages(readPage);

  return (
    <VirtualTable
      label="Provenance events"
      caption="Provenance events from the cache, newest first. Arrows or j and k move between events; Enter opens the record's trail."
      columns={columns}
      pages={pages}
      rowHeight={48}
      rowKey={(row) => row.id}
      noun="events"
      empty="No provenance events match."
      onActivate={(row) => {
        const stagingId = stagingIdOfProvenance(row);
        if (stagingId !== null) onOpenTrail(stagingId);
      }}
      renderCells={(row, focusable) => {
        const stagingId = stagingIdOfProvenance(row);
        return (
          <>
            <td>
              <Timestamp iso={row.occurredAt} stacked />
            </td>
            <td title={visibleText(row.action)}>{visibleText(row.action)}</td>
            <td>
              <PersonName id={row.actorId} kind={row.actorKind} stacked />
            </td>
            <td title={modelOf(row) ?? undefined}>{modelOf(row) ?? '—'}</td>
            <td title={`${visibleText(row.subjectKind)} ${visibleText(row.subjectId)}`}>
              <span className="muted">{visibleText(row.subjectKind)}</span>{' '}
              <code>{visibleText(row.subjectId)}</code>
              {row.build !== null && (
                <>
                  <br />
                  <BuildChip build={row.build} />
                </>
              )}
            </td>
            <td className="cell-payload" title={payloadLine(row.payload)}>
              {payloadLine(row.payload)}
            </td>
            <td>
              {stagingId !== null && (
                <button
                  type="button"
                  tabIndex={focusable ? 0 : -1}
                  className="button button-quiet"
                  aria-label={`Trail of record ${stagingId.slice(0, 8)} (${visibleText(row.action)})`}
                  onClick={() => onOpenTrail(stagingId)}
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

// Signature events from the cache, newest first, page by page, each with its manifestation
// (21 CFR 11.50): the signer's printed name, the date and time in UTC and local time, the meaning.
import { useCallback } from 'react';
import type { ResponseOf } from '../../../shared/contract';
import { api } from '../common/api';
import { useKeysetPages } from '../common/useKeysetPages';
import { type Column, VirtualTable } from '../common/VirtualTable';
import { visibleText } from '../common/visibleText';
import { SignatureManifestation } from '../signing/SignatureManifestation';
import type { AuditScope } from './AuditFilters';
import { hashPrefix } from './payloadText';

const pageSize = 200;

type SignatureRow = ResponseOf<'signatures.list'>['rows'][number];

const columns: readonly Column[] = [
  { id: 'manifestation', header: 'Signed by — meaning · when (UTC · local)' },
  { id: 'intent', header: 'Intent', width: '5.5rem' },
  { id: 'subject', header: 'Signed record', width: '8.5rem' },
  { id: 'hash', header: 'Content hash', width: '7.5rem' },
  { id: 'trail', header: 'Record trail', hiddenHeader: true, width: '5rem' },
];

interface SignatureTableProps {
  scope: AuditScope;
  generation: number;
  onOpenTrail: (stagingId: string) => void;
}

export function SignatureTable({ scope, generation, onOpenTrail }: SignatureTableProps) {
  // biome-ignore lint/correctness/useExhaustiveDependencies: generation is the reload trigger
  const readPage = useCallback(
    async (before: { at: string; id: string } | null) => {
      const page = await api['signatures.list']({
        subjectId: scope.recordId,
        studyId: scope.studyId,
        before,
        limit: pageSize,
      });
      return { rows: page.rows, next: page.nextCursor };
    },
    [scope.studyId, scope.recordId, generation],
  );
  const pages = useKeysetPages<SignatureRow, { at: string; id: string }>(readPage);

  return (
    <VirtualTable
      label="Signatures"
      caption="Signature events from the cache, newest first, each with its manifestation. Arrows or j and k move between signatures; Enter opens the record's trail."
      columns={columns}
      pages={pages}
      rowHeight={52}
      rowKey={(row) => row.id}
      noun="signatures"
      empty="No signatures match."
      onActivate={(row) => {
        if (row.subjectKind === 'staging_record') onOpenTrail(row.subjectId);
      }}
      renderCells={(row, focusable) => (
        <>
          <td className="cell-manifestation">
            <SignatureManifestation
              printedName={row.signerName}
              meaning={row.meaning}
              intent={row.intent}
              signedAt={row.signedAt}
              rejection={row.rejection}
            />
          </td>
          <td>{visibleText(row.intent)}</td>
          <td title={`${visibleText(row.subjectKind)} ${visibleText(row.subjectId)}`}>
            {row.subjectKind !== 'staging_record' && (
              <span className="muted">{visibleText(row.subjectKind)} </span>
            )}
            <code>{visibleText(row.subjectId)}</code>
          </td>
          <td>
            <code title={row.contentHash}>{hashPrefix(row.contentHash)}</code>
          </td>
          <td>
            {row.subjectKind === 'staging_record' && (
              <button
                type="button"
                tabIndex={focusable ? 0 : -1}
                className="button button-quiet"
                aria-label={`Trail of record ${row.subjectId.slice(0, 8)} (signed by ${visibleText(row.signerName)})`}
                onClick={() => onOpenTrail(row.subjectId)}
              >
                Trail
              </button>
            )}
          </td>
        </>
      )}
    />
  );
}

// A diary conflict (0059), for the person whose write it was: the entry their write was made against
// (base), the record's current entry (theirs) and what they wrote (mine), field by field, with the
// fields each side changed marked in words; then keep mine, keep theirs, or a field merge, offered
// only where the two sides changed different fields (otherwise the overlapping fields are named).
// The server resolves it against the current entry shown; online only.
import { useState } from 'react';
import type { DiaryConflictView } from '../../../shared/contract';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';
import { visibleText } from '../common/visibleText';
import { displayValue } from './diaryValues';

type Strategy = 'keep_mine' | 'keep_theirs' | 'field_merge';

const strategyWords: Record<Strategy, string> = {
  keep_mine: 'Keep mine',
  keep_theirs: 'Keep theirs',
  field_merge: 'Field merge',
};

export function ConflictPanel({
  view,
  online,
  onResolved,
}: {
  view: DiaryConflictView;
  online: boolean;
  onResolved: () => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const fields = [
    ...new Set([...Object.keys(view.base ?? {}), ...Object.keys(view.theirs), ...Object.keys(view.mine)]),
  ];
  const overlap = view.overlapping;

  const resolve = async (strategy: Strategy) => {
    if (!online) {
      setError('You are offline: resolving a conflict needs the server, and nothing was sent.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api['diary.resolveConflict']({
        conflictId: view.conflictId,
        strategy,
        seenAuditId: view.theirsAuditId,
      });
      onResolved();
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  const cell = (value: unknown, changed: boolean, side: string) => (
    <td className={changed ? 'diary-value conflict-changed' : 'diary-value'}>
      {value === undefined ? <span className="muted">—</span> : displayValue(value)}
      {changed && <span className="conflict-changed-word"> ({side} changed)</span>}
    </td>
  );

  return (
    <section className="conflict-panel" aria-label={`Conflict ${view.conflictId}`}>
      <p>
        Your{' '}
        {view.pageId !== null ? (
          <>
            transcription of paper page <strong>{visibleText(view.pageId)}</strong>
          </>
        ) : (
          'change'
        )}{' '}
        was made against an older entry; the record has moved on (its current entry is audit{' '}
        {view.theirsAuditId}). Nothing of yours was written. Choose how to resolve it: the choice is a new
        entry that records this conflict.
      </p>
      <table className="table conflict-fields">
        <caption className="visually-hidden">Both versions, field by field</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Base (what you read)</th>
            <th scope="col">Theirs (current)</th>
            <th scope="col">Mine (your transcription)</th>
          </tr>
        </thead>
        <tbody>
          {fields.map((field) => (
            <tr key={field} className={overlap.includes(field) ? 'conflict-overlap' : undefined}>
              <th scope="row">
                {visibleText(field)}
                {overlap.includes(field) && <span className="conflict-changed-word"> (both changed)</span>}
              </th>
              {cell(view.base?.[field], false, '')}
              {cell(view.theirs[field], view.fieldsTheirs.includes(field), 'they')}
              {cell(view.mine[field], view.fieldsMine.includes(field), 'you')}
            </tr>
          ))}
        </tbody>
      </table>
      {overlap.length > 0 && (
        <p className="muted" id={`conflict-merge-note-${view.conflictId}`}>
          A field merge is not possible: both versions changed {overlap.map(visibleText).join(', ')}.
        </p>
      )}
      {!online && (
        <p className="notice notice-warning" role="status">
          You are offline: resolving a conflict needs the server. Go online to choose.
        </p>
      )}
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      <div className="dialog-actions">
        {(['keep_mine', 'keep_theirs', 'field_merge'] as const).map((strategy) => (
          <button
            key={strategy}
            type="button"
            className={strategy === 'field_merge' ? 'button button-primary' : 'button'}
            disabled={busy || (strategy === 'field_merge' && overlap.length > 0)}
            aria-describedby={
              strategy === 'field_merge' && overlap.length > 0
                ? `conflict-merge-note-${view.conflictId}`
                : undefined
            }
            onClick={() => void resolve(strategy)}
          >
            {strategyWords[strategy]}
          </button>
        ))}
      </div>
    </section>
  );
}

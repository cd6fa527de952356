// Where one outbox item stands, in words and a symbol (never colour alone): waiting to be sent,
// sent (and when), a conflict or a refusal with the server's reason and the two decisions the
// person can take (send it against what is there now, or discard it: kept on record as discarded).
import type { ResponseOf } from '../../../shared/contract';
import { Timestamp } from '../common/Timestamp';
import { visibleText } from '../common/visibleText';

export type OutboxItem = ResponseOf<'outbox.list'>['items'][number];
export type ResolveOutbox = (id: number, action: 'rebase' | 'discard') => void;

const stateWords: Record<OutboxItem['state'], { symbol: string; word: string }> = {
  pending: { symbol: '◷', word: 'Pending: waits in the outbox' },
  sent: { symbol: '✓', word: 'Sent' },
  conflict: { symbol: '⚠', word: 'Conflict: needs your decision' },
  failed: { symbol: '✕', word: 'Refused by the server' },
  discarded: { symbol: '⊘', word: 'Discarded' },
};

export function outboxStateWord(item: OutboxItem): string {
  return stateWords[item.state].word;
}

export function OutboxStatus({
  item,
  online,
  onResolve,
}: {
  item: OutboxItem;
  online: boolean;
  onResolve: ResolveOutbox;
}) {
  const words = stateWords[item.state];
  const rebaseLabel =
    item.kind === 'close' || item.kind === 'reopen' ? 'Send again' : 'Send against the current entry';
  return (
    <div className={`diary-outbox diary-outbox-${item.state}`} data-outbox-state={item.state}>
      <span className="diary-outbox-state">
        <span aria-hidden="true">{words.symbol} </span>
        {words.word}
        {item.state === 'pending' && !online && <span className="muted"> (sent when back online)</span>}
      </span>
      {item.state === 'sent' && item.sentAt !== null && (
        <>
          {' '}
          <Timestamp iso={item.sentAt} />
        </>
      )}
      {item.problem !== null && item.state !== 'sent' && (
        <span className="diary-outbox-problem"> {visibleText(item.problem)}</span>
      )}
      {(item.state === 'conflict' || item.state === 'failed') && (
        <span className="diary-outbox-actions">
          <button type="button" className="button button-small" onClick={() => onResolve(item.id, 'rebase')}>
            {rebaseLabel}
          </button>
          <button type="button" className="button button-small" onClick={() => onResolve(item.id, 'discard')}>
            Discard
          </button>
        </span>
      )}
    </div>
  );
}

// One field's change as a table row: the field, the kind of change in words, the old value struck
// through and the new one inserted (a dash where there is none). A record's history and the review
// of an admin correction show changes the same way.
import type { DiaryHistoryEntry } from '../../../shared/contract';
import { visibleText } from '../common/visibleText';
import { changeWords, displayValue } from './diaryValues';

interface FieldChangeRowProps {
  change: DiaryHistoryEntry['changes'][number];
  /** The field as people read it (its form label, or its code). */
  label: string;
  /** Overrides the word for the change (a record's first entry says "entered", not "added"). */
  word?: string;
}

export function FieldChangeRow({ change, label, word }: FieldChangeRowProps) {
  const words = changeWords[change.change];
  return (
    <tr className={`diary-change diary-change-${change.change}`}>
      <th scope="row">{visibleText(label)}</th>
      <td className="diary-change-word">
        <span aria-hidden="true">{words.symbol} </span>
        {word ?? words.word}
      </td>
      <td className="diary-value diary-value-old">
        {change.change === 'added' ? (
          <span className="muted">—</span>
        ) : (
          <del>{displayValue(change.before)}</del>
        )}
      </td>
      <td className="diary-value diary-value-new">
        {change.change === 'removed' ? (
          <span className="muted">—</span>
        ) : (
          <ins>{displayValue(change.after)}</ins>
        )}
      </td>
    </tr>
  );
}

// One person, wherever they appear: their printed name (a patient: their subject code) with their
// role in muted text, and their id on hover; with `showId`, the id written out too (detail views).
// Someone this workstation may not name, or an id of no person (`db:<role>`), is shown by the id,
// shortened, with the kind of actor when one is given. Never throws: an unknown id is just an id.
// "you" is said only beside the name, never instead of it.
import { actorWords } from '../../../shared/personNaming';
import { usePeople } from './usePeople';
import { visibleText } from './visibleText';

interface PersonNameProps {
  /** A user id, an agent id, or whatever the record carries as its actor. */
  id: string | null;
  /** The kind of actor the record gives (provenance: human, agent, system), shown when unknown. */
  kind?: string | null;
  /** The signed-in person: " (you)" after the name. */
  isYou?: boolean;
  /** Write the id out as well (a detail view), not only on hover. */
  showId?: boolean;
  /** Role under the name (table cells) instead of beside it. */
  stacked?: boolean;
  /** Shown when there is no id at all. */
  fallback?: string;
}

export function PersonName({
  id,
  kind = null,
  isYou = false,
  showId = false,
  stacked = false,
  fallback,
}: PersonNameProps) {
  const people = usePeople();
  if (id === null || id === '') return <span className="person-name muted">{fallback ?? 'unknown'}</span>;
  const words = actorWords(id, people.get(id), kind);
  const name = visibleText(words.name);
  return (
    <span className={stacked ? 'person-name person-name-stacked' : 'person-name'} title={visibleText(id)}>
      {words.known ? <span className="person-label">{name}</span> : <code className="person-id">{name}</code>}
      {isYou && <span className="person-you"> (you)</span>}
      {words.role !== '' && (
        <span className="person-role muted">
          {stacked ? '' : ' '}
          {visibleText(words.role)}
        </span>
      )}
      {showId && (
        <>
          {' '}
          <code className="person-full-id">{visibleText(id)}</code>
        </>
      )}
    </span>
  );
}

// How a person is named wherever they appear (screens and the inspection packet): by printed name,
// a patient by subject code, and otherwise by their id, shortened where space is short. Actors are
// found by every id they appear under: a person's user id, and an agent's agent id (provenance).
import type { Person } from './contract';

/** The printed name, else "subject <code>", else null (unknown: show the id). */
export function personLabel(person: Person | undefined): string | null {
  if (!person) return null;
  if (person.printedName !== null) return person.printedName;
  if (person.subjectCode !== null) return `subject ${person.subjectCode}`;
  return null;
}

/** People by every id they appear under. */
export function peopleByActorId(people: readonly Person[]): Map<string, Person> {
  const byId = new Map<string, Person>();
  for (const person of people) {
    byId.set(person.userId, person);
    if (person.agentId !== null) byId.set(person.agentId, person);
  }
  return byId;
}

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id as short as it stays recognisable: a UUID's first 8 characters, anything else as it is. */
export function shortId(id: string): string {
  return uuidShape.test(id) ? `${id.slice(0, 8)}…` : id;
}

export interface ActorWords {
  /** The name (or subject code), or the id shortened when nobody by that id may be named. */
  name: string;
  /** Roles (or, unknown, the kind of actor given with the id), to show muted; '' for none. */
  role: string;
  /** Whether the id was found among the people this person may name. */
  known: boolean;
}

/** How an actor is shown: by name and role, else by short id and the kind given (agent, human, system). */
export function actorWords(id: string, person: Person | undefined, kind: string | null = null): ActorWords {
  const label = personLabel(person);
  if (person && label !== null) return { name: label, role: person.roles.join(', '), known: true };
  return { name: shortId(id), role: kind ?? '', known: false };
}

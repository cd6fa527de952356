// The people the signed-in person may name (channel people.list: the cache, else the server), for
// the whole window and the whole session: the shell says whose session it is (usePeopleOwner), the
// people are read then and again after each sync that lands, and forgotten the moment the session
// ends or changes hands, so the next person never sees names from the last one's directory. Screens
// read them with usePeople; switching screens reads nothing again.
import { useEffect, useSyncExternalStore } from 'react';
import type { Person } from '../../../shared/contract';
import { peopleByActorId } from '../../../shared/personNaming';
import { api, subscribe } from './api';

const nobody: ReadonlyMap<string, Person> = new Map();

let people: ReadonlyMap<string, Person> = nobody;
let owner: string | null = null;
const listeners = new Set<() => void>();
let stopListening: (() => void) | null = null;
/** Bumped when the people are forgotten, so an answer asked for before is dropped. */
let generation = 0;
let loadedAfterSync: string | null = null;

function publish(next: ReadonlyMap<string, Person>): void {
  people = next;
  for (const listener of listeners) listener();
}

function load(): void {
  const asked = generation;
  api['people.list']({}).then(
    (answer) => {
      if (asked === generation) publish(peopleByActorId(answer.people));
    },
    () => undefined, // nobody named: the screens show ids
  );
}

function setOwner(userId: string | null): void {
  if (userId === owner) return;
  owner = userId;
  generation++;
  loadedAfterSync = null;
  stopListening?.();
  stopListening = null;
  publish(nobody);
  if (userId === null) return;
  load();
  stopListening = subscribe('sync.progress', (status) => {
    if (!status.syncing && status.lastSyncedAt !== null && status.lastSyncedAt !== loadedAfterSync) {
      loadedAfterSync = status.lastSyncedAt;
      load();
    }
  });
}

function subscribeToPeople(listener: () => void): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/** Called by the shell with the signed-in person's id (null when nobody is signed in). */
export function usePeopleOwner(userId: string | null): void {
  useEffect(() => setOwner(userId), [userId]);
}

/** People by every id they appear under (user id, agent id); empty until the first answer. */
export function usePeople(): ReadonlyMap<string, Person> {
  return useSyncExternalStore(subscribeToPeople, () => people);
}

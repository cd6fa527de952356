// The people this person may name, from the cache (cache schema 5, refreshed whole by each sync):
// what the server's people_directory gave, then anyone else the cache can still name without it,
// the signed-in person themselves (their identity is kept with the cache) and patients by the
// subject code of their cached enrolment. So a cache synced from a server without the directory,
// or before it was refreshed, still names what it can; everyone else is shown by id.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import type { Person } from '../../shared/contract';

interface PersonRow {
  user_id: string;
  printed_name: string | null;
  roles: string;
  agent_id: string | null;
  subject_code: string | null;
}

function rolesOf(text: string): string[] {
  try {
    const roles: unknown = JSON.parse(text);
    return Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : [];
  } catch {
    return [];
  }
}

export function cachedPeople(db: Database): Person[] {
  const people = new Map<string, Person>();
  for (const row of db
    .prepare('select user_id, printed_name, roles, agent_id, subject_code from person order by user_id')
    .all() as PersonRow[]) {
    people.set(row.user_id, {
      userId: row.user_id,
      printedName: row.printed_name,
      roles: rolesOf(row.roles),
      agentId: row.agent_id,
      subjectCode: row.subject_code,
    });
  }
  const identity = db.prepare(`select value from sync_meta where name = 'identity'`).pluck().get() as
    | string
    | undefined;
  if (identity) {
    const me = JSON.parse(identity) as { userId?: unknown; printedName?: unknown; roles?: unknown };
    if (typeof me.userId === 'string' && !people.has(me.userId) && typeof me.printedName === 'string') {
      people.set(me.userId, {
        userId: me.userId,
        printedName: me.printedName,
        roles: Array.isArray(me.roles) ? me.roles.filter((r): r is string => typeof r === 'string') : [],
        agentId: null,
        subjectCode: null,
      });
    }
  }
  for (const row of db.prepare('select patient_id, subject_code from enrolment').all() as {
    patient_id: string;
    subject_code: string;
  }[]) {
    const known = people.get(row.patient_id);
    if (!known) {
      people.set(row.patient_id, {
        userId: row.patient_id,
        printedName: null,
        roles: ['patient'],
        agentId: null,
        subjectCode: row.subject_code,
      });
    } else if (known.subjectCode === null) {
      people.set(row.patient_id, { ...known, subjectCode: row.subject_code });
    }
  }
  return [...people.values()];
}

// The people stream: whom this person may name, with their printed name and roles (or a patient's
// subject code), from public.people_directory() (migration 0052) as the person (their own login, or
// their token in hosted mode: SyncServer.people), so the server decides who is in it. Its source is a function, not a table, and it is small (the
// people of one's studies), so it has no cursor: each sync reads it whole and replaces the cached
// set in one SQLite transaction, rows that fail validation quarantined like any stream's. A server
// without the function (older than 0052) leaves the cached set as it is: the screens show ids.
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { z } from 'zod';
import type { Person } from '../../shared/contract';
import { appRoles } from '../../shared/domain';
import { quarantineSql } from './cacheWriter';
import { describeIssues } from './rowProblem';
import type { SyncServer } from './syncServer';

export const peopleStreamName = 'people';

const guid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/);
const shortText = z.string().min(1).max(200);

export const personRowSchema = z
  .object({
    user_id: guid,
    printed_name: shortText.nullable(),
    roles: z.array(z.enum(appRoles)).max(appRoles.length),
    agent_id: shortText.nullable(),
    subject_code: shortText.nullable(),
  })
  .strict();
export type PersonRow = z.infer<typeof personRowSchema>;

export const clearPeopleSql = 'delete from person';

export interface PeopleRefresh {
  /** People now cached, or null when the server has no directory for us (the cache is left as it was). */
  people: number | null;
  quarantined: number;
}

/** Reads the directory whole and makes it the cached set, in one transaction. */
export async function refreshPeople(
  db: Database,
  server: SyncServer,
  now: () => Date = () => new Date(),
): Promise<PeopleRefresh> {
  const rows = await server.people();
  if (rows === null) return { people: null, quarantined: 0 };
  const receivedAt = now().toISOString();
  const valid: PersonRow[] = [];
  const refused: unknown[][] = [];
  for (const raw of rows) {
    const parsed = personRowSchema.safeParse(raw);
    if (parsed.success) valid.push(parsed.data);
    else {
      const key = (raw as { user_id?: unknown }).user_id;
      refused.push([
        peopleStreamName,
        key === undefined || key === null ? null : String(key),
        describeIssues(parsed.error),
        JSON.stringify(raw),
        receivedAt,
      ]);
    }
  }
  const insert = db.prepare(
    'insert or replace into person (user_id, printed_name, roles, agent_id, subject_code) values (?, ?, ?, ?, ?)',
  );
  const quarantine = db.prepare(quarantineSql);
  db.transaction(() => {
    db.prepare(clearPeopleSql).run();
    // A refused row of an earlier refresh is superseded by this one's answer.
    db.prepare('delete from quarantine where stream = ?').run(peopleStreamName);
    for (const person of valid) {
      insert.run(
        person.user_id.toLowerCase(),
        person.printed_name,
        JSON.stringify(person.roles),
        person.agent_id,
        person.subject_code,
      );
    }
    for (const row of refused) quarantine.run(row);
  })();
  return { people: valid.length, quarantined: refused.length };
}

/** The directory as the contract names people (a read straight from the server); bad rows left out. */
export function peopleFromDirectory(rows: readonly unknown[]): Person[] {
  return rows.flatMap((raw) => {
    const parsed = personRowSchema.safeParse(raw);
    if (!parsed.success) return [];
    const row = parsed.data;
    return [
      {
        userId: row.user_id.toLowerCase(),
        printedName: row.printed_name,
        roles: row.roles,
        agentId: row.agent_id,
        subjectCode: row.subject_code,
      },
    ];
  });
}

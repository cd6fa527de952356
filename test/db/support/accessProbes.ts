// Tries one command as one role against the in-scope and the out-of-scope row of a table and says
// which of the two were reachable, as an access-matrix cell (`all`, `own`, `—`). Every write runs in
// a transaction that is rolled back. Only refusals count as "not reachable": a permission error or
// RLS violation (42501) or a trigger's refusal (CS403). Any other error is a broken probe or fixture
// and throws.
import type pg from 'pg';
import type { Access, Command } from './accessMatrixDocument';
import type { Actor, Row, TableProbe } from './accessTables';
import { operatorTransaction, type World } from './accessWorld';

export const refusalCodes = new Set(['42501', 'CS403']);
/** A view that is not updatable: PostgreSQL's rewriter refuses every write to it (55000), the owner's too. */
const notUpdatableViewCodes = new Set([...refusalCodes, '55000']);

interface Attempt {
  reached: boolean;
  detail: string;
}

export interface ProbeResult {
  /** The cell the database behaves as; `out only` when just the out-of-scope row was reached. */
  access: Access | 'out only';
  /** What happened to each row, for the failure message. */
  detail: string;
}

function sqlState(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

function describeError(error: unknown): string {
  return `${sqlState(error) ?? '?'} ${(error as Error).message}`;
}

class UnexpectedError extends Error {
  override name = 'UnexpectedError';
}

function refusedOrThrow(error: unknown, what: string, probe?: TableProbe): Attempt {
  const codes = probe?.readOnlyView ? notUpdatableViewCodes : refusalCodes;
  if (codes.has(sqlState(error) ?? ''))
    return { reached: false, detail: `refused (${describeError(error)})` };
  throw new UnexpectedError(`${what} failed with an error that is not a refusal: ${describeError(error)}`);
}

function insertSql(table: string, row: Row): { text: string; values: unknown[] } {
  const columns = Object.keys(row);
  return {
    text: `insert into ${table} (${columns.join(', ')}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
    values: Object.values(row),
  };
}

async function rollbackQuietly(client: pg.ClientBase) {
  await client.query('rollback').catch(() => undefined);
}

async function trySelect(client: pg.ClientBase, table: string, probe: TableProbe, keys: string[]) {
  try {
    const { rows } = await client.query<{ key: string }>(
      `select ${probe.key} as key from ${table} where ${probe.key} = any ($1::text[])`,
      [keys],
    );
    const seen = new Set(rows.map((row) => row.key));
    return keys.map((key) => ({ reached: seen.has(key), detail: seen.has(key) ? 'visible' : 'not visible' }));
  } catch (error) {
    const attempt = refusedOrThrow(error, `select from ${table}`, probe);
    return keys.map(() => attempt);
  }
}

async function tryInsert(
  world: World,
  client: pg.ClientBase,
  table: string,
  probe: TableProbe,
  actor: Actor,
  row: Row,
): Promise<Attempt> {
  const { text, values } = insertSql(table, row);
  await client.query('begin');
  let attempt: Attempt;
  try {
    const result = await client.query(text, values);
    attempt = { reached: result.rowCount === 1, detail: `inserted ${result.rowCount} row(s)` };
  } catch (error) {
    attempt = refusedOrThrow(error, `insert into ${table}`, probe);
  } finally {
    await rollbackQuietly(client);
  }
  if (!attempt.reached && probe.ownerCanInsert !== false) {
    // The refusal must be the access rules, not an invalid candidate: the owner, acting as the same
    // person, must be able to insert the very same row.
    try {
      await operatorTransaction(
        world.db.operator,
        { sub: actor.self?.id ?? null, bootstrap: true },
        () => world.db.operator.query(text, values),
        false,
      );
    } catch (error) {
      throw new UnexpectedError(
        `the insert candidate for ${table} is invalid (the owner cannot insert it either: ` +
          `${describeError(error)}); fix test/db/support/accessTables.ts`,
      );
    }
  }
  return attempt;
}

/** UPDATE or DELETE one row, then ask the owner whether that row really changed (before rollback). */
async function tryChange(
  world: World,
  client: pg.ClientBase,
  table: string,
  probe: TableProbe,
  command: 'UPDATE' | 'DELETE',
  key: string,
): Promise<Attempt> {
  const text =
    command === 'UPDATE'
      ? `update ${table} set ${probe.update} where ${probe.key} = $1`
      : `delete from ${table} where ${probe.key} = $1`;
  await client.query('begin');
  try {
    let rowCount: number | null;
    try {
      rowCount = (await client.query(text, [key])).rowCount;
    } catch (error) {
      return refusedOrThrow(error, `${command.toLowerCase()} ${table}`, probe);
    }
    // A row updated or deleted by the still-open transaction is locked against the owner; a row
    // that RLS hid from the statement is not. (FOR NO KEY UPDATE ignores the KEY SHARE locks that
    // foreign-key checks take.)
    let changed: boolean;
    try {
      const probeResult = await world.db.operator.query(
        `select 1 from ${table} where ${probe.key} = $1 for no key update nowait`,
        [key],
      );
      if (probeResult.rowCount !== 1) throw new UnexpectedError(`fixture row ${key} of ${table} is missing`);
      changed = false;
    } catch (error) {
      if (sqlState(error) !== '55P03') throw error;
      changed = true;
    }
    if (changed !== (rowCount === 1)) {
      throw new UnexpectedError(
        `${command} ${table}: the statement reported ${rowCount} row(s) but the row ${changed ? 'did' : 'did not'} change`,
      );
    }
    return { reached: changed, detail: changed ? `${command.toLowerCase()}d` : 'unchanged (0 rows)' };
  } finally {
    await rollbackQuietly(client);
  }
}

export async function probeAccess(
  world: World,
  table: string,
  probe: TableProbe,
  actor: Actor,
  command: Command,
): Promise<ProbeResult> {
  const client = world.clients[actor.role];
  let attempts: Attempt[];
  if (command === 'SELECT') {
    const rows = probe.rows(world, actor);
    attempts = await trySelect(client, table, probe, [rows.in, rows.out]);
  } else if (command === 'INSERT') {
    const candidates = probe.candidates(world, actor);
    attempts = [
      await tryInsert(world, client, table, probe, actor, candidates.in),
      await tryInsert(world, client, table, probe, actor, candidates.out),
    ];
  } else {
    const rows = probe.rows(world, actor);
    attempts = [
      await tryChange(world, client, table, probe, command, rows.in),
      await tryChange(world, client, table, probe, command, rows.out),
    ];
  }
  const [inScope, outScope] = attempts as [Attempt, Attempt];
  const access =
    inScope.reached && outScope.reached
      ? 'all'
      : inScope.reached
        ? 'own'
        : outScope.reached
          ? 'out only'
          : '—';
  return { access, detail: `in-scope row: ${inScope.detail}; out-of-scope row: ${outScope.detail}` };
}

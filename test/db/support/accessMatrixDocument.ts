// Parses docs/access-matrix.md: one `## SELECT`, `## INSERT`, `## UPDATE` and `## DELETE` section,
// each with one markdown table whose first column is a table name in backticks and whose other
// columns are roles; every cell is `all`, `own` or `—` (`-` is read as `—`). Anything else is an
// error naming the line, so a mistyped document fails loudly instead of testing less.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const accessMatrixPath = fileURLToPath(new URL('../../../docs/access-matrix.md', import.meta.url));

export const commands = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;
export type Command = (typeof commands)[number];

export const accessLevels = ['all', 'own', '—'] as const;
export type Access = (typeof accessLevels)[number];

export interface AccessMatrix {
  /** Role columns, in document order (identical in every section). */
  roles: string[];
  /** Table rows (`schema.table`), in document order (identical in every section). */
  tables: string[];
  cell(table: string, role: string, command: Command): Access;
}

export class AccessMatrixFormatError extends Error {
  override name = 'AccessMatrixFormatError';
}

interface Section {
  roles: string[];
  tables: string[];
  cells: Map<string, Access>;
}

const cellKey = (table: string, role: string) => `${table}\u0000${role}`;

function splitRow(line: string): string[] {
  const trimmed = line.trim();
  if (!trimmed.startsWith('|') || !trimmed.endsWith('|')) {
    throw new Error('a table row must start and end with |');
  }
  return trimmed
    .slice(1, -1)
    .split('|')
    .map((cell) => cell.trim());
}

function parseAccess(raw: string): Access {
  const value = raw.replace(/`/g, '').trim();
  if (value === 'all' || value === 'own' || value === '—') return value;
  if (value === '-') return '—';
  throw new Error(`cell "${raw}" is not one of all, own, —`);
}

function parseSection(lines: string[], start: number, command: Command): Section {
  let index = start;
  while (index < lines.length && !lines[index].trim().startsWith('|')) {
    if (/^#{1,2}\s/.test(lines[index])) break;
    index += 1;
  }
  const fail = (line: number, message: string): never => {
    throw new AccessMatrixFormatError(`docs/access-matrix.md line ${line + 1} (${command}): ${message}`);
  };
  if (index >= lines.length || !lines[index].trim().startsWith('|')) fail(start, 'no table in this section');

  const at = (line: number, parse: () => string[]) => {
    try {
      return parse();
    } catch (error) {
      return fail(line, (error as Error).message);
    }
  };
  const header = at(index, () => splitRow(lines[index]));
  if (header[0]?.toLowerCase() !== 'table') fail(index, 'the first column must be "Table"');
  const roles = header.slice(1);
  if (roles.length === 0) fail(index, 'no role columns');
  if (new Set(roles).size !== roles.length) fail(index, 'a role column appears twice');
  const separator = at(index + 1, () => splitRow(lines[index + 1] ?? ''));
  if (separator.length !== header.length || !separator.every((cell) => /^:?-{3,}:?$/.test(cell))) {
    fail(index + 1, 'expected the |---|---| separator row');
  }

  const tables: string[] = [];
  const cells = new Map<string, Access>();
  for (let line = index + 2; line < lines.length && lines[line].trim().startsWith('|'); line += 1) {
    const row = at(line, () => splitRow(lines[line]));
    if (row.length !== header.length) fail(line, `${row.length} cells, the header has ${header.length}`);
    const name = /^`([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)`$/.exec(row[0] ?? '')?.[1];
    if (!name) fail(line, `"${row[0]}" is not a table name in backticks, like \`cro.study\``);
    const table = name as string;
    if (tables.includes(table)) fail(line, `${table} is listed twice`);
    tables.push(table);
    roles.forEach((role, column) => {
      const access = at(line, () => [parseAccess(row[column + 1] ?? '')])[0] as Access;
      cells.set(cellKey(table, role), access);
    });
  }
  if (tables.length === 0) fail(index, 'the table has no rows');
  return { roles, tables, cells };
}

export function parseAccessMatrix(markdown: string): AccessMatrix {
  const lines = markdown.split(/\r?\n/);
  const sections = new Map<Command, Section>();
  lines.forEach((line, index) => {
    const heading = /^##\s+(\S+)\s*$/.exec(line);
    const command = heading?.[1] as Command | undefined;
    if (!command || !commands.includes(command)) return;
    if (sections.has(command)) {
      throw new AccessMatrixFormatError(`docs/access-matrix.md line ${index + 1}: a second ## ${command}`);
    }
    sections.set(command, parseSection(lines, index + 1, command));
  });
  const missing = commands.filter((command) => !sections.has(command));
  if (missing.length > 0) {
    throw new AccessMatrixFormatError(`docs/access-matrix.md has no section ## ${missing.join(', ## ')}`);
  }
  const first = sections.get('SELECT') as Section;
  for (const command of commands) {
    const section = sections.get(command) as Section;
    if (section.roles.join() !== first.roles.join()) {
      throw new AccessMatrixFormatError(
        `docs/access-matrix.md: the ${command} columns (${section.roles.join(', ')}) differ from SELECT's`,
      );
    }
    if (section.tables.join() !== first.tables.join()) {
      throw new AccessMatrixFormatError(
        `docs/access-matrix.md: the ${command} rows differ from SELECT's (same tables, same order, please)`,
      );
    }
  }
  return {
    roles: [...first.roles],
    tables: [...first.tables],
    cell(table, role, command) {
      const access = sections.get(command)?.cells.get(cellKey(table, role));
      if (!access) throw new Error(`the access matrix has no cell ${command} ${table} × ${role}`);
      return access;
    },
  };
}

export function readAccessMatrix(path = accessMatrixPath): AccessMatrix {
  return parseAccessMatrix(readFileSync(path, 'utf8'));
}

/** One row of the FUNCTIONS section: a function or procedure and who may call it. */
export interface FunctionRow {
  /** `schema.name(argument types)`, as regprocedure prints it with an empty search_path. */
  name: string;
  procedure: boolean;
  security: 'definer' | 'invoker';
  /** The function's own search_path setting ('' for empty), or null when it sets none. */
  searchPath: string | null;
  /** Roles besides the owner that hold EXECUTE, sorted. */
  grantees: string[];
}

/** Parses the `## FUNCTIONS` section: | Function | Security | search_path | EXECUTE | Purpose |. */
export function parseFunctionMatrix(markdown: string): FunctionRow[] {
  const lines = markdown.split(/\r?\n/);
  const start = lines.findIndex((line) => /^##\s+FUNCTIONS\s*$/.test(line));
  const fail = (line: number, message: string): never => {
    throw new AccessMatrixFormatError(`docs/access-matrix.md line ${line + 1} (FUNCTIONS): ${message}`);
  };
  if (start < 0) throw new AccessMatrixFormatError('docs/access-matrix.md has no section ## FUNCTIONS');
  let index = start + 1;
  while (index < lines.length && !lines[index].trim().startsWith('|')) {
    if (/^#{1,2}\s/.test(lines[index])) fail(index, 'no table in this section');
    index += 1;
  }
  const header = splitRow(lines[index] ?? '|');
  if (header.slice(0, 4).join('|') !== 'Function|Security|search_path|EXECUTE') {
    fail(index, 'the columns must start with Function | Security | search_path | EXECUTE');
  }
  const rows: FunctionRow[] = [];
  for (let line = index + 2; line < lines.length && lines[line].trim().startsWith('|'); line += 1) {
    const [nameCell, securityCell, pathCell, executeCell] = splitRow(lines[line]);
    const name = /^`([a-z_]+\.[a-z_0-9]+\(.*\))`$/.exec(nameCell ?? '')?.[1];
    if (!name) fail(line, `"${nameCell}" is not a function in backticks, like \`cs_private.is_admin()\``);
    const security = /^(procedure, )?(definer|invoker)$/.exec(securityCell ?? '');
    if (!security) fail(line, `security "${securityCell}" is not definer, invoker or "procedure, <either>"`);
    const searchPath =
      pathCell === "`''`"
        ? ''
        : pathCell === '—' || pathCell === '-'
          ? null
          : fail(line, `search_path "${pathCell}"`);
    const grantees =
      executeCell === '—' || executeCell === '-'
        ? []
        : (executeCell ?? '')
            .split(',')
            .map((role) => role.trim())
            .sort();
    if (rows.some((row) => row.name === name)) fail(line, `${name} is listed twice`);
    rows.push({
      name: name as string,
      procedure: Boolean(security?.[1]),
      security: security?.[2] as FunctionRow['security'],
      searchPath: searchPath as string | null,
      grantees,
    });
  }
  if (rows.length === 0) fail(index, 'the table has no rows');
  return rows;
}

export function readFunctionMatrix(path = accessMatrixPath): FunctionRow[] {
  return parseFunctionMatrix(readFileSync(path, 'utf8'));
}

// The PostgREST subset of the Supabase stand-in (supabaseStandIn.ts): RPCs of schema public and
// plain table reads and inserts, each answered in one transaction on a pooled `authenticator`
// connection under the caller's verified claims, exactly as PostgREST does before a request:
//
//   begin; set local role authenticated|anon;
//   select set_config('request.jwt.claims', <claims>, true); ...; commit (rollback on error)
//
// Nothing from the request ever becomes SQL text except identifiers that matched `identifier`
// below (and are then quoted as well); every value is a bound parameter, and every type a cast
// names comes from the catalog (format_type of the function's own argument), never from the request.
import type pg from 'pg';
import { isConnectionError } from '../../../src/main/sync/serverReader';

export interface RestReply {
  status: number;
  /** JSON text as sent (the server's own rendering for json results), or null for no body. */
  body: string | null;
  headers?: Record<string, string>;
}

/** The only shape a schema, table, column or function name from a request may have. */
export const identifier = /^[a-z_][a-z0-9_]*$/;
const exposedSchemas = new Set(['public', 'cro', 'diary', 'audit']);

const quote = (name: string) => {
  if (!identifier.test(name))
    throw new RestRefusal(400, 'PGRST100', `not a valid name: ${name.slice(0, 40)}`);
  return `"${name}"`;
};

/** A request refused before it reached the database, rendered as PostgREST renders its own errors. */
export class RestRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function errorReply(
  status: number,
  code: string,
  message: string,
  details: string | null = null,
): RestReply {
  return { status, body: JSON.stringify({ code, message, details, hint: null }) };
}

/** PostgREST's answer while it cannot reach the database (stopped, restarting): 503, PGRST001. */
export const databaseUnreachableReply: RestReply = errorReply(
  503,
  'PGRST001',
  'Database client error. Retrying the connection.',
);

/** A database error as PostgREST answers it: its SQLSTATE, message, detail and hint, and the status. */
export function databaseErrorReply(error: unknown, role: 'anon' | 'authenticated'): RestReply {
  if (isConnectionError(error)) return databaseUnreachableReply;
  const failure = error as { code?: string; message?: string; detail?: string; hint?: string };
  const code = failure.code ?? '';
  let status = 500;
  if (code === '42501') status = role === 'anon' ? 401 : 403;
  else if (code === '23505' || code === '23503') status = 409;
  else if (
    code === 'P0001' ||
    /^CS4\d\d$/.test(code) ||
    code.startsWith('22') ||
    code === '23514' ||
    code === '23502'
  )
    status = 400;
  else if (code === '42883' || code === '42P01') status = 404;
  return {
    status,
    body: JSON.stringify({
      code,
      message: failure.message ?? 'database error',
      details: failure.detail ?? null,
      hint: failure.hint ?? null,
    }),
  };
}

interface FunctionShape {
  args: { name: string; type: string; isArray: boolean; isJson: boolean }[];
  defaults: number;
  returnsSet: boolean;
  returns: 'void' | 'json' | 'rows' | 'row' | 'scalar';
}

/** What PostgREST would find in the schema cache: public functions by name (all overloads). */
export class FunctionCatalog {
  private readonly cache = new Map<string, FunctionShape[]>();

  async shapes(pool: pg.Pool, name: string): Promise<FunctionShape[]> {
    const known = this.cache.get(name);
    if (known) return known;
    const { rows } = await pool.query<{
      names: string[] | null;
      modes: string[] | null;
      types: string[];
      categories: string[];
      ntypes: string[];
      nargs: number;
      defaults: number;
      retset: boolean;
      rettype: string;
      typtype: string;
    }>(
      `select p.proargnames as names, p.proargmodes::text[] as modes, p.pronargs as nargs,
              p.pronargdefaults as defaults, p.proretset as retset,
              format_type(p.prorettype, null) as rettype, rt.typtype::text as typtype,
              array(select format_type(a.t, null) from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality a(t, i) order by a.i) as types,
              array(select ty.typcategory::text from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality a(t, i) join pg_type ty on ty.oid = a.t order by a.i) as categories,
              array(select ty.typname::text from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality a(t, i) join pg_type ty on ty.oid = a.t order by a.i) as ntypes
         from pg_proc p join pg_type rt on rt.oid = p.prorettype
        where p.pronamespace = 'public'::regnamespace and p.proname = $1 and p.prokind = 'f'`,
      [name],
    );
    const shapes = rows.map((row): FunctionShape => {
      const args: FunctionShape['args'] = [];
      row.types.forEach((type, index) => {
        const mode = row.modes?.[index] ?? 'i';
        if (mode !== 'i' && mode !== 'b' && mode !== 'v') return;
        const argName = row.names?.[index] ?? '';
        args.push({
          name: argName,
          type,
          isArray: row.categories[index] === 'A',
          isJson: row.ntypes[index] === 'json' || row.ntypes[index] === 'jsonb',
        });
      });
      const returns: FunctionShape['returns'] =
        row.rettype === 'void'
          ? 'void'
          : row.retset
            ? 'rows'
            : row.typtype === 'c' || row.rettype === 'record'
              ? 'row'
              : row.rettype === 'json' || row.rettype === 'jsonb'
                ? 'json'
                : 'scalar';
      return { args, defaults: row.defaults, returnsSet: row.retset, returns };
    });
    this.cache.set(name, shapes);
    return shapes;
  }
}

/** The overload PostgREST would pick: every named argument is one of its inputs, the rest default. */
function pickOverload(shapes: FunctionShape[], given: string[]): FunctionShape | null {
  for (const shape of shapes) {
    const names = shape.args.map((arg) => arg.name);
    if (!given.every((name) => names.includes(name))) continue;
    const required = shape.args.slice(0, shape.args.length - shape.defaults).map((arg) => arg.name);
    if (required.every((name) => given.includes(name))) return shape;
  }
  return null;
}

function argumentValue(value: unknown, arg: FunctionShape['args'][number]): unknown {
  if (value === null || value === undefined) return null;
  if (arg.isJson) return JSON.stringify(value);
  if (arg.isArray && Array.isArray(value)) return value; // node-postgres sends it as an array literal
  if (typeof value === 'object') return JSON.stringify(value);
  return value;
}

/** POST /rest/v1/rpc/<fn>: the SQL and parameters of the call, or a refusal. */
export async function rpcStatement(
  catalog: FunctionCatalog,
  pool: pg.Pool,
  fn: string,
  body: unknown,
): Promise<{ sql: string; params: unknown[]; returns: FunctionShape['returns'] }> {
  if (!identifier.test(fn))
    throw new RestRefusal(404, 'PGRST202', 'Could not find the function in the schema cache');
  const args = (body ?? {}) as Record<string, unknown>;
  if (typeof args !== 'object' || Array.isArray(args)) {
    throw new RestRefusal(400, 'PGRST102', 'the arguments of a function call are one JSON object');
  }
  const given = Object.keys(args);
  const shape = pickOverload(await catalog.shapes(pool, fn), given);
  if (!shape) {
    throw new RestRefusal(
      404,
      'PGRST202',
      `Could not find the function public.${fn}(${given.filter((n) => identifier.test(n)).join(', ')}) in the schema cache`,
    );
  }
  const params: unknown[] = [];
  const named = shape.args
    .filter((arg) => given.includes(arg.name))
    .map((arg) => {
      params.push(argumentValue(args[arg.name], arg));
      // The name and the type are the catalog's; the value is the parameter.
      return `${quote(arg.name)} => $${params.length}::${arg.type}`;
    });
  const call = `public.${quote(fn)}(${named.join(', ')})`;
  const sql = {
    void: `select ${call}`,
    json: `select (${call})::text as body`,
    scalar: `select to_json(${call})::text as body`,
    row: `select row_to_json(r)::text as body from ${call} r`,
    rows: `select coalesce(json_agg(r), '[]')::text as body from ${call} r`,
  }[shape.returns];
  return { sql, params, returns: shape.returns };
}

const operators = new Map([
  ['eq', '='],
  ['neq', '<>'],
  ['gt', '>'],
  ['gte', '>='],
  ['lt', '<'],
  ['lte', '<='],
]);

/** The values of an in.(a,"b,c") filter, as postgrest-js writes them. */
function inValues(list: string): string[] {
  if (!list.startsWith('(') || !list.endsWith(')'))
    throw new RestRefusal(400, 'PGRST100', 'in needs (a,b,...)');
  const values: string[] = [];
  const text = list.slice(1, -1);
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (char === '"') quoted = !quoted;
    else if (char === '\\' && quoted) current += text[++i] ?? '';
    else if (char === ',' && !quoted) {
      values.push(current);
      current = '';
    } else current += char;
  }
  if (text.length > 0) values.push(current);
  return values;
}

/** GET /rest/v1/<table>: select, filters, order, limit, offset, as one parameterised statement. */
export function tableReadStatement(
  schema: string,
  table: string,
  query: URLSearchParams,
): { sql: string; params: unknown[] } {
  if (!exposedSchemas.has(schema))
    throw new RestRefusal(406, 'PGRST106', `The schema must be one of the exposed ones`);
  const params: unknown[] = [];
  const where: string[] = [];
  let order = '';
  let limit = '';
  let offset = '';
  let columns = '*';
  for (const [key, raw] of query) {
    if (key === 'select') {
      columns =
        raw === '*' || raw === ''
          ? '*'
          : raw
              .split(',')
              .map((column) => `t.${quote(column.trim())}`)
              .join(', ');
    } else if (key === 'order') {
      order = `order by ${raw
        .split(',')
        .map((term) => {
          const [column = '', direction = 'asc', nulls] = term.split('.');
          if (direction !== 'asc' && direction !== 'desc')
            throw new RestRefusal(400, 'PGRST100', 'bad order');
          const nullsSql =
            nulls === 'nullsfirst' ? ' nulls first' : nulls === 'nullslast' ? ' nulls last' : '';
          return `t.${quote(column)} ${direction}${nullsSql}`;
        })
        .join(', ')}`;
    } else if (key === 'limit' || key === 'offset') {
      if (!/^\d{1,9}$/.test(raw)) throw new RestRefusal(400, 'PGRST100', `bad ${key}`);
      if (key === 'limit') limit = `limit ${Number(raw)}`;
      else offset = `offset ${Number(raw)}`;
    } else if (key !== 'columns') {
      // (`columns`: postgrest-js names an insert's columns there; a read ignores it.)
      const column = `t.${quote(key)}`;
      const negated = raw.startsWith('not.');
      const filter = negated ? raw.slice(4) : raw;
      const dot = filter.indexOf('.');
      const op = filter.slice(0, dot);
      const value = filter.slice(dot + 1);
      let condition: string;
      const comparison = operators.get(op);
      if (comparison) {
        params.push(value);
        condition = `${column} ${comparison} $${params.length}`;
      } else if (op === 'in') {
        params.push(inValues(value));
        condition = `${column} = any($${params.length})`;
      } else if (op === 'is' && (value === 'null' || value === 'true' || value === 'false')) {
        condition = `${column} is ${value}`;
      } else if (op === 'like' || op === 'ilike') {
        params.push(value.replaceAll('*', '%'));
        condition = `${column} ${op} $${params.length}`;
      } else {
        throw new RestRefusal(400, 'PGRST100', `unsupported filter operator: ${op.slice(0, 20)}`);
      }
      where.push(negated ? `not (${condition})` : condition);
    }
  }
  const sql = `select coalesce(json_agg(p), '[]')::text as body from (select ${columns} from ${quote(schema)}.${quote(table)} t ${
    where.length ? `where ${where.join(' and ')}` : ''
  } ${order} ${limit} ${offset}) p`;
  return { sql, params };
}

/** POST /rest/v1/<table>: an insert of one object or an array, as PostgREST writes it (json_populate_recordset). */
export function tableInsertStatement(
  schema: string,
  table: string,
  body: unknown,
  query: URLSearchParams,
  representation: boolean,
): { sql: string; params: unknown[] } {
  if (!exposedSchemas.has(schema))
    throw new RestRefusal(406, 'PGRST106', `The schema must be one of the exposed ones`);
  const rows = Array.isArray(body) ? body : [body];
  if (rows.some((row) => row === null || typeof row !== 'object' || Array.isArray(row))) {
    throw new RestRefusal(400, 'PGRST102', 'an insert is a JSON object or an array of objects');
  }
  const keys = [...new Set(rows.flatMap((row) => Object.keys(row as object)))].map(quote);
  const target = `${quote(schema)}.${quote(table)}`;
  const select = query.get('select');
  const returning =
    !select || select === '*'
      ? '*'
      : select
          .split(',')
          .map((column) => quote(column.trim()))
          .join(', ');
  const insert = `insert into ${target} (${keys.join(', ')}) select ${keys.join(', ')} from json_populate_recordset(null::${target}, $1::json)`;
  const sql = representation
    ? `with written as (${insert} returning ${returning}) select coalesce(json_agg(written), '[]')::text as body from written`
    : insert;
  return { sql, params: [JSON.stringify(rows)] };
}

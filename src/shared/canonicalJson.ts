// RFC 8785 JSON Canonicalization Scheme: the exact bytes that get hashed wherever Countersign hashes
// JSON (content hashes, audit payload hashes). supabase/migrations/0002_canonical_json.sql computes
// the same on the server; test/db/canonicalJson.test.ts proves they agree.
//  - object keys sorted by UTF-16 code units (JavaScript's default string order), no whitespace;
//  - strings escaped as JSON.stringify does; lone surrogates are refused (not well-formed text);
//  - numbers in ECMAScript Number#toString form (what JSON.stringify prints); NaN/Infinity refused.

export class CanonicalJsonError extends TypeError {
  override name = 'CanonicalJsonError';
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function canonicalString(value: string, path: string): string {
  if (loneSurrogate.test(value)) {
    throw new CanonicalJsonError(`${path} contains a lone UTF-16 surrogate, which RFC 8785 cannot represent`);
  }
  return JSON.stringify(value);
}

function serialise(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value))
        throw new CanonicalJsonError(`${path} is ${value}, which JSON cannot represent`);
      return JSON.stringify(value);
    case 'string':
      return canonicalString(value, path);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((item, index) => serialise(item, `${path}[${index}]`)).join(',')}]`;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        throw new CanonicalJsonError(
          `${path} is a ${prototype?.constructor?.name ?? 'non-plain'} object, not JSON`,
        );
      }
      const record = value as Record<string, unknown>;
      const members = Object.keys(record)
        .sort()
        .map((key) => `${canonicalString(key, `${path} key`)}:${serialise(record[key], `${path}.${key}`)}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new CanonicalJsonError(`${path} is a ${typeof value}, which JSON cannot represent`);
  }
}

/**
 * The same output as serialise without building a path for every value (a third of the time for a
 * large document), or undefined for any value it cannot take, which sends the caller to serialise to
 * name the place. Self-contained (it reaches only its arguments and JavaScript's built-ins), so that
 * a packet verifier's worker thread runs this very function from its source.
 */
export function canonicalJsonFast(root: unknown, lone: RegExp): string | undefined {
  const walk = (value: unknown): string | undefined => {
    if (value === null) return 'null';
    switch (typeof value) {
      case 'boolean':
        return value ? 'true' : 'false';
      case 'number':
        return Number.isFinite(value) ? JSON.stringify(value) : undefined;
      case 'string':
        return lone.test(value) ? undefined : JSON.stringify(value);
      case 'object': {
        if (Array.isArray(value)) {
          let out = '[';
          for (let i = 0; i < value.length; i++) {
            const item = walk(value[i]);
            if (item === undefined) return undefined;
            out += i === 0 ? item : `,${item}`;
          }
          return `${out}]`;
        }
        const prototype = Object.getPrototypeOf(value);
        if (prototype !== Object.prototype && prototype !== null) return undefined;
        const record = value as Record<string, unknown>;
        const keys = Object.keys(record).sort();
        let out = '{';
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i] as string;
          const item = walk(record[key]);
          if (item === undefined || lone.test(key)) return undefined;
          out += `${i === 0 ? '' : ','}${JSON.stringify(key)}:${item}`;
        }
        return `${out}}`;
      }
      default:
        return undefined;
    }
  };
  return walk(root);
}

/** Lone UTF-16 surrogates, which RFC 8785 cannot represent (for canonicalJsonFast's callers). */
export const loneSurrogatePattern = loneSurrogate;

export function canonicalJson(value: unknown): string {
  return canonicalJsonFast(value, loneSurrogate) ?? serialise(value, '$');
}

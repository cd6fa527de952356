// Payloads and ids in the audit screen's dense rows: one line of text (never markup), with the
// invisible characters made visible, and hashes shortened to a prefix a person can compare.
import { visibleText } from '../common/visibleText';

function scalarText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  return JSON.stringify(value);
}

/** `key=value · key=value` for an object's top-level fields; other values as JSON. */
export function payloadLine(payload: unknown): string {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return visibleText(JSON.stringify(payload) ?? String(payload));
  }
  return visibleText(
    Object.entries(payload as Record<string, unknown>)
      .map(([key, value]) => `${key}=${scalarText(value)}`)
      .join(' · '),
  );
}

/** The whole payload, indented, for the entry's detail. */
export function payloadBlock(payload: unknown): string {
  return visibleText(JSON.stringify(payload, null, 2) ?? String(payload));
}

export function hashPrefix(hash: string, length = 12): string {
  return hash.length > length ? `${hash.slice(0, length)}…` : hash;
}

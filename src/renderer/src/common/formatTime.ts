// Every date and time on screen is written one way (docs/decisions.md, decision 39):
// `2026-12-07 07:10:26 UTC`, ISO 8601's order on a 24-hour clock with its zone named, and the
// reader's local time in the same pattern (`2026-12-07 08:10:26 GMT+1`) on hover, or beside it where
// a signature is manifested (21 CFR 11.50).

/** `2026-12-07 07:10:26 UTC`; text that is not a time is returned as it came. */
export function formatUtc(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, '')} UTC`;
}

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

// One formatter per zone: building an Intl formatter costs far more than using one.
function partsFormatter(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let formatter = partsFormatters.get(key);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    partsFormatters.set(key, formatter);
  }
  return formatter;
}

/**
 * The reader's local time in the same pattern, its zone named: `2026-12-07 08:10:26 CET`
 * (`timeZone`, an IANA name, for another zone than the reader's).
 */
export function formatLocal(iso: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const part: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const { type, value } of partsFormatter(timeZone).formatToParts(date)) part[type] = value;
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second} ${part.timeZoneName}`;
}

/** The hover text of a time shown in UTC. */
export function localTitle(iso: string): string {
  return `Your local time: ${formatLocal(iso)}`;
}

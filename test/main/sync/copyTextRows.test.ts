// COPY text format as PostgreSQL writes it: escapes, NULL against the two characters "\N", rows and
// multi-byte characters cut across chunks, and a broken transfer refused with a clear error.
import { describe, expect, it } from 'vitest';
import { CopyTextRows, unescapeCopyField } from '../../../src/main/sync/copyTextRows';

const text = (name: string) => ({ name, parse: (value: string) => value });
const columns = [
  text('id'),
  text('doc'),
  { name: 'n', parse: (value: string) => Number.parseInt(value, 10) },
];

describe('COPY text rows [SYNC-WATERMARK]', () => {
  it('undoes the backslash escapes, and reads \\N as NULL but an escaped backslash-N as text', () => {
    expect(unescapeCopyField('a\\tb\\nc\\\\d\\re\\bf\\fg\\vh')).toBe('a\tb\nc\\d\re\bf\fg\vh');
    expect(unescapeCopyField('\\101\\x42')).toBe('AB');
    const parser = new CopyTextRows(columns);
    const rows = parser.push(Buffer.from('1\t\\N\t7\n2\t\\\\N\t8\n'));
    expect(rows).toEqual([
      { id: '1', doc: null, n: 7 },
      { id: '2', doc: '\\N', n: 8 },
    ]);
    parser.end();
  });

  it('keeps a row and a multi-byte character that straddle two chunks', () => {
    const parser = new CopyTextRows(columns);
    const line = Buffer.from('3\t{"t": "שלום \u202e 😀"}\t9\n');
    const cut = line.indexOf(Buffer.from('😀')) + 2; // inside the emoji's four bytes
    expect(parser.push(line.subarray(0, cut))).toEqual([]);
    expect(parser.push(line.subarray(cut))).toEqual([{ id: '3', doc: '{"t": "שלום \u202e 😀"}', n: 9 }]);
    parser.end();
  });

  it('reads the same rows however the data is cut into chunks, at every byte', () => {
    const data = Buffer.from(
      ['1\t{"t": "שלום \u202e 😀"}\t7', '2\t\\N\t8', '3\t\\N\t\\N', '4\ta\\tb\\nc\t10', '5\t\t11']
        .map((line) => `${line}\n`)
        .join(''),
    );
    const whole = new CopyTextRows(columns).push(data);
    expect(whole.map((row) => row.id)).toEqual(['1', '2', '3', '4', '5']);
    for (let first = 0; first <= data.length; first++) {
      for (const second of [first, first + 1, first + 7, data.length]) {
        if (second > data.length) continue;
        const parser = new CopyTextRows(columns);
        const rows = [
          ...parser.push(data.subarray(0, first)),
          ...parser.push(data.subarray(first, second)),
          ...parser.push(data.subarray(second)),
        ];
        expect(rows, `cut at ${first} and ${second}`).toEqual(whole);
        parser.end();
      }
    }
  });

  it("refuses column names that are not plain identifiers (they name the rows' properties)", () => {
    for (const name of ['__proto__', 'constructor: 1, x', 'a-b', 'Id', '']) {
      expect(() => new CopyTextRows([text(name)]), name).toThrow(/the server sent a COPY column named/);
    }
    const row = new CopyTextRows([text('id'), text('constructor')]).push(Buffer.from('1\tx\n'))[0];
    expect(row).toEqual({ id: '1', constructor: 'x' });
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
  });

  it('refuses a row with the wrong number of fields and data cut in the middle of a row', () => {
    expect(() => new CopyTextRows(columns).push(Buffer.from('1\tx\n'))).toThrow(
      /2 fields where 3 were expected/,
    );
    expect(() => new CopyTextRows(columns).push(Buffer.from('1\tx\t2\t3\n'))).toThrow(/4 fields where 3/);
    const parser = new CopyTextRows(columns);
    parser.push(Buffer.from('1\tx'));
    expect(() => parser.end()).toThrow(/middle of a row/);
  });
});

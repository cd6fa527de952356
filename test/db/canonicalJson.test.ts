// The client (src/shared/canonicalJson.ts) and the server (cs_private.canonical_json) must produce
// the same bytes for the same JSON, or no content hash could ever be verified by the server.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/shared/canonicalJson';
import { createTestDatabase, type TestDatabase } from './support/testServer';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

// RFC 8785 appendix and section 3.2.2.3 examples, with the expected canonical text.
const rfcExamples: Array<[string, string]> = [
  [
    '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
  ],
  [
    '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  ],
];

// As JSON text, so that the server receives digits beyond double precision (jsonb keeps them
// exactly) and must round them to the nearest double just as JSON.parse does.
const numbersJson =
  '[0,-0,1,-1,0.1,0.2,0.30000000000000004,1e21,1e20,123456789012345680000,1e-6,1e-7,1.5e-7,-1.5e300,' +
  '5e-324,1.7976931348623157e308,9007199254740991,9007199254740993,4.35,0.000001,100,1e15,1e16,12345.678,' +
  '9007199254740994,333333333.33333329,0.3333333333333333,1.0000000000000002,100.0,2.50e+3,-0.0e-5]';

// RFC 8785 Appendix B: IEEE 754 doubles (as hex) and their canonical text.
const appendixB: Array<[string, string]> = [
  ['0000000000000000', '0'],
  ['8000000000000000', '0'],
  ['0000000000000001', '5e-324'],
  ['8000000000000001', '-5e-324'],
  ['7fefffffffffffff', '1.7976931348623157e+308'],
  ['ffefffffffffffff', '-1.7976931348623157e+308'],
  ['4340000000000000', '9007199254740992'],
  ['c340000000000000', '-9007199254740992'],
  ['4430000000000000', '295147905179352830000'],
  ['44b52d02c7e14af5', '9.999999999999997e+22'],
  ['44b52d02c7e14af6', '1e+23'],
  ['44b52d02c7e14af7', '1.0000000000000001e+23'],
  ['444b1ae4d6e2ef4e', '999999999999999700000'],
  ['444b1ae4d6e2ef4f', '999999999999999900000'],
  ['444b1ae4d6e2ef50', '1e+21'],
  ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
  ['3eb0c6f7a0b5ed8d', '0.000001'],
  ['41b3de4355555553', '333333333.3333332'],
  ['41b3de4355555554', '333333333.33333325'],
  ['41b3de4355555555', '333333333.3333333'],
  ['41b3de4355555556', '333333333.3333334'],
  ['41b3de4355555557', '333333333.33333343'],
  ['becbf647612f3696', '-0.0000033333333333333333'],
  ['43143ff3c1cb0959', '1424953923781206.2'],
];

const doubleOfHex = (hex: string) => Buffer.from(hex, 'hex').readDoubleBE(0);

/** Finite doubles from random bit patterns (every exponent alike) and from everyday magnitudes. */
function randomDoubles(count: number): number[] {
  const bytes = randomBytes(count * 8);
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const value =
      i % 2 === 0 ? bytes.readDoubleBE(i * 8) : (bytes.readUInt32BE(i * 8) / 2 ** 32) * 10 ** ((i % 40) - 20);
    if (Number.isFinite(value)) values.push(value);
  }
  return values;
}

// PostgreSQL's jsonb cannot hold U+0000, so the server refuses such documents outright.
const documents: unknown[] = [
  { b: 1, a: 2, c: { z: [3, 2, 1], y: null } },
  { '': 'empty key', ' ': 'space', A: 1, a: 2, aa: 3, é: 4, '\u007f': 5, '\u0001x': 6 },
  { text: 'line\nbreak\ttab "quoted" back\\slash \u0001 \u001f \u007f \u2028 \u2029' },
  { rtl: 'מטופל דיווח ‏על דימום', zw: 'a\u200bb\u200dc\ufeff', emoji: '🧪👩‍⚕️', astral: '𝔘𝔫𝔦𝔠𝔬𝔡𝔢' },
  { '😀': 1, '\ufb33': 2, '\uffff': 3, '\ue000': 4 },
  { nested: [{ deep: [[[]]] }, {}, [], '', false, true, null] },
  { html: '<script>alert(1)</script><img src=x onerror=alert(2)>' },
];

describe('canonical JSON: client and server agree (RFC 8785) [SIGN-HASH]', () => {
  let db: TestDatabase;
  const serverCanonical = async (json: string) => {
    const { rows } = await db.operator.query<{ c: string; h: string }>(
      'select cs_private.canonical_json($1::jsonb) as c, cs_private.json_sha256($1::jsonb) as h',
      [json],
    );
    return rows[0] as { c: string; h: string };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it.each(rfcExamples)('canonicalises the RFC 8785 example %#', async (input, expected) => {
    expect(canonicalJson(JSON.parse(input))).toBe(expected);
    expect((await serverCanonical(input)).c).toBe(expected);
  });

  it('formats every tricky number as ECMAScript does, on both sides', async () => {
    const client = canonicalJson(JSON.parse(numbersJson));
    const server = await serverCanonical(numbersJson);
    expect(server.c).toBe(client);
    expect(client).toContain('1e+21');
    expect(client).toContain('100000000000000000000');
    expect(client).toContain('1e-7');
    expect(client).toContain('0.000001');
    expect(client).toContain('9007199254740992,');
    expect(client).toContain(',2500,');
  });

  it('prints the numbers of RFC 8785 Appendix B as ECMAScript does, on both sides', async () => {
    const values = appendixB.map(([hex]) => doubleOfHex(hex));
    expect(values.map((value) => canonicalJson(value))).toEqual(appendixB.map(([, text]) => text));
    // Sent as 17 significant digits (more than the shortest form), and as the shortest form.
    for (const input of [values.map((value) => value.toPrecision(17)), values.map(String)]) {
      const { rows } = await db.operator.query<{ text: string[] }>(
        'select array_agg(cs_private.canonical_number(x::numeric) order by i) as text from unnest($1::text[]) with ordinality as t(x, i)',
        [input],
      );
      expect(rows[0]?.text).toEqual(appendixB.map(([, text]) => text));
    }
  });

  it('prints 200,000 random doubles exactly as JavaScript does', async () => {
    const values = randomDoubles(200_000);
    const mismatches: string[] = [];
    const chunk = 20_000;
    for (let start = 0; start < values.length; start += chunk) {
      const part = values.slice(start, start + chunk);
      const { rows } = await db.operator.query<{ text: string[] }>(
        'select array_agg(cs_private.canonical_number(x::numeric) order by i) as text from unnest($1::text[]) with ordinality as t(x, i)',
        [part.map((value) => value.toPrecision(17))],
      );
      const server = rows[0]?.text ?? [];
      part.forEach((value, index) => {
        if (server[index] !== canonicalJson(value)) {
          mismatches.push(
            `${value.toPrecision(17)}: server ${server[index]}, JavaScript ${canonicalJson(value)}`,
          );
        }
      });
    }
    expect(values.length).toBeGreaterThan(190_000);
    expect(mismatches.slice(0, 10)).toEqual([]);
  });

  it('agrees on key order, escaping and unicode for every sample document', async () => {
    for (const document of documents) {
      const json = JSON.stringify(document);
      const client = canonicalJson(JSON.parse(json));
      const server = await serverCanonical(json);
      expect(server.c).toBe(client);
      expect(server.h).toBe(sha256(client));
    }
  });

  it('sorts keys by UTF-16 code units, not by code points', () => {
    // U+1F600 is a surrogate pair (D83D DE00), which sorts before U+E000 and U+FB33 in UTF-16.
    expect(canonicalJson({ '\ufb33': 1, '😀': 2, '\ue000': 3 })).toBe('{"😀":2,"\ue000":3,"דּ":1}');
  });

  it('refuses what JSON cannot represent', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/NaN/);
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow(/Infinity/);
    expect(() => canonicalJson({ a: undefined })).toThrow(/undefined/);
    expect(() => canonicalJson({ a: new Date(0) })).toThrow(/Date/);
    expect(() => canonicalJson({ a: '\ud800' })).toThrow(/surrogate/);
  });
});

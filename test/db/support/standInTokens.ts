// The stand-in's (supabaseStandIn.ts) signing primitives: HS256 tokens under its own random secret,
// checked in constant time, TOTP codes as RFC 6238 computes them, and the id of a person's factor.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type Claims = Record<string, unknown>;

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs and verifies HS256 JWTs with a secret nobody else holds (a new one per stand-in). */
export class TokenSigner {
  private readonly secret = randomBytes(32);

  sign(claims: Claims): string {
    const unsigned = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(claims)}`;
    return `${unsigned}.${createHmac('sha256', this.secret).update(unsigned).digest('base64url')}`;
  }

  /** The payload of a token this signer signed, or 'invalid' (expiry is the caller's to judge). */
  verify(token: string): Claims | 'invalid' {
    const [header, payload, signature, extra] = token.split('.');
    if (!header || !payload || !signature || extra !== undefined) return 'invalid';
    const expected = createHmac('sha256', this.secret).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
      return claims !== null && typeof claims === 'object' && !Array.isArray(claims)
        ? (claims as Claims)
        : 'invalid';
    } catch {
      return 'invalid';
    }
  }
}

/**
 * The RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 secret at a time, computed here rather than
 * with otplib, whose guardrails refuse the short secrets some fixtures and real factors have
 * (GoTrue accepts them, and so does the server's own cs_private.totp_code).
 */
export function totpAt(secretBase32: string, epochSeconds: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of secretBase32.replace(/=+$/, '').toUpperCase()) {
    const value = alphabet.indexOf(char);
    if (value < 0) return '';
    bits += value.toString(2).padStart(5, '0');
  }
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((byte) => Number.parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(epochSeconds / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

/** A stable id for a person's one TOTP factor (cs_private.totp_factor has one row per person). */
export function factorIdOf(userId: string): string {
  const hex = createHash('sha256').update(`totp-factor:${userId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

// Offline sign-in: after each successful online sign-in, a scrypt verifier of the password is kept
// next to the user's cache (never the password, never the cache key). When the backend cannot be
// reached, the same e-mail address and password open that user's cache, and only that: the file is
// found by a digest of the backend and address, and it names the cache's user id. The verifier only
// gates the local cache; the server still checks the password on the next online sign-in.
import { createHash, randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readOrCreateSecretFile } from './cacheKeyStore';
import { cacheDir } from './cacheLocation';

interface OfflineVerifier {
  v: 1;
  userId: string;
  salt: string;
  hash: string;
  N: number;
  r: number;
  p: number;
}

const params = { N: 2 ** 15, r: 8, p: 1 };

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, 32, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

function verifierPath(dataDir: string, backendId: string, email: string): string {
  const digest = createHash('sha256').update(`${backendId}\n${email.trim().toLowerCase()}`).digest('hex');
  return join(cacheDir(dataDir), backendId, `signin-${digest.slice(0, 32)}.json`);
}

export async function saveOfflineVerifier(
  dataDir: string,
  backendId: string,
  email: string,
  userId: string,
  password: string,
): Promise<void> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, params);
  const verifier: OfflineVerifier = {
    v: 1,
    userId,
    salt: salt.toString('hex'),
    hash: hash.toString('hex'),
    ...params,
  };
  const path = verifierPath(dataDir, backendId, email);
  rmSync(path, { force: true }); // a new salt each time the password proves itself online
  readOrCreateSecretFile(path, () => Buffer.from(JSON.stringify(verifier)));
}

/** The user id whose cache these credentials open, or null (no verifier, or a wrong password). */
export async function checkOfflineVerifier(
  dataDir: string,
  backendId: string,
  email: string,
  password: string,
): Promise<string | null> {
  const path = verifierPath(dataDir, backendId, email);
  if (!existsSync(path)) return null;
  const verifier = JSON.parse(readFileSync(path, 'utf8')) as OfflineVerifier;
  const expected = Buffer.from(verifier.hash, 'hex');
  const actual = await derive(password, Buffer.from(verifier.salt, 'hex'), {
    N: verifier.N,
    r: verifier.r,
    p: verifier.p,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected) ? verifier.userId : null;
}

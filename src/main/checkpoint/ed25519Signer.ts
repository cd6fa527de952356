// Ed25519 with Node's crypto: the signer the packet writer and the cosigner use, built from a private
// KeyObject (the workstation key, sealed like the cache key: see workstationKey.ts), and the check a
// verifier makes with nothing but the raw public key.
import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import type { Ed25519Signer } from './checkpoint';

/** The raw 32-byte public key of an Ed25519 key (its SPKI DER ends with it). */
export function rawPublicKey(key: KeyObject): Buffer {
  const der = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - 32);
}

export function keyFingerprintOf(rawPublic: Buffer): string {
  return createHash('sha256').update(rawPublic).digest('hex');
}

export function ed25519SignerOf(privateKey: KeyObject): Ed25519Signer {
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error('the workstation key is not an Ed25519 key');
  const raw = rawPublicKey(privateKey);
  return {
    publicKey: raw.toString('base64'),
    keyFingerprint: keyFingerprintOf(raw),
    sign: (data) => sign(null, data, privateKey).toString('base64'),
  };
}

const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');

/** True when signature (base64) is publicKey's (raw, base64) Ed25519 signature of data. */
export function verifyEd25519(publicKey: string, data: Buffer, signature: string): boolean {
  const raw = Buffer.from(publicKey, 'base64');
  const sig = Buffer.from(signature, 'base64');
  if (raw.length !== 32 || sig.length !== 64) return false;
  const key = createPublicKey({ key: Buffer.concat([spkiPrefix, raw]), format: 'der', type: 'spki' });
  return verify(null, data, key, sig);
}

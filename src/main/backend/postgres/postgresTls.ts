// How the workstation talks to a PostgreSQL server: TLS with the server's certificate and name
// verified (libpq's verify-full) to any host that is not this machine, unless plaintext is asked for
// by name. Countersign never encrypts without verifying: an unverified TLS connection protects a
// password from a passive listener but hands it to anyone in the middle.
import { existsSync, readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import tls from 'node:tls';
import { UserFacingError } from '../../userFacingError';

export type PostgresTls = { mode: 'verify-full'; rootCertPath: string | null } | { mode: 'disable' };

/** The settings a person may name (COUNTERSIGN_PG_SSL, the profile). `require` means verify-full here. */
export const postgresTlsSettings = ['verify-full', 'require', 'disable'] as const;
export type PostgresTlsSetting = (typeof postgresTlsSettings)[number];

export function isLoopbackHost(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** The transport for a host: what was asked for, or else TLS (verify-full) unless the host is this machine. */
export function postgresTlsFor(
  host: string,
  setting: PostgresTlsSetting | undefined,
  rootCertPath: string | null = null,
): PostgresTls {
  if (setting === 'disable') return { mode: 'disable' };
  if (setting === undefined && isLoopbackHost(host)) return { mode: 'disable' };
  return { mode: 'verify-full', rootCertPath };
}

/** The operating system's trusted roots where Node can read them, else Node's own bundle. */
function readTrustedRoots(): string[] | undefined {
  const getCACertificates = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  if (getCACertificates) return [...getCACertificates('system'), ...getCACertificates('bundled')];
  // Node 20 has no API for the system store; on Linux it is a well-known file.
  for (const bundle of ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt']) {
    if (existsSync(bundle)) return [...tls.rootCertificates, readFileSync(bundle, 'utf8')];
  }
  return undefined; // Node's bundled roots
}

/** Read once per process: every connection (each fresh login of a ceremony, each reconnect) needs them. */
let trustedRootsRead: { roots: string[] | undefined } | null = null;
function trustedRoots(): string[] | undefined {
  trustedRootsRead ??= { roots: readTrustedRoots() };
  return trustedRootsRead.roots;
}

/** node-postgres's `ssl` option for a connection to `host`. */
export function pgSslOptions(transport: PostgresTls | undefined, host: string): false | ConnectionOptions {
  if (!transport || transport.mode === 'disable') return false;
  let ca: string[] | undefined;
  if (transport.rootCertPath) {
    try {
      ca = [readFileSync(transport.rootCertPath, 'utf8')];
    } catch {
      throw new UserFacingError(
        `The CA certificate ${transport.rootCertPath} (COUNTERSIGN_PG_SSL_ROOT_CERT) cannot be read.`,
      );
    }
  } else {
    ca = trustedRoots();
  }
  return { rejectUnauthorized: true, servername: host.replace(/^\[|\]$/g, ''), ...(ca ? { ca } : {}) };
}

/** What the profile chooser and the status line say about the connection. */
export function describeTransport(transport: PostgresTls | undefined): string {
  if (!transport || transport.mode === 'disable') return 'not encrypted';
  return transport.rootCertPath ? 'TLS, verified against your CA certificate' : 'TLS, server verified';
}

/** A message a person can act on when a TLS connection fails, or null if it is not a TLS failure. */
export function tlsFailureMessage(error: unknown): string | null {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (/does not support SSL/i.test(message ?? '')) {
    return (
      'The PostgreSQL server does not accept TLS connections. Turn on TLS on the server (ssl = on), ' +
      'or, on a trusted network only, choose "not encrypted" (COUNTERSIGN_PG_SSL=disable).'
    );
  }
  const certificateCodes = [
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'CERT_HAS_EXPIRED',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  ];
  if (code && certificateCodes.includes(code)) {
    return (
      `The PostgreSQL server's TLS certificate could not be verified (${code}). If it is issued by your ` +
      "organisation's own CA, set COUNTERSIGN_PG_SSL_ROOT_CERT to that CA's certificate file; check that " +
      'the host name matches the certificate.'
    );
  }
  return null;
}

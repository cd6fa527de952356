// A connection to the PostgreSQL server as a person's own login role: where it is, how it is
// protected (postgresTls.ts), and the one way the workstation opens one (sign-in, the fresh logins of
// a signing ceremony and of a password change, the sync's reader, the evidence command).
import pg from 'pg';
import { loginRoleName } from '../provisioning';
import { type PostgresTls, pgSslOptions } from './postgresTls';

export interface ServerAddress {
  host: string;
  port: number;
  database: string;
  /** Unset: not encrypted (the embedded server on this machine). */
  tls?: PostgresTls;
}

/**
 * Opens a connection as the person (their e-mail address is their login role). PostgreSQL's SCRAM
 * checks the password; a refusal is thrown as node-postgres reports it (code 28P01 for a wrong one),
 * with the half-open client closed.
 */
export async function connectAsPerson(
  address: ServerAddress,
  email: string,
  password: string,
  applicationName: string,
  options: Pick<pg.ClientConfig, 'options'> = {},
): Promise<pg.Client> {
  const client = new pg.Client({
    host: address.host,
    port: address.port,
    database: address.database,
    user: loginRoleName(email),
    password,
    ssl: pgSslOptions(address.tls, address.host),
    connectionTimeoutMillis: 10_000,
    application_name: applicationName,
    ...options,
  });
  client.on('error', () => undefined); // a dropped connection surfaces on the next query
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

// An administrator with an authenticator, signed in as the workstation signs in, who unlocks an
// account the only way the server allows since migration 0056: their own fresh re-authentication
// (password + TOTP) for a ceremony, then public.unlock_account with a reason.
import { randomUUID } from 'node:crypto';
import { generateSecret, generateSync } from 'otplib';
import type pg from 'pg';
import type { ServerAddress } from '../../../src/main/backend/postgres/personConnection';
import { PostgresSession } from '../../../src/main/backend/postgres/postgresSession';
import type { PersonSpec } from '../../../src/main/backend/provisioning';

export interface ReauthenticatingAdmin {
  id: string;
  email: string;
  session: PostgresSession;
  /** The admin's own connection (their login), for calls the test makes directly. */
  client: pg.Client;
  /** A verified re-authentication for a new ceremony; resolves its id. */
  reauthenticate(): Promise<string>;
  /** Re-authenticates, then lifts the lock with the reason. */
  unlock(person: string, lockKind: 'signing' | 'sign_in', reason: string): Promise<void>;
  close(): Promise<void>;
}

/** Each admin re-authenticates with the codes of the current step and the next (one step of drift). */
export async function newReauthenticatingAdmin(
  provision: (spec: PersonSpec) => Promise<string>,
  address: ServerAddress,
  connect: (email: string, password: string) => Promise<pg.Client>,
  email: string,
  password: string,
): Promise<ReauthenticatingAdmin> {
  const secret = generateSecret();
  const id = await provision({
    email,
    printedName: `Alex Admin ${email.split('@')[0]}`,
    password,
    roles: [{ role: 'admin', studyId: null }],
    totpSecretBase32: secret,
  });
  const session = await PostgresSession.signIn(address, email, password);
  const client = await connect(email, password);
  let step = -1;
  const reauthenticate = async () => {
    const ceremonyId = randomUUID();
    // A code is single use: each re-authentication takes the next step's code.
    const code = generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + step++ * 30 });
    const outcome = await session.signingBackend().reauthenticate(ceremonyId, password, code);
    if (!outcome.ok) throw new Error(`the admin's re-authentication failed: ${outcome.reason}`);
    return ceremonyId;
  };
  return {
    id,
    email,
    session,
    client,
    reauthenticate,
    async unlock(person, lockKind, reason) {
      const ceremonyId = await reauthenticate();
      await client.query('select public.unlock_account($1, $2, $3, $4)', [
        person,
        lockKind,
        reason,
        ceremonyId,
      ]);
    },
    async close() {
      await client.end().catch(() => undefined);
      await session.close();
    },
  };
}

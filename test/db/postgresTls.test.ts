// A real server that does not speak TLS: asked for verify-full, the workstation really asks for TLS
// (and so never sends the password in plaintext), and says what to do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresSession } from '../../src/main/backend/postgres/postgresSession';
import { createTestDatabase, type TestDatabase } from './support/testServer';

describe('TLS for postgres mode against a real server [SEC-TLS]', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.provision({
      email: db.email('tls'),
      printedName: 'Tess',
      password: 'Tls-Person-2026',
      roles: [],
    });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('refuses to fall back to plaintext when TLS is asked for, with a message a person can act on', async () => {
    const address = { host: db.server.host, port: db.server.port, database: db.name };
    await expect(
      PostgresSession.signIn(
        { ...address, tls: { mode: 'verify-full', rootCertPath: null } },
        db.email('tls'),
        'Tls-Person-2026',
      ),
    ).rejects.toThrow(/does not accept TLS connections.*ssl = on/);
    // Plaintext, by name, to this machine: accepted.
    const session = await PostgresSession.signIn(
      { ...address, tls: { mode: 'disable' } },
      db.email('tls'),
      'Tls-Person-2026',
    );
    expect(session.identity.printedName).toBe('Tess');
    await session.close();
  });
});

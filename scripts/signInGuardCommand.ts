// `npx countersign sign-in-guard`: the sign-in guard (src/main/backend/postgres/signInGuard.ts) for a
// PostgreSQL server of your own. It reads the server's log on standard input, e.g.
//   tail -F /var/log/postgresql/postgresql.log | npx countersign sign-in-guard
// and connects as the database's owner with the libpq variables (PGHOST, PGPORT, PGDATABASE, PGUSER,
// PGPASSWORD or ~/.pgpass, PGSSLMODE). The server must write its log with
// log_line_prefix = '%m [%p] %e %h ' and log_timezone = 'UTC' (docs/security.md).
import pg from 'pg';
import { SignInGuard, signInGuardLogPrefix } from '../src/main/backend/postgres/signInGuard';

export const signInGuardUsage = `  countersign sign-in-guard < server.log
      reads the PostgreSQL server's log (log_line_prefix = '${signInGuardLogPrefix}', log_timezone = 'UTC')
      and reports failed sign-ins as the database owner (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD)`;

export async function signInGuardCommand(): Promise<void> {
  const guard = new SignInGuard({
    connect: async () => {
      const client = new pg.Client({ application_name: 'countersign-sign-in-guard' });
      await client.connect();
      return client;
    },
    log: (line) => process.stderr.write(`${line}\n`),
  });
  guard.start();
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => guard.feed(chunk));
  await new Promise<void>((done) => {
    process.stdin.once('end', done);
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
  await guard.settled();
  await guard.stop();
}

// Run as a child process by hostedSyncHttp.test.ts: signs in to the Supabase stand-in over HTTP as
// the given person (password and TOTP from the environment, never the command line) and syncs their
// cache through the hosted transport in small pages, printing one line per page written, until the
// parent kills it (SIGKILL) mid-sync: the hosted twin of syncChildProcess.ts.
import { SupabaseSession } from '../../../src/main/backend/supabase/supabaseSession';
import { openCache } from '../../../src/main/cache/openCache';
import { pullAll } from '../../../src/main/sync/pullEngine';
import { totpAt } from './standInTokens';

const [url, anonKey, email, cachePath, userId, backendId] = process.argv.slice(2) as string[];
const session = await SupabaseSession.signIn(
  { url: url as string, anonKey: anonKey as string },
  email as string,
  process.env.SYNC_CHILD_PASSWORD ?? '',
  totpAt(process.env.SYNC_CHILD_TOTP_SECRET ?? '', Date.now() / 1000),
  { autoRefreshToken: false },
);
const cache = openCache({
  path: cachePath as string,
  key: Buffer.from(process.env.SYNC_CHILD_KEY ?? '', 'hex'),
  userId: userId as string,
  backendId: backendId as string,
});
await pullAll(cache, session.syncServer(), {
  pageSize: 25,
  onProgress: (progress) => process.stdout.write(`${JSON.stringify(progress)}\n`),
});
process.stdout.write('{"done":true}\n');
setInterval(() => undefined, 60_000);

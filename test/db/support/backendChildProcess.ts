// Run as a child process by crashRecovery.test.ts: starts the embedded backend on the given data
// folder and port, commits one proposal as the agent, then leaves a second one uncommitted and
// waits to be killed (SIGKILL) in the middle of that write.
import pg from 'pg';
import { proposeAsAgent } from '../../../src/main/backend/demo/demoAgent';
import { demoPerson } from '../../../src/main/backend/demo/demoPeople';
import { createRng } from '../../../src/main/backend/demo/prng';
import { startEmbeddedBackend } from '../../../src/main/backend/embedded/embeddedBackend';
import { findMigrationsDir } from '../../../src/main/backend/migrationsDir';

const [dataDir, port] = process.argv.slice(2);
const backend = await startEmbeddedBackend({
  dataDir: dataDir as string,
  port: Number(port),
  migrationsDir: findMigrationsDir(),
  log: () => undefined,
});
const agent = demoPerson('agent');
const client = new pg.Client({ ...backend.address, user: agent.email, password: agent.password });
await client.connect();
const rng = createRng(7);
const committed = await proposeAsAgent(client, rng);
await client.query('begin');
await client.query(
  `select public.record_agent_provenance(id, 'propose', 'staging_record', 'in-flight', null, '[]', '{}')
     from cro.study limit 1`,
);
process.stdout.write(
  `${JSON.stringify({ committed: committed.stagingId, postgresPid: backend.serverPid })}\n`,
);
setInterval(() => undefined, 60_000);

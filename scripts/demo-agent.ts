// `npm run demo:agent`: a stand-in for the AI agent of seed 000. It signs in to the running embedded
// backend as the agent's own login role, shows that the database refuses it every write except a
// proposal, then keeps proposing new staging records (with provenance) so that the workstation's
// sync has something to pull.
//
//   npm run demo:agent -- [--interval <ms>] [--count <n>] [--once]
//                         [--data-dir <dir>] [--host <host>] [--port <port>] [--database <name>]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { demonstrateAgentRefusals, proposeAsAgent } from '../src/main/backend/demo/demoAgent';
import { demoPerson } from '../src/main/backend/demo/demoPeople';
import { createRng } from '../src/main/backend/demo/prng';
import { loginRoleName } from '../src/main/backend/provisioning';
import { defaultDataDir } from '../src/main/dataDir';
import { entityKinds } from '../src/shared/domain';

const startHint =
  'Start Countersign first with npm start (it starts the embedded backend and seeds the demo).';

function fail(message: string, code = 1): never {
  console.error(`demo agent: ${message}`);
  process.exit(code);
}

const usage =
  'usage: npm run demo:agent -- [--interval <ms>] [--count <n>] [--once] ' +
  '[--data-dir <dir>] [--host <host>] [--port <port>] [--database <name>]';

function readArgs() {
  try {
    return parseArgs({
      options: {
        interval: { type: 'string' },
        count: { type: 'string' },
        once: { type: 'boolean', default: false },
        'data-dir': { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        database: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    fail(`${(error as Error).message}\n${usage}`);
  }
}

function parseFlags() {
  const values = readArgs();
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const positiveInt = (name: string, raw: string | undefined, fallback: number | null) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1)
      fail(`--${name} must be a positive whole number, not "${raw}"`);
    return value;
  };
  return {
    intervalMs: positiveInt('interval', values.interval, 3000) ?? 3000,
    count: values.once ? 1 : positiveInt('count', values.count, null),
    once: values.once ?? false,
    dataDir: values['data-dir'],
    host: values.host,
    port: positiveInt('port', values.port, null),
    database: values.database,
  };
}

interface BackendAddress {
  host: string;
  port: number;
  database: string;
}

function backendAddress(flags: ReturnType<typeof parseFlags>): BackendAddress {
  const dataDir = flags.dataDir ?? defaultDataDir();
  const file = join(dataDir, 'backend.json');
  let fromFile: Partial<BackendAddress> = {};
  if (existsSync(file)) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      fromFile = {
        host: typeof parsed.host === 'string' ? parsed.host : undefined,
        port: typeof parsed.port === 'number' ? parsed.port : undefined,
        database: typeof parsed.database === 'string' ? parsed.database : undefined,
      };
    } catch {
      fail(`${file} is not valid JSON. ${startHint}`);
    }
  } else if (flags.port === null) {
    fail(`no running backend found (${file} does not exist). ${startHint}`);
  }
  return {
    host: flags.host ?? fromFile.host ?? '127.0.0.1',
    port: flags.port ?? fromFile.port ?? 54329,
    database: flags.database ?? fromFile.database ?? 'countersign',
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const flags = parseFlags();
  const address = backendAddress(flags);
  const agent = demoPerson('agent');
  const user = loginRoleName(agent.email);
  const where = `${address.host}:${address.port}/${address.database}`;
  const client = new pg.Client({
    ...address,
    user,
    password: agent.password,
    application_name: 'countersign-demo-agent',
    connectionTimeoutMillis: 5000,
  });
  client.on('error', (error) => fail(`lost the connection to ${where}: ${error.message}`));
  try {
    await client.connect();
  } catch (error) {
    const reason = (error as { code?: string; message?: string }).message ?? String(error);
    fail(`cannot connect to the Countersign backend at ${where} as ${user}: ${reason}. ${startHint}`);
  }
  console.log(`demo agent: signed in to ${where} as ${user} (its own login role, no claims)`);

  let stopping = false;
  const stop = () => {
    stopping = true;
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  try {
    console.log('demo agent: checking that the database refuses every write but a proposal…');
    const attempts = await demonstrateAgentRefusals(client);
    for (const attempt of attempts) {
      console.log(
        attempt.refused
          ? `  refused as expected: ${attempt.sqlstate} ${attempt.message}   (${attempt.attempt})`
          : `  NOT REFUSED: ${attempt.attempt}: ${attempt.message}`,
      );
    }
    const leaks = attempts.filter((attempt) => !attempt.refused);
    if (leaks.length > 0) {
      console.error(
        `demo agent: ${leaks.length} forbidden operation(s) were NOT refused; this is a security defect.`,
      );
      process.exitCode = 2;
      return;
    }

    const rng = createRng(Date.now() >>> 0);
    let made = 0;
    while (!stopping && (flags.count === null || made < flags.count)) {
      const entityKind = entityKinds[made % entityKinds.length];
      try {
        const proposal = await proposeAsAgent(client, rng, { entityKind });
        made++;
        console.log(
          `demo agent: proposed ${proposal.entityId === null ? 'a new' : 'an update of'} ${proposal.entityKind} ` +
            `in ${proposal.studyCode} under build ${proposal.buildNumber} (staging ${proposal.stagingId}` +
            `${proposal.sponsorRequestId ? `, answering sponsor request ${proposal.sponsorRequestId}` : ''})`,
        );
      } catch (error) {
        console.error(`demo agent: proposal failed: ${(error as Error).message}`);
        if (flags.once) {
          process.exitCode = 1;
          return;
        }
      }
      if (flags.once || (flags.count !== null && made >= flags.count)) break;
      for (let waited = 0; waited < flags.intervalMs && !stopping; waited += 200) {
        await sleep(Math.min(200, flags.intervalMs - waited));
      }
    }
    console.log(`demo agent: done, ${made} proposal(s) made.`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

main().catch((error: unknown) => fail((error as Error).message ?? String(error)));

// `countersign evidence record|sign` (issue 8): record a CI run's evidence folder on a backend and
// sign it as a release through the Part 11 ceremony. Direct modes (embedded demo, postgres).
//   countersign evidence record [--evidence evidence/<commit>] [--data-dir DIR] --email ADMIN [--pr N]
//   countersign evidence sign --run ID [--data-dir DIR] --email SIGNER [--meaning M] [--comment C]
// The backend: --data-dir's backend.json (written by the running workstation's embedded server), else
// COUNTERSIGN_PG_HOST/PORT/DATABASE (default 127.0.0.1:54329/countersign). Password from
// COUNTERSIGN_PASSWORD or the terminal; the TOTP code from COUNTERSIGN_TOTP or the terminal.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { backendConfigFrom } from '../src/main/backend/backendConfig';
import type { ServerAddress } from '../src/main/backend/postgres/postgresSession';
import { defaultDataDir } from '../src/main/dataDir';
import { connectAs, recordEvidenceRun, signEvidenceRun } from '../src/main/evidence/evidenceRun';
import { gitState, readEvidenceFolder } from './evidence/evidenceFolder';

const rootDir = fileURLToPath(new URL('..', import.meta.url));

export const evidenceUsage = `  countersign evidence record [--evidence DIR] [--data-dir DIR] --email ADMIN [--pr N] [--allow-dirty]
  countersign evidence sign --run ID [--data-dir DIR] --email SIGNER [--meaning M] [--comment C]
      backend: DIR/backend.json of a running workstation, else COUNTERSIGN_PG_HOST/PORT/DATABASE
      password: COUNTERSIGN_PASSWORD or the terminal; code: COUNTERSIGN_TOTP or the terminal`;

async function ask(prompt: string, envName: string, hidden: boolean): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) throw new Error(`set ${envName} or run in a terminal`);
  process.stderr.write(prompt);
  const rl = createInterface({ input: process.stdin, terminal: true });
  if (hidden) (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  const answer = await new Promise<string>((done) => rl.question('', done));
  rl.close();
  if (hidden) process.stderr.write('\n');
  return answer.trim();
}

function backendAddress(dataDirOption: string | undefined): ServerAddress {
  const dataDir = resolve(dataDirOption ?? process.env.COUNTERSIGN_DATA_DIR ?? defaultDataDir());
  const file = join(dataDir, 'backend.json');
  if (existsSync(file) && !process.env.COUNTERSIGN_PG_HOST) {
    const { host, port, database } = JSON.parse(readFileSync(file, 'utf8')) as ServerAddress;
    return { host, port, database };
  }
  // The backend's own settings (COUNTERSIGN_PG_*), TLS by default to any other machine.
  const config = backendConfigFrom({
    COUNTERSIGN_PG_PORT: '54329',
    ...process.env,
    COUNTERSIGN_BACKEND: 'postgres',
  });
  if (config.mode !== 'postgres') throw new Error('the evidence commands speak to a PostgreSQL backend');
  return { host: config.host, port: config.port, database: config.database, tls: config.tls };
}

async function record(args: string[]): Promise<string> {
  const { values } = parseArgs({
    args,
    options: {
      evidence: { type: 'string' },
      'data-dir': { type: 'string' },
      email: { type: 'string' },
      pr: { type: 'string' },
      'allow-dirty': { type: 'boolean', default: false },
    },
  });
  if (!values.email) throw new Error(`--email is required\n${evidenceUsage}`);
  const folder = resolve(values.evidence ?? join(rootDir, 'evidence', gitState(rootDir).commit));
  const summary = readEvidenceFolder(folder, rootDir);
  if (summary.result !== 'pass')
    throw new Error(`${folder} is the evidence of a failed run; it cannot be recorded`);
  if (summary.dirty && !values['allow-dirty']) {
    throw new Error(`${folder} was made from uncommitted changes (--allow-dirty to record it anyway)`);
  }
  const password = await ask('Password: ', 'COUNTERSIGN_PASSWORD', true);
  const client = await connectAs(backendAddress(values['data-dir']), values.email, password);
  try {
    const run = await recordEvidenceRun(client, {
      commitSha: summary.commit,
      evidencePaths: summary.paths,
      manifestSha256: summary.manifestSha256,
      prNumber: values.pr ? Number(values.pr) : null,
    });
    return `recorded validation evidence run ${run.id}\n  commit ${run.commitSha}\n  manifest.sha256 ${run.manifestSha256}\n  ${summary.paths.length} files\nsign it: countersign evidence sign --run ${run.id} --email <signer>\n`;
  } finally {
    await client.end();
  }
}

async function sign(args: string[]): Promise<string> {
  const { values } = parseArgs({
    args,
    options: {
      run: { type: 'string' },
      'data-dir': { type: 'string' },
      email: { type: 'string' },
      meaning: { type: 'string', default: 'I approve this release' },
      comment: { type: 'string' },
    },
  });
  if (!values.run || !values.email) throw new Error(`--run and --email are required\n${evidenceUsage}`);
  const password = await ask('Password: ', 'COUNTERSIGN_PASSWORD', true);
  const totpCode = await ask('Authenticator code: ', 'COUNTERSIGN_TOTP', false);
  const signed = await signEvidenceRun({
    address: backendAddress(values['data-dir']),
    email: values.email,
    password,
    totpCode,
    evidenceRunId: values.run,
    meaning: values.meaning,
    comment: values.comment ?? null,
  });
  return `signed validation evidence run ${values.run}\n  signature ${signed.signatureId}\n  by ${signed.signer.printedName}, ${signed.signedAt} (UTC), meaning: ${values.meaning}\n  content hash ${signed.contentHash}\n`;
}

export async function evidenceCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'record' && sub !== 'sign') throw new Error(`usage:\n${evidenceUsage}`);
  process.stdout.write(sub === 'record' ? await record(rest) : await sign(rest));
}

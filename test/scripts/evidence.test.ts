import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { writeEvidence } from '../../scripts/evidence/evidenceFolder';
import {
  allRequirements,
  type Requirement,
  req,
  tagsOf,
  traceRequirements,
  type VitestJsonReport,
} from '../../scripts/evidence/traceability';
import { renderTraceabilityHtml } from '../../scripts/evidence/traceabilityHtml';

const rootDir = fileURLToPath(new URL('../..', import.meta.url));
const requirementsPath = join(rootDir, 'docs/requirements.md');
const matrixPath = join(rootDir, 'docs/access-matrix.md');
const requirements = allRequirements(
  readFileSync(requirementsPath, 'utf8'),
  readFileSync(matrixPath, 'utf8'),
);
const scratch = mkdtempSync(join(tmpdir(), 'countersign-evidence-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A results file as vitest's JSON reporter writes it: one passing test per requirement. */
function reportProving(list: Requirement[], status = 'passed'): VitestJsonReport {
  return {
    success: status !== 'failed',
    startTime: Date.now(),
    testResults: [
      {
        name: join(rootDir, 'test/fixture.test.ts'),
        status,
        assertionResults: list.map((requirement) => ({
          ancestorTitles: ['fixture'],
          title: req(`proves ${requirement.id}`, requirement.id),
          status,
          duration: 1,
          failureMessages: [],
        })),
      },
    ],
  };
}

const without = (report: VitestJsonReport, id: string): VitestJsonReport => ({
  ...report,
  testResults: report.testResults.map((file) => ({
    ...file,
    assertionResults: file.assertionResults.filter((test) => !tagsOf(test.title).includes(id)),
  })),
});

describe('validation evidence: requirements traced to tests [VAL-EVIDENCE, CFR-11.10a]', () => {
  it('lists the Part 11 clauses of issue 8 and one RLS requirement per table of the access matrix', () => {
    const ids = requirements.map((requirement) => requirement.id);
    for (const clause of ['10a', '10b', '10e', '10f', '10g', '50', '70', '200a', '300d']) {
      expect(ids).toContain(`CFR-11.${clause}`);
    }
    expect(ids).toContain('RLS-cro.staging_record');
    expect(ids).toContain('RLS-cro.validation_evidence_run');
    expect(ids.filter((id) => id.startsWith('RLS-')).length).toBeGreaterThanOrEqual(34);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('reads tags from the end of a name, and only lists of ids', () => {
    expect(tagsOf('signs a batch [SIGN-BATCH, CFR-11.200a]')).toEqual(['SIGN-BATCH', 'CFR-11.200a']);
    expect(tagsOf('cro.study [RLS-cro.study]')).toEqual(['RLS-cro.study']);
    expect(tagsOf('renders [not a tag] here')).toEqual([]);
    expect(tagsOf('shows [x]')).toEqual([]);
  });

  it('passes when every requirement has a passing test', () => {
    const trace = traceRequirements(requirements, reportProving(requirements), rootDir);
    expect(trace.problems).toEqual([]);
    expect(trace.result).toBe('pass');
    const signing = trace.requirements.find((requirement) => requirement.id === 'CFR-11.50');
    expect(signing?.tests).toEqual([
      {
        file: 'test/fixture.test.ts',
        name: 'fixture › proves CFR-11.50 [CFR-11.50]',
        status: 'passed',
        durationMs: 1,
      },
    ]);
  });

  it('fails naming the uncovered requirement when its test is removed', () => {
    const trace = traceRequirements(requirements, without(reportProving(requirements), 'CFR-11.50'), rootDir);
    expect(trace.result).toBe('fail');
    expect(trace.problems).toEqual([expect.stringMatching(/^requirement CFR-11\.50 has no passing test: /)]);
    expect(trace.requirements.find((requirement) => requirement.id === 'CFR-11.50')?.result).toBe('untested');
  });

  it('counts a failing test against its requirement, and a skipped one as no proof', () => {
    const failed = traceRequirements(requirements, reportProving(requirements, 'failed'), rootDir);
    expect(failed.requirements.every((requirement) => requirement.result === 'fail')).toBe(true);
    const skipped = traceRequirements(requirements, reportProving(requirements, 'skipped'), rootDir);
    expect(skipped.requirements.every((requirement) => requirement.result === 'untested')).toBe(true);
    expect(skipped.problems[0]).toMatch(/no passing test \(its 1 test\(s\) were skipped\)/);
  });

  it('refuses a test that names a requirement that does not exist', () => {
    const report = reportProving(requirements);
    report.testResults[0]?.assertionResults.push({
      ancestorTitles: [],
      title: 'typo [CFR-11.5O]',
      status: 'passed',
    });
    const trace = traceRequirements(requirements, report, rootDir);
    expect(trace.problems).toEqual([
      'test/fixture.test.ts › typo [CFR-11.5O] names CFR-11.5O, which is not a requirement (docs/requirements.md)',
    ]);
  });

  it('escapes every text of the HTML matrix', () => {
    const hostile: Requirement = {
      id: 'SEC-X',
      source: '<script>alert(1)</script>',
      risk: 'high',
      text: '"&\'<img src=x onerror=alert(1)>',
      origin: 'test',
    };
    const trace = traceRequirements([hostile], reportProving([hostile]), rootDir);
    const html = renderTraceabilityHtml(trace, { commit: '<b>', dirty: false, generatedAt: 'now' });
    expect(html).not.toMatch(/<script>|<img|<b>/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('writes the folder with a manifest that hashes every file', () => {
    const resultsPath = join(scratch, 'results.json');
    writeFileSync(resultsPath, JSON.stringify(reportProving(requirements)));
    const evidence = writeEvidence({
      rootDir,
      resultsPath,
      outDir: join(scratch, 'evidence'),
      requirementsPath,
      matrixPath,
      screenshotDir: join(scratch, 'no-screenshots'),
      environment: { node: process.version },
      git: { commit: 'abc123', dirty: false },
    });
    expect(evidence.folder).toBe(join(scratch, 'evidence', 'abc123'));
    expect(evidence.files).toEqual([
      'environment.json',
      'results.json',
      'traceability.html',
      'traceability.json',
      'manifest.sha256',
    ]);
    const manifest = readFileSync(join(evidence.folder, 'manifest.sha256'), 'utf8');
    for (const line of manifest.trim().split('\n')) {
      const [hash, file] = line.split('  ') as [string, string];
      expect(
        createHash('sha256')
          .update(readFileSync(join(evidence.folder, file)))
          .digest('hex'),
      ).toBe(hash);
    }
    expect(createHash('sha256').update(manifest).digest('hex')).toBe(evidence.manifestSha256);
    const json = JSON.parse(readFileSync(join(evidence.folder, 'traceability.json'), 'utf8'));
    expect(json).toMatchObject({ commit: 'abc123', dirty: false, result: 'pass' });
    expect(readFileSync(join(evidence.folder, 'results.json'), 'utf8')).toBe(
      readFileSync(resultsPath, 'utf8'),
    );
  });

  it('npx tsx scripts/evidence.ts exits 1 naming the requirement whose only test was removed', async () => {
    const resultsPath = join(scratch, 'results-missing.json');
    writeFileSync(
      resultsPath,
      JSON.stringify(without(reportProving(requirements), 'RLS-cro.staging_record')),
    );
    const run = promisify(execFile);
    const failure = await run(
      process.execPath,
      ['--import', 'tsx', 'scripts/evidence.ts', '--results', resultsPath, '--out', join(scratch, 'cli')],
      { cwd: rootDir },
    ).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('evidence: FAIL');
    expect(failure?.stderr).toContain('requirement RLS-cro.staging_record has no passing test');
  });
});

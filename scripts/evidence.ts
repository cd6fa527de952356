// Validation evidence (issue 8): traces every requirement to the tests that prove it, from the
// JSON results that `npm test` writes, and writes evidence/<commit>/.
//   npx tsx scripts/evidence.ts [--results test-results/vitest-results.json] [--out evidence]
// `npm run evidence` runs `npm test` first; .ci/run calls this after its own `npm test`, so the suite
// runs once. Exit 1, naming each one, when a requirement has no passing test, a test failed, or a test
// names an unknown requirement; the folder is written either way (the evidence of a failed run).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeEvidence } from './evidence/evidenceFolder';

const rootDir = fileURLToPath(new URL('..', import.meta.url));

const { values } = parseArgs({
  options: {
    results: { type: 'string', default: 'test-results/vitest-results.json' },
    out: { type: 'string', default: 'evidence' },
    requirements: { type: 'string', default: 'docs/requirements.md' },
    matrix: { type: 'string', default: 'docs/access-matrix.md' },
    screenshots: { type: 'string', default: 'test-results' },
  },
});

try {
  const evidence = writeEvidence({
    rootDir,
    resultsPath: resolve(rootDir, values.results),
    outDir: resolve(rootDir, values.out),
    requirementsPath: resolve(rootDir, values.requirements),
    matrixPath: resolve(rootDir, values.matrix),
    screenshotDir: resolve(rootDir, values.screenshots),
  });
  const { trace } = evidence;
  const proved = trace.requirements.filter((requirement) => requirement.result === 'pass').length;
  process.stdout.write(
    `evidence: ${evidence.folder}\n` +
      `  ${proved} of ${trace.requirements.length} requirements proved; ${trace.counts.tests} tests ` +
      `(${trace.counts.passed} passed, ${trace.counts.failed} failed, ${trace.counts.skipped} skipped)\n` +
      `  manifest.sha256 ${evidence.manifestSha256}\n`,
  );
  if (trace.result === 'fail') {
    process.stderr.write(`evidence: FAIL\n${trace.problems.map((problem) => `  - ${problem}\n`).join('')}`);
    process.exit(1);
  }
} catch (error) {
  process.stderr.write(`evidence: ${(error as Error).message}\n`);
  process.exit(1);
}

// Requirements (docs/requirements.md, plus one RLS-<table> per table of docs/access-matrix.md) traced
// to the tests that name them, from vitest's JSON results. Pure functions: the command that writes
// the evidence folder is scripts/evidence.ts.
//
// A test names requirements with a bracketed list at the end of its own name or of a describe
// around it: `describe('sign_batch [SIGN-BATCH, CFR-11.200a]', …)`. A requirement is proved when at
// least one test naming it passed and none failed; skipped tests prove nothing.
import { relative } from 'node:path';
import { parseAccessMatrix } from '../../test/db/support/accessMatrixDocument';

export const riskLevels = ['high', 'medium', 'low'] as const;
export type Risk = (typeof riskLevels)[number];

export interface Requirement {
  id: string;
  source: string;
  risk: Risk;
  text: string;
  /** Where the requirement is written down: a document, and for generated ones the matrix row. */
  origin: string;
}

export class RequirementsFormatError extends Error {
  override name = 'RequirementsFormatError';
}

/** An id: upper-case family, then dash-separated parts (table names keep their case and dots). */
const idPattern = /^[A-Z][A-Z0-9]*(?:-[A-Za-z0-9._]+)+$/;
/** A bracketed tag list at the end of a test or describe name. */
const tagPattern = /\[([^\]]+)\]\s*$/;

export function rlsRequirementId(table: string): string {
  return `RLS-${table}`;
}

/** Appends a requirement tag to a test or describe name: `req('name', 'CFR-11.50')`. */
export function req(name: string, ...ids: string[]): string {
  return `${name} [${ids.join(', ')}]`;
}

function splitRow(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

/** Reads the requirement rows of docs/requirements.md: `| \`ID\` | source | risk | text |`. */
export function parseRequirements(markdown: string, origin = 'docs/requirements.md'): Requirement[] {
  const requirements: Requirement[] = [];
  markdown.split('\n').forEach((line, index) => {
    if (!/^\|\s*`/.test(line)) return;
    const where = `${origin}:${index + 1}`;
    const cells = splitRow(line);
    if (cells.length !== 4)
      throw new RequirementsFormatError(`${where}: expected 4 cells, found ${cells.length}`);
    const [idCell, source, risk, text] = cells as [string, string, string, string];
    const id = idCell.replace(/^`|`$/g, '');
    if (!idPattern.test(id)) throw new RequirementsFormatError(`${where}: "${id}" is not a requirement id`);
    if (!(riskLevels as readonly string[]).includes(risk)) {
      throw new RequirementsFormatError(`${where}: risk of ${id} must be high, medium or low, not "${risk}"`);
    }
    if (!source || !text) throw new RequirementsFormatError(`${where}: ${id} needs a source and a text`);
    requirements.push({ id, source, risk: risk as Risk, text, origin: where });
  });
  return requirements;
}

/** One requirement per table of the access matrix. */
export function accessMatrixRequirements(markdown: string, origin = 'docs/access-matrix.md'): Requirement[] {
  return parseAccessMatrix(markdown).tables.map((table) => ({
    id: rlsRequirementId(table),
    source: 'seed 001 (RLS deny-by-default); docs/access-matrix.md',
    risk: 'high',
    text:
      `Every role (anon and each application role) reaches exactly the rows of ${table} that the ` +
      'access matrix states for SELECT, INSERT, UPDATE and DELETE, and nothing else.',
    origin: `${origin} (${table})`,
  }));
}

export function allRequirements(requirementsMarkdown: string, matrixMarkdown: string): Requirement[] {
  const list = [...parseRequirements(requirementsMarkdown), ...accessMatrixRequirements(matrixMarkdown)];
  const seen = new Set<string>();
  for (const requirement of list) {
    if (seen.has(requirement.id)) {
      throw new RequirementsFormatError(
        `requirement ${requirement.id} is listed twice (${requirement.origin})`,
      );
    }
    seen.add(requirement.id);
  }
  return list;
}

/** The parts of vitest's JSON report (jest-compatible) that the trace reads. */
export interface VitestJsonReport {
  success?: boolean;
  startTime?: number;
  numTotalTests?: number;
  numPassedTests?: number;
  numFailedTests?: number;
  numPendingTests?: number;
  numTodoTests?: number;
  testResults: Array<{
    name: string;
    status: string;
    message?: string;
    assertionResults: Array<{
      ancestorTitles: string[];
      title: string;
      fullName?: string;
      status: string;
      duration?: number | null;
      failureMessages?: string[];
    }>;
  }>;
}

export type TestStatus = 'passed' | 'failed' | 'skipped';

export interface TracedTest {
  file: string;
  name: string;
  status: TestStatus;
  durationMs: number | null;
}

export type RequirementResult = 'pass' | 'fail' | 'untested';

export interface TracedRequirement extends Requirement {
  result: RequirementResult;
  tests: TracedTest[];
}

export interface Traceability {
  result: 'pass' | 'fail';
  requirements: TracedRequirement[];
  /** Each reason the run is not evidence, one line each, naming what to fix. */
  problems: string[];
  counts: { tests: number; passed: number; failed: number; skipped: number; tagged: number };
}

function testStatus(status: string): TestStatus {
  if (status === 'passed') return 'passed';
  if (status === 'failed') return 'failed';
  return 'skipped'; // skipped, pending, todo, disabled
}

/** The requirement ids a name carries, or [] when its trailing brackets are not a tag list. */
export function tagsOf(name: string): string[] {
  const match = tagPattern.exec(name);
  if (!match?.[1]) return [];
  const ids = match[1].split(',').map((part) => part.trim());
  return ids.every((id) => idPattern.test(id)) ? ids : [];
}

export function traceRequirements(
  requirements: Requirement[],
  report: VitestJsonReport,
  rootDir: string,
): Traceability {
  const byId = new Map(requirements.map((requirement) => [requirement.id, [] as TracedTest[]]));
  const problems: string[] = [];
  const counts = { tests: 0, passed: 0, failed: 0, skipped: 0, tagged: 0 };

  for (const file of report.testResults) {
    const path = relative(rootDir, file.name) || file.name;
    if (file.status === 'failed' && file.assertionResults.length === 0) {
      problems.push(
        `test file ${path} failed before running its tests: ${(file.message ?? '').split('\n')[0]}`,
      );
    }
    for (const assertion of file.assertionResults) {
      const status = testStatus(assertion.status);
      const name = [...assertion.ancestorTitles, assertion.title].join(' › ');
      counts.tests += 1;
      counts[status] += 1;
      if (status === 'failed') problems.push(`test failed: ${path} › ${name}`);
      const ids = new Set([...assertion.ancestorTitles, assertion.title].flatMap(tagsOf));
      if (ids.size > 0) counts.tagged += 1;
      for (const id of ids) {
        const tests = byId.get(id);
        if (!tests) {
          problems.push(`${path} › ${name} names ${id}, which is not a requirement (docs/requirements.md)`);
          continue;
        }
        tests.push({ file: path, name, status, durationMs: assertion.duration ?? null });
      }
    }
  }

  const traced = requirements.map((requirement): TracedRequirement => {
    const tests = byId.get(requirement.id) ?? [];
    const failed = tests.filter((test) => test.status === 'failed');
    const passed = tests.filter((test) => test.status === 'passed');
    if (failed.length > 0) {
      problems.push(`requirement ${requirement.id} has ${failed.length} failing test(s): ${failed[0]?.name}`);
      return { ...requirement, result: 'fail', tests };
    }
    if (passed.length === 0) {
      const skipped = tests.length > 0 ? ` (its ${tests.length} test(s) were skipped)` : '';
      problems.push(`requirement ${requirement.id} has no passing test${skipped}: ${requirement.text}`);
      return { ...requirement, result: 'untested', tests };
    }
    return { ...requirement, result: 'pass', tests };
  });

  return { result: problems.length === 0 ? 'pass' : 'fail', requirements: traced, problems, counts };
}

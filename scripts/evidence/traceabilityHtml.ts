// The traceability matrix as one plain HTML page an auditor can read offline: no script, no external
// resources, every value escaped.
import type { Traceability, TracedTest } from './traceability';

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export interface RunHeader {
  commit: string;
  dirty: boolean;
  generatedAt: string;
}

function testList(tests: TracedTest[]): string {
  if (tests.length === 0) return '<em>no test names this requirement</em>';
  const items = tests
    .map(
      (test) =>
        `<li class="${test.status}">${test.status}: ${escapeHtml(test.file)} › ${escapeHtml(test.name)}</li>`,
    )
    .join('\n');
  const passed = tests.filter((test) => test.status === 'passed').length;
  const summary = `${tests.length} test(s), ${passed} passed`;
  // Long lists (the access matrix has 44 cases per table) fold; short ones show.
  return tests.length > 6
    ? `<details><summary>${summary}</summary><ul>${items}</ul></details>`
    : `<ul>${items}</ul>`;
}

export function renderTraceabilityHtml(trace: Traceability, header: RunHeader): string {
  const rows = trace.requirements
    .map(
      (requirement) => `<tr class="${requirement.result}">
<td><code>${escapeHtml(requirement.id)}</code></td>
<td>${escapeHtml(requirement.source)}</td>
<td>${escapeHtml(requirement.risk)}</td>
<td>${escapeHtml(requirement.text)}</td>
<td><strong>${escapeHtml(requirement.result)}</strong></td>
<td>${testList(requirement.tests)}</td>
</tr>`,
    )
    .join('\n');
  const problems =
    trace.problems.length === 0
      ? '<p>No problems: every requirement is proved by at least one passing test and no test failed.</p>'
      : `<ul>${trace.problems.map((problem) => `<li>${escapeHtml(problem)}</li>`).join('\n')}</ul>`;
  const { counts } = trace;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Countersign validation evidence ${escapeHtml(header.commit)}</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: 4px 6px; vertical-align: top; text-align: left; }
tr.pass td:nth-child(5) { color: #060; }
tr.fail td:nth-child(5), tr.untested td:nth-child(5), li.failed { color: #a00; }
li.skipped { color: #777; }
ul { margin: 0; padding-left: 1.2em; }
</style>
</head>
<body>
<h1>Countersign: requirements traced to tests</h1>
<p>Commit <code>${escapeHtml(header.commit)}</code>${header.dirty ? ' <strong>(working tree had uncommitted changes)</strong>' : ''};
generated ${escapeHtml(header.generatedAt)}.</p>
<p>Result: <strong>${trace.result === 'pass' ? 'PASS' : 'FAIL'}</strong>.
${trace.requirements.length} requirements; ${counts.tests} tests (${counts.passed} passed, ${counts.failed} failed,
${counts.skipped} skipped), ${counts.tagged} of them naming a requirement.</p>
<h2>Problems</h2>
${problems}
<h2>Matrix</h2>
<table>
<thead><tr><th>Requirement</th><th>Source</th><th>Risk</th><th>Text</th><th>Result</th><th>Tests</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p>The files of this folder are listed with their SHA-256 in <code>manifest.sha256</code>
(check with <code>sha256sum -c manifest.sha256</code>).</p>
</body>
</html>
`;
}

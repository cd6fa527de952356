// axe-core (Deque's accessibility engine) over the page as it is: every WCAG 2.x A/AA rule and
// axe's best practices, each violation reduced to one line (impact, rule, the element, what to do)
// so a failing test prints all of them. Serious and critical ones fail the suite.
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

export interface AxeScanOptions {
  /** Also WCAG AAA contrast (7:1, 4.5:1 for large text): the high-contrast theme promises it. */
  enhancedContrast?: boolean;
}

const failingImpacts = new Set(['serious', 'critical']);

/** Every serious or critical violation on the page, one line each: `[where] impact rule: target — help`. */
export async function seriousViolations(page: Page, where: string, options: AxeScanOptions = {}) {
  // Transitions and the caret would otherwise be caught mid-way by the contrast rule.
  await page.evaluate('document.getAnimations().forEach((animation) => animation.finish())');
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .analyze();
  const violations = [...results.violations];
  if (options.enhancedContrast) {
    const enhanced = await new AxeBuilder({ page }).withRules(['color-contrast-enhanced']).analyze();
    violations.push(...enhanced.violations);
  }
  // A11Y_DEBUG=1 also prints the moderate and minor ones, one line per rule.
  if (process.env.A11Y_DEBUG)
    for (const violation of violations)
      console.log(
        `[${where}] ${violation.impact} ${violation.id} ×${violation.nodes.length}: ${violation.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join(' | ')}`,
      );
  return violations
    .filter((violation) => failingImpacts.has(violation.impact ?? ''))
    .flatMap((violation) =>
      violation.nodes.map(
        (node) =>
          `[${where}] ${violation.impact} ${violation.id}: ${node.target.join(' ')} — ${violation.help}` +
          (node.failureSummary ? ` (${node.failureSummary.replace(/\s+/g, ' ').trim()})` : ''),
      ),
    );
}

// Why a pulled row was refused, for the quarantine report: paths and rules, never values (rows can
// hold patient data, and the report is shown and logged).
import type { z } from 'zod';

/** A short, PHI-free description of why a row was refused: paths and rules, never values. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.map(String).join('.') || '(row)'}: ${issue.message}`)
    .join('; ');
}

/** The text to show for a failed call: errors from the API already read as sentences. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Untrusted text is shown exactly, including what would otherwise be invisible: bidirectional
// controls (which can make "evil" display as "live") and zero-width characters become visible
// markers such as ⟦U+202E⟧, so that what a signer reads is what the record holds.
const invisible = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

export function visibleText(text: string): string {
  return text.replace(
    invisible,
    (char) => `⟦U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}⟧`,
  );
}

// A configuration's SHA-256, short on screen and whole on hover, with a button that copies the whole
// hash (to compare it with the audit chain or a packet). Where the clipboard is refused, it says so and
// shows the whole hash to select instead.
import { useState } from 'react';
import { shortSha } from './buildValues';

export function CopyableHash({ sha256, label }: { sha256: string; label: string }) {
  const [copied, setCopied] = useState<'yes' | 'refused' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(sha256);
      setCopied('yes');
    } catch {
      setCopied('refused');
    }
  };
  return (
    <span className="copyable-hash">
      <code title={sha256}>{copied === 'refused' ? sha256 : shortSha(sha256)}</code>{' '}
      <button
        type="button"
        className="button button-small button-quiet"
        aria-label={`Copy the configuration SHA-256 of ${label}`}
        onClick={() => void copy()}
      >
        Copy
      </button>
      <span className="muted copy-result" role="status">
        {copied === 'yes' ? ' copied' : copied === 'refused' ? ' the clipboard refused: select the hash' : ''}
      </span>
    </span>
  );
}

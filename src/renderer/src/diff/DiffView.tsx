// Renders a proposal's diff against the live row. Each change is marked by a symbol and a word
// (added / removed / changed), with colour only as a second cue; inserted and deleted words are
// <ins>/<del>. Unchanged fields are collapsed behind a count. Every value is rendered as text.
import { useMemo, useState } from 'react';
import { visibleText } from '../common/visibleText';
import { type DiffNode, diffProposal } from './structuralDiff';

const markers: Record<DiffNode['kind'], { symbol: string; word: string }> = {
  unchanged: { symbol: '=', word: 'unchanged' },
  added: { symbol: '+', word: 'added' },
  removed: { symbol: '−', word: 'removed' },
  changed: { symbol: '~', word: 'changed' },
  object: { symbol: '~', word: 'changed' },
  array: { symbol: '~', word: 'changed' },
};

function text(value: unknown): string {
  if (value === undefined) return '';
  return visibleText(typeof value === 'string' ? value : JSON.stringify(value, null, 2));
}

/** A change's symbol and word, coloured as a second cue (the build diff uses it too). */
export function Marker({ kind }: { kind: DiffNode['kind'] }) {
  const marker = markers[kind];
  return (
    <span className={`diff-marker diff-${kind}`}>
      <span aria-hidden="true">{marker.symbol}</span> {marker.word}
    </span>
  );
}

function NodeView({ node }: { node: DiffNode }) {
  const [open, setOpen] = useState(false);
  if (node.kind === 'object' || node.kind === 'array') {
    const changed = node.children.filter((child) => child.kind !== 'unchanged');
    const unchanged = node.children.length - changed.length;
    return (
      <li className="diff-node diff-nested">
        <div className="diff-line">
          <Marker kind={node.changes > 0 ? node.kind : 'unchanged'} />
          <span className="diff-key">{visibleText(node.key)}</span>
          <span className="muted">
            {node.kind === 'array' ? 'list' : 'object'}, {node.changes} change{node.changes === 1 ? '' : 's'}
          </span>
        </div>
        <ul className="diff-children">
          {(open ? node.children : changed).map((child) => (
            <NodeView key={child.key} node={child} />
          ))}
        </ul>
        {unchanged > 0 && (
          <button type="button" className="link-button diff-toggle" onClick={() => setOpen(!open)}>
            {open ? 'Hide' : 'Show'} {unchanged} unchanged
          </button>
        )}
      </li>
    );
  }
  return (
    <li className={`diff-node diff-leaf diff-${node.kind}`}>
      <div className="diff-line">
        <Marker kind={node.kind} />
        <span className="diff-key">{visibleText(node.key)}</span>
      </div>
      {node.kind === 'changed' ? (
        node.words ? (
          <p className="diff-words">
            {node.words.map((part, index) =>
              part.change === 'added' ? (
                // biome-ignore lint/suspicious/noArrayIndexKey: parts have no identity but their order
                <ins key={index}>{visibleText(part.text)}</ins>
              ) : part.change === 'removed' ? (
                // biome-ignore lint/suspicious/noArrayIndexKey: parts have no identity but their order
                <del key={index}>{visibleText(part.text)}</del>
              ) : (
                // biome-ignore lint/suspicious/noArrayIndexKey: parts have no identity but their order
                <span key={index}>{visibleText(part.text)}</span>
              ),
            )}
          </p>
        ) : (
          <dl className="diff-values">
            <dt>was</dt>
            <dd>
              <del>{text(node.before)}</del>
            </dd>
            <dt>now</dt>
            <dd>
              <ins>{text(node.after)}</ins>
            </dd>
          </dl>
        )
      ) : (
        <pre className="diff-value">{'value' in node ? text(node.value) : ''}</pre>
      )}
    </li>
  );
}

export function DiffView({
  liveRow,
  proposedState,
}: {
  liveRow: Record<string, unknown> | null;
  proposedState: Record<string, unknown>;
}) {
  const diff = useMemo(() => diffProposal(liveRow, proposedState), [liveRow, proposedState]);
  const [showUnchanged, setShowUnchanged] = useState(false);
  const changed = diff.fields.filter((field) => field.kind !== 'unchanged');
  const unchanged = diff.fields.length - changed.length;
  return (
    <section className="diff" aria-label="Proposed change">
      <p className="diff-summary">
        {diff.changes} change{diff.changes === 1 ? '' : 's'} in {diff.fields.length} proposed field
        {diff.fields.length === 1 ? '' : 's'}
        {diff.untouchedLiveFields > 0
          ? `; ${diff.untouchedLiveFields} other live fields stay as they are`
          : ''}
        .
      </p>
      <ul className="diff-tree">
        {(showUnchanged ? diff.fields : changed).map((node) => (
          <NodeView key={node.key} node={node} />
        ))}
      </ul>
      {unchanged > 0 && (
        <button type="button" className="link-button" onClick={() => setShowUnchanged(!showUnchanged)}>
          {showUnchanged ? 'Hide' : 'Show'} {unchanged} proposed field{unchanged === 1 ? '' : 's'} equal to
          the live row
        </button>
      )}
    </section>
  );
}

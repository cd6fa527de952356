// Why the agent proposes the change, beside the diff: its rationale and confidence, the model
// registry version that wrote it (model, prompt version, prompt hash), and each citation with its
// source and quote, marked by whether it resolves (decision 33). The AI is advisory: a proposal
// whose citations are missing or do not resolve is marked, never hidden or blocked. Everything the
// agent wrote is untrusted and shown as text only.
import type { ModelRegistryEntry } from '../../../shared/contract';
import { Timestamp } from '../common/Timestamp';
import { visibleText } from '../common/visibleText';
import { type Citation, citationProblemText, type Grounding, type ProposalContext } from './proposalContext';

/** The proposal-level verdict in words, and whether it marks the proposal. */
export function groundingWords(grounding: Grounding): { marked: boolean; text: string } {
  switch (grounding.kind) {
    case 'grounded':
      return {
        marked: false,
        text: `Grounded: ${grounding.citations === 1 ? 'its citation resolves' : `all ${grounding.citations} citations resolve`} in the knowledge index.`,
      };
    case 'no_provenance':
      return {
        marked: true,
        text: 'Not grounded: no provenance of this proposal is recorded, so nothing says why the agent proposed it or from which sources.',
      };
    case 'no_citations':
      return { marked: true, text: 'Not grounded: the agent cites no sources for this proposal.' };
    case 'unresolved':
      return {
        marked: true,
        text: `Not grounded: ${grounding.unresolved} of ${grounding.citations} citation${grounding.citations === 1 ? '' : 's'} ${grounding.unresolved === 1 ? 'does' : 'do'} not resolve in the knowledge index.`,
      };
    case 'unchecked':
      return {
        marked: true,
        text: `Not grounded: the server did not check ${grounding.citations === 1 ? 'its citation' : `its ${grounding.citations} citations`} (recorded before citations were checked).`,
      };
  }
}

export function GroundingMarker({ grounding }: { grounding: Grounding }) {
  const { marked, text } = groundingWords(grounding);
  return (
    <p className={marked ? 'notice notice-warning grounding grounding-marked' : 'notice grounding'}>
      <span aria-hidden="true">{marked ? '⚠ ' : '✓ '}</span>
      {text} The AI's proposal is advice: your signature is your own decision.
    </p>
  );
}

function CitationItem({ citation, index }: { citation: Citation; index: number }) {
  const verdict =
    citation.resolves === null
      ? { className: 'citation-unchecked', words: 'not checked' }
      : citation.resolves
        ? { className: 'citation-resolves', words: 'resolves' }
        : {
            className: 'citation-unresolved',
            words: `does not resolve: ${citation.problem ? citationProblemText[citation.problem] : 'unknown'}`,
          };
  return (
    <li className={`citation ${verdict.className}`}>
      <p className="citation-source">
        <span className="muted">[{index + 1}]</span>{' '}
        {citation.sourceUri === null ? (
          <em>no source named</em>
        ) : (
          <code className="citation-uri">{visibleText(citation.sourceUri)}</code>
        )}
        {citation.chunkIndex !== null && <span className="muted"> · chunk {citation.chunkIndex}</span>}{' '}
        <span className="citation-verdict">
          <span aria-hidden="true">
            {citation.resolves === true ? '✓' : citation.resolves === false ? '✗' : '?'}
          </span>{' '}
          {verdict.words}
        </span>
      </p>
      {citation.quote === null ? (
        <p className="muted">No quote.</p>
      ) : (
        <blockquote className="citation-quote">{visibleText(citation.quote)}</blockquote>
      )}
      {citation.retrievedAt !== null && (
        <p className="muted citation-retrieved">
          <Timestamp iso={citation.retrievedAt} label="retrieved" />
        </p>
      )}
    </li>
  );
}

function ModelLine({ model }: { model: ModelRegistryEntry | null }) {
  if (model === null)
    return <p className="muted">No model registry version is recorded for this proposal.</p>;
  return (
    <dl className="model-registry">
      <dt>Model</dt>
      <dd>
        {visibleText(model.provider)} {visibleText(model.modelId)}
        {model.retiredAt !== null && (
          <span className="muted">
            {' '}
            (retired <Timestamp iso={model.retiredAt} />)
          </span>
        )}
      </dd>
      <dt>Prompt version</dt>
      <dd>{visibleText(model.promptVersion)}</dd>
      <dt>Prompt hash</dt>
      <dd>
        <code className="hash">{visibleText(model.promptHash)}</code>
      </dd>
    </dl>
  );
}

export function AgentReasons({
  context,
  model,
}: {
  context: ProposalContext;
  model: ModelRegistryEntry | null;
}) {
  return (
    <section className="agent-reasons" aria-labelledby="agent-reasons-heading">
      <h3 id="agent-reasons-heading">The agent's reasons</h3>
      {context.rationale === null ? (
        <p className="muted">The agent gave no rationale.</p>
      ) : (
        <p className="rationale">
          <span className="muted">Rationale: </span>
          {visibleText(context.rationale)}
          {context.confidence !== null && (
            <span className="muted"> (confidence {Math.round(context.confidence * 100)}%)</span>
          )}
        </p>
      )}
      <ModelLine model={model} />
      <h4>Citations</h4>
      {context.citations.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ol className="citation-list" aria-label="Citations">
          {context.citations.map((citation, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: citations have no identity but their order
            <CitationItem key={index} citation={citation} index={index} />
          ))}
        </ol>
      )}
    </section>
  );
}
